from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from conftest import TRUEMED_BASE, StripeMock, TruemedMock, slot, stripe_session
from sofia_checkout.appointments.models import Appointment, AppointmentStatus
from sofia_checkout.payments import services
from sofia_checkout.payments.cancellation import appointment_cancel
from sofia_checkout.payments.models import PaymentSession
from sofia_checkout.payments.services import payment_session_cancel
from sofia_checkout.payments.statuses import PaymentStatus

pytestmark = pytest.mark.django_db


def start(api: APIClient, appointment_id: str, provider: str) -> Any:
    return api.post(
        f"/api/appointments/{appointment_id}/payment-sessions/", {"provider": provider}, format="json"
    )


def test_stripe_session_is_created_once_with_server_amount(
    api: APIClient, book: Any, stripe_mock: StripeMock
) -> None:
    appointment = book()
    stripe_mock.answer_create()
    first = start(api, appointment["id"], "stripe")
    assert first.status_code == 201, first.json()
    body = first.json()
    assert body["provider"] == "stripe"
    assert body["status"] == "open"
    assert body["provider_session_id"] == "cs_test_fixture"
    assert body["redirect_url"].startswith("https://checkout.stripe.test/")
    assert body["amount_cents"] == 15000
    assert body["expires_at"]

    request = stripe_mock.create.calls.last.request
    form = dict(httpx.QueryParams(request.content.decode()))
    assert form["line_items[0][price_data][unit_amount]"] == "15000"
    assert form["mode"] == "payment"
    assert form["payment_method_types[0]"] == "card"  # complete means paid: no delayed methods
    assert form["client_reference_id"] == body["id"]
    assert "{CHECKOUT_SESSION_ID}" in form["success_url"]
    assert form["metadata[appointment_id]"] == appointment["id"]
    assert request.headers["Idempotency-Key"] == f"sofia-{appointment['id']}-stripe-1"

    again = start(api, appointment["id"], "stripe")
    assert again.status_code == 200
    assert again.json()["id"] == body["id"]
    assert stripe_mock.create.call_count == 1
    detail = api.get(f"/api/appointments/{appointment['id']}/").json()
    assert detail["latest_payment_session"]["id"] == body["id"]


def test_truemed_session_body(api: APIClient, book: Any, truemed_mock: TruemedMock) -> None:
    appointment = book(practitioner="Dr. Sam Okafor", service="nutrition_plan")
    session_id = truemed_mock.answer_create()
    response = start(api, appointment["id"], "truemed")
    assert response.status_code == 201, response.json()
    assert response.json()["provider_session_id"] == session_id
    sent = json.loads(truemed_mock.create.calls.last.request.content)
    items_total = sum(i["price"] * i["quantity"] for i in sent["order_items"])
    assert sent["total_amount"] == items_total == 12000
    assert sent["order_items"][0]["sku"] == "nutrition_plan"
    assert isinstance(sent["metadata"], str)
    assert json.loads(sent["metadata"])["payment_session_id"] == response.json()["id"]
    assert sent["idempotency_key"] == f"sofia-{appointment['id']}-truemed-1"
    assert "{{payment_session_id}}" in sent["success_url"]
    assert sent["customer_state"] == "CA"
    assert truemed_mock.create.calls.last.request.headers["x-truemed-api-key"] == "tm_key_fixture"


@pytest.mark.parametrize(
    ("answer", "status", "code"),
    [
        (
            httpx.Response(500, json={"error": {"type": "api_error", "message": "boom"}}),
            503,
            "provider_unavailable",
        ),
        (
            httpx.Response(429, json={"error": {"type": "rate_limit_error", "message": "slow"}}),
            503,
            "provider_unavailable",
        ),
        (httpx.ConnectError("refused"), 503, "provider_unavailable"),
        (httpx.ReadTimeout("slow"), 503, "provider_unavailable"),
        (httpx.Response(200, text="<html>not json"), 503, "provider_unavailable"),
    ],
)
def test_stripe_failures_then_retry_reuses_the_key(
    api: APIClient, book: Any, stripe_mock: StripeMock, answer: Any, status: int, code: str
) -> None:
    appointment = book()
    stripe_mock.create.mock(side_effect=[answer])
    failed = start(api, appointment["id"], "stripe")
    assert failed.status_code == status
    assert failed.json()["code"] == code
    assert failed.json()["message"]
    assert Appointment.objects.get(pk=appointment["id"]).status == AppointmentStatus.PENDING_PAYMENT
    stored = PaymentSession.objects.get(appointment_id=appointment["id"])
    assert stored.status == PaymentStatus.CREATING
    assert stored.provider_session_id is None

    stripe_mock.answer_create()
    retried = start(api, appointment["id"], "stripe")
    assert retried.status_code == 201
    keys = {call.request.headers["Idempotency-Key"] for call in stripe_mock.create.calls}
    assert keys == {stored.idempotency_key}
    first_form = stripe_mock.create.calls[0].request.content
    assert stripe_mock.create.calls.last.request.content == first_form  # identical parameters on retry
    assert PaymentSession.objects.filter(appointment_id=appointment["id"]).count() == 1


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(
            400, json={"error": {"type": "invalid_request_error", "message": "bad", "param": "x"}}
        ),
        httpx.Response(401, json={"error": {"type": "invalid_request_error", "message": "key"}}),
    ],
)
def test_stripe_refusal_closes_the_attempt_and_a_retry_starts_fresh(
    api: APIClient, book: Any, stripe_mock: StripeMock, answer: httpx.Response
) -> None:
    appointment = book()
    stripe_mock.create.mock(side_effect=[answer])
    refused = start(api, appointment["id"], "stripe")
    assert refused.status_code == 502
    assert refused.json()["code"] == "provider_error"
    assert Appointment.objects.get(pk=appointment["id"]).status == AppointmentStatus.PENDING_PAYMENT
    first = PaymentSession.objects.get(appointment_id=appointment["id"])
    # A refusal created nothing at Stripe: resending the same key would only be refused again.
    assert (first.status, first.provider_session_id, first.provider_status) == (
        PaymentStatus.FAILED,
        None,
        "create_refused",
    )

    stripe_mock.answer_create()
    retried = start(api, appointment["id"], "stripe")
    assert retried.status_code == 201
    keys = [call.request.headers["Idempotency-Key"] for call in stripe_mock.create.calls]
    assert keys == [first.idempotency_key, f"sofia-{appointment['id']}-stripe-2"]


def test_truemed_timeout_and_malformed_json(api: APIClient, book: Any, truemed_mock: TruemedMock) -> None:
    appointment = book()
    truemed_mock.create.mock(side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200, text="{")])
    assert start(api, appointment["id"], "truemed").json()["code"] == "provider_unavailable"
    assert start(api, appointment["id"], "truemed").json()["code"] == "provider_unavailable"
    truemed_mock.answer_create()
    assert start(api, appointment["id"], "truemed").status_code == 201
    keys = {json.loads(c.request.content)["idempotency_key"] for c in truemed_mock.create.calls}
    assert len(keys) == 1


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(
            200, headers={"Content-Encoding": "gzip"}, stream=httpx.ByteStream(b"not gzip at all")
        ),
        httpx.Response(200, text="[" * 30_000 + "]" * 30_000),
        httpx.Response(200, json=[]),
    ],
    ids=["undecodable-body", "absurdly-nested", "not-an-object"],
)
def test_truemed_unreadable_answers_are_provider_unavailable(
    api: APIClient, book: Any, truemed_mock: TruemedMock, answer: httpx.Response
) -> None:
    appointment = book()
    truemed_mock.create.mock(return_value=answer)
    response = start(api, appointment["id"], "truemed")
    assert (response.status_code, response.json()["code"]) == (503, "provider_unavailable")


@pytest.mark.parametrize(
    "body",
    [{}, {"object": "checkout.session", "status": "open", "url": "https://x.test/pay"}, {"id": "cs_1"}],
    ids=["empty", "no-id", "open-without-url"],
)
def test_stripe_answers_that_are_not_a_usable_session_are_provider_unavailable(
    api: APIClient, book: Any, stripe_mock: StripeMock, body: dict[str, Any]
) -> None:
    appointment = book()
    stripe_mock.create.mock(
        return_value=httpx.Response(200, json={"status": "open", "payment_status": "unpaid"} | body)
    )
    response = start(api, appointment["id"], "stripe")
    assert (response.status_code, response.json()["code"]) == (503, "provider_unavailable")
    stored = PaymentSession.objects.get(appointment_id=appointment["id"])
    assert (stored.status, stored.provider_session_id) == (PaymentStatus.CREATING, None)


def test_truemed_refusal_is_provider_error(api: APIClient, book: Any, truemed_mock: TruemedMock) -> None:
    appointment = book()
    truemed_mock.create.mock(
        return_value=httpx.Response(400, json={"error": "TotalAmountInvalid", "message": "x"})
    )
    response = start(api, appointment["id"], "truemed")
    assert response.status_code == 502
    assert response.json()["code"] == "provider_error"


def test_unknown_provider_and_bad_bodies(api: APIClient, book: Any) -> None:
    appointment = book()
    unknown = start(api, appointment["id"], "paypal")
    assert unknown.status_code == 400
    assert "provider" in unknown.json()["errors"]
    not_a_choice = api.post(
        f"/api/appointments/{appointment['id']}/payment-sessions/", {"provider": ["stripe"]}, format="json"
    )
    assert not_a_choice.status_code == 400
    assert not_a_choice.json()["code"] == "validation_error"
    missing = start(api, "00000000-0000-0000-0000-000000000000", "stripe")
    assert missing.status_code == 404


def test_ignores_amount_from_the_browser(api: APIClient, book: Any, stripe_mock: StripeMock) -> None:
    appointment = book()
    stripe_mock.answer_create()
    response = api.post(
        f"/api/appointments/{appointment['id']}/payment-sessions/",
        {"provider": "stripe", "amount_cents": 1, "currency": "eur"},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["amount_cents"] == 15000
    form = dict(httpx.QueryParams(stripe_mock.create.calls.last.request.content.decode()))
    assert form["line_items[0][price_data][unit_amount]"] == "15000"
    assert form["line_items[0][price_data][currency]"] == "usd"


@pytest.mark.parametrize("status", ["confirmed", "cancelled", "expired", "payment_processing"])
def test_not_payable_appointments_conflict(api: APIClient, book: Any, status: str) -> None:
    appointment = book()
    Appointment.objects.filter(pk=appointment["id"]).update(status=status)
    response = start(api, appointment["id"], "stripe")
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"


def test_expired_hold_conflicts(api: APIClient, book: Any) -> None:
    from django.utils import timezone

    appointment = book()
    Appointment.objects.filter(pk=appointment["id"]).update(hold_expires_at=timezone.now())
    assert start(api, appointment["id"], "stripe").status_code == 409


def test_switching_method_cancels_the_old_session_first(
    api: APIClient, book: Any, stripe_mock: StripeMock, truemed_mock: TruemedMock
) -> None:
    appointment = book()
    tm_id = truemed_mock.answer_create()
    assert start(api, appointment["id"], "truemed").status_code == 201
    cancel = truemed_mock.router.post(f"{TRUEMED_BASE}/payments/v1/payment_session/{tm_id}/cancel").mock(
        return_value=httpx.Response(200, json={"id": tm_id})
    )
    truemed_mock.retrieve(tm_id, "canceled")
    stripe_mock.answer_create()
    switched = start(api, appointment["id"], "stripe")
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
    start(api, appointment["id"], "truemed")
    truemed_mock.router.post(f"{TRUEMED_BASE}/payments/v1/payment_session/{tm_id}/cancel").mock(
        return_value=httpx.Response(cancel_answer, json={"error": "SessionNotPending", "message": "x"})
    )
    truemed_mock.retrieve(tm_id, truemed_now)
    response = start(api, appointment["id"], "stripe")
    assert response.json()["code"] == code
    assert stripe_mock.create.call_count == 0
    assert Appointment.objects.get(pk=appointment["id"]).status == appointment_status
    assert PaymentSession.objects.get(appointment_id=appointment["id"]).provider == "truemed"


def test_sync_applies_the_provider_state(api: APIClient, book: Any, stripe_mock: StripeMock) -> None:
    appointment = book()
    stripe_mock.answer_create()
    session = start(api, appointment["id"], "stripe").json()
    stripe_mock.retrieve("cs_test_fixture", status="complete", payment_status="paid", payment_intent="pi_1")
    synced = api.post(f"/api/payment-sessions/{session['id']}/sync/")
    assert synced.status_code == 200
    assert synced.json()["status"] == "paid"
    assert api.get(f"/api/appointments/{appointment['id']}/").json()["status"] == "confirmed"
    assert api.get(f"/api/payment-sessions/{session['id']}/").json()["status"] == "paid"
    paid_again = start(api, appointment["id"], "stripe")
    assert paid_again.status_code == 409


def test_sync_provider_down_keeps_state(api: APIClient, book: Any, stripe_mock: StripeMock) -> None:
    appointment = book()
    stripe_mock.answer_create()
    session = start(api, appointment["id"], "stripe").json()
    stripe_mock.router.get("https://stripe.test/v1/checkout/sessions/cs_test_fixture").mock(
        side_effect=httpx.ConnectError("down")
    )
    response = api.post(f"/api/payment-sessions/{session['id']}/sync/")
    assert response.status_code == 503
    assert response.json()["code"] == "provider_unavailable"
    assert PaymentSession.objects.get(pk=session["id"]).status == PaymentStatus.OPEN


def test_session_404s(api: APIClient) -> None:
    assert (
        api.get("/api/payment-sessions/00000000-0000-0000-0000-000000000000/").json()["code"] == "not_found"
    )
    assert api.post("/api/payment-sessions/00000000-0000-0000-0000-000000000000/sync/").status_code == 404


def test_session_about_to_expire_is_cancelled_at_the_provider_before_a_new_one(
    api: APIClient, book: Any, truemed_mock: TruemedMock
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    appointment = book()
    old_id = truemed_mock.answer_create()
    first = start(api, appointment["id"], "truemed").json()
    PaymentSession.objects.filter(pk=first["id"]).update(expires_at=timezone.now() + timedelta(seconds=30))
    cancel = truemed_mock.router.post(f"{TRUEMED_BASE}/payments/v1/payment_session/{old_id}/cancel").mock(
        return_value=httpx.Response(200, json={"id": old_id})
    )
    truemed_mock.retrieve(old_id, "canceled")
    truemed_mock.answer_create()
    second = start(api, appointment["id"], "truemed")
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
    start(api, appointment["id"], "stripe")
    stale = PaymentSession.objects.get(appointment_id=appointment["id"])
    stale.provider_session_id = None  # what the switching request had read
    expire = stripe_mock.router.post("https://stripe.test/v1/checkout/sessions/cs_test_fixture/expire").mock(
        return_value=httpx.Response(200, json=stripe_session(status="expired"))
    )
    cancelled = payment_session_cancel(payment_session=stale)
    assert expire.call_count == 1
    assert (cancelled.status, cancelled.provider_session_id) == (PaymentStatus.EXPIRED, "cs_test_fixture")


def test_two_attempts_abandoned_before_creation_can_both_be_cancelled(
    api: APIClient, book: Any, stripe_mock: StripeMock
) -> None:
    first, second = book(), book(appointment_time=slot(hours=72))
    stripe_mock.create.mock(side_effect=httpx.ConnectError("down"))
    assert start(api, first["id"], "stripe").status_code == 503
    assert start(api, second["id"], "stripe").status_code == 503
    for appointment in (first, second):
        response = api.post(f"/api/appointments/{appointment['id']}/cancel/")
        assert response.status_code == 200, response.json()
    sessions = PaymentSession.objects.filter(appointment_id__in=[first["id"], second["id"]])
    assert {(s.status, s.provider_session_id) for s in sessions} == {(PaymentStatus.CANCELED, None)}


def test_an_attempt_without_a_provider_page_has_a_null_redirect_url(
    api: APIClient, book: Any, stripe_mock: StripeMock
) -> None:
    appointment = book()
    stripe_mock.create.mock(side_effect=httpx.ConnectError("down"))
    assert start(api, appointment["id"], "stripe").status_code == 503
    latest = api.get(f"/api/appointments/{appointment['id']}/").json()["latest_payment_session"]
    assert (latest["status"], latest["redirect_url"]) == ("creating", None)
    session = api.get(f"/api/payment-sessions/{latest['id']}/").json()
    assert session["redirect_url"] is None


@pytest.mark.parametrize("competitor", ["cancel_appointment", "expire_hold"])
def test_an_attempt_closed_between_reserving_and_creating_never_reaches_the_provider(
    api: APIClient, book: Any, stripe_mock: StripeMock, monkeypatch: pytest.MonkeyPatch, competitor: str
) -> None:
    """Phase 1 stored the attempt and let go of the lock; before phase 2 takes it again, the appointment is
    cancelled or its hold expires. Creating a provider session now would leave a payable link behind."""
    appointment = book()
    stripe_mock.answer_create()
    reserve = services._reserve_attempt

    def reserve_then_compete(**kwargs: Any) -> Any:
        reserved = reserve(**kwargs)
        if competitor == "cancel_appointment":
            appointment_cancel(appointment_id=appointment["id"])
        else:
            Appointment.objects.filter(pk=appointment["id"]).update(hold_expires_at=timezone.now())
        return reserved

    monkeypatch.setattr(services, "_reserve_attempt", reserve_then_compete)
    response = start(api, appointment["id"], "stripe")
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert stripe_mock.create.call_count == 0
