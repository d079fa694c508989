"""Refunds are followed until the provider says they are final (issue 10, item 5): a refund Stripe accepts
as `pending` is not counted as succeeded; `refund.failed` / `refund.updated` events flag a refund that fails
later or confirm one that went through; the reconcile job re-reads refunds still under way (Stripe: GET
/v1/refunds/<id>; Truemed: the session's status_summary) and flags those unconfirmed for too long
(respx-mocked providers)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from sofia_checkout.appointments.models import Appointment
from sofia_checkout.payments.lifecycle import payments_reconcile
from sofia_checkout.payments.models import PaymentSession, Refund, WebhookEvent
from sofia_checkout.payments.tests.helpers import appointment_status
from testing.flows import send_stripe_webhook
from testing.provider_mocks import StripeMock, TruemedMock, stripe_event, stripe_refund

pytestmark = pytest.mark.django_db

Json = dict[str, Any]


def later(minutes: float) -> datetime:
    return timezone.now() + timedelta(minutes=minutes)


def cancel(api: APIClient, appointment: Json) -> Any:
    return api.post(f"/api/appointments/{appointment['id']}/cancel/")


def attention(appointment: Json) -> str:
    return Appointment.objects.get(pk=appointment["id"]).attention


def card_refund_under_way(
    api: APIClient, card_checkout: Any, stripe_mock: StripeMock, status: str = "pending"
) -> tuple[Json, Json]:
    """A paid card appointment cancelled; Stripe accepted the refund re_1 as `status` (not final)."""
    appointment, session = card_checkout()
    stripe_mock.retrieve(
        session["provider_session_id"], status="complete", payment_status="paid", payment_intent="pi_9"
    )
    assert api.post(f"/api/payment-sessions/{session['id']}/sync/").json()["status"] == "paid"
    stripe_mock.refunds(httpx.Response(200, json=stripe_refund("re_1", status=status)))
    response = cancel(api, appointment)
    assert response.status_code == 200
    return appointment, session


@pytest.mark.parametrize("status", ["pending", "requires_action"])
def test_a_refund_stripe_has_not_finished_is_processing_not_succeeded(
    api: APIClient, card_checkout: Any, stripe_mock: StripeMock, status: str
) -> None:
    appointment, session = card_refund_under_way(api, card_checkout, stripe_mock, status)
    refund = Refund.objects.get()
    assert (refund.status, refund.provider_refund_id) == ("processing", "re_1")
    # The money is not back yet: the session still says paid; the booking itself is cancelled.
    assert PaymentSession.objects.get(pk=session["id"]).status == "paid"
    assert appointment_status(appointment) == "cancelled"
    # Cancelling again sends nothing new while the first refund is under way.
    route = stripe_mock.refunds()  # (respx hands back the same route: count the calls from here)
    sent = route.call_count
    assert cancel(api, appointment).status_code == 200
    assert route.call_count == sent == 1


@pytest.mark.parametrize(
    ("event_type", "status"),
    [("refund.failed", "failed"), ("refund.updated", "failed"), ("refund.updated", "canceled")],
)
def test_a_refund_that_fails_after_it_was_accepted_is_flagged(
    api: APIClient, card_checkout: Any, stripe_mock: StripeMock, event_type: str, status: str
) -> None:
    appointment, session = card_refund_under_way(api, card_checkout, stripe_mock)
    body = stripe_event(event_type, stripe_refund("re_1", status=status))
    response = send_stripe_webhook(Client(), body)
    assert response.status_code == 200
    assert response.json()["outcome"] == "applied"
    assert Refund.objects.get().status == "failed"
    assert "re_1" in attention(appointment)  # a person must return the money
    assert PaymentSession.objects.get(pk=session["id"]).status == "paid"
    assert WebhookEvent.objects.get(event_type=event_type).outcome == "applied"


def test_refund_updated_succeeded_completes_the_refund(
    api: APIClient, card_checkout: Any, stripe_mock: StripeMock
) -> None:
    appointment, session = card_refund_under_way(api, card_checkout, stripe_mock)
    pending_again = stripe_event("refund.updated", stripe_refund("re_1", status="pending"))
    send_stripe_webhook(Client(), pending_again)
    assert Refund.objects.get().status == "processing"
    done = stripe_event("refund.updated", stripe_refund("re_1", status="succeeded"))
    assert send_stripe_webhook(Client(), done).json()["outcome"] == "applied"
    assert Refund.objects.get().status == "succeeded"
    assert PaymentSession.objects.get(pk=session["id"]).status == "refunded"
    shown = api.get(f"/api/appointments/{appointment['id']}/").json()
    assert (shown["status"], shown["latest_payment_session"]["status"]) == ("cancelled", "refunded")
    # A late, contradicting event never moves a final refund back.
    send_stripe_webhook(Client(), stripe_event("refund.failed", stripe_refund("re_1", status="failed")))
    assert Refund.objects.get().status == "succeeded"


def test_a_refund_event_about_a_refund_we_never_made_is_recorded_and_ignored(card_checkout: Any) -> None:
    card_checkout()
    body = stripe_event("refund.failed", stripe_refund("re_not_ours", status="failed"))
    response = send_stripe_webhook(Client(), body)
    assert (response.status_code, response.json()["outcome"]) == (200, "ignored")
    assert not Refund.objects.exists()


def test_the_reconcile_job_rechecks_a_stripe_refund_still_under_way(
    api: APIClient, card_checkout: Any, stripe_mock: StripeMock
) -> None:
    _, session = card_refund_under_way(api, card_checkout, stripe_mock)
    recheck = stripe_mock.refund_route("re_1").mock(
        side_effect=[
            httpx.Response(200, json=stripe_refund("re_1", status="pending")),
            httpx.Response(200, json=stripe_refund("re_1", status="succeeded")),
        ]
    )
    payments_reconcile(now=later(5))  # too fresh to ask again
    assert recheck.call_count == 0
    payments_reconcile(now=later(20))
    assert recheck.call_count == 1
    assert Refund.objects.get().status == "processing"
    payments_reconcile(now=later(40))
    assert recheck.call_count == 2
    assert Refund.objects.get().status == "succeeded"
    assert PaymentSession.objects.get(pk=session["id"]).status == "refunded"
    payments_reconcile(now=later(60))
    assert recheck.call_count == 2  # final: never asked again


def test_the_reconcile_job_rechecks_a_truemed_refund_until_the_session_says_refunded(
    api: APIClient, hsa_checkout: Any, truemed_mock: TruemedMock
) -> None:
    appointment, session, tm_id = hsa_checkout()
    truemed_mock.retrieve(tm_id, "captured", status_summary="Captured")
    assert api.post(f"/api/payment-sessions/{session['id']}/sync/").json()["status"] == "paid"
    truemed_mock.refunds(httpx.Response(200, json={"refund_id": "rf_1"}))
    assert cancel(api, appointment).json()["status"] == "cancelled"
    # Truemed's answer is only {refund_id}: accepted, not done.
    assert (Refund.objects.get().status, Refund.objects.get().provider_refund_id) == ("processing", "rf_1")
    assert PaymentSession.objects.get(pk=session["id"]).status == "paid"
    payments_reconcile(now=later(20))
    assert Refund.objects.get().status == "processing"  # the session still reads "Captured"
    truemed_mock.retrieve(tm_id, "captured", status_summary="Refunded")
    report = payments_reconcile(now=later(40))
    assert Refund.objects.get().status == "succeeded"
    assert PaymentSession.objects.get(pk=session["id"]).status == "refunded"
    assert report.refunds_rechecked == 1


def test_a_refund_unconfirmed_for_too_long_is_flagged_for_staff(
    api: APIClient, card_checkout: Any, stripe_mock: StripeMock, settings: Any
) -> None:
    settings.REFUND_CONFIRM_HOURS = 48
    appointment, _ = card_refund_under_way(api, card_checkout, stripe_mock)
    stripe_mock.refund_route("re_1").mock(
        return_value=httpx.Response(200, json=stripe_refund("re_1", status="pending"))
    )
    payments_reconcile(now=later(47 * 60))
    assert "re_1" not in attention(appointment)
    payments_reconcile(now=later(49 * 60))
    assert "re_1" in attention(appointment)
    assert "not confirmed" in attention(appointment)
    assert Refund.objects.get().status == "processing"
