"""Races: parallel session creation, parallel bookings, parallel webhooks, webhook vs sync.

Threads use their own database connections, so these run with real transactions: on PostgreSQL row locks and
constraints decide; on SQLite immediate transactions and the busy timeout make writers wait.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import httpx
import pytest
from django.db import connection
from django.test import Client

from sofia_checkout.appointments.models import Appointment
from sofia_checkout.payments.models import PaymentSession, WebhookEvent
from testing.booking import booking, slot
from testing.flows import send_stripe_webhook, start_payment
from testing.parallel import in_parallel
from testing.patient import PatientClient
from testing.provider_mocks import StripeMock, stripe_event, stripe_session

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

N = 50


def idempotent_stripe(stripe_mock: StripeMock) -> dict[str, Any]:
    """A Stripe double that, like Stripe, answers one session per idempotency key; counts creations."""
    lock = threading.Lock()
    seen: dict[str, dict[str, Any]] = {}
    stats: dict[str, Any] = {"calls": 0, "keys": seen}

    def handler(request: httpx.Request) -> httpx.Response:
        key = request.headers["Idempotency-Key"]
        form = dict(httpx.QueryParams(request.content.decode()))
        with lock:
            stats["calls"] += 1
            if key not in seen:
                seen[key] = stripe_session(
                    session_id=f"cs_test_{len(seen) + 1}",
                    client_reference_id=form["client_reference_id"],
                    amount_total=int(form["line_items[0][price_data][unit_amount]"]),
                )
            return httpx.Response(200, json=seen[key])

    stripe_mock.create.mock(side_effect=handler)
    return stats


def test_50_parallel_session_creations_make_one_provider_session(stripe_mock: StripeMock) -> None:
    appointment = PatientClient().post("/api/appointments/", booking(), format="json").json()
    stats = idempotent_stripe(stripe_mock)
    responses = in_parallel(N, lambda i: start_payment(PatientClient(), appointment["id"], "stripe"))
    codes = Counter(r.status_code for r in responses)
    assert codes[201] == 1, codes
    assert codes[200] == N - 1, codes
    assert len({r.json()["id"] for r in responses}) == 1
    assert len({r.json()["provider_session_id"] for r in responses}) == 1
    assert len(stats["keys"]) == 1  # one provider session
    assert stats["calls"] == 1  # and only one call reached the provider
    assert PaymentSession.objects.count() == 1


def test_50_parallel_bookings_of_one_slot_one_wins() -> None:
    when = slot(hours=100)
    responses = in_parallel(
        N,
        lambda i: PatientClient().post(
            "/api/appointments/",
            booking(appointment_time=when, client_email=f"p{i}@example.com"),
            format="json",
        ),
    )
    codes = Counter(r.status_code for r in responses)
    assert codes == {201: 1, 409: N - 1}, codes
    assert all(r.json()["code"] == "conflict" for r in responses if r.status_code == 409)
    assert Appointment.objects.count() == 1


def booked_and_started(stripe_mock: StripeMock) -> tuple[dict[str, Any], dict[str, Any]]:
    """An appointment and its card payment session, from an idempotent Stripe double."""
    appointment = PatientClient().post("/api/appointments/", booking(), format="json").json()
    idempotent_stripe(stripe_mock)
    return appointment, start_payment(PatientClient(), appointment["id"], "stripe").json()


def test_same_webhook_delivered_10_times_in_parallel_applies_once(stripe_mock: StripeMock) -> None:
    appointment, session = booked_and_started(stripe_mock)
    paid = stripe_session(
        session_id=session["provider_session_id"],
        status="complete",
        payment_status="paid",
        client_reference_id=session["id"],
    )
    body = stripe_event("checkout.session.completed", paid, event_id="evt_parallel")
    responses = in_parallel(10, lambda i: send_stripe_webhook(Client(), body))
    assert {r.status_code for r in responses} == {200}
    assert sum(1 for r in responses if not r.json()["duplicate"]) >= 1
    event = WebhookEvent.objects.get()
    assert event.deliveries == 10
    assert event.outcome == "applied"
    assert Appointment.objects.get(pk=appointment["id"]).status == "confirmed"


def test_webhook_and_return_sync_race(stripe_mock: StripeMock) -> None:
    appointment, session = booked_and_started(stripe_mock)
    sid = session["provider_session_id"]
    stripe_mock.retrieve(sid, status="complete", payment_status="paid", client_reference_id=session["id"])
    paid = stripe_session(
        session_id=sid, status="complete", payment_status="paid", client_reference_id=session["id"]
    )
    body = stripe_event("checkout.session.completed", paid)

    def work(i: int) -> Any:
        if i % 2:
            return send_stripe_webhook(Client(), body)
        return PatientClient().post(f"/api/payment-sessions/{session['id']}/sync/")

    responses = in_parallel(10, work)
    assert {r.status_code for r in responses} == {200}
    assert PaymentSession.objects.get().status == "paid"
    assert Appointment.objects.get(pk=appointment["id"]).status == "confirmed"


def test_two_reconcile_jobs_at_once_act_once_per_hold(stripe_mock: StripeMock) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from sofia_checkout.payments.lifecycle import payments_reconcile

    idempotent_stripe(stripe_mock)
    expired_calls: Counter[str] = Counter()
    lock = threading.Lock()

    def expire(request: httpx.Request) -> httpx.Response:
        sid = request.url.path.split("/")[-2]
        with lock:
            expired_calls[sid] += 1
        return httpx.Response(200, json=stripe_session(session_id=sid, status="expired"))

    stripe_mock.router.post(url__regex=r".*/v1/checkout/sessions/[^/]+/expire").mock(side_effect=expire)
    stripe_mock.router.get(url__regex=r".*/v1/checkout/sessions/[^/]+$").mock(
        side_effect=lambda request: httpx.Response(
            200, json=stripe_session(session_id=request.url.path.split("/")[-1])
        )
    )
    for i in range(6):
        appointment = (
            PatientClient()
            .post("/api/appointments/", booking(appointment_time=slot(hours=30 + i)), format="json")
            .json()
        )
        assert start_payment(PatientClient(), appointment["id"], "stripe").status_code == 201
    later = timezone.now() + timedelta(hours=3)
    reports = in_parallel(2, lambda i: payments_reconcile(now=later))
    assert sum(r.expired_appointments for r in reports) == 6
    assert all(count == 1 for count in expired_calls.values())
    assert len(expired_calls) == 6
    assert set(Appointment.objects.values_list("status", flat=True)) == {"expired"}
    assert connection.vendor in {"postgresql", "sqlite"}
