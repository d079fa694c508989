"""Stripe's objects (checkout.session, event, refund) and the state changes a shopper or Stripe makes.

Field sets follow Stripe's OpenAPI fixtures (stripe/openapi fixtures3.json) so clients meet every field a
real object carries; values the sandbox does not model are null or Stripe's defaults for a hosted session.
"""

from __future__ import annotations

import json
from typing import Any

from provider_sandbox.config import STRIPE_API_VERSION, SandboxConfig
from provider_sandbox.events import WebhookEvent, WebhookTarget
from provider_sandbox.ids import stripe_id
from provider_sandbox.store import SandboxState
from provider_sandbox.stripe.models import PaymentIntentRecord, StripeRefund, StripeSession, stripe_store
from provider_sandbox.webhooks import signature_header

WEBHOOK_USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"


def hosted_url(state: SandboxState, session_id: str) -> str:
    return f"{state.config.public_base}/pay/stripe/{session_id}"


def session_object(state: SandboxState, s: StripeSession) -> dict[str, Any]:
    """The checkout.session as the API returns it (url only while open, like Stripe)."""
    paid_details: dict[str, Any] | None = None
    if s.status == "complete":
        paid_details = {
            "address": None,
            "email": s.customer_email,
            "name": None,
            "phone": None,
            "tax_exempt": "none",
            "tax_ids": [],
            "business_name": None,
            "individual_name": None,
        }
    return {
        "id": s.id,
        "object": "checkout.session",
        "adaptive_pricing": {"enabled": False},
        "after_expiration": None,
        "allow_promotion_codes": None,
        "amount_subtotal": s.amount_subtotal,
        "amount_total": s.amount_total,
        "automatic_tax": {"enabled": False, "liability": None, "provider": None, "status": None},
        "billing_address_collection": None,
        "cancel_url": s.cancel_url,
        "client_reference_id": s.client_reference_id,
        "client_secret": None,
        "collected_information": None,
        "consent": None,
        "consent_collection": None,
        "created": s.created,
        "currency": s.currency,
        "currency_conversion": None,
        "custom_fields": [],
        "custom_text": {
            "after_submit": None,
            "shipping_address": None,
            "submit": None,
            "terms_of_service_acceptance": None,
        },
        "customer": None,
        "customer_account": None,
        "customer_creation": "if_required",
        "customer_details": paid_details,
        "customer_email": s.customer_email,
        "discounts": [],
        "expires_at": s.expires_at,
        "integration_identifier": None,
        "invoice": None,
        "invoice_creation": {
            "enabled": False,
            "invoice_data": {
                "account_tax_ids": None,
                "custom_fields": None,
                "description": None,
                "footer": None,
                "issuer": None,
                "metadata": {},
                "rendering_options": None,
            },
        },
        "livemode": False,
        "locale": None,
        "managed_payments": {"enabled": False},
        "metadata": dict(s.metadata),
        "mode": s.mode,
        "origin_context": None,
        "payment_intent": s.payment_intent,
        "payment_link": None,
        "payment_method_collection": "if_required",
        "payment_method_configuration_details": None,
        "payment_method_options": {"card": {"request_three_d_secure": "automatic"}},
        "payment_method_types": list(s.payment_method_types),
        "payment_status": s.payment_status,
        "permissions": None,
        "phone_number_collection": {"enabled": False},
        "recovered_from": None,
        "saved_payment_method_options": None,
        "setup_intent": None,
        "shipping_address_collection": None,
        "shipping_cost": None,
        "shipping_options": [],
        "status": s.status,
        "submit_type": None,
        "subscription": None,
        "success_url": s.success_url,
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "ui_mode": "hosted_page",
        "url": hosted_url(state, s.id) if s.status == "open" else None,
        "wallet_options": None,
    }


def refund_object(r: StripeRefund) -> dict[str, Any]:
    """The refund; `pending_reason` only while pending, `failure_reason` and `failure_balance_transaction`
    only once failed (optional fields: Stripe's fixture has none of them)."""
    refund: dict[str, Any] = {
        "id": r.id,
        "object": "refund",
        "amount": r.amount,
        "balance_transaction": r.balance_transaction,
        "charge": r.charge,
        "created": r.created,
        "currency": r.currency,
        "customer": None,
        "customer_account": None,
        "destination_details": {"card": {"type": "refund"}, "type": "card"},
        "metadata": dict(r.metadata),
        "payment_intent": r.payment_intent,
        "payment_method": None,
        "reason": r.reason,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": r.status,
        "transfer_reversal": None,
    }
    if r.status == "pending":
        refund["pending_reason"] = "processing"
    if r.status == "failed":
        refund["failure_reason"] = r.failure_reason
        refund["failure_balance_transaction"] = r.failure_balance_transaction
    return refund


def webhook_target(config: SandboxConfig) -> WebhookTarget:
    """`Stripe-Signature: t=<unix>,v1=<hex>` keyed with the whole `whsec_...` secret; any 2xx is delivered
    (https://docs.stripe.com/webhooks#verify-manually)."""

    def headers(body: bytes, now: int) -> dict[str, str]:
        return {
            "User-Agent": WEBHOOK_USER_AGENT,
            "Stripe-Signature": signature_header(body, config.stripe_webhook_secret, now),
        }

    return WebhookTarget(
        url=config.stripe_webhook_url, headers=headers, accepted=lambda code: 200 <= code < 300
    )


def _event(
    state: SandboxState,
    event_type: str,
    data: dict[str, Any],
    *,
    session_id: str,
    status: str,
    request_id: str | None = None,
    idempotency_key: str | None = None,
) -> WebhookEvent:
    created = state.now()
    event = {
        "id": stripe_id("evt_"),
        "object": "event",
        "api_version": STRIPE_API_VERSION,
        "created": created,
        "data": data,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": request_id, "idempotency_key": idempotency_key},
        "type": event_type,
    }
    # Stripe sends pretty-printed JSON: a receiver that re-serialises before verifying fails, as it should.
    return WebhookEvent(
        provider="stripe",
        event_id=str(event["id"]),
        event_type=event_type,
        session_id=session_id,
        status=status,
        body=json.dumps(event, indent=2).encode(),
        created=created,
        target=webhook_target(state.config),
    )


def make_event(
    state: SandboxState,
    s: StripeSession,
    event_type: str,
    *,
    request_id: str | None = None,
    idempotency_key: str | None = None,
) -> WebhookEvent:
    """Build (and remember on the session) the event for the session's current state."""
    notice = _event(
        state,
        event_type,
        {"object": session_object(state, s)},
        session_id=s.id,
        status=f"{s.status}/{s.payment_status}",
        request_id=request_id,
        idempotency_key=idempotency_key,
    )
    s.events.append(notice)
    return notice


def refund_event(state: SandboxState, r: StripeRefund, event_type: str, *, was: str) -> WebhookEvent:
    """A refund event (`refund.updated`, `refund.failed`) for the refund's current state; `was` is the status
    before the change (`data.previous_attributes`, as Stripe sends on updates)."""
    notice = _event(
        state,
        event_type,
        {"object": refund_object(r), "previous_attributes": {"status": was}},
        session_id=r.session_id,
        status=r.status,
    )
    r.events.append(notice)
    return notice


# What a failed card refund most often reports (https://docs.stripe.com/refunds#failed-refunds).
FAILURE_REASON = "expired_or_canceled_card"


def settle_refund(state: SandboxState, r: StripeRefund, *, succeeded: bool) -> WebhookEvent:
    """A pending refund ends `succeeded` or `failed` (then its money is refundable again): refund.updated.
    A failure is announced once more with refund.failed (`refund_failed`)."""
    was = r.status
    if succeeded:
        r.status = "succeeded"
    else:
        r.status, r.failure_reason = "failed", FAILURE_REASON
        r.failure_balance_transaction = stripe_id("txn_")
        intent = stripe_store(state).payment_intents.get(r.payment_intent)
        if intent is not None:
            intent.amount_refunded -= r.amount
    return refund_event(state, r, "refund.updated", was=was)


def refund_failed(state: SandboxState, r: StripeRefund) -> WebhookEvent:
    return refund_event(state, r, "refund.failed", was="pending")


def _new_payment_intent(state: SandboxState, s: StripeSession) -> None:
    intent = PaymentIntentRecord(
        id=stripe_id("pi_"),
        charge_id=stripe_id("ch_"),
        session_id=s.id,
        amount=s.amount_total,
        currency=s.currency,
    )
    stripe_store(state).payment_intents[intent.id] = intent
    s.payment_intent = intent.id


def mark_paid(state: SandboxState, s: StripeSession) -> WebhookEvent:
    """A card payment succeeded: complete + paid, with a payment intent."""
    _new_payment_intent(state, s)
    s.status, s.payment_status = "complete", "paid"
    return make_event(state, s, "checkout.session.completed")


def mark_async_completed(state: SandboxState, s: StripeSession) -> WebhookEvent:
    """A delayed payment method was submitted: complete but still unpaid until it settles."""
    _new_payment_intent(state, s)
    s.status, s.payment_status = "complete", "unpaid"
    return make_event(state, s, "checkout.session.completed")


def settle_async(state: SandboxState, s: StripeSession, *, succeeded: bool) -> WebhookEvent:
    if succeeded:
        s.payment_status = "paid"
        return make_event(state, s, "checkout.session.async_payment_succeeded")
    return make_event(state, s, "checkout.session.async_payment_failed")


def mark_expired(
    state: SandboxState,
    s: StripeSession,
    *,
    request_id: str | None = None,
    idempotency_key: str | None = None,
) -> WebhookEvent:
    s.status = "expired"
    return make_event(
        state, s, "checkout.session.expired", request_id=request_id, idempotency_key=idempotency_key
    )


def record_decline(state: SandboxState, s: StripeSession, *, card_last4: str, reason: str) -> None:
    """A declined card changes nothing on the session (the shopper may retry); Stripe sends no event."""
    s.declines.append({"at": state.now(), "last4": card_last4, "decline_code": reason})
