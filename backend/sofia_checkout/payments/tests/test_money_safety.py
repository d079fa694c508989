"""Money safety (issue 10, items 1, 2, 3, 6 and the product side of 12): money of unknown value never
confirms; a cancel closes the door to new payments; money that arrives for a released appointment is
refunded, never revives it; an unverified payment is terminal and refunded; the hold and the attempts per
booking are bounded (respx-mocked providers, one request at a time; the races are in
tests/concurrency/test_parallel_cancels.py).

Over 400 lines on purpose: one numbered section per issue item, sharing the small arrange helpers at the
top; read it by section.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from sofia_checkout.appointments.models import Appointment
from sofia_checkout.core.errors import DomainError
from sofia_checkout.payments.lifecycle import payments_reconcile
from sofia_checkout.payments.models import PaymentSession, Refund
from sofia_checkout.payments.services import payment_session_start
from sofia_checkout.payments.tests.helpers import appointment_status
from testing.flows import send_stripe_webhook, send_truemed_webhook, start_payment
from testing.patient import PatientClient
from testing.provider_mocks import (
    STRIPE_BASE,
    TRUEMED_BASE,
    TRUEMED_LEGACY_AUTH,
    StripeMock,
    TruemedMock,
    stripe_event,
    stripe_paid_session,
    stripe_refund,
    stripe_session,
    truemed_legacy_body,
)

pytestmark = pytest.mark.django_db

Json = dict[str, Any]
LIVE = ("creating", "open", "processing")
_MISSING = object()


def later(minutes: float) -> datetime:
    return timezone.now() + timedelta(minutes=minutes)


def cancel(api: APIClient, appointment: Json) -> Any:
    return api.post(f"/api/appointments/{appointment['id']}/cancel/")


def sync(api: APIClient, session: Json) -> Any:
    return api.post(f"/api/payment-sessions/{session['id']}/sync/")


def stored(session: Json) -> PaymentSession:
    return PaymentSession.objects.get(pk=session["id"])


def attention(appointment: Json) -> str:
    return Appointment.objects.get(pk=appointment["id"]).attention


def release(appointment: Json, how: str) -> None:
    """Release the slot behind the shopper's back: cancelled, hold expired, or expired and already past."""
    fields: dict[str, Any] = {"status": "cancelled" if how == "cancelled" else "expired"}
    if how == "past":
        fields["appointment_time"] = timezone.now() - timedelta(days=1)
    Appointment.objects.filter(pk=appointment["id"]).update(**fields)


def stripe_refund_form(route: Any) -> dict[str, str]:
    return dict(httpx.QueryParams(route.calls.last.request.content.decode()))


# --- 1. A Truemed capture of unknown or partial amount confirms nothing (the return-page sync path; the
# webhook path is test_webhooks_truemed.py::test_truemed_captured_without_our_exact_amount_is_flagged_...)


@pytest.mark.parametrize(
    "capture",
    [0, "15000", 15000.0, _MISSING, 100],
    ids=["capture-zero", "capture-string", "capture-float", "capture-missing", "capture-partial"],
)
def test_truemed_sync_of_a_capture_of_unknown_or_partial_amount_does_not_confirm(
    api: APIClient, truemed_mock: TruemedMock, hsa_checkout: Any, capture: object
) -> None:
    appointment, session, tm_id = hsa_checkout()
    body = truemed_mock.session_body(tm_id, "captured")
    if capture is _MISSING:
        del body["capture_amount"]
    else:
        body["capture_amount"] = capture
    truemed_mock.session_route(tm_id).mock(return_value=httpx.Response(200, json=body))
    response = sync(api, session)
    assert response.status_code == 200
    assert response.json()["status"] == "paid_unverified"
    assert appointment_status(appointment) == "pending_payment"
    ours = stored(session)
    assert ours.amount_mismatch
    # What the provider said it took, only when it said so as an integer.
    assert ours.reported_amount_cents == (capture if type(capture) is int else None)
    assert "Refund owed" in attention(appointment)


def test_truemed_sync_of_the_full_integer_capture_confirms(
    api: APIClient, truemed_mock: TruemedMock, hsa_checkout: Any
) -> None:
    appointment, session, tm_id = hsa_checkout()
    truemed_mock.retrieve(tm_id, "captured")
    assert sync(api, session).json()["status"] == "paid"
    assert appointment_status(appointment) == "confirmed"


# --- 2. Cancel against new payment sessions, and money that comes after the slot was released


def test_a_payment_session_started_while_a_cancel_runs_is_refused(
    api: APIClient, card_checkout: Any, stripe_mock: StripeMock, truemed_mock: TruemedMock
) -> None:
    """The shopper (another tab) starts an HSA/FSA payment while the cancel is stopping the card page: the
    window between the cancel's read of the live sessions and its final lock. It must be refused."""
    appointment, card = card_checkout()
    truemed_mock.answer_create()
    meanwhile: list[Any] = []

    def expire(request: httpx.Request) -> httpx.Response:
        if not meanwhile:
            meanwhile.append(None)  # (the start below expires the card page too: answer that one plainly)
            meanwhile[0] = start_payment(PatientClient(), appointment["id"], "truemed")
        return httpx.Response(
            200, json=stripe_session(session_id=card["provider_session_id"], status="expired")
        )

    stripe_mock.router.post(f"{STRIPE_BASE}/v1/checkout/sessions/{card['provider_session_id']}/expire").mock(
        side_effect=expire
    )
    response = cancel(api, appointment)
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    started_meanwhile = meanwhile[0]
    assert started_meanwhile.status_code == 409, started_meanwhile.json()
    assert started_meanwhile.json()["errors"] == {"status": ["cancelling"]}
    assert truemed_mock.create.call_count == 0  # no second way to pay was ever opened
    assert not PaymentSession.objects.filter(appointment_id=appointment["id"], status__in=LIVE).exists()


def test_once_a_cancel_has_begun_no_payment_can_start_even_if_the_cancel_failed(
    api: APIClient, card_checkout: Any, stripe_mock: StripeMock
) -> None:
    appointment, card = card_checkout()
    stripe_mock.router.post(f"{STRIPE_BASE}/v1/checkout/sessions/{card['provider_session_id']}/expire").mock(
        side_effect=httpx.ConnectError("down")
    )
    assert cancel(api, appointment).status_code == 503  # Stripe down: the shopper is asked to retry
    again = start_payment(api, appointment["id"], "stripe")
    # Not the old page handed out again (200), not a new one: the appointment is being cancelled.
    assert again.status_code == 409
    assert again.json()["errors"] == {"status": ["cancelling"]}
    stripe_mock.expire(card["provider_session_id"])
    assert cancel(api, appointment).json()["status"] == "cancelled"  # the retry finishes the cancel


@pytest.mark.parametrize("how", ["cancelled", "expired", "past"])
def test_a_late_card_payment_for_a_released_appointment_is_refunded_not_confirmed(
    api: APIClient, card_checkout: Any, stripe_mock: StripeMock, how: str
) -> None:
    appointment, session = card_checkout()
    release(appointment, how)
    refunds = stripe_mock.refunds(httpx.Response(200, json=stripe_refund("re_late", payment_intent="pi_123")))
    paid = stripe_event("checkout.session.completed", stripe_paid_session(session))
    response = send_stripe_webhook(Client(), paid)
    assert response.status_code == 200
    assert response.json()["outcome"] == "applied"
    assert appointment_status(appointment) == ("cancelled" if how == "cancelled" else "expired")
    assert refunds.call_count == 1
    assert stripe_refund_form(refunds) == {
        "payment_intent": "pi_123",
        "amount": "15000",
        "reason": "requested_by_customer",
    }
    assert Refund.objects.get().status == "succeeded"
    # What the shopper's page reads: the appointment is not booked, and the money went back.
    shown = api.get(f"/api/appointments/{appointment['id']}/").json()
    assert shown["status"] == ("cancelled" if how == "cancelled" else "expired")
    assert shown["latest_payment_session"]["status"] == "refunded"
    # A repeated delivery refunds nothing more.
    send_stripe_webhook(Client(), paid)
    assert refunds.call_count == 1


def test_a_late_payment_refunded_at_once_does_not_stay_flagged_as_owed(
    card_checkout: Any, stripe_mock: StripeMock
) -> None:
    appointment, session = card_checkout()
    release(appointment, "cancelled")
    stripe_mock.refunds(httpx.Response(200, json=stripe_refund("re_late", payment_intent="pi_123")))
    send_stripe_webhook(Client(), stripe_event("checkout.session.completed", stripe_paid_session(session)))
    assert stored(session).status == "refunded"
    assert "refund owed" not in attention(appointment).lower()


def test_a_late_card_payment_seen_by_the_return_page_sync_is_refunded(
    api: APIClient, card_checkout: Any, stripe_mock: StripeMock
) -> None:
    appointment, session = card_checkout()
    release(appointment, "expired")
    stripe_mock.retrieve(
        session["provider_session_id"],
        status="complete",
        payment_status="paid",
        client_reference_id=session["id"],
        payment_intent="pi_7",
    )
    refunds = stripe_mock.refunds(httpx.Response(200, json=stripe_refund("re_7", payment_intent="pi_7")))
    response = sync(api, session)
    assert response.status_code == 200
    assert response.json()["status"] == "refunded"
    assert refunds.call_count == 1
    shown = api.get(f"/api/appointments/{appointment['id']}/").json()
    assert (shown["status"], shown["latest_payment_session"]["status"]) == ("expired", "refunded")


def test_a_late_hsa_payment_seen_by_the_return_page_sync_is_refunded(
    api: APIClient, hsa_checkout: Any, truemed_mock: TruemedMock
) -> None:
    appointment, session, tm_id = hsa_checkout()
    release(appointment, "cancelled")
    truemed_mock.retrieve(tm_id, "captured")
    refunds = truemed_mock.refunds(httpx.Response(200, json={"refund_id": "rf_late"}))
    assert sync(api, session).status_code == 200
    assert appointment_status(appointment) == "cancelled"
    assert json.loads(refunds.calls.last.request.content) == {
        "amount": 15000,
        "idempotency_key": f"sofia-refund-{session['id']}",
        "payment_id": tm_id,
        "reason": "customer_request",
    }
    # Truemed only accepts a refund; it is done when the session says so (test_refunds.py).
    assert Refund.objects.get().status == "processing"


def test_a_late_hsa_payment_by_webhook_is_refunded_not_confirmed(
    hsa_checkout: Any, truemed_mock: TruemedMock
) -> None:
    appointment, _, tm_id = hsa_checkout()
    release(appointment, "expired")
    truemed_mock.retrieve(tm_id, "captured")
    refunds = truemed_mock.refunds(httpx.Response(200, json={"refund_id": "rf_late"}))
    response = send_truemed_webhook(Client(), truemed_legacy_body(tm_id, "captured"), **TRUEMED_LEGACY_AUTH)
    assert response.status_code == 204
    assert appointment_status(appointment) == "expired"
    assert refunds.call_count == 1


def test_a_late_payment_whose_refund_could_not_be_made_is_flagged_and_the_reconcile_job_refunds_it(
    api: APIClient, card_checkout: Any, stripe_mock: StripeMock
) -> None:
    appointment, session = card_checkout()
    release(appointment, "cancelled")
    refunds = stripe_mock.refunds(
        httpx.ConnectError("down"), httpx.Response(200, json=stripe_refund("re_ok"))
    )
    paid = stripe_event("checkout.session.completed", stripe_paid_session(session))
    assert send_stripe_webhook(Client(), paid).status_code == 200  # never a reason for Stripe to retry
    assert appointment_status(appointment) == "cancelled"
    assert stored(session).status == "paid"
    assert "refund" in attention(appointment).lower()  # flagged for staff until the money is back
    report = payments_reconcile(now=later(1))
    assert report.refunds_made == 1
    assert refunds.call_count == 2
    assert stored(session).status == "refunded"
    assert api.get(f"/api/appointments/{appointment['id']}/").json()["latest_payment_session"]["status"] == (
        "refunded"
    )
    assert payments_reconcile(now=later(2)).refunds_made == 0  # done: nothing owed any more
    assert refunds.call_count == 2


def test_a_late_payment_whose_refund_failed_at_the_provider_is_left_to_a_person(
    card_checkout: Any, stripe_mock: StripeMock
) -> None:
    appointment, session = card_checkout()
    release(appointment, "cancelled")
    refunds = stripe_mock.refunds(httpx.Response(200, json=stripe_refund("re_f", status="failed")))
    paid = stripe_event("checkout.session.completed", stripe_paid_session(session))
    assert send_stripe_webhook(Client(), paid).status_code == 200
    assert stored(session).status == "paid"
    assert "re_f" in attention(appointment)  # the failed refund is named for staff
    # A refund the provider failed is not sent again every pass: a person decides (a new cancel retries).
    assert payments_reconcile(now=later(1)).refunds_made == 0
    assert refunds.call_count == 1


# --- 3. An unverified payment (wrong, partial or unknown amount) is terminal, never live, and refunded


def underpaid_by_card(card_checkout: Any, **overrides: Any) -> tuple[Json, Json]:
    """An appointment whose Checkout Session completed with an amount we did not ask for."""
    appointment, session = card_checkout()
    paid = stripe_paid_session(session, payment_intent="pi_under", **overrides)
    assert send_stripe_webhook(Client(), stripe_event("checkout.session.completed", paid)).status_code == 200
    return appointment, session


def test_an_unverified_payment_is_terminal_and_the_shopper_can_pay_again(
    api: APIClient, card_checkout: Any, stripe_mock: StripeMock, truemed_mock: TruemedMock
) -> None:
    appointment, session = underpaid_by_card(card_checkout, amount_total=100)
    assert stored(session).status == "paid_unverified"
    assert appointment_status(appointment) == "pending_payment"
    assert "Payment amount not verified" in attention(appointment)  # mirrored to the appointment
    expire = stripe_mock.expire(session["provider_session_id"])
    truemed_mock.answer_create()
    assert start_payment(api, appointment["id"], "truemed").status_code == 201
    assert expire.call_count == 0  # nothing live to stop: the unverified session is over


def test_the_reconcile_job_refunds_an_unverified_payment_once_and_stops_polling_it(
    card_checkout: Any, stripe_mock: StripeMock
) -> None:
    _, session = underpaid_by_card(card_checkout, amount_total=100)
    poll = stripe_mock.retrieve(session["provider_session_id"], status="complete", payment_status="paid")
    refunds = stripe_mock.refunds(httpx.Response(200, json=stripe_refund("re_u", amount=100)))
    report = payments_reconcile(now=later(30))
    assert refunds.call_count == 1
    assert stripe_refund_form(refunds)["amount"] == "100"  # what was taken, not what we asked for
    assert stored(session).status == "refunded"
    assert poll.call_count == 0  # no longer live: never re-polled
    assert (report.refunds_made, report.sessions_polled) == (1, 0)
    payments_reconcile(now=later(60))
    assert refunds.call_count == 1
    assert poll.call_count == 0


@pytest.mark.parametrize(
    ("overrides", "sent_amount"),
    [({"amount_total": 100}, "100"), ({"amount_total": None}, None)],
    ids=["reported-amount", "amount-unknown"],
)
def test_cancel_refunds_an_unverified_card_payment(
    api: APIClient,
    card_checkout: Any,
    stripe_mock: StripeMock,
    overrides: dict[str, Any],
    sent_amount: str | None,
) -> None:
    appointment, session = underpaid_by_card(card_checkout, **overrides)
    assert stored(session).status == "paid_unverified"
    refunds = stripe_mock.refunds(httpx.Response(200, json=stripe_refund("re_c")))
    response = cancel(api, appointment)
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    form = stripe_refund_form(refunds)
    assert form["payment_intent"] == "pi_under"
    # The amount taken when Stripe said it; otherwise no amount, which Stripe reads as "all of it".
    assert form.get("amount") == sent_amount
    assert stored(session).status == "refunded"


def test_cancel_refunds_a_partial_hsa_capture_by_what_was_captured(
    api: APIClient, hsa_checkout: Any, truemed_mock: TruemedMock
) -> None:
    appointment, session, tm_id = hsa_checkout()
    truemed_mock.retrieve(tm_id, "captured", capture_amount=9000)
    assert sync(api, session).json()["status"] == "paid_unverified"
    refunds = truemed_mock.refunds(httpx.Response(200, json={"refund_id": "rf_p"}))
    assert cancel(api, appointment).json()["status"] == "cancelled"
    assert json.loads(refunds.calls.last.request.content)["amount"] == 9000


# --- 6. The hold and the payment attempts per booking are bounded


def test_switching_methods_never_extends_the_hold_past_the_cap(
    book: Any, stripe_mock: StripeMock, truemed_mock: TruemedMock, settings: Any
) -> None:
    settings.APPOINTMENT_HOLD_MAX_MINUTES = 180
    appointment = book()
    answer_every_switch(stripe_mock, truemed_mock)
    booked_at = Appointment.objects.get(pk=appointment["id"]).created_at
    cap = booked_at + timedelta(minutes=180)
    # Each switch (a minute before the page would expire) used to move the hold to the new page's expiry.
    for minutes, provider in [(0, "stripe"), (50, "truemed"), (100, "stripe"), (140, "truemed")]:
        session, created = payment_session_start(
            appointment_id=appointment["id"], provider=provider, now=booked_at + timedelta(minutes=minutes)
        )
        assert created
        hold = Appointment.objects.get(pk=appointment["id"]).hold_expires_at
        assert hold <= cap, f"after {minutes} min the hold runs to {hold - booked_at}"
        assert session.expires_at <= cap
    # Too little of the hold is left for a new card page (Stripe needs 30 minutes at least).
    with pytest.raises(DomainError) as refused:
        payment_session_start(
            appointment_id=appointment["id"], provider="stripe", now=booked_at + timedelta(minutes=160)
        )
    assert (refused.value.code, refused.value.http_status) == ("hold_ending", 409)
    assert Appointment.objects.get(pk=appointment["id"]).hold_expires_at <= cap
    # Refused before the open HSA/FSA page was stopped: the shopper can still pay there.
    assert list(
        PaymentSession.objects.filter(appointment_id=appointment["id"], status="open").values_list(
            "provider", flat=True
        )
    ) == ["truemed"]


def answer_every_switch(stripe_mock: StripeMock, truemed_mock: TruemedMock) -> list[str]:
    """Both providers create a new session each time and stop any of them when asked; the Truemed ids."""
    stripe_mock.answer_create(fresh_ids=True)
    tm_ids = truemed_mock.answer_creates()
    stripe_mock.router.post(url__regex=rf"^{STRIPE_BASE}/v1/checkout/sessions/[^/]+/expire$").mock(
        side_effect=lambda request: httpx.Response(
            200, json=stripe_session(session_id=request.url.path.split("/")[-2], status="expired")
        )
    )
    truemed_mock.router.post(url__regex=rf"^{TRUEMED_BASE}/payments/v1/payment_session/[^/]+/cancel$").mock(
        return_value=httpx.Response(200, json={})
    )
    truemed_mock.router.get(url__regex=rf"^{TRUEMED_BASE}/payments/v1/payment_session/[^/]+$").mock(
        side_effect=lambda request: httpx.Response(
            200, json={"id": request.url.path.split("/")[-1], "status": "canceled", "total_amount": 15000}
        )
    )
    return tm_ids


def test_payment_attempts_per_booking_are_limited(
    api: APIClient, book: Any, stripe_mock: StripeMock, truemed_mock: TruemedMock, settings: Any
) -> None:
    settings.PAYMENT_ATTEMPTS_MAX = 3
    appointment = book()
    tm_ids = answer_every_switch(stripe_mock, truemed_mock)
    codes = [start_payment(api, appointment["id"], p).status_code for p in ("stripe", "truemed", "stripe")]
    assert codes == [201, 201, 201]
    refused = start_payment(api, appointment["id"], "truemed")
    assert refused.status_code == 409
    assert refused.json()["code"] == "payment_attempts_exhausted"
    assert len(tm_ids) == 1  # the fourth attempt never reached a provider
    assert PaymentSession.objects.filter(appointment_id=appointment["id"]).count() == 3


def test_a_refused_extra_attempt_leaves_the_open_page_usable(
    api: APIClient, book: Any, stripe_mock: StripeMock, truemed_mock: TruemedMock, settings: Any
) -> None:
    settings.PAYMENT_ATTEMPTS_MAX = 1
    appointment = book()
    answer_every_switch(stripe_mock, truemed_mock)
    card = start_payment(api, appointment["id"], "stripe").json()
    assert start_payment(api, appointment["id"], "truemed").status_code == 409
    assert stored(card).status == "open"  # the card page still works: the shopper can pay there
    assert start_payment(api, appointment["id"], "stripe").status_code == 200


# --- 12 (product side). A shopper who leaves Truemed's page comes back to a session still pending


def test_a_shopper_who_left_the_hsa_page_can_still_pay_and_the_hold_still_ends(
    api: APIClient, hsa_checkout: Any, truemed_mock: TruemedMock
) -> None:
    appointment, session, tm_id = hsa_checkout()
    at_truemed = {"status": "pending"}  # Truemed's page "Cancel": back to failure_url, no webhook

    def stop(request: httpx.Request) -> httpx.Response:
        at_truemed["status"] = "canceled"
        return httpx.Response(200, json={})

    truemed_mock.session_route(tm_id).mock(
        side_effect=lambda request: httpx.Response(
            200, json=truemed_mock.session_body(tm_id, at_truemed["status"])
        )
    )
    cancel_route = truemed_mock.cancel(tm_id, stop)
    response = sync(api, session)
    assert (response.status_code, response.json()["status"]) == (200, "open")  # still payable
    assert appointment_status(appointment) == "pending_payment"
    assert payments_reconcile(now=later(30)).expired_appointments == 0  # the hold still runs
    assert cancel_route.call_count == 0
    assert payments_reconcile(now=later(120)).expired_appointments == 1
    assert cancel_route.call_count == 1  # stopped at Truemed before the slot is released
    assert (stored(session).status, appointment_status(appointment)) == ("canceled", "expired")
