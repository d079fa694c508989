"""Forced Truemed outcomes (`POST /_sandbox/truemed/payment_sessions/{id}/complete`) and Truemed's rows in
the listing. Each outcome sends the webhooks a real session would, in order: a session always passes
through `processing` (the practitioner's review) before `captured` or `rejected`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.routing import Route

from provider_sandbox.control import (
    ControlError,
    Prepared,
    ProviderControl,
    Step,
    complete_endpoint,
    replay_endpoint,
)
from provider_sandbox.events import WebhookEvent
from provider_sandbox.store import SandboxState
from provider_sandbox.truemed import objects
from provider_sandbox.truemed.models import TruemedSession, truemed_store

OUTCOMES = ("captured", "processing", "rejected", "canceled")
# The statuses each outcome can start from.
_STARTS = {
    "processing": {"pending"},
    "captured": {"pending", "processing"},
    "rejected": {"pending", "processing"},
    "canceled": {"pending"},
}


def _steps(state: SandboxState, s: TruemedSession, outcome: str) -> list[Step]:
    if s.status not in _STARTS[outcome]:
        raise ControlError(409, "conflict", f"Cannot go from {s.status} to {outcome}")

    def status_is(expected: str) -> Callable[[], bool]:
        return lambda: s.status == expected

    if outcome == "canceled":
        return [(status_is("pending"), lambda: objects.to_canceled(state, s))]
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
    ],
    listing=listing,
    sent_events=sent_events,
)
