"""Truemed merchant API emulation under `/truemed` (`/payments/v1/...`).

Documented behaviour follows developers.truemed.com; every choice where Truemed's docs are silent is listed
in docs/sandbox.md ("Truemed: documented choices") and marked "choice:" here.
Errors: `{"error": "<PascalCaseEnum>", "message": "<text>"}`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, Router

from provider_sandbox.ids import truemed_id
from provider_sandbox.store import SandboxState, TruemedIdempotencyRecord
from provider_sandbox.truemed_objects import (
    TruemedRefund,
    TruemedSession,
    hosted_url,
    session_object,
    to_canceled,
)
from provider_sandbox.webhooks import deliver_later

logger = logging.getLogger(__name__)

PLACEHOLDER = "{{payment_session_id}}"
MAX_KEY = 255
MAX_URL = 5000
PAGE_SIZE = 30
REFUND_REASONS = frozenset({"customer_request", "fraudulent", "duplicate_payment"})
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_STATE = re.compile(r"^[A-Za-z]{2}$")


class TruemedError(Exception):
    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error, self.message = status, error, message

    def response(self) -> JSONResponse:
        return JSONResponse({"error": self.error, "message": self.message}, status_code=self.status)


def truemed_error_body(error: str, message: str) -> dict[str, str]:
    return {"error": error, "message": message}


def _missing(name: str) -> TruemedError:
    return TruemedError(400, "MissingField", f"Missing required field: {name}")


def _invalid(name: str, why: str) -> TruemedError:
    # choice: Truemed's enum for a wrongly typed field is not documented; "InvalidField" names it.
    return TruemedError(400, "InvalidField", f"Invalid field {name}: {why}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _int(body: dict[str, Any], name: str, *, label: str | None = None, minimum: int | None = None) -> int:
    label = label or name
    if name not in body or body[name] is None:
        raise _missing(label)
    value = body[name]
    if not _is_int(value):
        raise _invalid(label, "must be an integer number of cents")
    if minimum is not None and value < minimum:
        raise _invalid(label, f"must be >= {minimum}")
    return int(value)


def _optional_str(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _invalid(name, "must be a string")
    return value


def _url(body: dict[str, Any], name: str, *, required: bool) -> str | None:
    value = _optional_str(body, name)
    if not value:
        if required:
            raise _missing(name)
        return None
    parts = urlsplit(value.replace(PLACEHOLDER, "x"))
    if parts.scheme not in {"http", "https"} or not parts.netloc or len(value) > MAX_URL:
        raise _invalid(name, "must be an absolute http(s) URL")
    return value


def _state(request: Request) -> SandboxState:
    state: SandboxState = request.app.state.sandbox
    return state


def _authenticate(request: Request) -> None:
    supplied = request.headers.get("x-truemed-api-key", "")
    expected = _state(request).config.truemed_api_key
    if not supplied or not hmac.compare_digest(supplied.encode(), expected.encode()):
        # choice: the 401 shape is undocumented; the documented error shape with "Unauthorized".
        raise TruemedError(401, "Unauthorized", "Missing or invalid x-truemed-api-key header")


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw or b"{}")
    except ValueError as exc:
        # choice: undocumented; a body that is not JSON is "InvalidRequestBody".
        raise TruemedError(400, "InvalidRequestBody", "The request body must be a JSON object") from exc
    if not isinstance(body, dict):
        raise TruemedError(400, "InvalidRequestBody", "The request body must be a JSON object")
    return body


def _fingerprint(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _amount_details(value: Any, label: str, *, strict: bool) -> dict[str, int]:
    if value is None:
        if strict:
            raise _missing(label)
        return {"total_additional_charges": 0, "total_discounts": 0}
    if not isinstance(value, dict):
        raise _invalid(label, "must be an object")
    details: dict[str, int] = {}
    for part in ("total_additional_charges", "total_discounts"):
        if part not in value and not strict:
            details[part] = 0
            continue
        details[part] = _int(value, part, label=f"{label}.{part}")
    return details


def _order_items(value: Any, *, strict: bool) -> list[dict[str, Any]]:
    if value is None:
        raise _missing("order_items")
    if not isinstance(value, list) or not value:
        raise _invalid("order_items", "must be a non-empty list")
    items: list[dict[str, Any]] = []
    for i, raw in enumerate(value):
        label = f"order_items[{i}]"
        if not isinstance(raw, dict):
            raise _invalid(label, "must be an object")
        item = dict(raw)
        if "price" not in item and "amount" in item and not strict:
            # choice: older integrations sent `amount`; lenient mode accepts it as `price`.
            item["price"] = item.pop("amount")
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            raise _missing(f"{label}.name")
        if item.get("sku") is not None and not isinstance(item["sku"], str):
            raise _invalid(f"{label}.sku", "must be a string")
        _int(item, "price", label=f"{label}.price", minimum=0)
        _int(item, "quantity", label=f"{label}.quantity", minimum=1)
        if "amount_details" in item and item["amount_details"] is not None:
            item["amount_details"] = _amount_details(
                item["amount_details"], f"{label}.amount_details", strict=strict
            )
        items.append(item)
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


def _new_session(state: SandboxState, body: dict[str, Any]) -> TruemedSession:
    """Validate a create body and build the session (not yet stored)."""
    strict = state.config.truemed_amount_details == "strict"
    total = _int(body, "total_amount")
    items = _order_items(body.get("order_items"), strict=strict)
    details = _amount_details(body.get("amount_details"), "amount_details", strict=strict)
    success_url = _url(body, "success_url", required=True)
    failure_url = _url(body, "failure_url", required=False)
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, str):
        raise _invalid("metadata", "must be a string (serialise objects yourself)")
    email = _optional_str(body, "customer_email")
    if email and not _EMAIL.match(email):
        raise _invalid("customer_email", "must be an email address")
    customer_state = _optional_str(body, "customer_state")
    if customer_state and not _STATE.match(customer_state):
        raise _invalid("customer_state", "must be a 2-letter US state code")
    kind = _optional_str(body, "kind") or "one_time_payment"
    if kind == "authorization":
        # choice: manual capture is enabled per account at Truemed; the sandbox account does not have it.
        raise TruemedError(400, "ManualCaptureNotEnabled", "kind=authorization is not enabled")
    if kind != "one_time_payment":
        raise _invalid("kind", "must be one_time_payment or authorization")
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
        created_at=state.clock(),
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


Handler = Callable[[Request, SandboxState], Awaitable[Response]]


def _guarded(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            _authenticate(request)
            return await handler(request, _state(request))
        except TruemedError as err:
            return err.response()

    return endpoint


async def create_payment_session(request: Request, state: SandboxState) -> Response:
    body = await _json_body(request)
    key = body.get("idempotency_key")
    if key is not None and (not isinstance(key, str) or not key or len(key) > MAX_KEY):
        raise _invalid("idempotency_key", f"must be a non-empty string of at most {MAX_KEY} characters")
    async with state.lock:
        session = _new_session(state, body)
        if key is not None:
            record = state.truemed_create_keys.get(key)
            if record is not None:
                if record.fingerprint != _fingerprint(body):
                    # choice: the docs say "same key -> same session" only; a changed body is refused.
                    raise TruemedError(
                        400,
                        "IdempotencyKeyReused",
                        "This idempotency_key was used with a different request body; a changed cart needs "
                        "a new key (and a cancel of the old session).",
                    )
                existing = state.truemed_sessions[record.result_id]
                return JSONResponse({"id": existing.id, "redirect_url": hosted_url(state, existing.id)})
            state.truemed_create_keys[key] = TruemedIdempotencyRecord(_fingerprint(body), session.id)
            state.creates_per_idempotency_key[key] += 1
        state.truemed_sessions[session.id] = session
    logger.info("truemed session %s created (%d cents)", session.id, session.total_amount)
    return JSONResponse({"id": session.id, "redirect_url": hosted_url(state, session.id)})


def find_session(state: SandboxState, session_id: str) -> TruemedSession:
    session = state.truemed_sessions.get(session_id)
    if session is None:
        raise TruemedError(404, "PaymentSessionDoesNotExist", f"No payment session with id {session_id}")
    return session


async def get_payment_session(request: Request, state: SandboxState) -> Response:
    return JSONResponse(session_object(find_session(state, request.path_params["session_id"])))


async def list_payment_sessions(request: Request, state: SandboxState) -> Response:
    try:
        page = max(1, int(request.query_params.get("page", "1")))
    except ValueError as exc:
        raise _invalid("page", "must be an integer") from exc
    sessions = sorted(state.truemed_sessions.values(), key=lambda s: s.created_at, reverse=True)
    count = len(sessions)
    last_page = max(1, (count + PAGE_SIZE - 1) // PAGE_SIZE)
    chunk = sessions[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    return JSONResponse(
        {
            "payment_sessions": [session_object(s) for s in chunk],
            "pagination": {
                "count": count,
                "current_page": page,
                "last_page": last_page,
                "page_size": PAGE_SIZE,
            },
        }
    )


async def cancel_payment_session(request: Request, state: SandboxState) -> Response:
    async with state.lock:
        session = find_session(state, request.path_params["session_id"])
        if session.status != "pending":
            # choice: undocumented; modelled on the documented SessionPending/SessionCaptured family.
            raise TruemedError(
                400, "SessionNotPending", f"Only pending sessions can be canceled (status: {session.status})"
            )
        event = to_canceled(state, session)
    # Truemed sends a webhook on every status change, cancels included.
    deliver_later(state, [event])
    return JSONResponse({"id": session.id, "status": session.status})


async def refund(request: Request, state: SandboxState) -> Response:
    body = await _json_body(request)
    for name in ("amount", "idempotency_key", "payment_id", "reason"):
        if body.get(name) in (None, ""):
            raise _missing(name)
    amount, key, payment_id, reason = (
        body["amount"],
        body["idempotency_key"],
        body["payment_id"],
        body["reason"],
    )
    if not isinstance(key, str) or len(key) > MAX_KEY:
        raise _invalid("idempotency_key", f"must be a string of at most {MAX_KEY} characters")
    if reason not in REFUND_REASONS:
        raise _invalid("reason", "must be one of customer_request, fraudulent, duplicate_payment")
    async with state.lock:
        record = state.truemed_refund_keys.get(key)
        if record is not None:
            if record.fingerprint != _fingerprint(body):
                raise TruemedError(
                    400, "IdempotencyKeyReused", "This idempotency_key was used with a different refund"
                )
            return JSONResponse({"refund_id": record.result_id})
        session = state.truemed_sessions.get(str(payment_id))
        if session is None:
            raise TruemedError(400, "InvalidPaymentId", f"No payment with id {payment_id}")
        if session.status != "captured" or session.capture_amount <= 0:
            raise TruemedError(400, "NoSessionCaptures", "The payment session has nothing captured to refund")
        refundable = session.capture_amount - session.refunded_amount
        if not _is_int(amount) or amount <= 0 or amount > refundable:
            raise TruemedError(
                400, "AmountInvalid", f"amount must be a whole number of cents between 1 and {refundable}"
            )
        entry = TruemedRefund(
            refund_id=truemed_id(), amount=int(amount), reason=reason, created_at=state.clock()
        )
        session.refunds.append(entry)
        state.truemed_refund_keys[key] = TruemedIdempotencyRecord(_fingerprint(body), entry.refund_id)
    logger.info("truemed refund %s of %d on %s", entry.refund_id, entry.amount, session.id)
    return JSONResponse({"refund_id": entry.refund_id})


async def not_found(request: Request, state: SandboxState) -> Response:
    path = request.url.path.removeprefix("/truemed")
    raise TruemedError(404, "NotFound", f"No such endpoint: {request.method} {path}")


def router() -> Router:
    methods = ["GET", "POST", "DELETE", "PUT", "PATCH"]
    return Router(
        routes=[
            Route("/payments/v1/create_payment_session", _guarded(create_payment_session), methods=["POST"]),
            Route("/payments/v1/payment_sessions", _guarded(list_payment_sessions), methods=["GET"]),
            Route(
                "/payments/v1/payment_session/{session_id}", _guarded(get_payment_session), methods=["GET"]
            ),
            Route(
                "/payments/v1/payment_session/{session_id}/cancel",
                _guarded(cancel_payment_session),
                methods=["POST"],
            ),
            Route("/payments/v1/refund", _guarded(refund), methods=["POST"]),
            Route("/{path:path}", _guarded(not_found), methods=methods),
        ]
    )
