"""Stripe adapter alone, webhooks: the signature is verified on the raw body with the SDK, a verified event
proves the session's state, anything else is refused or unreadable. No network, no Django models."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
import stripe

from sofia_checkout.payments.providers.base import WebhookAuthError
from sofia_checkout.payments.providers.stripe_checkout.adapter import StripeCheckoutProvider
from sofia_checkout.payments.statuses import PaymentStatus
from testing.provider_mocks import stripe_event, stripe_session
from testing.signatures import timestamped_hmac_header

WHSEC = "whsec_unit"
PAID_EVENT = stripe_event(
    "checkout.session.completed", stripe_session(status="complete", payment_status="paid")
)


@pytest.fixture
def adapter() -> Iterator[StripeCheckoutProvider]:
    provider = StripeCheckoutProvider(
        secret_key="sk_test_unit",
        webhook_secret=WHSEC,
        api_base="https://stripe.unit",
        timeout=1,
        max_retries=0,
    )
    yield provider
    provider.close()


def signed(body: bytes) -> dict[str, str]:
    return {"Stripe-Signature": timestamped_hmac_header(body, WHSEC)}


def test_our_signature_helper_agrees_with_the_sdk() -> None:
    body = stripe_event("checkout.session.completed", stripe_session())
    ours = timestamped_hmac_header(body, WHSEC, timestamp=1_700_000_000)
    sdk = stripe.WebhookSignature.generate_signature_header(body.decode(), WHSEC, timestamp=1_700_000_000)
    assert ours == sdk


@pytest.mark.parametrize(
    ("event_type", "status", "payment_status", "ours"),
    [
        ("checkout.session.completed", "complete", "paid", PaymentStatus.PAID),
        ("checkout.session.completed", "complete", "unpaid", PaymentStatus.PROCESSING),
        ("checkout.session.async_payment_succeeded", "complete", "paid", PaymentStatus.PAID),
        ("checkout.session.async_payment_failed", "complete", "unpaid", PaymentStatus.FAILED),
        ("checkout.session.expired", "expired", "unpaid", PaymentStatus.EXPIRED),
    ],
)
def test_a_verified_event_proves_the_sessions_state(
    adapter: StripeCheckoutProvider, event_type: str, status: str, payment_status: str, ours: PaymentStatus
) -> None:
    session = stripe_session(
        session_id="cs_test_7",
        status=status,
        payment_status=payment_status,
        client_reference_id="ps_ours",
        payment_intent="pi_7",
    )
    body = stripe_event(event_type, session, event_id="evt_1")
    notice = adapter.parse_webhook(body=body, headers=signed(body))
    assert (notice.dedupe_key, notice.event_type, notice.handled) == ("evt_1", event_type, True)
    assert (notice.provider_session_id, notice.our_payment_session_id) == ("cs_test_7", "ps_ours")
    assert notice.state is not None
    assert notice.state.status == ours
    assert notice.state.payment_reference == "pi_7"
    assert notice.state.redirect_url is None


def test_other_events_are_acknowledged_but_not_handled(adapter: StripeCheckoutProvider) -> None:
    body = json.dumps({"id": "evt_9", "object": "event", "type": "customer.created", "data": {}}).encode()
    # The header may come lower-cased (as HTTP/2 and some proxies send it).
    notice = adapter.parse_webhook(body=body, headers={"stripe-signature": signed(body)["Stripe-Signature"]})
    assert (notice.dedupe_key, notice.handled, notice.state) == ("evt_9", False, None)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "garbage",
        "t=1,v1=deadbeef",
        timestamped_hmac_header(PAID_EVENT, "whsec_wrong"),
        timestamped_hmac_header(b'{"id": "evt_other"}', WHSEC),
        timestamped_hmac_header(PAID_EVENT, WHSEC, timestamp=int(time.time()) - 3600),
    ],
    ids=["missing", "empty", "garbage", "forged", "wrong-secret", "other-body", "stale"],
)
def test_bad_signatures_are_refused(adapter: StripeCheckoutProvider, header: str | None) -> None:
    headers = {} if header is None else {"Stripe-Signature": header}
    with pytest.raises(WebhookAuthError):
        adapter.parse_webhook(body=PAID_EVENT, headers=headers)


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        json.dumps({"object": "event", "type": "checkout.session.completed"}).encode(),
        json.dumps({"id": "evt_1", "type": "checkout.session.completed", "data": {"object": {}}}).encode(),
        stripe_event("checkout.session.completed", {"object": "checkout.session", "id": "not_cs"}),
    ],
    ids=["not-json", "not-an-object", "no-id", "no-session", "not-a-checkout-session-id"],
)
def test_signed_but_unreadable_events_are_value_errors(adapter: StripeCheckoutProvider, body: bytes) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the webhook view answers any ValueError with a 400
        adapter.parse_webhook(body=body, headers=signed(body))
