"""Reconcile job, cancellation and refunds (respx-mocked providers)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from conftest import STRIPE_BASE, TRUEMED_BASE, StripeMock, TruemedMock, slot
from sofia_checkout.appointments.models import Appointment
from sofia_checkout.payments.lifecycle import ReconcileReport, expire_abandoned, payments_reconcile
from sofia_checkout.payments.models import PaymentSession, Refund

pytestmark = pytest.mark.django_db


def started(api: APIClient, appointment: dict[str, Any], provider: str) -> dict[str, Any]:
    response = api.post(
        f"/api/appointments/{appointment['id']}/payment-sessions/", {"provider": provider}, format="json"
    )
    assert response.status_code == 201, response.json()
    return dict(response.json())


def later(minutes: int) -> Any:
    return timezone.now() + timedelta(minutes=minutes)


def test_abandoned_stripe_hold_is_expired_at_the_provider(
    api: APIClient, book: Any, stripe_mock: StripeMock
) -> None:
    appointment = book()
    stripe_mock.answer_create()
    started(api, appointment, "stripe")
    stripe_mock.retrieve("cs_test_fixture", status="open")
    expire = stripe_mock.router.post(f"{STRIPE_BASE}/v1/checkout/sessions/cs_test_fixture/expire").mock(
        return_value=httpx.Response(
            200,
            json={
                "id": "cs_test_fixture",
                "object": "checkout.session",
                "status": "expired",
                "payment_status": "unpaid",
                "amount_total": 15000,
                "currency": "usd",
            },
        )
    )
    assert payments_reconcile(now=later(30)).expired_appointments == 0  # hold still running
    report = payments_reconcile(now=later(120))
    assert report.expired_appointments == 1
    assert expire.call_count == 1
    assert Appointment.objects.get(pk=appointment["id"]).status == "expired"
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


def test_reconcile_keeps_a_hold_that_was_paid_meanwhile(
    api: APIClient, book: Any, stripe_mock: StripeMock
) -> None:
    appointment = book()
    stripe_mock.answer_create()
    started(api, appointment, "stripe")
    stripe_mock.retrieve("cs_test_fixture", status="complete", payment_status="paid")
    report = ReconcileReport()
    expire_abandoned(now=later(120), report=report)
    assert report.kept_because_paid == 1
    assert report.expired_appointments == 0
    assert Appointment.objects.get(pk=appointment["id"]).status == "confirmed"


def test_abandoned_truemed_session_is_cancelled(api: APIClient, book: Any, truemed_mock: TruemedMock) -> None:
    appointment = book()
    tm_id = truemed_mock.answer_create()
    started(api, appointment, "truemed")
    state = {"status": "pending"}

    def cancel_it(request: httpx.Request) -> httpx.Response:
        state["status"] = "canceled"
        return httpx.Response(200, json={"id": tm_id})

    truemed_mock.router.get(f"{TRUEMED_BASE}/payments/v1/payment_session/{tm_id}").mock(
        side_effect=lambda request: httpx.Response(
            200, json={"id": tm_id, "status": state["status"], "total_amount": 15000}
        )
    )
    cancel = truemed_mock.router.post(f"{TRUEMED_BASE}/payments/v1/payment_session/{tm_id}/cancel").mock(
        side_effect=cancel_it
    )
    call_command("payments_reconcile")  # now: hold still running, nothing happens
    assert cancel.call_count == 0
    payments_reconcile(now=later(120))
    assert cancel.call_count == 1
    assert PaymentSession.objects.get().status == "canceled"
    assert Appointment.objects.get(pk=appointment["id"]).status == "expired"


def test_missed_webhook_is_caught_by_repoll(api: APIClient, book: Any, truemed_mock: TruemedMock) -> None:
    appointment = book()
    tm_id = truemed_mock.answer_create()
    started(api, appointment, "truemed")
    truemed_mock.retrieve(tm_id, "captured")
    report = payments_reconcile(now=later(20))
    assert report.sessions_polled == 1
    assert report.sessions_changed == 1
    assert Appointment.objects.get(pk=appointment["id"]).status == "confirmed"


def test_provider_down_during_reconcile_changes_nothing(
    api: APIClient, book: Any, stripe_mock: StripeMock
) -> None:
    appointment = book()
    stripe_mock.answer_create()
    started(api, appointment, "stripe")
    stripe_mock.router.get(f"{STRIPE_BASE}/v1/checkout/sessions/cs_test_fixture").mock(
        side_effect=httpx.ConnectError("x")
    )
    report = payments_reconcile(now=later(120))
    assert report.errors
    assert Appointment.objects.get(pk=appointment["id"]).status == "pending_payment"
    assert PaymentSession.objects.get().status == "open"


def test_cancel_unpaid_cancels_provider_session(api: APIClient, book: Any, stripe_mock: StripeMock) -> None:
    appointment = book()
    stripe_mock.answer_create()
    started(api, appointment, "stripe")
    expire = stripe_mock.router.post(f"{STRIPE_BASE}/v1/checkout/sessions/cs_test_fixture/expire").mock(
        return_value=httpx.Response(
            200,
            json={
                "id": "cs_test_fixture",
                "object": "checkout.session",
                "status": "expired",
                "payment_status": "unpaid",
                "amount_total": 15000,
                "currency": "usd",
            },
        )
    )
    for _ in range(2):  # idempotent
        response = api.post(f"/api/appointments/{appointment['id']}/cancel/")
        assert response.status_code == 200
        assert response.json()["status"] == "cancelled"
    assert expire.call_count == 1
    assert PaymentSession.objects.get().status == "expired"


def test_cancel_paid_refunds_once(api: APIClient, book: Any, stripe_mock: StripeMock) -> None:
    appointment = book()
    stripe_mock.answer_create()
    session = started(api, appointment, "stripe")
    stripe_mock.retrieve("cs_test_fixture", status="complete", payment_status="paid", payment_intent="pi_9")
    api.post(f"/api/payment-sessions/{session['id']}/sync/")
    refund_route = stripe_mock.router.post(f"{STRIPE_BASE}/v1/refunds").mock(
        side_effect=[
            httpx.ConnectError("down"),
            httpx.Response(
                200, json={"id": "re_1", "object": "refund", "status": "succeeded", "amount": 15000}
            ),
        ]
    )
    down = api.post(f"/api/appointments/{appointment['id']}/cancel/")
    assert down.status_code == 503
    assert Appointment.objects.get(pk=appointment["id"]).status == "confirmed"
    ok = api.post(f"/api/appointments/{appointment['id']}/cancel/")
    assert ok.status_code == 200
    assert ok.json()["status"] == "cancelled"
    again = api.post(f"/api/appointments/{appointment['id']}/cancel/")
    assert again.status_code == 200
    assert refund_route.call_count == 2
    keys = {c.request.headers["Idempotency-Key"] for c in refund_route.calls}
    assert len(keys) == 1
    sent = dict(httpx.QueryParams(refund_route.calls.last.request.content.decode()))
    assert sent == {"payment_intent": "pi_9", "amount": "15000", "reason": "requested_by_customer"}
    assert Refund.objects.get().status == "succeeded"
    assert PaymentSession.objects.get().status == "refunded"


def test_cancel_truemed_paid_refund_body(api: APIClient, book: Any, truemed_mock: TruemedMock) -> None:
    appointment = book()
    tm_id = truemed_mock.answer_create()
    session = started(api, appointment, "truemed")
    truemed_mock.retrieve(tm_id, "captured")
    api.post(f"/api/payment-sessions/{session['id']}/sync/")
    route = truemed_mock.router.post(f"{TRUEMED_BASE}/payments/v1/refund").mock(
        return_value=httpx.Response(200, json={"refund_id": "rf_1"})
    )
    assert api.post(f"/api/appointments/{appointment['id']}/cancel/").json()["status"] == "cancelled"
    body = json.loads(route.calls.last.request.content)
    assert body == {
        "amount": 15000,
        "idempotency_key": f"sofia-refund-{session['id']}",
        "payment_id": tm_id,
        "reason": "customer_request",
    }


def test_cancel_during_review_conflicts(api: APIClient, book: Any, truemed_mock: TruemedMock) -> None:
    appointment = book()
    tm_id = truemed_mock.answer_create()
    session = started(api, appointment, "truemed")
    truemed_mock.retrieve(tm_id, "processing")
    api.post(f"/api/payment-sessions/{session['id']}/sync/")
    response = api.post(f"/api/appointments/{appointment['id']}/cancel/")
    assert response.status_code == 409


def test_admin_requires_login(api: APIClient) -> None:
    response = api.get("/admin/appointments/appointment/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_admin_cancel_action(admin_client: Any, book: Any) -> None:
    appointment = book()
    response = admin_client.post(
        "/admin/appointments/appointment/",
        {"action": "cancel_and_refund", "_selected_action": [appointment["id"]]},
    )
    assert response.status_code == 302
    assert Appointment.objects.get(pk=appointment["id"]).status == "cancelled"


def test_hold_ends_even_if_the_provider_keeps_the_session_open_and_it_is_flagged(
    api: APIClient, book: Any, truemed_mock: TruemedMock
) -> None:
    appointment = book()
    tm_id = truemed_mock.answer_create()
    started(api, appointment, "truemed")
    truemed_mock.retrieve(tm_id, "pending")
    truemed_mock.router.post(f"{TRUEMED_BASE}/payments/v1/payment_session/{tm_id}/cancel").mock(
        return_value=httpx.Response(404, json={"error": "NotFound", "message": "x"})
    )
    report = payments_reconcile(now=later(120))
    assert report.expired_appointments == 1
    session = PaymentSession.objects.get()
    assert session.status == "expired"
    assert "watch for late payment" in session.attention
    assert Appointment.objects.get(pk=appointment["id"]).status == "expired"


def test_reconcile_expires_several_holds_abandoned_before_creation(
    api: APIClient, book: Any, stripe_mock: StripeMock
) -> None:
    stripe_mock.create.mock(side_effect=httpx.ConnectError("down"))
    for hours in (48, 72, 96):
        appointment = book(appointment_time=slot(hours=hours))
        response = api.post(
            f"/api/appointments/{appointment['id']}/payment-sessions/", {"provider": "stripe"}, format="json"
        )
        assert response.status_code == 503
    report = payments_reconcile(now=later(120))
    assert (report.expired_appointments, report.errors) == (3, [])
    assert set(PaymentSession.objects.values_list("status", "provider_session_id")) == {("canceled", None)}


def test_a_refund_that_does_not_go_through_leaves_the_appointment_paid_and_flagged(
    api: APIClient, book: Any, stripe_mock: StripeMock
) -> None:
    appointment = book()
    stripe_mock.answer_create()
    session = started(api, appointment, "stripe")
    stripe_mock.retrieve("cs_test_fixture", status="complete", payment_status="paid", payment_intent="pi_9")
    api.post(f"/api/payment-sessions/{session['id']}/sync/")
    stripe_mock.router.post(f"{STRIPE_BASE}/v1/refunds").mock(
        return_value=httpx.Response(200, json={"id": "re_2", "object": "refund", "status": "failed"})
    )
    response = api.post(f"/api/appointments/{appointment['id']}/cancel/")
    assert response.status_code == 502
    assert response.json()["code"] == "provider_error"
    stored = Appointment.objects.get(pk=appointment["id"])
    assert stored.status == "confirmed"
    assert "re_2" in stored.attention
    assert Refund.objects.get().status == "failed"
    assert PaymentSession.objects.get().status == "paid"


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


def _paid_by_card(
    api: APIClient, book: Any, stripe_mock: StripeMock
) -> tuple[dict[str, Any], dict[str, Any]]:
    appointment = book()
    stripe_mock.answer_create()
    session = started(api, appointment, "stripe")
    stripe_mock.retrieve("cs_test_fixture", status="complete", payment_status="paid", payment_intent="pi_9")
    api.post(f"/api/payment-sessions/{session['id']}/sync/")
    return appointment, session


def test_a_failed_refund_can_be_retried_with_a_new_key(
    api: APIClient, book: Any, stripe_mock: StripeMock
) -> None:
    appointment, session = _paid_by_card(api, book, stripe_mock)
    route = stripe_mock.router.post(f"{STRIPE_BASE}/v1/refunds").mock(
        side_effect=[
            httpx.Response(200, json={"id": "re_1", "object": "refund", "status": "failed"}),
            httpx.Response(200, json={"id": "re_2", "object": "refund", "status": "succeeded"}),
        ]
    )
    assert api.post(f"/api/appointments/{appointment['id']}/cancel/").status_code == 502
    retried = api.post(f"/api/appointments/{appointment['id']}/cancel/")
    assert retried.status_code == 200
    assert retried.json()["status"] == "cancelled"
    keys = [call.request.headers["Idempotency-Key"] for call in route.calls]
    assert keys == [f"sofia-refund-{session['id']}", f"sofia-refund-{session['id']}-2"]
    assert list(Refund.objects.order_by("created_at").values_list("status", flat=True)) == [
        "failed",
        "succeeded",
    ]


def test_a_refund_made_but_not_yet_recorded_is_recorded_on_retry(
    api: APIClient, book: Any, stripe_mock: StripeMock
) -> None:
    appointment, session = _paid_by_card(api, book, stripe_mock)
    # The provider refunded; the process died before the session was marked refunded.
    Refund.objects.create(
        payment_session_id=session["id"],
        amount_cents=15000,
        idempotency_key=f"sofia-refund-{session['id']}",
        status="succeeded",
        provider_refund_id="re_1",
    )
    route = stripe_mock.router.post(f"{STRIPE_BASE}/v1/refunds")
    assert api.post(f"/api/appointments/{appointment['id']}/cancel/").status_code == 200
    assert route.call_count == 0
    assert PaymentSession.objects.get().status == "refunded"


def test_money_that_arrived_after_the_hold_expired_is_refunded_on_cancel(
    api: APIClient, book: Any, stripe_mock: StripeMock
) -> None:
    appointment, _ = _paid_by_card(api, book, stripe_mock)
    Appointment.objects.filter(pk=appointment["id"]).update(status="expired")  # paid after release, rebooked
    stripe_mock.router.post(f"{STRIPE_BASE}/v1/refunds").mock(
        return_value=httpx.Response(200, json={"id": "re_3", "object": "refund", "status": "succeeded"})
    )
    assert api.post(f"/api/appointments/{appointment['id']}/cancel/").status_code == 200
    assert PaymentSession.objects.get().status == "refunded"
    assert Refund.objects.get().status == "succeeded"
