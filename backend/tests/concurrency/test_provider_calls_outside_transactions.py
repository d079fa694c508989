"""No transaction is open and no row is locked while a provider is called (issue 13).

Every provider call (create, re-fetch, stop, refund) is watched for an open transaction on the calling
thread; while a create call hangs at the provider, other shoppers book and the same appointment's row can be
locked; a cancel or the reconcile job that meets a create call in flight waits for it or skips it, and the new
page is stopped afterwards, never left payable. Threads use their own connections (real transactions).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from sofia_checkout.appointments.models import Appointment
from sofia_checkout.appointments.selectors import appointment_lock
from sofia_checkout.payments.lifecycle import payments_reconcile
from sofia_checkout.payments.models import PaymentSession
from sofia_checkout.payments.providers import registry
from testing.booking import booking, slot
from testing.flows import send_stripe_webhook, start_payment
from testing.patient import PatientClient
from testing.provider_mocks import (
    STRIPE_BASE,
    StripeMock,
    TruemedMock,
    stripe_event,
    stripe_paid_session,
    stripe_refund,
    stripe_session,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

Json = dict[str, Any]
_PROVIDER_CALLS = {"create_session", "retrieve_session", "cancel_session", "refund", "refund_status"}


class WatchedAdapter:
    """The real adapter, with every provider call recorded with whether its thread had a transaction open."""

    def __init__(self, real: Any, calls: list[tuple[str, bool]]) -> None:
        self._real = real
        self._calls = calls

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._real, name)
        if name not in _PROVIDER_CALLS:
            return attr

        def watched(*args: Any, **kwargs: Any) -> Any:
            self._calls.append((name, connection.in_atomic_block))
            return attr(*args, **kwargs)

        return watched


@pytest.fixture
def provider_calls() -> Iterator[list[tuple[str, bool]]]:
    calls: list[tuple[str, bool]] = []
    for name in ("stripe", "truemed"):
        registry._adapters[name] = WatchedAdapter(registry.get_provider(name), calls)  # type: ignore[assignment]
    yield calls
    registry.close_providers()


def book(hours: int) -> Json:
    response = PatientClient().post(
        "/api/appointments/", booking(appointment_time=slot(hours=hours)), format="json"
    )
    assert response.status_code == 201, response.json()
    return dict(response.json())


def stripe_sessions_answered(stripe_mock: StripeMock, status: dict[str, str]) -> None:
    """Reads answer each session in the status `status` gives it (open by default); expire expires it."""

    def read(request: httpx.Request) -> httpx.Response:
        sid = request.url.path.split("/")[-1]
        return httpx.Response(200, json=stripe_session(session_id=sid, status=status.get(sid, "open")))

    def expire(request: httpx.Request) -> httpx.Response:
        sid = request.url.path.split("/")[-2]
        status[sid] = "expired"
        return httpx.Response(200, json=stripe_session(session_id=sid, status="expired"))

    stripe_mock.router.get(url__regex=rf"^{STRIPE_BASE}/v1/checkout/sessions/[^/]+$").mock(side_effect=read)
    stripe_mock.router.post(url__regex=rf"^{STRIPE_BASE}/v1/checkout/sessions/[^/]+/expire$").mock(
        side_effect=expire
    )


def test_no_transaction_is_open_during_any_provider_call(
    provider_calls: list[tuple[str, bool]], stripe_mock: StripeMock, truemed_mock: TruemedMock
) -> None:
    stripe_mock.answer_create(fresh_ids=True)
    stripe_sessions_answered(stripe_mock, {})
    tm_id = truemed_mock.answer_create()
    truemed_mock.cancel(tm_id)
    truemed_mock.retrieve(tm_id, "canceled")
    api = PatientClient()

    # Create, the return page's re-fetch, switching method (stops the card page), cancel (stops Truemed's).
    switched = book(30)
    card = start_payment(api, switched["id"], "stripe").json()
    assert api.post(f"/api/payment-sessions/{card['id']}/sync/").status_code == 200
    assert start_payment(api, switched["id"], "truemed").status_code == 201
    assert api.post(f"/api/appointments/{switched['id']}/cancel/").json()["status"] == "cancelled"

    # A paid appointment cancelled: the refund.
    paid = book(31)
    session = start_payment(api, paid["id"], "stripe").json()
    body = stripe_event("checkout.session.completed", stripe_paid_session(session))
    assert send_stripe_webhook(api, body).status_code == 200
    stripe_mock.refunds(httpx.Response(200, json=stripe_refund()))
    assert api.post(f"/api/appointments/{paid['id']}/cancel/").json()["status"] == "cancelled"

    # The reconcile job: a stuck session re-polled, an abandoned hold stopped at the provider.
    abandoned = book(32)
    assert start_payment(api, abandoned["id"], "stripe").status_code == 201
    report = payments_reconcile(now=timezone.now() + timedelta(hours=4))
    assert report.errors == []
    assert report.sessions_polled >= 1
    assert report.expired_appointments == 1

    called = {name for name, _ in provider_calls}
    assert called == {"create_session", "retrieve_session", "cancel_session", "refund"}
    assert [name for name, in_transaction in provider_calls if in_transaction] == []


def blocking_create(stripe_mock: StripeMock) -> tuple[threading.Event, threading.Event]:
    """Stripe's create hangs until `release` is set; `entered` tells that a call is hanging there."""
    stripe_mock.answer_create(fresh_ids=True)
    answer = stripe_mock.create.side_effect
    entered, release = threading.Event(), threading.Event()

    def hang(request: httpx.Request) -> Any:
        entered.set()
        assert release.wait(timeout=60)
        return answer(request)  # type: ignore[misc,operator]

    stripe_mock.create.mock(side_effect=hang)
    return entered, release


def in_thread(work: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    """Run `work` on its own thread (with its own database connection); its result lands in the list."""
    result: list[Any] = []

    def run() -> None:
        try:
            result.append(work())
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, result


def test_a_provider_call_that_hangs_blocks_no_other_writer(stripe_mock: StripeMock) -> None:
    """On SQLite a transaction held across the call would hold the database's only write lock: every other
    booking would wait for the provider. On PostgreSQL the appointment's row would stay locked."""
    appointment = book(40)
    entered, release = blocking_create(stripe_mock)
    creating, created = in_thread(lambda: start_payment(PatientClient(), appointment["id"], "stripe"))
    assert entered.wait(timeout=30)

    def other_writers() -> int:
        other = PatientClient().post(
            "/api/appointments/", booking(appointment_time=slot(hours=41)), format="json"
        )
        with transaction.atomic():
            appointment_lock(appointment_id=appointment["id"])
        return other.status_code

    writing, written = in_thread(other_writers)
    writing.join(timeout=20)
    done_while_hanging = not writing.is_alive()
    release.set()
    creating.join(timeout=60)
    writing.join(timeout=60)
    assert done_while_hanging, "another writer waited for the provider call"
    assert written == [201]
    assert created[0].status_code == 201


def test_a_cancel_during_the_create_call_waits_for_it_then_stops_the_new_page(
    stripe_mock: StripeMock,
) -> None:
    appointment = book(42)
    status: dict[str, str] = {}
    stripe_sessions_answered(stripe_mock, status)
    entered, release = blocking_create(stripe_mock)
    creating, created = in_thread(lambda: start_payment(PatientClient(), appointment["id"], "stripe"))
    assert entered.wait(timeout=30)
    cancelling, cancelled = in_thread(
        lambda: PatientClient().post(f"/api/appointments/{appointment['id']}/cancel/")
    )
    # The cancel is claimed (no new attempt may start now), then waits for the create call in flight.
    deadline = time.monotonic() + 30
    while not Appointment.objects.filter(pk=appointment["id"], cancel_requested_at__isnull=False).exists():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert cancelling.is_alive()
    release.set()
    creating.join(timeout=60)
    cancelling.join(timeout=60)
    assert created[0].status_code == 201
    assert cancelled[0].status_code == 200, cancelled[0].json()
    assert cancelled[0].json()["status"] == "cancelled"
    session = PaymentSession.objects.get(appointment_id=appointment["id"])
    assert session.status == "expired"  # stopped at Stripe after it was made
    assert status == {session.provider_session_id: "expired"}
    assert session.provider_call_until is None


def test_the_reconcile_job_skips_a_session_being_created_and_stops_it_on_a_later_pass(
    stripe_mock: StripeMock,
) -> None:
    appointment = book(43)
    status: dict[str, str] = {}
    stripe_sessions_answered(stripe_mock, status)
    entered, release = blocking_create(stripe_mock)
    creating, created = in_thread(lambda: start_payment(PatientClient(), appointment["id"], "stripe"))
    assert entered.wait(timeout=30)
    after_the_hold = timezone.now() + timedelta(hours=4)
    report = payments_reconcile(now=after_the_hold)  # while the create call hangs at Stripe
    assert (report.expired_appointments, report.errors) == (0, [])
    assert Appointment.objects.get(pk=appointment["id"]).status == "pending_payment"
    release.set()
    creating.join(timeout=60)
    assert created[0].status_code == 201
    assert PaymentSession.objects.get(appointment_id=appointment["id"]).status == "open"

    report = payments_reconcile(now=after_the_hold)
    assert (report.expired_appointments, report.errors) == (1, [])
    session = PaymentSession.objects.get(appointment_id=appointment["id"])
    assert session.status == "expired"
    assert status == {session.provider_session_id: "expired"}
