"""Which Checkout Session create parameters exist, read from the installed stripe SDK's typed params.

The SDK's `SessionCreateParams` (stripe/params/checkout/_session_create_params.py) is generated from
Stripe's API spec for the API version the SDK pins: it is the best offline record of what the real API
accepts. The sandbox refuses every name outside it, top-level or nested (`line_items[0][foo]`), with
Stripe's own 400 `parameter_unknown`, so when an SDK upgrade drops a parameter the product still sends
(as 16.x dropped `payment_method_types`), the tests that drive the product against the sandbox fail that day.

Only the SDK's type definitions are read here; the sandbox never calls the SDK.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from stripe import RequestOptions
from stripe.params.checkout._session_create_params import SessionCreateParams
from typing_extensions import is_typeddict  # the SDK's TypedDicts come from typing_extensions

# The SDK's typed params also carry per-request options (api_key, idempotency_key, ...): never form fields.
REQUEST_OPTION_NAMES = frozenset(RequestOptions.__annotations__)


def _hints(typed_dict: type[Any]) -> dict[str, Any]:
    """The resolved field types of one of the SDK's TypedDicts, per-request options left out.

    `RequestOptions` names types the SDK imports only for type checkers, so `get_type_hints` cannot resolve
    the top-level class as a whole: resolve its own fields through a stand-in class in the same module.
    """
    own = {k: v for k, v in typed_dict.__annotations__.items() if k not in REQUEST_OPTION_NAMES}
    stand_in = type(typed_dict.__name__, (), {"__annotations__": own, "__module__": typed_dict.__module__})
    return typing.get_type_hints(stand_in)


_FIELDS: dict[type[Any], dict[str, Any]] = {}


def fields_of(typed_dict: type[Any]) -> dict[str, Any]:
    """`_hints`, worked out once per class."""
    found = _FIELDS.get(typed_dict)
    if found is None:
        found = _FIELDS[typed_dict] = _hints(typed_dict)
    return found


CREATE_PARAMS = frozenset(fields_of(SessionCreateParams))


def _arms(hint: Any) -> tuple[Any, ...]:
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        return typing.get_args(hint)
    return (hint,)


def _free_form(hint: Any) -> bool:
    """A hash with keys of the caller's choosing (`Dict[str, str]`, the SDK's untyped objects): metadata."""
    if is_typeddict(hint):
        return False
    origin = typing.get_origin(hint) or hint
    return isinstance(origin, type) and (issubclass(origin, dict) or origin.__name__.startswith("Untyped"))


def _unknown_in(value: Any, hint: Any, path: str) -> str | None:
    """The first parameter under `path` that the SDK type `hint` does not know, or None."""
    if isinstance(value, dict):
        shapes = [arm for arm in _arms(hint) if is_typeddict(arm)]
        if not shapes or any(_free_form(arm) for arm in _arms(hint)):
            return None  # a free-form hash (metadata), or a value the SDK does not describe as a hash
        found = [_unknown_in_typed_dict(value, shape, path) for shape in shapes]
        return None if None in found else found[0]
    if isinstance(value, list):
        lists = [arm for arm in _arms(hint) if typing.get_origin(arm) is list]
        if not lists:
            return None
        (item,) = typing.get_args(lists[0]) or (Any,)
        for index, element in enumerate(value):
            unknown = _unknown_in(element, item, f"{path}[{index}]")
            if unknown is not None:
                return unknown
    return None


def _unknown_in_typed_dict(value: dict[str, Any], typed_dict: type[Any], path: str) -> str | None:
    known = fields_of(typed_dict)
    for name in sorted(value):
        param = f"{path}[{name}]" if path else name
        if name not in known:
            return param
        unknown = _unknown_in(value[name], known[name], param)
        if unknown is not None:
            return unknown
    return None


def unknown_create_param(params: dict[str, Any]) -> str | None:
    """The first create parameter (in Stripe's bracket notation) the installed SDK does not have."""
    return _unknown_in_typed_dict(params, SessionCreateParams, "")


def literal_values(name: str) -> tuple[str, ...]:
    """The values the SDK lists for a top-level create parameter typed `Literal[...]|str` (e.g. ui_mode)."""
    values: list[str] = []
    for arm in _arms(fields_of(SessionCreateParams)[name]):
        if typing.get_origin(arm) is typing.Literal:
            values.extend(str(v) for v in typing.get_args(arm))
    return tuple(values)
