"""Truemed's objects (payment session), its status changes, and the webhook each change sends.

Every status change sends one notification, cancels included (developers.truemed.com). Its event type
(signed mode) is dot-notation, SANDBOX_TRUEMED_EVENT_TYPE (default `payment_session.updated`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from typing import Any

from provider_sandbox.config import SandboxConfig, TruemedAssumptions
from provider_sandbox.events import WebhookEvent, WebhookTarget
from provider_sandbox.ids import iso, stripe_id
from provider_sandbox.store import SandboxState
from provider_sandbox.truemed.models import TruemedSession, truemed_store
from provider_sandbox.webhooks import signature_header


def hosted_url(state: SandboxState, session_id: str) -> str:
    return f"{state.config.public_base}/pay/truemed/{session_id}"


def session_object(s: TruemedSession) -> dict[str, Any]:
    """GET /payments/v1/payment_session/{id}: the documented fields, plus `truemed_fee` (seen in Truemed's
    sandbox). Nothing the sandbox made up: what a client reads here, it can read from Truemed."""
    return {
        "id": s.id,
        "status": s.status,
        "status_summary": s.status_summary,
        "total_amount": s.total_amount,
        "authorize_amount": s.authorize_amount,
        "capture_amount": s.capture_amount,
        "kind": s.kind,
        "created_at": iso(s.created_at),
        "authorized_on": iso(s.authorized_on),
        "captured_on": iso(s.captured_on),
        "metadata": s.metadata,
        "order_items": [dict(item) for item in s.order_items],
        "truemed_fee": s.truemed_fee,
    }


def _hmac(secret: str, payload: bytes) -> str:
    return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


def signature(body: bytes, secret: str, now: int, grammar: str) -> str:
    """`x-truemed-signature` in the grammar the sandbox is set to (assumption `signature`)."""
    if grammar == "sha256":
        return f"sha256={_hmac(secret, body)}"
    if grammar == "v1_t":
        return f"v1={_hmac(secret, f'{now}.'.encode() + body)},t={now}"
    return signature_header(body, secret, now)


def webhook_target(config: SandboxConfig, assumptions: TruemedAssumptions) -> WebhookTarget:
    """Legacy: `x-truemed-api-key: <secret>` (or the merchant's API key, assumption `legacy_header`); signed:
    `x-truemed-signature: t=<unix>,v1=<hex>` over `"{t}.{body}"` (our documented guess; assumption
    `signature`). Only 204 counts as delivered (Truemed's documented answer)."""
    legacy_value = (
        config.truemed_api_key if assumptions.legacy_header == "api_key" else config.truemed_webhook_secret
    )

    def headers(body: bytes, now: int) -> dict[str, str]:
        if config.truemed_webhook_mode == "signed":
            grammar = assumptions.signature
            return {"x-truemed-signature": signature(body, config.truemed_webhook_secret, now, grammar)}
        return {"x-truemed-api-key": legacy_value}

    return WebhookTarget(url=config.truemed_webhook_url, headers=headers, accepted=lambda code: code == 204)


def _notification(
    state: SandboxState, event_type: str, data: dict[str, Any], *, session_id: str, status: str
) -> WebhookEvent:
    """One delivery in the configured webhook mode: signed wraps `data` in Truemed's envelope
    `{webhook_delivery_id, event_type, data}`; legacy sends `data` bare (it has no event type or id)."""
    if state.config.truemed_webhook_mode == "signed":
        delivery_id = str(uuid.uuid4())
        payload: dict[str, Any] = {"webhook_delivery_id": delivery_id, "event_type": event_type, "data": data}
    else:
        # The legacy body carries no id: this one only names the delivery in the sandbox's log.
        delivery_id, payload = stripe_id("whd_"), data
    return WebhookEvent(
        provider="truemed",
        event_id=delivery_id,
        event_type=event_type,
        session_id=session_id,
        status=status,
        body=json.dumps(payload, separators=(",", ":")).encode(),
        created=state.now(),
        target=webhook_target(state.config, state.switches.truemed),
    )


def _webhook(state: SandboxState, s: TruemedSession) -> WebhookEvent:
    """The notification for the session's current status (event type SANDBOX_TRUEMED_EVENT_TYPE; the id
    field is the assumption `webhook_id_field`)."""
    data = {
        state.switches.truemed.webhook_id_field: s.id,
        "status": s.status,
        "created_at": iso(s.created_at),
        "order_items": [dict(item) for item in s.order_items],
        "authorize_amount": s.authorize_amount,
        "capture_amount": s.capture_amount,
        "metadata": s.metadata,
    }
    event = _notification(state, state.switches.truemed_event_type, data, session_id=s.id, status=s.status)
    s.events.append(event)
    return event


def other_event(state: SandboxState, event_type: str, data: dict[str, Any]) -> WebhookEvent:
    """An authentic notification that is not about a payment session's status (e.g. qualification.completed):
    Truemed may send other event types to the same URL."""
    event = _notification(state, event_type, data, session_id="", status="")
    truemed_store(state).other_events.append(event)
    return event


def to_processing(state: SandboxState, s: TruemedSession) -> WebhookEvent:
    """Payment details entered: a one-time payment is authorized and captured at once (capture_amount =
    authorize_amount, captured_on = authorized_on from here on); the practitioner's review follows."""
    s.status = "processing"
    s.authorize_amount = s.capture_amount = s.total_amount
    s.authorized_on = s.captured_on = state.clock()
    return _webhook(state, s)


def to_captured(state: SandboxState, s: TruemedSession) -> WebhookEvent:
    s.status = "captured"
    return _webhook(state, s)


def to_rejected(state: SandboxState, s: TruemedSession) -> WebhookEvent:
    # The review said no: the session is rejected (the amounts keep what processing recorded).
    s.status = "rejected"
    return _webhook(state, s)


def to_canceled(state: SandboxState, s: TruemedSession) -> WebhookEvent:
    """Only through the cancel API (or the control API acting for it): never a shopper leaving the page."""
    s.status = "canceled"
    return _webhook(state, s)
