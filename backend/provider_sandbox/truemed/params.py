"""Truemed's rules for a payment session create (developers.truemed.com); "choice:" marks where the docs are
silent (listed in docs/sandbox.md, "Truemed: documented choices")."""

from __future__ import annotations

import re
from typing import Any

from provider_sandbox.ids import truemed_id
from provider_sandbox.truemed.errors import TruemedError, invalid, missing
from provider_sandbox.truemed.models import TruemedSession
from provider_sandbox.validation import MAX_URL_LENGTH, is_email, is_http_url

PLACEHOLDER = "{{payment_session_id}}"
_STATE = re.compile(r"^[A-Za-z]{2}$")
# What an order item echoes back: the documented fields (unknown ones a client sends are not kept).
ITEM_FIELDS = ("item_id", "sku", "name", "price", "quantity", "amount_details")


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _int(body: dict[str, Any], name: str, *, label: str | None = None, minimum: int | None = None) -> int:
    label = label or name
    if name not in body or body[name] is None:
        raise missing(label)
    value = body[name]
    if not is_int(value):
        raise invalid(label, "must be an integer number of cents")
    if minimum is not None and value < minimum:
        raise invalid(label, f"must be >= {minimum}")
    return int(value)


def _optional_str(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid(name, "must be a string")
    return value


def _url(body: dict[str, Any], name: str, *, required: bool) -> str | None:
    value = _optional_str(body, name)
    if not value:
        if required:
            raise missing(name)
        return None
    if len(value) > MAX_URL_LENGTH or not is_http_url(value.replace(PLACEHOLDER, "x")):
        raise invalid(name, "must be an absolute http(s) URL")
    return value


def _amount_details(value: Any, label: str, *, strict: bool) -> dict[str, int]:
    if value is None:
        if strict:
            raise missing(label)
        return {"total_additional_charges": 0, "total_discounts": 0}
    if not isinstance(value, dict):
        raise invalid(label, "must be an object")
    details: dict[str, int] = {}
    for part in ("total_additional_charges", "total_discounts"):
        if part not in value and not strict:
            details[part] = 0
            continue
        details[part] = _int(value, part, label=f"{label}.{part}")
    return details


def _order_items(value: Any, *, strict: bool) -> list[dict[str, Any]]:
    if value is None:
        raise missing("order_items")
    if not isinstance(value, list) or not value:
        raise invalid("order_items", "must be a non-empty list")
    items: list[dict[str, Any]] = []
    for i, raw in enumerate(value):
        label = f"order_items[{i}]"
        if not isinstance(raw, dict):
            raise invalid(label, "must be an object")
        item = dict(raw)
        if "price" not in item and "amount" in item and not strict:
            # choice: older integrations sent `amount`; lenient mode accepts it as `price`.
            item["price"] = item.pop("amount")
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            raise missing(f"{label}.name")
        for text_field in ("sku", "item_id"):
            if item.get(text_field) is not None and not isinstance(item[text_field], str):
                raise invalid(f"{label}.{text_field}", "must be a string")
        _int(item, "price", label=f"{label}.price", minimum=0)
        _int(item, "quantity", label=f"{label}.quantity", minimum=1)
        if "amount_details" in item and item["amount_details"] is not None:
            item["amount_details"] = _amount_details(
                item["amount_details"], f"{label}.amount_details", strict=strict
            )
        # choice: the session's order items carry an `item_id` (what refund item_details name): the one
        # sent, else one the sandbox assigns.
        item["item_id"] = item.get("item_id") or truemed_id()
        items.append({k: item[k] for k in ITEM_FIELDS if item.get(k) is not None})
    return items


def expected_total(items: list[dict[str, Any]], details: dict[str, int]) -> int:
    """The documented sum rule: order-level details plus each item's price x quantity and its details."""
    total = details["total_additional_charges"] + details["total_discounts"]
    for item in items:
        total += int(item["price"]) * int(item["quantity"])
        item_details = item.get("amount_details") or {}
        total += int(item_details.get("total_additional_charges", 0))
        total += int(item_details.get("total_discounts", 0))
    return total


def new_session(body: dict[str, Any], *, strict: bool, now: float) -> TruemedSession:
    """Validate a create body and build the session (not yet stored).

    `strict`: SANDBOX_TRUEMED_AMOUNT_DETAILS=strict (amount_details and item prices required).
    """
    total = _int(body, "total_amount")
    items = _order_items(body.get("order_items"), strict=strict)
    details = _amount_details(body.get("amount_details"), "amount_details", strict=strict)
    success_url = _url(body, "success_url", required=True)
    failure_url = _url(body, "failure_url", required=False)
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, str):
        raise invalid("metadata", "must be a string (serialise objects yourself)")
    email = _optional_str(body, "customer_email")
    if email and not is_email(email):
        raise invalid("customer_email", "must be an email address")
    customer_state = _optional_str(body, "customer_state")
    if customer_state and not _STATE.match(customer_state):
        raise invalid("customer_state", "must be a 2-letter US state code")
    kind = _optional_str(body, "kind") or "one_time_payment"
    if kind == "authorization":
        # choice: manual capture is enabled per account at Truemed; the sandbox account does not have it.
        raise TruemedError(400, "ManualCaptureNotEnabled", "kind=authorization is not enabled")
    if kind != "one_time_payment":
        raise invalid("kind", "must be one_time_payment or authorization")
    if total <= 0:
        raise TruemedError(400, "TotalAmountInvalid", "total_amount must be a positive number of cents")
    expected = expected_total(items, details)
    if total != expected:
        raise TruemedError(
            400,
            "TotalAmountInvalid",
            f"total_amount {total} does not equal the sum of order items and amount details ({expected})",
        )
    session_id = truemed_id()
    assert success_url is not None  # noqa: S101 - required above
    return TruemedSession(
        id=session_id,
        created_at=now,
        total_amount=total,
        order_items=items,
        amount_details=details,
        # Every exact {{payment_session_id}} is replaced with the id (documented).
        success_url=success_url.replace(PLACEHOLDER, session_id),
        failure_url=failure_url.replace(PLACEHOLDER, session_id) if failure_url else None,
        idempotency_key=_optional_str(body, "idempotency_key"),
        customer_email=email,
        customer_name=_optional_str(body, "customer_name"),
        customer_state=customer_state.upper() if customer_state else None,
        metadata=metadata,
        kind=kind,
    )
