"""Stripe's parameter rules for creating a Checkout Session and a refund.

Rules and messages follow Stripe's API reference (https://docs.stripe.com/api/checkout/sessions/create,
https://docs.stripe.com/api/refunds/create). Which create parameters exist at all comes from the installed
stripe SDK's typed params (sdk_params.py). Refusals of the parameters themselves are validation errors:
Stripe saves nothing under the idempotency key for them, so a corrected retry with the same key works.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from provider_sandbox.stripe.errors import StripeApiError, invalid, missing, no_such
from provider_sandbox.stripe.sdk_params import literal_values, unknown_create_param
from provider_sandbox.validation import is_email, is_http_url

MIN_EXPIRY_SECONDS = 30 * 60
MAX_EXPIRY_SECONDS = 24 * 60 * 60
# Clients compute expires_at a moment before Stripe sees it: allow a little clock skew at both ends.
EXPIRY_SKEW_SECONDS = 5
MAX_AMOUNT = 99_999_999
MIN_CHARGE_CENTS = {"usd": 50, "eur": 50, "gbp": 30, "cad": 50}
METADATA_MAX_KEYS = 50
METADATA_MAX_KEY_LEN = 40
METADATA_MAX_VALUE_LEN = 500
CLIENT_REFERENCE_MAX = 200
# The only ui_mode the sandbox serves (a hosted page); the SDK names the others.
HOSTED_UI_MODE = "hosted_page"
# What Checkout offers when the create names no payment method types (this account: cards only).
DEFAULT_PAYMENT_METHOD_TYPES = ("card",)
REFUND_REASONS = frozenset({"duplicate", "fraudulent", "requested_by_customer"})
_CURRENCY = re.compile(r"^[a-z]{3}$")


@dataclass(frozen=True)
class NewSession:
    """The validated parameters of a Checkout Session create."""

    line_items: list[dict[str, Any]]
    currency: str
    total: int
    success_url: str
    cancel_url: str | None
    expires_at: int
    client_reference_id: str | None
    customer_email: str | None
    metadata: dict[str, str]
    payment_method_types: list[str]


def as_int(value: Any, param: str) -> int:
    if not isinstance(value, str) or not re.fullmatch(r"-?\d+", value.strip()):
        raise invalid(param, f"Invalid integer: {value}", "parameter_invalid_integer")
    return int(value)


def _url(value: Any, param: str) -> str:
    if not isinstance(value, str) or not value:
        raise missing(param)
    if not is_http_url(value):
        raise invalid(param, "Not a valid URL", "url_invalid")
    return value


def _text(value: Any, param: str) -> str:
    if not isinstance(value, str):
        raise invalid(param, f"Invalid string: {value!r}", "parameter_invalid_string")
    return value


def metadata(value: Any) -> dict[str, str]:
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        raise invalid("metadata", "Invalid hash", "parameter_invalid_hash")
    if len(value) > METADATA_MAX_KEYS:
        raise invalid("metadata", f"Metadata can have at most {METADATA_MAX_KEYS} keys.", "metadata_invalid")
    out: dict[str, str] = {}
    for k, v in value.items():
        if not isinstance(v, str):
            raise invalid(f"metadata[{k}]", "Metadata values must be strings.", "metadata_invalid")
        if len(k) > METADATA_MAX_KEY_LEN:
            raise invalid(
                f"metadata[{k}]",
                f"Metadata keys can have up to {METADATA_MAX_KEY_LEN} characters.",
                "metadata_invalid",
            )
        if len(v) > METADATA_MAX_VALUE_LEN:
            raise invalid(
                f"metadata[{k}]",
                f"Metadata values can have up to {METADATA_MAX_VALUE_LEN} characters.",
                "metadata_invalid",
            )
        out[k] = v
    return out


def _line_item(i: int, item: Any) -> dict[str, Any]:
    """One validated line item with price_data (the only form the sandbox supports)."""
    p = f"line_items[{i}]"
    if not isinstance(item, dict):
        raise invalid(p, "Invalid hash", "parameter_invalid_hash")
    if "price" in item:
        raise no_such("price", item["price"], f"{p}[price]", sandbox_supports="price_data")
    price_data = item.get("price_data")
    if not isinstance(price_data, dict):
        raise invalid(
            p, "You must specify either `price` or `price_data` for each line item.", "parameter_missing"
        )
    if "quantity" not in item:
        raise missing(f"{p}[quantity]")
    quantity = as_int(item["quantity"], f"{p}[quantity]")
    if quantity < 1:
        raise invalid(
            f"{p}[quantity]", "This value must be greater than or equal to 1.", "parameter_invalid_integer"
        )
    if price_data.get("currency") is None:
        raise missing(f"{p}[price_data][currency]")
    currency = _text(price_data["currency"], f"{p}[price_data][currency]").lower()
    if not _CURRENCY.match(currency):
        raise invalid(
            f"{p}[price_data][currency]", f"Invalid currency: {currency}.", "parameter_invalid_string"
        )
    if "unit_amount" not in price_data:
        raise missing(f"{p}[price_data][unit_amount]")
    unit_amount = as_int(price_data["unit_amount"], f"{p}[price_data][unit_amount]")
    # Stripe allows 0 for free items; this checkout never sells free items, so the sandbox wants > 0.
    if unit_amount < 1 or unit_amount > MAX_AMOUNT:
        raise invalid(
            f"{p}[price_data][unit_amount]",
            f"This value must be greater than or equal to 1 and at most {MAX_AMOUNT}.",
            "parameter_invalid_integer",
        )
    if "product" in price_data:
        raise no_such(
            "product", price_data["product"], f"{p}[price_data][product]", sandbox_supports="product_data"
        )
    product = price_data.get("product_data")
    if not isinstance(product, dict):
        raise missing(f"{p}[price_data][product_data]")
    name = product.get("name")
    if not isinstance(name, str) or not name.strip():
        raise missing(f"{p}[price_data][product_data][name]")
    return {
        "quantity": quantity,
        "price_data": {
            "currency": currency,
            "unit_amount": unit_amount,
            "product_data": {"name": name, "description": product.get("description")},
        },
    }


def _line_items(value: Any) -> tuple[list[dict[str, Any]], str, int]:
    """Validated line items, their common currency, and the total."""
    if value is None:
        raise missing("line_items")
    if not isinstance(value, list) or not value:
        raise invalid("line_items", "Invalid array", "parameter_invalid_array")
    items = [_line_item(i, item) for i, item in enumerate(value)]
    currencies = {item["price_data"]["currency"] for item in items}
    if len(currencies) > 1:
        raise invalid("line_items", "All line items must use the same currency.", "currency_mismatch")
    currency = currencies.pop()
    total = sum(item["quantity"] * item["price_data"]["unit_amount"] for item in items)
    minimum = MIN_CHARGE_CENTS.get(currency, 1)
    if total < minimum:
        raise invalid(
            "line_items",
            f"The Checkout Session's total amount due must add up to at least {minimum} {currency} cents.",
            "amount_too_small",
        )
    if total > MAX_AMOUNT:
        raise invalid("line_items", "The total amount is too large.", "amount_too_large")
    return items, currency, total


def _expires_at(params: dict[str, Any], now: int) -> int:
    if "expires_at" not in params:
        return now + MAX_EXPIRY_SECONDS
    expires_at = as_int(params["expires_at"], "expires_at")
    if expires_at < now + MIN_EXPIRY_SECONDS - EXPIRY_SKEW_SECONDS:
        raise invalid(
            "expires_at",
            "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.",
            "parameter_invalid_integer",
        )
    if expires_at > now + MAX_EXPIRY_SECONDS + EXPIRY_SKEW_SECONDS:
        raise invalid(
            "expires_at",
            "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.",
            "parameter_invalid_integer",
        )
    return expires_at


def _ui_mode(value: Any) -> None:
    if value is None:
        return
    modes = literal_values("ui_mode")
    if value not in modes:
        raise invalid(
            "ui_mode", f"Invalid ui_mode: must be one of {', '.join(modes)}", "parameter_invalid_string"
        )
    if value != HOSTED_UI_MODE:
        raise invalid("ui_mode", f"The provider sandbox supports ui_mode={HOSTED_UI_MODE} only, got {value}.")


def _payment_method_types(value: Any, param: str) -> list[str]:
    if value is None or value == "":
        return []
    if not isinstance(value, list) or not value:
        raise invalid(param, "Invalid array", "parameter_invalid_array")
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item:
            raise invalid(f"{param}[{i}]", f"Invalid string: {item!r}", "parameter_invalid_string")
    return list(value)


def new_session(params: dict[str, Any], *, now: int) -> NewSession:
    """Check a create's parameters in Stripe's order; raise the first refusal (a validation error)."""
    unknown = unknown_create_param(params)
    if unknown is not None:
        raise invalid(unknown, f"Received unknown parameter: {unknown}", "parameter_unknown")
    mode = params.get("mode")
    if mode is None:
        raise missing("mode")
    if mode not in {"payment", "setup", "subscription"}:
        raise invalid("mode", "Invalid mode: must be one of payment, setup, or subscription")
    if mode != "payment":
        raise invalid("mode", f"The provider sandbox supports mode=payment only, got {mode}.")
    items, currency, total = _line_items(params.get("line_items"))
    success_url = _url(params.get("success_url"), "success_url")
    cancel_raw = params.get("cancel_url")
    cancel_url = _url(cancel_raw, "cancel_url") if cancel_raw not in (None, "") else None
    expires_at = _expires_at(params, now)
    reference = params.get("client_reference_id")
    if reference is not None:
        reference = _text(reference, "client_reference_id")
        if len(reference) > CLIENT_REFERENCE_MAX:
            raise invalid("client_reference_id", "client_reference_id can be at most 200 characters.")
    email = params.get("customer_email")
    if email is not None and not is_email(email):
        raise invalid("customer_email", f"Invalid email address: {email}", "email_invalid")
    _ui_mode(params.get("ui_mode"))
    allowed = _payment_method_types(
        params.get("allowed_payment_method_types"), "allowed_payment_method_types"
    )
    excluded = _payment_method_types(
        params.get("excluded_payment_method_types"), "excluded_payment_method_types"
    )
    offered = [t for t in (allowed or DEFAULT_PAYMENT_METHOD_TYPES) if t not in excluded]
    if not offered:
        raise invalid(
            "excluded_payment_method_types",
            "No payment method types remain after excluded_payment_method_types.",
            "parameter_invalid_array",
        )
    return NewSession(
        line_items=items,
        currency=currency,
        total=total,
        success_url=success_url,
        cancel_url=cancel_url,
        expires_at=expires_at,
        client_reference_id=reference or None,
        customer_email=email,
        metadata=metadata(params.get("metadata")),
        payment_method_types=offered,
    )


def refund_amount(params: dict[str, Any], remaining: int) -> int:
    """The amount to refund: the rest by default, never more than the rest."""
    amount = as_int(params["amount"], "amount") if "amount" in params else remaining
    if amount < 1:
        raise invalid("amount", "Invalid positive integer", "parameter_invalid_integer")
    if amount > remaining:
        raise StripeApiError(
            400,
            f"Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining})",
            code="amount_too_large",
            param="amount",
        )
    return amount


def refund_reason(value: Any) -> str | None:
    if value is not None and value not in REFUND_REASONS:
        raise invalid(
            "reason",
            "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer",
            "parameter_invalid_string",
        )
    return None if value is None else str(value)
