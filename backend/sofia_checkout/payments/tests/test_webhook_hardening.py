"""Webhook hardening (issue 10, items 7, 8, 9 and 11): a Truemed body never steers which URL we call nor
which of our sessions a re-fetched session is applied to; rejected bodies are kept short and purged; an
event from the other Stripe mode is recorded, not applied; an authentic Truemed event that is not about a
payment session is acknowledged (respx-mocked providers)."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from sofia_checkout.payments.lifecycle import payments_reconcile
from sofia_checkout.payments.models import PaymentSession, Refund, WebhookEvent
from sofia_checkout.payments.tests.helpers import appointment_status
from testing.flows import send_stripe_webhook, send_truemed_webhook, start_payment, started
from testing.provider_mocks import (
    TRUEMED_LEGACY_AUTH,
    StripeMock,
    TruemedMock,
    stripe_event,
    stripe_paid_session,
    stripe_refund,
    stripe_session,
    truemed_legacy_body,
    truemed_signed_delivery,
)

pytestmark = pytest.mark.django_db

Json = dict[str, Any]


@pytest.fixture(autouse=True)
def _fresh_throttle_budget() -> Any:
    # Rejected deliveries are counted per client in the cache; these tests send some on purpose.
    cache.clear()
    yield
    cache.clear()


# --- 7. The Truemed webhook body names a session; it never chooses the URL or the target


@pytest.mark.parametrize(
    "payment_id",
    [
        "/payments/v1/anything?q=1",
        "../../refund",
        "abc?x=1",
        "a/b",
        "x#fragment",
        "%2e%2e%2frefund",
        "a b",
        "x" * 101,
    ],
    ids=["path-and-query", "dot-dot", "query", "slash", "fragment", "encoded", "space", "too-long"],
)
def test_a_truemed_webhook_id_that_is_not_a_session_id_is_never_requested(
    api: APIClient, book: Any, truemed_mock: TruemedMock, payment_id: str
) -> None:
    appointment = book()
    truemed_mock.create.mock(side_effect=httpx.ConnectError("answer lost"))
    assert start_payment(api, appointment["id"], "truemed").status_code == 503
    ours = PaymentSession.objects.get(appointment_id=appointment["id"])  # no Truemed id stored yet
    # The body names our payment session in its metadata, so it is found by our id; its payment_id is
    # what would be re-fetched (the probe had `/payments/v1/anything?q=1` requested this way).
    body = truemed_legacy_body(payment_id, "captured") | {
        "metadata": json.dumps({"payment_session_id": str(ours.id)})
    }
    anything = truemed_mock.anything_else()
    response = send_truemed_webhook(Client(), body, **TRUEMED_LEGACY_AUTH)
    assert [call.request.url for call in anything.calls] == []  # no request of any kind went to Truemed
    assert response.status_code == 204  # authentic: acknowledged, so Truemed does not retry for days
    assert WebhookEvent.objects.get().outcome == "ignored"
    ours.refresh_from_db()
    assert (ours.status, ours.provider_session_id) == ("creating", None)
    assert appointment_status(appointment) == "pending_payment"


def two_hsa_checkouts(api: APIClient, book: Any, truemed_mock: TruemedMock) -> list[tuple[Json, Json, str]]:
    """Two appointments, each paying by HSA/FSA: (appointment, our session, Truemed's id) each."""
    tm_ids = truemed_mock.answer_creates()
    pairs = []
    for _ in range(2):
        appointment = book()
        pairs.append((appointment, started(api, appointment, "truemed")))
    return [(a, s, tm_id) for (a, s), tm_id in zip(pairs, tm_ids, strict=True)]


def test_a_refetched_truemed_session_naming_another_payment_session_is_not_applied_by_webhook(
    api: APIClient, book: Any, truemed_mock: TruemedMock
) -> None:
    (first, first_session, tm_first), (second, second_session, _) = two_hsa_checkouts(api, book, truemed_mock)
    # Truemed's session tm_first, asked directly, says it belongs to our *second* payment session.
    other = json.dumps({"payment_session_id": second_session["id"], "appointment_id": second["id"]})
    truemed_mock.retrieve(tm_first, "captured", metadata=other)
    response = send_truemed_webhook(
        Client(), truemed_legacy_body(tm_first, "captured"), **TRUEMED_LEGACY_AUTH
    )
    assert response.status_code == 204
    assert WebhookEvent.objects.get().outcome == "unknown_session"
    assert PaymentSession.objects.get(pk=first_session["id"]).status == "open"
    assert PaymentSession.objects.get(pk=second_session["id"]).status == "open"
    assert appointment_status(first) == appointment_status(second) == "pending_payment"


def test_a_refetched_truemed_session_naming_another_payment_session_is_not_applied_by_sync(
    api: APIClient, book: Any, truemed_mock: TruemedMock
) -> None:
    (first, first_session, tm_first), (_, second_session, _) = two_hsa_checkouts(api, book, truemed_mock)
    other = json.dumps({"payment_session_id": second_session["id"]})
    truemed_mock.retrieve(tm_first, "captured", metadata=other)
    response = api.post(f"/api/payment-sessions/{first_session['id']}/sync/")
    assert response.status_code == 200
    assert response.json()["status"] == "open"
    assert appointment_status(first) == "pending_payment"
    assert second_session["id"] in PaymentSession.objects.get(pk=first_session["id"]).attention


# --- 8. Rejected bodies: a digest and a short prefix; purged after a while


def test_a_rejected_webhook_keeps_only_a_digest_and_a_short_prefix(card_checkout: Any) -> None:
    _, session = card_checkout()
    big = json.dumps({"id": "evt_big", "type": "checkout.session.completed", "pad": "x" * 60_000}).encode()
    assert send_stripe_webhook(Client(), big, "t=1,v1=forged").status_code == 400
    assert send_truemed_webhook(Client(), big, **{"x-truemed-api-key": "wrong"}).status_code == 401
    rejected = list(WebhookEvent.objects.filter(outcome="rejected"))
    assert len(rejected) == 2
    for event in rejected:
        assert len(event.payload) <= 256
        assert big.decode().startswith(event.payload)
        assert event.dedupe_key == "unverified:" + hashlib.sha256(big).hexdigest()
    # An authenticated delivery keeps its whole body.
    verified = json.loads(stripe_event("checkout.session.completed", stripe_paid_session(session)))
    verified["pad"] = "y" * 30_000
    body = json.dumps(verified).encode()
    assert send_stripe_webhook(Client(), body).status_code == 200
    assert WebhookEvent.objects.get(signature_valid=True).payload == body.decode()


@pytest.fixture
def rejected_budget_of_5(monkeypatch: pytest.MonkeyPatch) -> Any:
    """THROTTLE_WEBHOOK_REJECTED=5/min (the throttle reads the rates its base class bound at import)."""
    cache.clear()
    rates = {**SimpleRateThrottle.THROTTLE_RATES, "webhook_rejected": "5/min"}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)
    yield
    cache.clear()


def from_client(address: str) -> Client:
    return Client(REMOTE_ADDR=address)


def test_rejected_webhook_deliveries_are_throttled_per_client(rejected_budget_of_5: None) -> None:
    """Issue 10 item 8: a stranger posting garbage is slowed down (and stops adding rows)."""
    forged = [b'{"n": %d}' % n for n in range(8)]  # all different: each would be a row of its own
    stranger = from_client("203.0.113.5")
    codes = [send_stripe_webhook(stranger, body, "t=1,v1=forged").status_code for body in forged[:7]]
    assert codes == [400] * 5 + [429] * 2
    limited = send_truemed_webhook(stranger, forged[7], **{"x-truemed-api-key": "wrong"})
    assert limited.status_code == 429  # one budget per client, whichever provider it pretends to be
    assert limited.json()["code"] == "throttled"
    assert WebhookEvent.objects.count() == 5  # throttled deliveries never reach the database
    # Another client has its own budget.
    assert send_stripe_webhook(from_client("203.0.113.6"), forged[0], "t=1,v1=forged").status_code == 400


def test_genuine_webhook_deliveries_are_never_throttled_nor_counted(rejected_budget_of_5: None) -> None:
    provider = from_client("198.51.100.7")
    genuine = stripe_event("customer.created", {"object": "customer"})
    assert {send_stripe_webhook(provider, genuine).status_code for _ in range(20)} == {200}
    legacy = {"payment_id": "not-ours", "status": "captured"}
    assert {send_truemed_webhook(provider, legacy, **TRUEMED_LEGACY_AUTH).status_code for _ in range(10)} == {
        204
    }
    # None of those counted: the client still has its whole budget of rejections.
    codes = [send_stripe_webhook(provider, b"{}", "t=1,v1=forged").status_code for _ in range(6)]
    assert codes == [400] * 5 + [429]


def test_the_reconcile_job_purges_old_rejected_deliveries_only(card_checkout: Any, settings: Any) -> None:
    settings.WEBHOOK_REJECTED_RETENTION_DAYS = 7
    _, session = card_checkout()
    for n in range(3):
        send_stripe_webhook(Client(), f'{{"n": {n}}}'.encode(), "t=1,v1=forged")
    send_stripe_webhook(Client(), stripe_event("checkout.session.completed", stripe_paid_session(session)))
    old = timezone.now() - timedelta(days=8)
    rejected = list(WebhookEvent.objects.filter(outcome="rejected").order_by("payload"))
    WebhookEvent.objects.filter(pk__in=[e.pk for e in rejected[:2]]).update(received_at=old)
    WebhookEvent.objects.filter(signature_valid=True).update(received_at=old)  # evidence of money: kept
    report = payments_reconcile()
    assert list(WebhookEvent.objects.filter(outcome="rejected").values_list("pk", flat=True)) == [
        rejected[2].pk
    ]
    assert WebhookEvent.objects.filter(signature_valid=True).count() == 1
    assert report.rejected_webhooks_purged == 2


# --- 9. A Stripe event from the other mode is recorded and never applied


@pytest.mark.parametrize(
    "site_live", [False, True], ids=["live-event-on-test-site", "test-event-on-live-site"]
)
def test_a_stripe_event_from_the_other_mode_is_recorded_not_applied(
    card_checkout: Any, settings: Any, site_live: bool
) -> None:
    appointment, session = card_checkout()
    settings.PAYMENTS_LIVE_MODE = site_live
    body = stripe_event("checkout.session.completed", stripe_paid_session(session), livemode=not site_live)
    response = send_stripe_webhook(Client(), body)
    assert response.status_code == 200  # authentic: acknowledged, Stripe must not retry it for days
    assert response.json()["outcome"] == "ignored"
    event = WebhookEvent.objects.get()
    assert (event.outcome, event.signature_valid) == ("ignored", True)
    assert "livemode" in event.error
    assert PaymentSession.objects.get(pk=session["id"]).status == "open"
    assert appointment_status(appointment) == "pending_payment"
    # The same event from this site's own mode is applied.
    same_mode = stripe_event("checkout.session.completed", stripe_paid_session(session), livemode=site_live)
    assert send_stripe_webhook(Client(), same_mode).json()["outcome"] == "applied"
    assert appointment_status(appointment) == "confirmed"


def test_a_refund_event_from_the_other_mode_is_not_applied(
    api: APIClient, card_checkout: Any, stripe_mock: StripeMock
) -> None:
    appointment, session = card_checkout()
    stripe_mock.retrieve(
        session["provider_session_id"], status="complete", payment_status="paid", payment_intent="pi_9"
    )
    api.post(f"/api/payment-sessions/{session['id']}/sync/")
    stripe_mock.refunds(httpx.Response(200, json=stripe_refund("re_1", status="pending")))
    api.post(f"/api/appointments/{appointment['id']}/cancel/")
    live = stripe_event("refund.failed", stripe_refund("re_1", status="failed"), livemode=True)
    assert send_stripe_webhook(Client(), live).json()["outcome"] == "ignored"
    assert Refund.objects.get().status == "processing"


# --- 11. An authentic Truemed event that is not about a payment session is acknowledged and recorded


@pytest.mark.parametrize(
    ("event_type", "data"),
    [
        ("qualification.approved", {"id": "q_123", "status": "approved"}),
        ("refund.completed", {"refund_id": "rf_1", "payment_id": "tm_1"}),
        ("payment_session.completed", {"status": "captured"}),
        ("payment_session.completed", None),
    ],
    ids=["qualification", "refund", "payment-without-session-id", "no-data"],
)
def test_a_signed_truemed_event_we_do_not_act_on_is_acknowledged_and_recorded(
    truemed_mock: TruemedMock, settings: Any, event_type: str, data: Json | None
) -> None:
    settings.TRUEMED_WEBHOOK_MODE = "signed"
    anything = truemed_mock.anything_else()
    body, headers = truemed_signed_delivery(event_type, data, delivery_id="wd_other")
    response = send_truemed_webhook(Client(), body, **headers)
    assert response.status_code == 204  # a refused delivery would be retried for 7 days
    event = WebhookEvent.objects.get()
    assert (event.outcome, event.event_type, event.dedupe_key) == ("ignored", event_type, "wd_other")
    assert anything.calls == []


def test_a_signed_dot_notation_payment_event_is_applied(
    truemed_mock: TruemedMock, settings: Any, hsa_checkout: Any
) -> None:
    settings.TRUEMED_WEBHOOK_MODE = "signed"
    appointment, _, tm_id = hsa_checkout()
    truemed_mock.retrieve(tm_id, "captured")
    body, headers = truemed_signed_delivery(
        "payment_session.completed", truemed_legacy_body(tm_id, "captured")
    )
    assert send_truemed_webhook(Client(), body, **headers).status_code == 204
    assert WebhookEvent.objects.get().outcome == "applied"
    assert appointment_status(appointment) == "confirmed"


def test_an_unsigned_stripe_event_of_a_kind_we_ignore_is_still_rejected(book: Any) -> None:
    # Acknowledging events we do not act on never skips authentication.
    body = stripe_event("customer.created", stripe_session())
    assert send_stripe_webhook(Client(), body, "t=1,v1=forged").status_code == 400
    assert WebhookEvent.objects.get().outcome == "rejected"
