"""The reconcile job (payments/lifecycle.py): abandoned holds expire at the provider, stuck sessions are
re-polled, a failing pass changes nothing and the loop goes on (respx-mocked providers)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from sofia_checkout.payments.lifecycle import ReconcileReport, expire_abandoned, payments_reconcile
from sofia_checkout.payments.models import PaymentSession
from sofia_checkout.payments.tests.helpers import appointment_status
from testing.booking import slot
from testing.flows import start_payment
from testing.provider_mocks import StripeMock, TruemedMock

pytestmark = pytest.mark.django_db


def later(minutes: int) -> datetime:
    return timezone.now() + timedelta(minutes=minutes)


def test_abandoned_stripe_hold_is_expired_at_the_provider(
    api: APIClient, stripe_mock: StripeMock, card_checkout: Any
) -> None:
    appointment, _ = card_checkout()
    stripe_mock.retrieve("cs_test_fixture", status="open")
    expire = stripe_mock.expire("cs_test_fixture")
    assert payments_reconcile(now=later(30)).expired_appointments == 0  # hold still running
    report = payments_reconcile(now=later(120))
    assert report.expired_appointments == 1
    assert expire.call_count == 1
    assert appointment_status(appointment) == "expired"
    assert PaymentSession.objects.get().status == "expired"
    # The slot is free again.
    again = api.post(
        "/api/appointments/",
        {
            **{
                k: appointment[k]
                for k in ("provider_name", "service", "client_name", "client_email", "client_state")
            },
            "appointment_time": appointment["appointment_time"],
        },
        format="json",
    )
    assert again.status_code == 201


def test_reconcile_keeps_a_hold_that_was_paid_meanwhile(stripe_mock: StripeMock, card_checkout: Any) -> None:
    appointment, _ = card_checkout()
    stripe_mock.retrieve("cs_test_fixture", status="complete", payment_status="paid")
    report = ReconcileReport()
    expire_abandoned(now=later(120), report=report)
    assert report.kept_because_paid == 1
    assert report.expired_appointments == 0
    assert appointment_status(appointment) == "confirmed"


def test_abandoned_truemed_session_is_cancelled(truemed_mock: TruemedMock, hsa_checkout: Any) -> None:
    appointment, _, tm_id = hsa_checkout()
    state = {"status": "pending"}

    def cancel_it(request: httpx.Request) -> httpx.Response:
        state["status"] = "canceled"
        return httpx.Response(200, json={"id": tm_id})

    truemed_mock.session_route(tm_id).mock(
        side_effect=lambda request: httpx.Response(
            200, json={"id": tm_id, "status": state["status"], "total_amount": 15000}
        )
    )
    cancel = truemed_mock.cancel(tm_id, cancel_it)
    call_command("payments_reconcile")  # now: hold still running, nothing happens
    assert cancel.call_count == 0
    payments_reconcile(now=later(120))
    assert cancel.call_count == 1
    assert PaymentSession.objects.get().status == "canceled"
    assert appointment_status(appointment) == "expired"


def test_missed_webhook_is_caught_by_repoll(truemed_mock: TruemedMock, hsa_checkout: Any) -> None:
    appointment, _, tm_id = hsa_checkout()
    truemed_mock.retrieve(tm_id, "captured")
    report = payments_reconcile(now=later(20))
    assert report.sessions_polled == 1
    assert report.sessions_changed == 1
    assert appointment_status(appointment) == "confirmed"


def test_provider_down_during_reconcile_changes_nothing(stripe_mock: StripeMock, card_checkout: Any) -> None:
    appointment, _ = card_checkout()
    stripe_mock.session_route("cs_test_fixture").mock(side_effect=httpx.ConnectError("x"))
    report = payments_reconcile(now=later(120))
    assert report.errors
    assert appointment_status(appointment) == "pending_payment"
    assert PaymentSession.objects.get().status == "open"


def test_hold_ends_even_if_the_provider_keeps_the_session_open_and_it_is_flagged(
    truemed_mock: TruemedMock, hsa_checkout: Any
) -> None:
    appointment, _, tm_id = hsa_checkout()
    truemed_mock.retrieve(tm_id, "pending")
    truemed_mock.cancel(tm_id, httpx.Response(404, json={"error": "NotFound", "message": "x"}))
    report = payments_reconcile(now=later(120))
    assert report.expired_appointments == 1
    session = PaymentSession.objects.get()
    assert session.status == "expired"
    assert "watch for late payment" in session.attention
    assert appointment_status(appointment) == "expired"


def test_reconcile_expires_several_holds_abandoned_before_creation(
    api: APIClient, book: Any, stripe_mock: StripeMock
) -> None:
    stripe_mock.create.mock(side_effect=httpx.ConnectError("down"))
    for hours in (48, 72, 96):
        appointment = book(appointment_time=slot(hours=hours))
        assert start_payment(api, appointment["id"], "stripe").status_code == 503
    report = payments_reconcile(now=later(120))
    assert (report.expired_appointments, report.errors) == (3, [])
    assert set(PaymentSession.objects.values_list("status", "provider_session_id")) == {("canceled", None)}


def test_the_reconcile_loop_outlives_a_failing_pass(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from sofia_checkout.payments.management.commands import payments_reconcile as command

    passes: list[str] = []

    class Stop(Exception):
        pass

    def flaky_pass() -> ReconcileReport:
        passes.append("pass")
        if len(passes) == 1:
            raise RuntimeError("database restarting")
        return ReconcileReport()

    def sleep(seconds: float) -> None:
        if len(passes) >= 2:
            raise Stop

    monkeypatch.setattr(command, "payments_reconcile", flaky_pass)
    monkeypatch.setattr(command.time, "sleep", sleep)
    heartbeat = tmp_path / "reconcile.ok"
    with pytest.raises(Stop):
        call_command("payments_reconcile", "--loop", "1", "--heartbeat", str(heartbeat))
    assert passes == ["pass", "pass"]
    assert heartbeat.exists()  # touched by the pass that succeeded
    passes.clear()
    with pytest.raises(RuntimeError):  # run once (cron): the failure is the exit status
        call_command("payments_reconcile")
