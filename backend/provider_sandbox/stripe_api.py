"""Stripe API emulation under `/stripe`: Checkout Sessions (create, retrieve, expire) and refunds.

Rules and messages follow Stripe's API reference (https://docs.stripe.com/api/checkout/sessions/create) and
its idempotency contract (https://docs.stripe.com/api/idempotent_requests). Errors use Stripe's shape
`{"error": {"type", "code", "message", "param"}}` so the real SDK raises its own exception classes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, Router

from provider_sandbox.config import STRIPE_API_VERSION
from provider_sandbox.forms import FormError, parse_form
from provider_sandbox.ids import stripe_id
from provider_sandbox.store import SandboxState, StripeIdempotencyRecord, WebhookEvent
from provider_sandbox.stripe_objects import (
    StripeRefund,
    StripeSession,
    expire_due,
    mark_expired,
    refund_object,
    session_object,
)
from provider_sandbox.webhooks import deliver_later

logger = logging.getLogger(__name__)

MIN_EXPIRY_SECONDS = 30 * 60
MAX_EXPIRY_SECONDS = 24 * 60 * 60
# Clients compute expires_at a moment before Stripe sees it: allow a little clock skew at both ends.
EXPIRY_SKEW_SECONDS = 5
MAX_AMOUNT = 99_999_999
MIN_CHARGE_CENTS = {"usd": 50, "eur": 50, "gbp": 30, "cad": 50}
MAX_IDEMPOTENCY_KEY = 255
METADATA_MAX_KEYS = 50
METADATA_MAX_KEY_LEN = 40
METADATA_MAX_VALUE_LEN = 500
MAX_URL_LEN = 5000
CLIENT_REFERENCE_MAX = 200
DOC_URL = "https://stripe.com/docs/error-codes/"
KNOWN_CREATE_PARAMS = frozenset(
    {
        "mode",
        "line_items",
        "success_url",
        "cancel_url",
        "client_reference_id",
        "customer_email",
        "metadata",
        "expires_at",
        "expand",
        "locale",
        "payment_method_types",
        "submit_type",
        "billing_address_collection",
        "payment_intent_data",
        "allow_promotion_codes",
    }
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CURRENCY = re.compile(r"^[a-z]{3}$")


class StripeApiError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        type_: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        validation: bool = False,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.code, self.param = status, message, type_, code, param
        # Stripe saves no idempotent result when the parameters failed validation (the endpoint never
        # started executing); errors raised while executing are saved and replayed.
        self.validation = validation

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type, "code": self.code, "message": self.message}
        error["param"] = self.param
        if self.code:
            error["doc_url"] = DOC_URL + self.code
        return {"error": error}


def stripe_error_body(message: str, *, type_: str = "api_error") -> dict[str, Any]:
    return StripeApiError(500, message, type_=type_).body()


def _missing(param: str) -> StripeApiError:
    return StripeApiError(
        400, f"Missing required param: {param}.", code="parameter_missing", param=param, validation=True
    )


def _invalid(param: str, message: str, code: str = "parameter_invalid_empty") -> StripeApiError:
    return StripeApiError(400, message, code=code, param=param, validation=True)


def _int(value: Any, param: str) -> int:
    if not isinstance(value, str) or not re.fullmatch(r"-?\d+", value.strip()):
        raise _invalid(param, f"Invalid integer: {value}", "parameter_invalid_integer")
    return int(value)


def _url(value: Any, param: str) -> str:
    if not isinstance(value, str) or not value:
        raise _missing(param)
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc or len(value) > MAX_URL_LEN:
        raise _invalid(param, "Not a valid URL", "url_invalid")
    return value


def _text(value: Any, param: str) -> str:
    if not isinstance(value, str):
        raise _invalid(param, f"Invalid string: {value!r}", "parameter_invalid_string")
    return value


# --- request plumbing -------------------------------------------------------------------------


def _state(request: Request) -> SandboxState:
    state: SandboxState = request.app.state.sandbox
    return state


def _authenticate(request: Request) -> None:
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if not header or scheme.lower() != "bearer" or not key.strip():
        raise StripeApiError(
            401,
            "You did not provide an API key. You need to provide your API key in the Authorization header, "
            "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
        )
    key = key.strip()
    # Any test-mode secret key is accepted: the sandbox has one account and no real keys exist offline.
    if not key.startswith(("sk_test_", "rk_test_")) or len(key) <= len("sk_test_"):
        shown = key[:8] + "*" * max(0, len(key) - 12) + key[-4:] if len(key) > 12 else key
        raise StripeApiError(401, f"Invalid API Key provided: {shown}", code="api_key_invalid")


def _json(status: int, body: dict[str, Any], *, replayed: bool = False) -> JSONResponse:
    headers = {"Request-Id": stripe_id("req_", 14), "Stripe-Version": STRIPE_API_VERSION}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(body, status_code=status, headers=headers)


@dataclass
class Outcome:
    status: int
    body: dict[str, Any]
    events: list[WebhookEvent] = field(default_factory=list)


Handler = Callable[[SandboxState, dict[str, Any], Request], Outcome]


async def _form(request: Request) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    raw = (await request.body()).decode("utf-8", errors="replace")
    # Stripe takes the same parameters in the query string as in the body.
    pairs = parse_qsl(request.url.query, keep_blank_values=True) + parse_qsl(raw, keep_blank_values=True)
    return parse_form(pairs), pairs


def _check_key(key: str | None) -> None:
    if key is not None and len(key) > MAX_IDEMPOTENCY_KEY:
        raise StripeApiError(400, "Idempotency-Key must be at most 255 characters long.")


def _replayed(
    state: SandboxState, key: str, endpoint: str, fingerprint: str
) -> StripeIdempotencyRecord | None:
    """The stored answer for this key, or None; raises idempotency_error when the key is misused."""
    record = state.stripe_idempotency.get(key)
    if record is None:
        return None
    if record.endpoint != endpoint:
        raise StripeApiError(
            400,
            "Keys for idempotent requests can only be used for the same endpoint they were first used for "
            f"('{record.endpoint}' vs '{endpoint}'). Try using a key other than '{key}' if you meant to "
            "execute a different request.",
            type_="idempotency_error",
        )
    if record.fingerprint != fingerprint:
        raise StripeApiError(
            400,
            "Keys for idempotent requests can only be used with the same parameters they were first used "
            f"with. Try using a key other than '{key}' if you meant to execute a different request.",
            type_="idempotency_error",
        )
    return record


async def _post(request: Request, handler: Handler) -> Response:
    """Authenticate, parse, apply Stripe's idempotency rules, run the handler, send its events later."""
    state = _state(request)
    key = request.headers.get("idempotency-key")
    endpoint = f"POST {request.url.path.removeprefix(request.scope.get('root_path', ''))}"
    try:
        _authenticate(request)
        _check_key(key)
        params, pairs = await _form(request)
        fingerprint = hashlib.sha256(json.dumps(sorted(pairs)).encode()).hexdigest()
        async with state.lock:
            deliver_later(state, expire_due(state))
            record = _replayed(state, key, endpoint, fingerprint) if key is not None else None
            if record is not None:
                return _json(record.status_code, record.body, replayed=True)
            store = True
            try:
                outcome = handler(state, params, request)
            except StripeApiError as failure:
                outcome, store = Outcome(failure.status, failure.body()), not failure.validation
            if key is not None and store:
                # Stripe stores the first answer, errors included, and replays it for the same key.
                state.stripe_idempotency[key] = StripeIdempotencyRecord(
                    endpoint, fingerprint, outcome.status, outcome.body
                )
    except StripeApiError as err:
        return _json(err.status, err.body())
    except FormError as err:
        return _json(400, _invalid(err.param, str(err), "parameter_unknown").body())
    deliver_later(state, outcome.events)
    return _json(outcome.status, outcome.body)


# --- Checkout Sessions -----------------------------------------------------------------------


def _metadata(value: Any) -> dict[str, str]:
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        raise _invalid("metadata", "Invalid hash", "parameter_invalid_hash")
    if len(value) > METADATA_MAX_KEYS:
        raise _invalid("metadata", f"Metadata can have at most {METADATA_MAX_KEYS} keys.", "metadata_invalid")
    out: dict[str, str] = {}
    for k, v in value.items():
        if not isinstance(v, str):
            raise _invalid(f"metadata[{k}]", "Metadata values must be strings.", "metadata_invalid")
        if len(k) > METADATA_MAX_KEY_LEN:
            raise _invalid(
                f"metadata[{k}]",
                f"Metadata keys can have up to {METADATA_MAX_KEY_LEN} characters.",
                "metadata_invalid",
            )
        if len(v) > METADATA_MAX_VALUE_LEN:
            raise _invalid(
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
        raise _invalid(p, "Invalid hash", "parameter_invalid_hash")
    if "price" in item:
        raise StripeApiError(
            400,
            f"No such price: '{item['price']}'. The sandbox supports price_data only.",
            code="resource_missing",
            param=f"{p}[price]",
            validation=True,
        )
    price_data = item.get("price_data")
    if not isinstance(price_data, dict):
        raise _invalid(
            p, "You must specify either `price` or `price_data` for each line item.", "parameter_missing"
        )
    if "quantity" not in item:
        raise _missing(f"{p}[quantity]")
    quantity = _int(item["quantity"], f"{p}[quantity]")
    if quantity < 1:
        raise _invalid(
            f"{p}[quantity]", "This value must be greater than or equal to 1.", "parameter_invalid_integer"
        )
    if price_data.get("currency") is None:
        raise _missing(f"{p}[price_data][currency]")
    currency = _text(price_data["currency"], f"{p}[price_data][currency]").lower()
    if not _CURRENCY.match(currency):
        raise _invalid(
            f"{p}[price_data][currency]", f"Invalid currency: {currency}.", "parameter_invalid_string"
        )
    if "unit_amount" not in price_data:
        raise _missing(f"{p}[price_data][unit_amount]")
    unit_amount = _int(price_data["unit_amount"], f"{p}[price_data][unit_amount]")
    # Stripe allows 0 for free items; this checkout never sells free items, so the sandbox wants > 0.
    if unit_amount < 1 or unit_amount > MAX_AMOUNT:
        raise _invalid(
            f"{p}[price_data][unit_amount]",
            f"This value must be greater than or equal to 1 and at most {MAX_AMOUNT}.",
            "parameter_invalid_integer",
        )
    if "product" in price_data:
        raise StripeApiError(
            400,
            f"No such product: '{price_data['product']}'. The sandbox supports product_data only.",
            code="resource_missing",
            param=f"{p}[price_data][product]",
            validation=True,
        )
    product = price_data.get("product_data")
    if not isinstance(product, dict):
        raise _missing(f"{p}[price_data][product_data]")
    name = product.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _missing(f"{p}[price_data][product_data][name]")
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
        raise _missing("line_items")
    if not isinstance(value, list) or not value:
        raise _invalid("line_items", "Invalid array", "parameter_invalid_array")
    items = [_line_item(i, item) for i, item in enumerate(value)]
    currencies = {item["price_data"]["currency"] for item in items}
    if len(currencies) > 1:
        raise _invalid("line_items", "All line items must use the same currency.", "currency_mismatch")
    currency = currencies.pop()
    total = sum(item["quantity"] * item["price_data"]["unit_amount"] for item in items)
    minimum = MIN_CHARGE_CENTS.get(currency, 1)
    if total < minimum:
        raise _invalid(
            "line_items",
            f"The Checkout Session's total amount due must add up to at least {minimum} {currency} cents.",
            "amount_too_small",
        )
    if total > MAX_AMOUNT:
        raise _invalid("line_items", "The total amount is too large.", "amount_too_large")
    return items, currency, total


def _create_session(state: SandboxState, params: dict[str, Any], request: Request) -> Outcome:
    unknown = sorted(set(params) - KNOWN_CREATE_PARAMS)
    if unknown:
        raise _invalid(unknown[0], f"Received unknown parameter: {unknown[0]}", "parameter_unknown")
    mode = params.get("mode")
    if mode is None:
        raise _missing("mode")
    if mode not in {"payment", "setup", "subscription"}:
        raise _invalid("mode", "Invalid mode: must be one of payment, setup, or subscription")
    if mode != "payment":
        raise _invalid("mode", f"The provider sandbox supports mode=payment only, got {mode}.")
    items, currency, total = _line_items(params.get("line_items"))
    success_url = _url(params.get("success_url"), "success_url")
    cancel_raw = params.get("cancel_url")
    cancel_url = _url(cancel_raw, "cancel_url") if cancel_raw not in (None, "") else None
    now = state.now()
    if "expires_at" in params:
        expires_at = _int(params["expires_at"], "expires_at")
        if expires_at < now + MIN_EXPIRY_SECONDS - EXPIRY_SKEW_SECONDS:
            raise _invalid(
                "expires_at",
                "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.",
                "parameter_invalid_integer",
            )
        if expires_at > now + MAX_EXPIRY_SECONDS + EXPIRY_SKEW_SECONDS:
            raise _invalid(
                "expires_at",
                "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.",
                "parameter_invalid_integer",
            )
    else:
        expires_at = now + MAX_EXPIRY_SECONDS
    reference = params.get("client_reference_id")
    if reference is not None:
        reference = _text(reference, "client_reference_id")
        if len(reference) > CLIENT_REFERENCE_MAX:
            raise _invalid("client_reference_id", "client_reference_id can be at most 200 characters.")
    email = params.get("customer_email")
    if email is not None and (not isinstance(email, str) or not _EMAIL.match(email)):
        raise _invalid("customer_email", f"Invalid email address: {email}", "email_invalid")
    metadata = _metadata(params.get("metadata"))
    key = request.headers.get("idempotency-key")
    session = StripeSession(
        id=stripe_id("cs_test_", 58),
        created=now,
        expires_at=expires_at,
        amount_subtotal=total,
        amount_total=total,
        currency=currency,
        line_items=items,
        success_url=success_url,
        cancel_url=cancel_url,
        client_reference_id=reference or None,
        customer_email=email,
        metadata=metadata,
        idempotency_key=key,
    )
    state.stripe_sessions[session.id] = session
    if key is not None:
        state.creates_per_idempotency_key[key] += 1
    logger.info("stripe session %s created (%s %d)", session.id, currency, total)
    return Outcome(200, session_object(state, session))


def _find_session(state: SandboxState, session_id: str) -> StripeSession:
    session = state.stripe_sessions.get(session_id)
    if session is None:
        raise StripeApiError(
            404, f"No such checkout.session: '{session_id}'", code="resource_missing", param="session"
        )
    return session


def _expire_session(state: SandboxState, params: dict[str, Any], request: Request) -> Outcome:
    session = _find_session(state, request.path_params["session_id"])
    if session.status != "open":
        raise StripeApiError(
            400,
            'Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has a '
            f'status of "{session.status}".',
            param="session",
        )
    event = mark_expired(
        state,
        session,
        request_id=stripe_id("req_", 14),
        idempotency_key=request.headers.get("idempotency-key"),
    )
    return Outcome(200, session_object(state, session), [event])


# --- Refunds ---------------------------------------------------------------------------------

REFUND_REASONS = frozenset({"duplicate", "fraudulent", "requested_by_customer"})


def _create_refund(state: SandboxState, params: dict[str, Any], request: Request) -> Outcome:
    intent_id = params.get("payment_intent")
    if intent_id is None:
        if "charge" in params:
            intent_id = next(
                (i.id for i in state.payment_intents.values() if i.charge_id == params["charge"]), None
            )
            if intent_id is None:
                raise StripeApiError(
                    400, f"No such charge: '{params['charge']}'", code="resource_missing", param="charge"
                )
        else:
            raise _missing("payment_intent")
    intent = state.payment_intents.get(str(intent_id))
    if intent is None:
        raise StripeApiError(
            400,
            f"No such payment_intent: '{intent_id}'",
            code="resource_missing",
            param="payment_intent",
        )
    session = state.stripe_sessions.get(intent.session_id)
    if session is not None and session.payment_status != "paid":
        raise StripeApiError(
            400,
            f"This PaymentIntent ({intent.id}) does not have a successful charge to refund.",
            code="charge_not_refundable",
            param="payment_intent",
        )
    remaining = intent.amount - intent.amount_refunded
    if remaining <= 0:
        raise StripeApiError(
            400,
            f"Charge {intent.charge_id} has already been refunded.",
            code="charge_already_refunded",
        )
    amount = _int(params["amount"], "amount") if "amount" in params else remaining
    if amount < 1:
        raise _invalid("amount", "Invalid positive integer", "parameter_invalid_integer")
    if amount > remaining:
        raise StripeApiError(
            400,
            f"Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining})",
            code="amount_too_large",
            param="amount",
        )
    reason = params.get("reason")
    if reason is not None and reason not in REFUND_REASONS:
        raise _invalid(
            "reason",
            "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer",
            "parameter_invalid_string",
        )
    refund = StripeRefund(
        id=stripe_id("re_"),
        amount=amount,
        currency=intent.currency,
        charge=intent.charge_id,
        payment_intent=intent.id,
        reason=reason,
        metadata=_metadata(params.get("metadata")),
        created=state.now(),
    )
    intent.amount_refunded += amount
    state.stripe_refunds[refund.id] = refund
    return Outcome(200, refund_object(refund))


# --- routes ----------------------------------------------------------------------------------


async def create_session(request: Request) -> Response:
    return await _post(request, _create_session)


async def expire_session(request: Request) -> Response:
    return await _post(request, _expire_session)


async def create_refund(request: Request) -> Response:
    return await _post(request, _create_refund)


async def retrieve_session(request: Request) -> Response:
    state = _state(request)
    try:
        _authenticate(request)
        async with state.lock:
            deliver_later(state, expire_due(state))
            session = _find_session(state, request.path_params["session_id"])
            return _json(200, session_object(state, session))
    except StripeApiError as err:
        return _json(err.status, err.body())


def _find_refund(state: SandboxState, refund_id: str) -> StripeRefund:
    refund = state.stripe_refunds.get(refund_id)
    if refund is None:
        raise StripeApiError(404, f"No such refund: '{refund_id}'", code="resource_missing", param="id")
    return refund


async def retrieve_refund(request: Request) -> Response:
    try:
        _authenticate(request)
        refund = _find_refund(_state(request), request.path_params["refund_id"])
    except StripeApiError as err:
        return _json(err.status, err.body())
    return _json(200, refund_object(refund))


async def unrecognized(request: Request) -> Response:
    try:
        _authenticate(request)
    except StripeApiError as err:
        return _json(err.status, err.body())
    path = request.url.path.removeprefix("/stripe")
    unknown = StripeApiError(
        404,
        f"Unrecognized request URL ({request.method}: {path}). The provider sandbox emulates "
        "/v1/checkout/sessions and /v1/refunds only.",
    )
    return _json(unknown.status, unknown.body())


def router() -> Router:
    methods = ["GET", "POST", "DELETE", "PUT", "PATCH"]
    return Router(
        routes=[
            Route("/v1/checkout/sessions", create_session, methods=["POST"]),
            Route("/v1/checkout/sessions/{session_id}", retrieve_session, methods=["GET"]),
            Route("/v1/checkout/sessions/{session_id}/expire", expire_session, methods=["POST"]),
            Route("/v1/refunds", create_refund, methods=["POST"]),
            Route("/v1/refunds/{refund_id}", retrieve_refund, methods=["GET"]),
            Route("/{path:path}", unrecognized, methods=methods),
        ]
    )
