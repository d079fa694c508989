"""Forced Truemed outcomes (`POST /_sandbox/truemed/payment_sessions/{id}/complete`), the end of a pending
refund (`POST /_sandbox/truemed/refunds/{id}/complete`), notifications that name no payment session
(`POST /_sandbox/truemed/events`) and Truemed's rows in the listing.

Each outcome sends the webhooks a real session would, in order: a session always passes through
`processing` (the practitioner's review) before `captured` or `rejected`. `canceled` is what the cancel API
does (a webhook); `abandoned` is the shopper leaving the hosted page (nothing changes, nothing is sent).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from provider_sandbox.config import ConfigError, check_event_type
from provider_sandbox.control import (
    ControlError,
    Prepared,
    ProviderControl,
    Step,
    complete_endpoint,
    event_summary,
    handled,
    read_body,
    replay_endpoint,
)
from provider_sandbox.events import WebhookEvent
from provider_sandbox.ids import iso
from provider_sandbox.store import SandboxState, state_of
from provider_sandbox.truemed import objects
from provider_sandbox.truemed.models import TruemedRefund, TruemedSession, truemed_store
from provider_sandbox.webhooks import deliver

OUTCOMES = ("captured", "processing", "rejected", "canceled", "abandoned")
REFUND_OUTCOMES = ("succeeded", "failed")
# The statuses each outcome can start from.
_STARTS = {
    "processing": {"pending"},
    "captured": {"pending", "processing"},
    "rejected": {"pending", "processing"},
    "canceled": {"pending"},
    "abandoned": {"pending"},
}


def _steps(state: SandboxState, s: TruemedSession, outcome: str) -> list[Step]:
    if s.status not in _STARTS[outcome]:
        raise ControlError(409, "conflict", f"Cannot go from {s.status} to {outcome}")

    def status_is(expected: str) -> Callable[[], bool]:
        return lambda: s.status == expected

    if outcome == "canceled":
        return [(status_is("pending"), lambda: objects.to_canceled(state, s))]
    if outcome == "abandoned":

        def shopper_leaves() -> None:
            s.shopper_cancels += 1  # back to failure_url; the session stays pending, no webhook

        return [(status_is("pending"), shopper_leaves)]
    steps: list[Step] = []
    if s.status == "pending":
        # A real session always passes through review: processing comes first.
        steps.append((status_is("pending"), lambda: objects.to_processing(state, s)))
    if outcome == "captured":
        steps.append((status_is("processing"), lambda: objects.to_captured(state, s)))
    elif outcome == "rejected":
        steps.append((status_is("processing"), lambda: objects.to_rejected(state, s)))
    return steps


def _prepare(state: SandboxState, session_id: str, outcome: str) -> Prepared:
    session = truemed_store(state).sessions.get(session_id)
    if session is None:
        raise ControlError(404, "not_found", "No such Truemed payment session")
    return _steps(state, session, outcome), lambda: objects.session_object(session)


def _refund_steps(refund: TruemedRefund, outcome: str) -> list[Step]:
    def end() -> None:
        # No webhook: Truemed documents none for refunds. A succeeded refund shows in status_summary; a
        # failed one never does (and its amount is refundable again).
        refund.status = outcome

    return [(lambda: refund.status == "pending", end)]


def _prepare_refund(state: SandboxState, refund_id: str, outcome: str) -> Prepared:
    found = truemed_store(state).refund(refund_id)
    if found is None:
        raise ControlError(404, "not_found", "No such Truemed refund")
    session, refund = found
    if refund.status != "pending":
        raise ControlError(409, "conflict", f"The refund is {refund.status}, not pending")
    return _refund_steps(refund, outcome), lambda: objects.session_object(session)


async def send_event(request: Request) -> Response:
    """`POST /_sandbox/truemed/events {"event_type", "data"}`: an authentic notification that names no payment
    session (signed or legacy, as configured), delivered before the call answers."""
    state = state_of(request)
    body = await read_body(request)
    try:
        event_type = check_event_type(body.get("event_type"))
    except ConfigError as exc:
        raise ControlError(400, "validation_error", f"event_type: {exc}") from exc
    data = body.get("data")
    if data is None:
        data = {
            "qualification_session_id": str(uuid.uuid4()),
            "status": "approved",
            "created_at": iso(state.clock()),
        }
    if not isinstance(data, dict):
        raise ControlError(400, "validation_error", "data must be a JSON object")
    async with state.lock:
        event = objects.other_event(state, event_type, data)
    result = await deliver(state, event)
    return JSONResponse({"provider": "truemed", "event": event_summary(event), "deliveries": [result]})


def listing(state: SandboxState) -> list[dict[str, Any]]:
    return [
        {
            "provider": "truemed",
            "id": s.id,
            "status": s.status,
            "status_summary": s.status_summary,
            "amount": s.total_amount,
            "currency": "usd",
            "idempotency_key": s.idempotency_key,
            "created": int(s.created_at),
            "refunded_amount": s.refunded_amount,
            "refunds": [
                {"id": r.refund_id, "amount": r.amount, "status": r.status, "reason": r.reason}
                for r in s.refunds
            ],
            "shopper_cancels": s.shopper_cancels,
            "webhooks": len(s.events),
            "url": objects.hosted_url(state, s.id),
        }
        for s in truemed_store(state).sessions.values()
    ]


def sent_events(state: SandboxState, session_id: str) -> list[WebhookEvent] | None:
    session = truemed_store(state).sessions.get(session_id)
    return None if session is None else session.events


_complete = complete_endpoint("truemed", OUTCOMES, _prepare)
CONTROL = ProviderControl(
    name="truemed",
    routes=[
        Route("/_sandbox/truemed/payment_sessions/{session_id}/complete", _complete, methods=["POST"]),
        # Aliases, so both providers can be driven with the same path shapes.
        Route("/_sandbox/truemed/sessions/{session_id}/complete", _complete, methods=["POST"]),
        Route(
            "/_sandbox/truemed/payment_sessions/{session_id}/replay",
            replay_endpoint("truemed", sent_events),
            methods=["POST"],
        ),
        Route(
            "/_sandbox/truemed/refunds/{refund_id}/complete",
            complete_endpoint(
                "truemed", REFUND_OUTCOMES, _prepare_refund, id_param="refund_id", object_key="session"
            ),
            methods=["POST"],
        ),
        Route("/_sandbox/truemed/events", handled(send_event), methods=["POST"]),
    ],
    listing=listing,
    sent_events=sent_events,
)
