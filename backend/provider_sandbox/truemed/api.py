"""Truemed merchant API emulation under `/truemed` (`/payments/v1/...`).

Documented behaviour follows developers.truemed.com; every choice where Truemed's docs are silent is listed
in docs/sandbox.md ("Truemed: documented choices") and marked "choice:" here and in params.py. The
choices that are switchable (cancel/refund paths and answers, error bodies, ...) are read from
`state.switches.truemed` on every request.
"""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, Router

from provider_sandbox.idempotency import MAX_KEY_LENGTH, KeyReused, fingerprint
from provider_sandbox.ids import truemed_id
from provider_sandbox.store import SandboxState, state_of
from provider_sandbox.truemed.errors import TruemedError, invalid, key_reused, missing
from provider_sandbox.truemed.models import TruemedRefund, TruemedSession, truemed_store
from provider_sandbox.truemed.objects import hosted_url, session_object, to_canceled
from provider_sandbox.truemed.params import is_int, new_session
from provider_sandbox.validation import json_object
from provider_sandbox.webhooks import deliver_later

logger = logging.getLogger(__name__)

PAGE_SIZE = 30
REFUND_REASONS = frozenset({"customer_request", "fraudulent", "duplicate_payment"})
# Each kind of request keeps its own keys: a create key never answers a refund.
CREATE, REFUND = "create", "refund"


def _authenticate(request: Request) -> None:
    supplied = request.headers.get("x-truemed-api-key", "")
    expected = state_of(request).config.truemed_api_key
    if not supplied or not hmac.compare_digest(supplied.encode(), expected.encode()):
        # choice: the 401 shape is undocumented; the documented error shape with "Unauthorized".
        raise TruemedError(401, "Unauthorized", "Missing or invalid x-truemed-api-key header")


async def _json_body(request: Request) -> dict[str, Any]:
    body = json_object(await request.body() or b"{}")
    if body is None:
        # choice: undocumented; a body that is not a JSON object is "InvalidRequestBody".
        raise TruemedError(400, "InvalidRequestBody", "The request body must be a JSON object")
    return body


Handler = Callable[[Request, SandboxState], Awaitable[Response]]


def _guarded(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        state = state_of(request)
        try:
            _authenticate(request)
            return await handler(request, state)
        except TruemedError as err:
            return err.response(state.switches.truemed.error_body)

    return endpoint


def _created(state: SandboxState, session: TruemedSession) -> JSONResponse:
    return JSONResponse({"id": session.id, "redirect_url": hosted_url(state, session.id)})


async def create_payment_session(request: Request, state: SandboxState) -> Response:
    body = await _json_body(request)
    key = body.get("idempotency_key")
    if key is not None and (not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH):
        raise invalid("idempotency_key", f"must be a non-empty string of at most {MAX_KEY_LENGTH} characters")
    store = truemed_store(state)
    async with state.lock:
        strict = state.config.truemed_amount_details == "strict"
        session = new_session(body, strict=strict, now=state.clock())
        if key is not None:
            digest = fingerprint(body)
            try:
                existing = store.create_keys.find(key, scope=CREATE, fingerprint=digest)
            except KeyReused as err:
                raise key_reused(
                    "This idempotency_key was used with a different request body; a changed cart needs "
                    "a new key (and a cancel of the old session)."
                ) from err
            if existing is not None:
                return _created(state, store.sessions[existing])
            store.create_keys.save(key, scope=CREATE, fingerprint=digest, result=session.id)
            state.creates_per_idempotency_key[key] += 1
        store.sessions[session.id] = session
    logger.info("truemed session %s created (%d cents)", session.id, session.total_amount)
    return _created(state, session)


def find_session(state: SandboxState, session_id: str) -> TruemedSession:
    session = truemed_store(state).sessions.get(session_id)
    if session is None:
        raise TruemedError(404, "PaymentSessionDoesNotExist", f"No payment session with id {session_id}")
    return session


async def get_payment_session(request: Request, state: SandboxState) -> Response:
    return JSONResponse(session_object(find_session(state, request.path_params["session_id"])))


async def list_payment_sessions(request: Request, state: SandboxState) -> Response:
    try:
        page = max(1, int(request.query_params.get("page", "1")))
    except ValueError as exc:
        raise invalid("page", "must be an integer") from exc
    sessions = sorted(truemed_store(state).sessions.values(), key=lambda s: s.created_at, reverse=True)
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


async def cancel_payment_session(request: Request, state: SandboxState, session_id: str) -> Response:
    async with state.lock:
        session = find_session(state, session_id)
        if session.status != "pending":
            # choice: undocumented; modelled on the documented SessionPending/SessionCaptured family.
            raise TruemedError(
                400, "SessionNotPending", f"Only pending sessions can be canceled (status: {session.status})"
            )
        event = to_canceled(state, session)
    # Truemed sends a webhook on every status change, cancels included.
    deliver_later(state, [event])
    answer = state.switches.truemed.cancel_answer
    if answer == "empty":
        return Response(status_code=204)
    if answer == "id":
        return JSONResponse({"id": session.id})
    return JSONResponse({"id": session.id, "status": session.status})


async def refund(request: Request, state: SandboxState) -> Response:
    body = await _json_body(request)
    for name in ("amount", "idempotency_key", "payment_id", "reason"):
        if body.get(name) in (None, ""):
            raise missing(name)
    amount, key, payment_id, reason = (
        body["amount"],
        body["idempotency_key"],
        body["payment_id"],
        body["reason"],
    )
    if not isinstance(key, str) or len(key) > MAX_KEY_LENGTH:
        raise invalid("idempotency_key", f"must be a string of at most {MAX_KEY_LENGTH} characters")
    if reason not in REFUND_REASONS:
        raise invalid("reason", "must be one of customer_request, fraudulent, duplicate_payment")
    store = truemed_store(state)
    digest = fingerprint(body)
    async with state.lock:
        try:
            saved = store.refund_keys.find(key, scope=REFUND, fingerprint=digest)
        except KeyReused as err:
            raise key_reused("This idempotency_key was used with a different refund") from err
        if saved is not None:
            return _refund_answer(state, saved)
        session = store.sessions.get(str(payment_id))
        if session is None:
            raise TruemedError(400, "InvalidPaymentId", f"No payment with id {payment_id}")
        if session.status != "captured" or session.capture_amount <= 0:
            raise TruemedError(400, "NoSessionCaptures", "The payment session has nothing captured to refund")
        refundable = session.refundable_amount
        if not is_int(amount) or amount <= 0 or amount > refundable:
            raise TruemedError(
                400, "AmountInvalid", f"amount must be a whole number of cents between 1 and {refundable}"
            )
        # choice: the answer only says the refund was accepted; whether status_summary shows it at once or
        # only later (the control API ends it) is the assumption refund_summary.
        pending = state.switches.truemed.refund_summary == "pending"
        entry = TruemedRefund(
            refund_id=truemed_id(),
            amount=int(amount),
            reason=reason,
            created_at=state.clock(),
            status="pending" if pending else "succeeded",
        )
        session.refunds.append(entry)
        store.refund_keys.save(key, scope=REFUND, fingerprint=digest, result=entry.refund_id)
    logger.info("truemed refund %s of %d on %s (%s)", entry.refund_id, entry.amount, session.id, entry.status)
    return _refund_answer(state, entry.refund_id)


def _refund_answer(state: SandboxState, refund_id: str) -> JSONResponse:
    field = "id" if state.switches.truemed.refund_answer == "id" else "refund_id"
    return JSONResponse({field: refund_id})


def _path_pattern(template: str) -> re.Pattern[str]:
    """A path template with one `{id}` (assumption cancel_path) as a regex capturing the id."""
    before, _, after = template.partition("{id}")
    return re.compile(re.escape(before) + r"(?P<id>[^/]+)" + re.escape(after))


async def switched_routes(request: Request, state: SandboxState) -> Response:
    """The routes whose paths are assumptions (cancel_path, refund_path), else Truemed's 404."""
    path = "/" + request.path_params["path"]
    assumptions = state.switches.truemed
    if request.method == "POST":
        if path == assumptions.refund_path:
            return await refund(request, state)
        cancel = _path_pattern(assumptions.cancel_path).fullmatch(path)
        if cancel is not None:
            return await cancel_payment_session(request, state, cancel["id"])
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
            # Cancel and refund live where the assumptions cancel_path and refund_path say.
            Route("/{path:path}", _guarded(switched_routes), methods=methods),
        ]
    )
