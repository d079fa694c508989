"""Truemed's objects (payment session), its status changes, and the webhook each change sends.

Every status change sends `payment_session_complete`, cancels included (developers.truemed.com).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from provider_sandbox.config import SandboxConfig
from provider_sandbox.events import WebhookEvent, WebhookTarget
from provider_sandbox.ids import iso, stripe_id
from provider_sandbox.store import SandboxState
from provider_sandbox.truemed.models import TruemedSession
from provider_sandbox.webhooks import signature_header

EVENT_TYPE = "payment_session_complete"


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


def webhook_target(config: SandboxConfig) -> WebhookTarget:
    """Legacy: `x-truemed-api-key: <secret>`; signed: `x-truemed-signature: t=<unix>,v1=<hex>` over
    `"{t}.{body}"` (the header grammar is our documented guess). Only 204 counts as delivered (Truemed's
    documented answer)."""

    def headers(body: bytes, now: int) -> dict[str, str]:
        if config.truemed_webhook_mode == "signed":
            return {"x-truemed-signature": signature_header(body, config.truemed_webhook_secret, now)}
        return {"x-truemed-api-key": config.truemed_webhook_secret}

    return WebhookTarget(url=config.truemed_webhook_url, headers=headers, accepted=lambda code: code == 204)


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
        target=webhook_target(state.config),
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
