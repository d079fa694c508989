"""Forced Stripe outcomes (`POST /_sandbox/stripe/sessions/{id}/complete`), the end of a pending refund
(`POST /_sandbox/stripe/refunds/{id}/complete`) and Stripe's rows in the listing.

Outcomes are what Stripe itself would do: `paid`; `declined` and `canceled` (alias `abandoned`) change
nothing and send nothing (the shopper stays on, or leaves, the page); `expired`; delayed methods
(`async_paid`, `async_failed`). A pending refund ends `succeeded` (refund.updated) or `failed`
(refund.updated, then refund.failed).
"""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from provider_sandbox.control import ControlError, Prepared, ProviderControl, Step, complete_endpoint
from provider_sandbox.events import WebhookEvent
from provider_sandbox.store import SandboxState
from provider_sandbox.stripe import objects
from provider_sandbox.stripe.expiry import expire_overdue
from provider_sandbox.stripe.models import StripeRefund, StripeSession, stripe_store

OUTCOMES = ("paid", "declined", "canceled", "abandoned", "expired", "async_paid", "async_failed")
REFUND_OUTCOMES = ("succeeded", "failed")


def _steps(state: SandboxState, s: StripeSession, outcome: str) -> list[Step]:
    def is_open() -> bool:
        return s.status == "open"

    if outcome == "paid":
        return [(is_open, lambda: objects.mark_paid(state, s))]
    if outcome in {"async_paid", "async_failed"}:
        return [
            (is_open, lambda: objects.mark_async_completed(state, s)),
            (
                lambda: (s.status, s.payment_status) == ("complete", "unpaid"),
                lambda: objects.settle_async(state, s, succeeded=outcome == "async_paid"),
            ),
        ]
    if outcome == "expired":
        return [(is_open, lambda: objects.mark_expired(state, s))]
    if outcome == "declined":
        return [
            (is_open, lambda: objects.record_decline(state, s, card_last4="0002", reason="generic_decline"))
        ]

    def shopper_cancel() -> None:
        # Leaving through cancel_url changes nothing at Stripe: the session stays open until it expires.
        s.shopper_cancels += 1

    return [(is_open, shopper_cancel)]


def _read_outcome(body: dict[str, Any]) -> object:
    """`"async": true` turns paid/declined/failed into the delayed-method outcomes."""
    outcome = body.get("outcome")
    if body.get("async") is True and outcome in {"paid", "declined", "failed"}:
        return "async_paid" if outcome == "paid" else "async_failed"
    return outcome


def _prepare(state: SandboxState, session_id: str, outcome: str) -> Prepared:
    expire_overdue(state)
    session = stripe_store(state).sessions.get(session_id)
    if session is None:
        raise ControlError(404, "not_found", "No such Stripe checkout session")
    if session.status != "open":
        raise ControlError(409, "conflict", f"The session is {session.status}, not open")
    return _steps(state, session, outcome), lambda: objects.session_object(state, session)


def _refund_steps(state: SandboxState, r: StripeRefund, outcome: str) -> list[Step]:
    def is_pending() -> bool:
        return r.status == "pending"

    if outcome == "succeeded":
        return [(is_pending, lambda: objects.settle_refund(state, r, succeeded=True))]
    return [
        (is_pending, lambda: objects.settle_refund(state, r, succeeded=False)),
        (lambda: r.status == "failed", lambda: objects.refund_failed(state, r)),
    ]


def _prepare_refund(state: SandboxState, refund_id: str, outcome: str) -> Prepared:
    refund = stripe_store(state).refunds.get(refund_id)
    if refund is None:
        raise ControlError(404, "not_found", "No such Stripe refund")
    if refund.status != "pending":
        raise ControlError(409, "conflict", f"The refund is {refund.status}, not pending")
    return _refund_steps(state, refund, outcome), lambda: objects.refund_object(refund)


def listing(state: SandboxState) -> list[dict[str, Any]]:
    return [
        {
            "provider": "stripe",
            "id": s.id,
            "status": s.status,
            "payment_status": s.payment_status,
            "amount": s.amount_total,
            "currency": s.currency,
            "idempotency_key": s.idempotency_key,
            "created": s.created,
            "declines": len(s.declines),
            "shopper_cancels": s.shopper_cancels,
            "webhooks": len(s.events),
            "url": objects.hosted_url(state, s.id) if s.status == "open" else None,
            "refunds": [
                {"id": r.id, "amount": r.amount, "status": r.status}
                for r in stripe_store(state).refunds.values()
                if r.session_id == s.id
            ],
        }
        for s in stripe_store(state).sessions.values()
    ]


def sent_events(state: SandboxState, session_id: str) -> list[WebhookEvent] | None:
    session = stripe_store(state).sessions.get(session_id)
    return None if session is None else session.events


CONTROL = ProviderControl(
    name="stripe",
    routes=[
        Route(
            "/_sandbox/stripe/sessions/{session_id}/complete",
            complete_endpoint("stripe", OUTCOMES, _prepare, read_outcome=_read_outcome),
            methods=["POST"],
        ),
        Route(
            "/_sandbox/stripe/refunds/{refund_id}/complete",
            complete_endpoint(
                "stripe", REFUND_OUTCOMES, _prepare_refund, id_param="refund_id", object_key="refund"
            ),
            methods=["POST"],
        ),
    ],
    listing=listing,
    sent_events=sent_events,
)
