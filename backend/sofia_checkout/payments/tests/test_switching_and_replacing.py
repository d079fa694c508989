"""Replacing an attempt: switching method or replacing a session about to expire stops the old provider
session first (refused while it may still take money); an attempt closed or cancelled half-way never leaves a
payable link behind (respx-mocked providers). A cancel or the reconcile job meeting a create call in flight:
tests/concurrency/test_provider_calls_outside_transactions.py."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from sofia_checkout.appointments.models import Appointment, AppointmentStatus
from sofia_checkout.payments.models import PaymentSession
from sofia_checkout.payments.services import payment_session_cancel
from sofia_checkout.payments.statuses import PaymentStatus
from testing.booking import slot
from testing.flows import start_payment
from testing.provider_mocks import StripeMock, TruemedMock

pytestmark = pytest.mark.django_db


def test_switching_method_cancels_the_old_session_first(
    api: APIClient, book: Any, stripe_mock: StripeMock, truemed_mock: TruemedMock
) -> None:
    appointment = book()
    tm_id = truemed_mock.answer_create()
    assert start_payment(api, appointment["id"], "truemed").status_code == 201
    cancel = truemed_mock.cancel(tm_id)
    truemed_mock.retrieve(tm_id, "canceled")
    stripe_mock.answer_create()
    switched = start_payment(api, appointment["id"], "stripe")
    assert switched.status_code == 201
    assert cancel.call_count == 1
    statuses = dict(
        PaymentSession.objects.filter(appointment_id=appointment["id"]).values_list("provider", "status")
    )
    assert statuses == {"truemed": "canceled", "stripe": "open"}


@pytest.mark.parametrize(
    ("cancel_answer", "truemed_now", "code", "appointment_status"),
    [
        # It already took the money (under review): switching would charge twice.
        (400, "processing", "conflict", AppointmentStatus.PAYMENT_PROCESSING),
        # The cancel is refused (or its path unknown) and Truemed still says pending: the old link still pays.
        (404, "pending", "provider_error", AppointmentStatus.PENDING_PAYMENT),
    ],
    ids=["old-method-took-money", "old-session-still-payable"],
)
def test_switching_is_refused_unless_the_old_session_is_really_stopped(
    api: APIClient,
    book: Any,
    stripe_mock: StripeMock,
    truemed_mock: TruemedMock,
    cancel_answer: int,
    truemed_now: str,
    code: str,
    appointment_status: str,
) -> None:
    appointment = book()
    tm_id = truemed_mock.answer_create()
    start_payment(api, appointment["id"], "truemed")
    truemed_mock.cancel(
        tm_id, httpx.Response(cancel_answer, json={"error": "SessionNotPending", "message": "x"})
    )
    truemed_mock.retrieve(tm_id, truemed_now)
    response = start_payment(api, appointment["id"], "stripe")
    assert response.json()["code"] == code
    assert stripe_mock.create.call_count == 0
    assert Appointment.objects.get(pk=appointment["id"]).status == appointment_status
    assert PaymentSession.objects.get(appointment_id=appointment["id"]).provider == "truemed"


def test_session_about_to_expire_is_cancelled_at_the_provider_before_a_new_one(
    api: APIClient, book: Any, truemed_mock: TruemedMock
) -> None:
    appointment = book()
    old_id = truemed_mock.answer_create()
    first = start_payment(api, appointment["id"], "truemed").json()
    PaymentSession.objects.filter(pk=first["id"]).update(expires_at=timezone.now() + timedelta(seconds=30))
    cancel = truemed_mock.cancel(old_id)
    truemed_mock.retrieve(old_id, "canceled")
    truemed_mock.answer_create()
    second = start_payment(api, appointment["id"], "truemed")
    assert second.status_code == 201
    assert second.json()["id"] != first["id"]
    assert cancel.call_count == 1  # the old link can no longer take money
    assert PaymentSession.objects.get(pk=first["id"]).status == "canceled"


def test_cancel_with_a_stale_copy_still_stops_the_session_at_the_provider(
    api: APIClient, book: Any, stripe_mock: StripeMock
) -> None:
    """A switch read the attempt before a parallel create stored its provider id: the cancel must not just
    mark it cancelled here while it stays payable at Stripe."""
    appointment = book()
    stripe_mock.answer_create()
    start_payment(api, appointment["id"], "stripe")
    stale = PaymentSession.objects.get(appointment_id=appointment["id"])
    stale.provider_session_id = None  # what the switching request had read
    expire = stripe_mock.expire("cs_test_fixture")
    cancelled = payment_session_cancel(payment_session=stale)
    assert expire.call_count == 1
    assert (cancelled.status, cancelled.provider_session_id) == (PaymentStatus.EXPIRED, "cs_test_fixture")


def test_two_attempts_abandoned_before_creation_can_both_be_cancelled(
    api: APIClient, book: Any, stripe_mock: StripeMock
) -> None:
    first, second = book(), book(appointment_time=slot(hours=72))
    stripe_mock.create.mock(side_effect=httpx.ConnectError("down"))
    assert start_payment(api, first["id"], "stripe").status_code == 503
    assert start_payment(api, second["id"], "stripe").status_code == 503
    for appointment in (first, second):
        response = api.post(f"/api/appointments/{appointment['id']}/cancel/")
        assert response.status_code == 200, response.json()
    sessions = PaymentSession.objects.filter(appointment_id__in=[first["id"], second["id"]])
    assert {(s.status, s.provider_session_id) for s in sessions} == {(PaymentStatus.CANCELED, None)}
