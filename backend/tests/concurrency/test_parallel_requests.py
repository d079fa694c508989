"""Races: parallel session creation, parallel bookings, parallel webhooks, webhook vs sync.

Threads use their own database connections, so these run with real transactions: on PostgreSQL row locks and
constraints decide; on SQLite immediate transactions and the busy timeout make writers wait.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from django.db import connection, connections
from django.test import Client
from rest_framework.test import APIClient

from conftest import StripeMock, booking, slot, stripe_event, stripe_session, stripe_signature
from sofia_checkout.appointments.models import Appointment
from sofia_checkout.payments.models import PaymentSession, WebhookEvent

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

N = 50


def in_parallel(count: int, work: Callable[[int], Any]) -> list[Any]:
    barrier = threading.Barrier(count)

    def run(i: int) -> Any:
        try:
            barrier.wait(timeout=30)
            return work(i)
        finally:
            connections.close_all()  # each thread's own connection

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


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
    appointment = APIClient().post("/api/appointments/", booking(), format="json").json()
    stats = idempotent_stripe(stripe_mock)
    url = f"/api/appointments/{appointment['id']}/payment-sessions/"
    responses = in_parallel(N, lambda i: APIClient().post(url, {"provider": "stripe"}, format="json"))
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
        lambda i: APIClient().post(
            "/api/appointments/",
            booking(appointment_time=when, client_email=f"p{i}@example.com"),
            format="json",
        ),
    )
    codes = Counter(r.status_code for r in responses)
    assert codes == {201: 1, 409: N - 1}, codes
    assert all(r.json()["code"] == "conflict" for r in responses if r.status_code == 409)
    assert Appointment.objects.count() == 1


def test_same_webhook_delivered_10_times_in_parallel_applies_once(stripe_mock: StripeMock) -> None:
    appointment = APIClient().post("/api/appointments/", booking(), format="json").json()
    idempotent_stripe(stripe_mock)
    session = (
        APIClient()
        .post(
            f"/api/appointments/{appointment['id']}/payment-sessions/", {"provider": "stripe"}, format="json"
        )
        .json()
    )
    paid = stripe_session(
        session_id=session["provider_session_id"],
        status="complete",
        payment_status="paid",
        client_reference_id=session["id"],
    )
    body = stripe_event("checkout.session.completed", paid, event_id="evt_parallel")
    responses = in_parallel(
        10,
        lambda i: Client().post(
            "/api/webhooks/stripe/",
            data=body,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=stripe_signature(body),
        ),
    )
    assert {r.status_code for r in responses} == {200}
    assert sum(1 for r in responses if not r.json()["duplicate"]) >= 1
    event = WebhookEvent.objects.get()
    assert event.deliveries == 10
    assert event.outcome == "applied"
    assert Appointment.objects.get(pk=appointment["id"]).status == "confirmed"


def test_webhook_and_return_sync_race(stripe_mock: StripeMock) -> None:
    appointment = APIClient().post("/api/appointments/", booking(), format="json").json()
    idempotent_stripe(stripe_mock)
    session = (
        APIClient()
        .post(
            f"/api/appointments/{appointment['id']}/payment-sessions/", {"provider": "stripe"}, format="json"
        )
        .json()
    )
    sid = session["provider_session_id"]
    stripe_mock.retrieve(sid, status="complete", payment_status="paid", client_reference_id=session["id"])
    paid = stripe_session(
        session_id=sid, status="complete", payment_status="paid", client_reference_id=session["id"]
    )
    body = stripe_event("checkout.session.completed", paid)

    def work(i: int) -> Any:
        if i % 2:
            return Client().post(
                "/api/webhooks/stripe/",
                data=body,
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=stripe_signature(body),
            )
        return APIClient().post(f"/api/payment-sessions/{session['id']}/sync/")

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
            APIClient()
            .post("/api/appointments/", booking(appointment_time=slot(hours=30 + i)), format="json")
            .json()
        )
        created = APIClient().post(
            f"/api/appointments/{appointment['id']}/payment-sessions/", {"provider": "stripe"}, format="json"
        )
        assert created.status_code == 201
    later = timezone.now() + timedelta(hours=3)
    reports = in_parallel(2, lambda i: payments_reconcile(now=later))
    assert sum(r.expired_appointments for r in reports) == 6
    assert all(count == 1 for count in expired_calls.values())
    assert len(expired_calls) == 6
    assert set(Appointment.objects.values_list("status", flat=True)) == {"expired"}
    assert connection.vendor in {"postgresql", "sqlite"}
