"""Stripe webhooks: verified on the raw body, stored once per event, applied by our id or Stripe's, never
moving a session backwards; amounts checked (respx-mocked Stripe)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from django.test import Client
from rest_framework.test import APIClient

from sofia_checkout.payments.models import PaymentSession, WebhookEvent, WebhookOutcome
from sofia_checkout.payments.tests.helpers import appointment_status
from testing.flows import send_stripe_webhook, start_payment, started
from testing.provider_mocks import (
    StripeMock,
    stripe_event,
    stripe_paid_session,
    stripe_session,
    stripe_signature,
)

pytestmark = pytest.mark.django_db


def test_stripe_completed_confirms(csrf_client: Client, card_checkout: Any) -> None:
    appointment, session = card_checkout()
    response = send_stripe_webhook(
        csrf_client, stripe_event("checkout.session.completed", stripe_paid_session(session))
    )
    assert response.status_code == 200
    assert response.json()["outcome"] == "applied"
    assert appointment_status(appointment) == "confirmed"
    stored = PaymentSession.objects.get(pk=session["id"])
    assert stored.status == "paid"
    assert stored.payment_reference == "pi_123"
    event = WebhookEvent.objects.get()
    assert event.signature_valid
    assert event.outcome == WebhookOutcome.APPLIED
    assert event.payment_session_id == stored.id


BAD_SIGNATURES: dict[str, Callable[[bytes], str]] = {
    "missing": lambda body: "",
    "not-hex": lambda body: "t=1,v1=deadbeef",
    "garbage": lambda body: "garbage",
    # The right secret and a fresh timestamp, but signed over a different body: the body was swapped.
    "over-another-body": lambda body: stripe_signature(b'{"id": "evt_other"}'),
    "over-a-body-one-byte-off": lambda body: stripe_signature(body + b" "),
    "wrong-secret": lambda body: stripe_signature(body, secret="whsec_wrong"),
}


@pytest.mark.parametrize("make_signature", BAD_SIGNATURES.values(), ids=BAD_SIGNATURES.keys())
def test_stripe_bad_signatures_change_nothing(
    csrf_client: Client, make_signature: Callable[[bytes], str], card_checkout: Any
) -> None:
    appointment, session = card_checkout()
    body = stripe_event("checkout.session.completed", stripe_paid_session(session))
    response = send_stripe_webhook(csrf_client, body, make_signature(body))
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"
    assert appointment_status(appointment) == "pending_payment"
    assert WebhookEvent.objects.get().outcome == WebhookOutcome.REJECTED


def test_the_signature_over_another_body_is_valid_for_that_body(card_checkout: Any) -> None:
    """The case above is a real signature with the right secret: it is refused only for the body swap."""
    appointment, session = card_checkout()
    body = stripe_event("checkout.session.completed", stripe_paid_session(session))
    other = stripe_event("customer.created", {"object": "customer"})
    signed_for_other = stripe_signature(other)
    assert send_stripe_webhook(Client(), body, signed_for_other).status_code == 400
    assert send_stripe_webhook(Client(), other, signed_for_other).status_code == 200
    assert send_stripe_webhook(Client(), body, stripe_signature(body)).json()["outcome"] == "applied"
    assert appointment_status(appointment) == "confirmed"


def test_stripe_stale_signature_is_rejected(card_checkout: Any) -> None:
    appointment, session = card_checkout()
    body = stripe_event("checkout.session.completed", stripe_paid_session(session))
    response = send_stripe_webhook(Client(), body, stripe_signature(body, timestamp=int(time.time()) - 3600))
    assert response.status_code == 400
    assert appointment_status(appointment) == "pending_payment"


def test_stripe_duplicates_apply_once(card_checkout: Any) -> None:
    appointment, session = card_checkout()
    body = stripe_event("checkout.session.completed", stripe_paid_session(session), event_id="evt_same")
    outcomes = [send_stripe_webhook(Client(), body).json() for _ in range(10)]
    assert outcomes[0]["duplicate"] is False
    assert all(o["duplicate"] for o in outcomes[1:])
    event = WebhookEvent.objects.get()
    assert event.deliveries == 10
    assert appointment_status(appointment) == "confirmed"


def test_stripe_out_of_order_never_moves_back(card_checkout: Any) -> None:
    appointment, session = card_checkout()
    send_stripe_webhook(Client(), stripe_event("checkout.session.completed", stripe_paid_session(session)))
    late_expired = stripe_event(
        "checkout.session.expired", stripe_paid_session(session, status="expired", payment_status="unpaid")
    )
    assert send_stripe_webhook(Client(), late_expired).status_code == 200
    assert PaymentSession.objects.get(pk=session["id"]).status == "paid"
    assert appointment_status(appointment) == "confirmed"


def test_stripe_async_payment_flow(card_checkout: Any) -> None:
    appointment, session = card_checkout()
    unpaid = stripe_paid_session(session, payment_status="unpaid")
    send_stripe_webhook(Client(), stripe_event("checkout.session.completed", unpaid))
    assert appointment_status(appointment) == "payment_processing"
    send_stripe_webhook(Client(), stripe_event("checkout.session.async_payment_failed", unpaid))
    assert PaymentSession.objects.get(pk=session["id"]).status == "failed"
    assert appointment_status(appointment) == "pending_payment"


def test_stripe_amount_mismatch_is_flagged_not_confirmed(card_checkout: Any) -> None:
    appointment, session = card_checkout()
    underpaid = stripe_paid_session(session, amount_total=100)
    send_stripe_webhook(Client(), stripe_event("checkout.session.completed", underpaid))
    stored = PaymentSession.objects.get(pk=session["id"])
    assert stored.amount_mismatch
    assert (stored.status, stored.reported_amount_cents) == ("paid_unverified", 100)
    assert appointment_status(appointment) == "pending_payment"
    in_euros = stripe_paid_session(session, currency="eur")
    send_stripe_webhook(Client(), stripe_event("checkout.session.completed", in_euros))
    assert appointment_status(appointment) == "pending_payment"


def test_stripe_unknown_session_and_other_events(book: Any) -> None:
    unknown = stripe_event(
        "checkout.session.completed", stripe_session(session_id="cs_unknown", status="complete")
    )
    response = send_stripe_webhook(Client(), unknown)
    assert response.status_code == 200
    assert response.json()["outcome"] == "unknown_session"
    other = json.dumps(
        {"id": "evt_other", "object": "event", "type": "customer.created", "data": {"object": {}}}
    )
    assert send_stripe_webhook(Client(), other.encode()).json()["outcome"] == "ignored"
    assert WebhookEvent.objects.count() == 2


def test_stripe_webhook_before_create_returned(api: APIClient, book: Any, stripe_mock: StripeMock) -> None:
    """The event names our session only by client_reference_id: still applied, and create never undoes it."""
    appointment = book()

    def create_and_deliver_first(request: httpx.Request) -> httpx.Response:
        session_id = dict(httpx.QueryParams(request.content.decode()))["client_reference_id"]
        session = stripe_session(session_id="cs_race", client_reference_id=session_id)
        # The provider's webhook arrives while our create call is still waiting for its answer. On SQLite the
        # whole database is locked by our transaction, so here we only record it; the real race runs on
        # PostgreSQL in tests/concurrency.
        create_and_deliver_first.pending = session  # type: ignore[attr-defined]
        return httpx.Response(200, json=session)

    stripe_mock.create.mock(side_effect=create_and_deliver_first)
    session = started(api, appointment, "stripe")
    body = stripe_event(
        "checkout.session.completed",
        stripe_paid_session({"provider_session_id": "cs_race", "id": session["id"]}),
    )
    assert send_stripe_webhook(Client(), body).json()["outcome"] == "applied"
    assert appointment_status(appointment) == "confirmed"


def test_apply_by_our_id_when_provider_id_not_yet_stored(
    api: APIClient, book: Any, stripe_mock: StripeMock
) -> None:
    appointment = book()
    stripe_mock.create.mock(side_effect=[httpx.ConnectError("lost answer")])
    assert start_payment(api, appointment["id"], "stripe").status_code == 503
    ours = PaymentSession.objects.get(appointment_id=appointment["id"])
    body = stripe_event(
        "checkout.session.completed",
        stripe_paid_session({"provider_session_id": "cs_lost", "id": str(ours.id)}),
    )
    assert send_stripe_webhook(Client(), body).json()["outcome"] == "applied"
    ours.refresh_from_db()
    assert ours.provider_session_id == "cs_lost"
    assert ours.status == "paid"
    assert appointment_status(appointment) == "confirmed"


def test_a_retried_delivery_that_was_for_an_unknown_session_is_applied_once_we_know_it(
    api: APIClient, book: Any, stripe_mock: StripeMock
) -> None:
    appointment = book()
    early = stripe_event(
        "checkout.session.completed",
        stripe_session(status="complete", payment_status="paid", payment_intent="pi_1"),
        event_id="evt_early",
    )
    # It raced ahead of everything: no session of ours has this id yet, and it carries none of our ids.
    assert send_stripe_webhook(Client(), early).json()["outcome"] == "unknown_session"
    stripe_mock.answer_create()
    started(api, appointment, "stripe")
    retried = send_stripe_webhook(Client(), early)  # Stripe retries a delivery until it is handled
    assert retried.json()["outcome"] == "applied"
    assert appointment_status(appointment) == "confirmed"
    assert WebhookEvent.objects.get().deliveries == 2
    assert send_stripe_webhook(Client(), early).json() == {
        "received": True,
        "outcome": "applied",
        "duplicate": True,
    }
