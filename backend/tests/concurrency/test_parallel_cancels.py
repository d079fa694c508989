"""Cancels in parallel (issue 10, items 2 and 4): parallel cancels of a paid appointment all answer 200 with
one Refund row and one provider call; a cancel racing new payment sessions leaves nothing payable; late
money refunded by cancels and reconcile passes at once is refunded once.

Threads use their own database connections, so these run with real transactions: on PostgreSQL row locks
decide; on SQLite immediate transactions and the busy timeout make writers wait. The provider doubles answer
slowly, so the callers really overlap while a refund is being sent.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta
from typing import Any

import httpx
import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from sofia_checkout.appointments.models import Appointment
from sofia_checkout.payments.lifecycle import payments_reconcile
from sofia_checkout.payments.models import PaymentSession, Refund
from testing.booking import booking
from testing.flows import start_payment
from testing.parallel import in_parallel
from testing.patient import PatientClient
from testing.provider_mocks import (
    STRIPE_BASE,
    TRUEMED_BASE,
    StripeMock,
    TruemedMock,
    stripe_refund,
    stripe_session,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

Json = dict[str, Any]
SLOW = 0.3  # seconds a provider takes to answer a refund


def client() -> APIClient:
    """A client that answers a crash with its 500 (as a shopper would see it) instead of raising it."""
    api = PatientClient()
    api.raise_request_exception = False
    return api


def cancel(appointment: Json) -> Any:
    return client().post(f"/api/appointments/{appointment['id']}/cancel/")


class CountingRefunds:
    """A provider's refund endpoint that takes SLOW seconds and counts calls and idempotency keys."""

    def __init__(self, answer: Any) -> None:
        self.lock = threading.Lock()
        self.keys: Counter[str] = Counter()
        self.answer = answer

    def __call__(self, request: httpx.Request) -> httpx.Response:
        time.sleep(SLOW)
        with self.lock:
            self.keys[request.headers.get("Idempotency-Key") or request.content.decode()] += 1
        return httpx.Response(200, json=self.answer)

    @property
    def calls(self) -> int:
        return sum(self.keys.values())


def paid_by_card(stripe_mock: StripeMock) -> tuple[Json, Json]:
    appointment = client().post("/api/appointments/", booking(), format="json").json()
    stripe_mock.answer_create()
    session = start_payment(client(), appointment["id"], "stripe").json()
    stripe_mock.retrieve(
        session["provider_session_id"],
        status="complete",
        payment_status="paid",
        client_reference_id=session["id"],
        payment_intent="pi_9",
    )
    assert client().post(f"/api/payment-sessions/{session['id']}/sync/").json()["status"] == "paid"
    return appointment, session


@pytest.mark.parametrize("callers", [2, 8])
def test_parallel_cancels_of_a_paid_card_appointment_refund_once(
    stripe_mock: StripeMock, callers: int
) -> None:
    appointment, session = paid_by_card(stripe_mock)
    refunds = CountingRefunds(stripe_refund("re_1"))
    stripe_mock.refunds(refunds)
    responses = in_parallel(callers, lambda i: cancel(appointment))
    assert Counter(r.status_code for r in responses) == {200: callers}, [r.content for r in responses]
    assert {r.json()["status"] for r in responses} == {"cancelled"}
    assert refunds.calls == 1  # one provider call...
    assert Refund.objects.count() == 1  # ...one refund, with one key
    assert Refund.objects.get().status == "succeeded"
    assert PaymentSession.objects.get(pk=session["id"]).status == "refunded"
    assert Appointment.objects.get(pk=appointment["id"]).status == "cancelled"


def test_parallel_cancels_of_a_paid_hsa_appointment_refund_once(truemed_mock: TruemedMock) -> None:
    appointment = client().post("/api/appointments/", booking(), format="json").json()
    tm_id = truemed_mock.answer_create()
    session = start_payment(client(), appointment["id"], "truemed").json()
    truemed_mock.retrieve(tm_id, "captured")
    assert client().post(f"/api/payment-sessions/{session['id']}/sync/").json()["status"] == "paid"
    refunds = CountingRefunds({"refund_id": "rf_1"})
    truemed_mock.refunds(refunds)
    responses = in_parallel(4, lambda i: cancel(appointment))
    assert Counter(r.status_code for r in responses) == {200: 4}, [r.content for r in responses]
    assert refunds.calls == 1
    assert Refund.objects.count() == 1
    assert Refund.objects.get().status == "processing"  # Truemed accepted it; the job follows it up


def test_late_money_refunded_by_cancels_and_reconcile_passes_at_once_is_refunded_once(
    stripe_mock: StripeMock,
) -> None:
    appointment, session = paid_by_card(stripe_mock)
    # The money came after the slot was released (e.g. the hold expired while the shopper paid).
    Appointment.objects.filter(pk=appointment["id"]).update(status="expired")
    refunds = CountingRefunds(stripe_refund("re_1"))
    stripe_mock.refunds(refunds)
    soon = timezone.now() + timedelta(minutes=1)
    results = in_parallel(6, lambda i: cancel(appointment) if i % 2 else payments_reconcile(now=soon))
    assert {r.status_code for r in results[1::2]} == {200}
    assert refunds.calls == 1
    assert Refund.objects.count() == 1
    assert PaymentSession.objects.get(pk=session["id"]).status == "refunded"
    assert Appointment.objects.get(pk=appointment["id"]).status == "expired"


def test_a_cancel_racing_new_payment_sessions_leaves_nothing_payable(
    stripe_mock: StripeMock, truemed_mock: TruemedMock
) -> None:
    appointment = client().post("/api/appointments/", booking(), format="json").json()
    stripe_mock.answer_create(fresh_ids=True)
    created_at_truemed = truemed_mock.answer_creates()
    assert start_payment(client(), appointment["id"], "stripe").status_code == 201
    stopped: set[str] = set()
    lock = threading.Lock()

    def stop_stripe(request: httpx.Request) -> httpx.Response:
        time.sleep(0.05)
        sid = request.url.path.split("/")[-2]
        with lock:
            stopped.add(sid)
        return httpx.Response(200, json=stripe_session(session_id=sid, status="expired"))

    def stop_truemed(request: httpx.Request) -> httpx.Response:
        time.sleep(0.05)
        with lock:
            stopped.add(request.url.path.split("/")[-2])
        return httpx.Response(200, json={})

    def read_truemed(request: httpx.Request) -> httpx.Response:
        sid = request.url.path.split("/")[-1]
        with lock:
            status = "canceled" if sid in stopped else "pending"
        return httpx.Response(200, json={"id": sid, "status": status, "total_amount": 15000})

    stripe_mock.router.post(url__regex=rf"^{STRIPE_BASE}/v1/checkout/sessions/[^/]+/expire$").mock(
        side_effect=stop_stripe
    )
    truemed_mock.router.post(url__regex=rf"^{TRUEMED_BASE}/payments/v1/payment_session/[^/]+/cancel$").mock(
        side_effect=stop_truemed
    )
    truemed_mock.router.get(url__regex=rf"^{TRUEMED_BASE}/payments/v1/payment_session/[^/]+$").mock(
        side_effect=read_truemed
    )

    def work(i: int) -> Any:
        if i == 0:
            return cancel(appointment)
        return start_payment(client(), appointment["id"], "truemed" if i % 2 else "stripe")

    responses = in_parallel(8, work)
    assert responses[0].status_code == 200, responses[0].content
    assert responses[0].json()["status"] == "cancelled"
    assert all(r.status_code in {200, 201, 409, 502, 503} for r in responses[1:]), [
        (r.status_code, r.content) for r in responses
    ]
    # Whatever started before the cancel was stopped at its provider; nothing started after it.
    sessions = list(PaymentSession.objects.filter(appointment_id=appointment["id"]))
    assert not [s for s in sessions if s.status in {"creating", "open", "processing"}]
    for s in sessions:
        assert s.provider_session_id is None or s.provider_session_id in stopped, s.provider_session_id
    assert set(created_at_truemed) <= stopped
    assert Appointment.objects.get(pk=appointment["id"]).status == "cancelled"
