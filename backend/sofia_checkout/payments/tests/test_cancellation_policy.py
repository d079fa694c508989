"""The patient's cancellation and reschedule policy (appointments/policy.py) through the API: a paid
appointment is refunded in full until CANCELLATION_REFUND_CUTOFF_HOURS before it starts; inside the cutoff
or once past, the patient's cancel is refused (409) and nothing is refunded; an unpaid one can be cancelled
until it starts. The appointment read states the terms before the patient confirms."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from sofia_checkout.appointments.models import Appointment
from sofia_checkout.payments.models import PaymentSession, Refund
from sofia_checkout.payments.tests.test_cancellation import paid_by_card
from testing.booking import slot
from testing.provider_mocks import StripeMock, TruemedMock, stripe_refund

pytestmark = pytest.mark.django_db


def move_to(appointment: dict[str, Any], hours_from_now: float) -> None:
    """Put the appointment's start `hours_from_now` away (negative: in the past), its length kept."""
    stored = Appointment.objects.get(pk=appointment["id"])
    shift = timezone.now() + timedelta(hours=hours_from_now) - stored.appointment_time
    Appointment.objects.filter(pk=stored.pk).update(
        appointment_time=stored.appointment_time + shift,
        ends_at=stored.ends_at + shift,
        blocked_until=stored.blocked_until + shift,
    )


def terms(api: APIClient, appointment: dict[str, Any]) -> dict[str, Any]:
    return dict(api.get(f"/api/appointments/{appointment['id']}/").json()["cancellation"])


def cancel(api: APIClient, appointment: dict[str, Any]) -> Any:
    return api.post(f"/api/appointments/{appointment['id']}/cancel/")


@pytest.mark.parametrize(
    "hours_from_now", [23.5, 1, -2, -72], ids=["inside cutoff", "soon", "past", "days ago"]
)
def test_a_paid_appointment_inside_the_cutoff_or_past_is_not_cancelled_and_nothing_is_refunded(
    api: APIClient, card_checkout: Any, stripe_mock: StripeMock, hours_from_now: float
) -> None:
    appointment, _ = paid_by_card(api, card_checkout, stripe_mock)
    refund_route = stripe_mock.refunds(httpx.Response(200, json=stripe_refund()))
    move_to(appointment, hours_from_now)
    shown = terms(api, appointment)
    assert (shown["allowed"], shown["code"], shown["refund_amount_cents"]) == (
        False,
        "cancellation_window_closed",
        0,
    )
    refused = cancel(api, appointment)
    assert refused.status_code == 409
    assert refused.json()["code"] == "cancellation_window_closed"
    assert "contact the clinic" in refused.json()["message"]
    assert refund_route.call_count == 0  # no provider refund call
    assert not Refund.objects.exists()
    stored = Appointment.objects.get(pk=appointment["id"])
    assert (stored.status, stored.cancel_requested_at) == ("confirmed", None)
    assert PaymentSession.objects.get().status == "paid"


def test_a_paid_appointment_before_the_cutoff_is_refunded_in_full_as_announced(
    api: APIClient, card_checkout: Any, stripe_mock: StripeMock
) -> None:
    appointment, _ = paid_by_card(api, card_checkout, stripe_mock)
    move_to(appointment, 24.5)
    shown = terms(api, appointment)
    assert (shown["allowed"], shown["code"], shown["refund_amount_cents"]) == (True, "full_refund", 15000)
    start = Appointment.objects.get(pk=appointment["id"]).appointment_time
    cutoff = shown["refund_cutoff_at"]
    assert cutoff is not None
    assert abs((start - timedelta(hours=24)) - datetime.fromisoformat(cutoff)) < timedelta(seconds=1)
    refund_route = stripe_mock.refunds(httpx.Response(200, json=stripe_refund()))
    cancelled = cancel(api, appointment)
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["cancellation"]["code"] == "already_cancelled"
    assert refund_route.call_count == 1
    assert dict(httpx.QueryParams(refund_route.calls.last.request.content.decode()))["amount"] == "15000"


def test_the_cutoff_is_a_setting(
    api: APIClient, card_checkout: Any, stripe_mock: StripeMock, settings: Any
) -> None:
    settings.CANCELLATION_REFUND_CUTOFF_HOURS = 2
    appointment, _ = paid_by_card(api, card_checkout, stripe_mock)
    move_to(appointment, 3)
    stripe_mock.refunds(httpx.Response(200, json=stripe_refund()))
    assert terms(api, appointment)["allowed"] is True
    assert cancel(api, appointment).json()["status"] == "cancelled"


def test_an_unpaid_appointment_can_be_cancelled_until_it_starts(
    api: APIClient, book: Any, stripe_mock: StripeMock
) -> None:
    soon, started = book(), book()
    move_to(soon, 0.5)
    move_to(started, -2)  # (apart from the other: the database refuses overlaps)
    assert terms(api, soon) == {
        "allowed": True,
        "code": "no_charge",
        "message": terms(api, soon)["message"],
        "refund_amount_cents": 0,
        "refund_cutoff_at": None,
    }
    assert cancel(api, soon).json()["status"] == "cancelled"
    assert (terms(api, started)["allowed"], terms(api, started)["code"]) == (False, "appointment_started")
    refused = cancel(api, started)
    assert refused.status_code == 409
    assert refused.json()["code"] == "appointment_started"
    assert Appointment.objects.get(pk=started["id"]).status == "pending_payment"


def test_under_review_and_released_appointments_show_why_they_cannot_be_cancelled(
    api: APIClient, hsa_checkout: Any, truemed_mock: TruemedMock, book: Any
) -> None:
    appointment, session, tm_id = hsa_checkout()
    truemed_mock.retrieve(tm_id, "processing")
    api.post(f"/api/payment-sessions/{session['id']}/sync/")
    assert (terms(api, appointment)["allowed"], terms(api, appointment)["code"]) == (
        False,
        "payment_in_review",
    )
    assert cancel(api, appointment).status_code == 409
    other = book()
    assert cancel(api, other).status_code == 200
    assert terms(api, other)["code"] == "already_cancelled"
    assert cancel(api, other).status_code == 200  # still idempotent


def test_a_paid_appointment_is_moved_by_the_patient_only_before_the_cutoff(
    api: APIClient, card_checkout: Any, stripe_mock: StripeMock
) -> None:
    appointment, _ = paid_by_card(api, card_checkout, stripe_mock)
    url = f"/api/appointments/{appointment['id']}/reschedule/"
    moved = api.post(url, {"appointment_time": slot(hours=24 * 6)}, format="json")
    assert moved.status_code == 200, moved.json()
    move_to(appointment, 20)
    refused = api.post(url, {"appointment_time": slot(hours=24 * 7)}, format="json")
    assert refused.status_code == 409
    assert refused.json()["code"] == "reschedule_window_closed"
    stored = Appointment.objects.get(pk=appointment["id"])
    assert stored.appointment_time < timezone.now() + timedelta(hours=21)  # not moved
