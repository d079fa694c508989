"""Truemed payment sessions, their status changes, and the webhook each change sends.

Statuses (developers.truemed.com): pending -> processing (details entered, under review) -> captured or
rejected; pending -> canceled through the cancel API. Every change sends `payment_session_complete`.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from provider_sandbox.ids import iso, stripe_id
from provider_sandbox.store import SandboxState, WebhookEvent

EVENT_TYPE = "payment_session_complete"
SUMMARY = {
    "pending": "Incomplete",
    "processing": "Processing",
    "captured": "Captured",
    "rejected": "Rejected",
    "canceled": "Canceled",
}
# Observed in Truemed's sandbox: a $38.00 fee on a $600.00 order (19/300 of the total).
FEE_NUMERATOR, FEE_DENOMINATOR = 19, 300


@dataclass
class TruemedRefund:
    refund_id: str
    amount: int
    reason: str
    created_at: float


@dataclass
class TruemedSession:
    id: str
    created_at: float
    total_amount: int
    order_items: list[dict[str, Any]]
    amount_details: dict[str, int]
    success_url: str
    failure_url: str | None
    idempotency_key: str | None
    customer_email: str | None
    customer_name: str | None
    customer_state: str | None
    metadata: str | None
    kind: str = "one_time_payment"
    status: str = "pending"
    authorize_amount: int = 0
    capture_amount: int = 0
    authorized_on: float | None = None
    captured_on: float | None = None
    survey_done: bool = False
    refunds: list[TruemedRefund] = field(default_factory=list)
    events: list[WebhookEvent] = field(default_factory=list)

    @property
    def refunded_amount(self) -> int:
        return sum(r.amount for r in self.refunds)

    @property
    def status_summary(self) -> str:
        if self.refunds:
            return "Refunded" if self.refunded_amount >= self.capture_amount else "Partially Refunded"
        return SUMMARY.get(self.status, self.status.title())

    @property
    def truemed_fee(self) -> int:
        return (self.total_amount * FEE_NUMERATOR + FEE_DENOMINATOR // 2) // FEE_DENOMINATOR


def hosted_url(state: SandboxState, session_id: str) -> str:
    return f"{state.config.public_base}/pay/truemed/{session_id}"


def session_object(s: TruemedSession) -> dict[str, Any]:
    """GET /payments/v1/payment_session/{id}: the documented fields plus the customer fields sent."""
    return {
        "id": s.id,
        "status": s.status,
        "status_summary": s.status_summary,
        "total_amount": s.total_amount,
        "authorize_amount": s.authorize_amount,
        "capture_amount": s.capture_amount,
        "refunded_amount": s.refunded_amount,
        "kind": s.kind,
        "created_at": iso(s.created_at),
        "authorized_on": iso(s.authorized_on),
        "captured_on": iso(s.captured_on),
        "metadata": s.metadata,
        "order_items": [dict(item) for item in s.order_items],
        "amount_details": dict(s.amount_details),
        "truemed_fee": s.truemed_fee,
        "customer_email": s.customer_email,
        "customer_name": s.customer_name,
        "customer_state": s.customer_state,
    }


def _webhook(state: SandboxState, s: TruemedSession) -> WebhookEvent:
    """The notification for the session's current status, in the configured webhook mode."""
    data = {
        "payment_id": s.id,
        "status": s.status,
        "created_at": iso(s.created_at),
        "order_items": [dict(item) for item in s.order_items],
        "authorize_amount": s.authorize_amount,
        "capture_amount": s.capture_amount,
        "metadata": s.metadata,
    }
    if state.config.truemed_webhook_mode == "signed":
        delivery_id = str(uuid.uuid4())
        payload: dict[str, Any] = {"webhook_delivery_id": delivery_id, "event_type": EVENT_TYPE, "data": data}
    else:
        # The legacy body carries no id: this one only names the delivery in the sandbox's log.
        delivery_id, payload = stripe_id("whd_"), data
    event = WebhookEvent(
        provider="truemed",
        event_id=delivery_id,
        event_type=EVENT_TYPE,
        session_id=s.id,
        status=s.status,
        body=json.dumps(payload, separators=(",", ":")).encode(),
        created=state.now(),
    )
    s.events.append(event)
    return event


def to_processing(state: SandboxState, s: TruemedSession) -> WebhookEvent:
    s.status = "processing"
    s.authorize_amount = s.total_amount
    s.authorized_on = state.clock()
    return _webhook(state, s)


def to_captured(state: SandboxState, s: TruemedSession) -> WebhookEvent:
    s.status = "captured"
    s.capture_amount = s.total_amount
    s.captured_on = state.clock()
    return _webhook(state, s)


def to_rejected(state: SandboxState, s: TruemedSession) -> WebhookEvent:
    # The authorization is released: nothing is captured; authorize_amount keeps what was authorized.
    s.status = "rejected"
    return _webhook(state, s)


def to_canceled(state: SandboxState, s: TruemedSession) -> WebhookEvent:
    s.status = "canceled"
    return _webhook(state, s)
