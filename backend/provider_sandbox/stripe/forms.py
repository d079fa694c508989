"""Stripe's form encoding: `line_items[0][price_data][unit_amount]=5000` -> nested dicts and lists.

The stripe SDK (stripe/_encode.py `_api_encode`) always indexes arrays (`a[0]`), nests dicts as `a[b]`,
and leaves out None values. `a[]=x` (append) is accepted too, as Stripe does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART = re.compile(r"\[([^\[\]]*)\]")


class FormError(ValueError):
    def __init__(self, message: str, param: str) -> None:
        super().__init__(message)
        self.param = param


# Hashes with free-form keys: `metadata[1]=x` is a key "1", not a list element.
_FREE_FORM = frozenset({"metadata"})


def _listify(node: Any, name: str = "") -> Any:
    """Dicts whose keys are all indexes become lists, in index order."""
    if not isinstance(node, dict):
        return node
    converted = {k: _listify(v, k) for k, v in node.items()}
    if name not in _FREE_FORM and converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted


def parse_form(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for raw_key, value in pairs:
        match = _KEY.match(raw_key)
        if not match:
            raise FormError(f"Invalid parameter name: {raw_key}", raw_key)
        parts = [match.group(1), *_PART.findall(match.group(2))]
        node: dict[str, Any] = root
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            key = part
            if key == "":  # `a[]`: append at the next index
                key = str(len(node))
            if last:
                if key in node:
                    raise FormError(f"Received duplicate parameter: {raw_key}", raw_key)
                node[key] = value
            else:
                child = node.setdefault(key, {})
                if not isinstance(child, dict):
                    raise FormError(f"Invalid value for {raw_key}: cannot nest under a value", raw_key)
                node = child
    result = _listify(root)
    if not isinstance(result, dict):
        raise FormError("Parameter names must not be bare indexes", "")
    return result
