"""Starting, reading and syncing payment sessions through the API: the server prices the session, one
provider session per attempt, only payable appointments (respx-mocked providers)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from sofia_checkout.appointments.models import Appointment
from sofia_checkout.payments.models import PaymentSession
from sofia_checkout.payments.statuses import PaymentStatus
from testing.flows import start_payment
from testing.provider_mocks import StripeMock, TruemedMock

pytestmark = pytest.mark.django_db


def test_stripe_session_is_created_once_with_server_amount(
    api: APIClient, book: Any, stripe_mock: StripeMock
) -> None:
    appointment = book()
    stripe_mock.answer_create()
    first = start_payment(api, appointment["id"], "stripe")
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
    assert form["allowed_payment_method_types[0]"] == "card"  # complete means paid: no delayed methods
    assert "payment_method_types[0]" not in form  # not a create parameter in the pinned API version
    assert form["client_reference_id"] == body["id"]
    assert "{CHECKOUT_SESSION_ID}" in form["success_url"]
    assert form["metadata[appointment_id]"] == appointment["id"]
    assert request.headers["Idempotency-Key"] == f"sofia-{appointment['id']}-stripe-1"

    again = start_payment(api, appointment["id"], "stripe")
    assert again.status_code == 200
    assert again.json()["id"] == body["id"]
    assert stripe_mock.create.call_count == 1
    detail = api.get(f"/api/appointments/{appointment['id']}/").json()
    assert detail["latest_payment_session"]["id"] == body["id"]


def test_truemed_session_body(api: APIClient, book: Any, truemed_mock: TruemedMock) -> None:
    appointment = book(practitioner="Dr. Sam Okafor", service="nutrition_plan")
    session_id = truemed_mock.answer_create()
    response = start_payment(api, appointment["id"], "truemed")
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


def test_unknown_provider_and_bad_bodies(api: APIClient, book: Any) -> None:
    appointment = book()
    unknown = start_payment(api, appointment["id"], "paypal")
    assert unknown.status_code == 400
    assert "provider" in unknown.json()["errors"]
    not_a_choice = api.post(
        f"/api/appointments/{appointment['id']}/payment-sessions/", {"provider": ["stripe"]}, format="json"
    )
    assert not_a_choice.status_code == 400
    assert not_a_choice.json()["code"] == "validation_error"
    missing = start_payment(api, "00000000-0000-0000-0000-000000000000", "stripe")
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
    response = start_payment(api, appointment["id"], "stripe")
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"


def test_expired_hold_conflicts(api: APIClient, book: Any) -> None:
    appointment = book()
    Appointment.objects.filter(pk=appointment["id"]).update(hold_expires_at=timezone.now())
    assert start_payment(api, appointment["id"], "stripe").status_code == 409


def test_sync_applies_the_provider_state(api: APIClient, book: Any, stripe_mock: StripeMock) -> None:
    appointment = book()
    stripe_mock.answer_create()
    session = start_payment(api, appointment["id"], "stripe").json()
    stripe_mock.retrieve("cs_test_fixture", status="complete", payment_status="paid", payment_intent="pi_1")
    synced = api.post(f"/api/payment-sessions/{session['id']}/sync/")
    assert synced.status_code == 200
    assert synced.json()["status"] == "paid"
    assert api.get(f"/api/appointments/{appointment['id']}/").json()["status"] == "confirmed"
    assert api.get(f"/api/payment-sessions/{session['id']}/").json()["status"] == "paid"
    paid_again = start_payment(api, appointment["id"], "stripe")
    assert paid_again.status_code == 409


def test_sync_provider_down_keeps_state(api: APIClient, book: Any, stripe_mock: StripeMock) -> None:
    appointment = book()
    stripe_mock.answer_create()
    session = start_payment(api, appointment["id"], "stripe").json()
    stripe_mock.session_route("cs_test_fixture").mock(side_effect=httpx.ConnectError("down"))
    response = api.post(f"/api/payment-sessions/{session['id']}/sync/")
    assert response.status_code == 503
    assert response.json()["code"] == "provider_unavailable"
    assert PaymentSession.objects.get(pk=session["id"]).status == PaymentStatus.OPEN


def test_session_404s(api: APIClient) -> None:
    assert (
        api.get("/api/payment-sessions/00000000-0000-0000-0000-000000000000/").json()["code"] == "not_found"
    )
    assert api.post("/api/payment-sessions/00000000-0000-0000-0000-000000000000/sync/").status_code == 404


def test_an_attempt_without_a_provider_page_has_a_null_redirect_url(
    api: APIClient, book: Any, stripe_mock: StripeMock
) -> None:
    appointment = book()
    stripe_mock.create.mock(side_effect=httpx.ConnectError("down"))
    assert start_payment(api, appointment["id"], "stripe").status_code == 503
    latest = api.get(f"/api/appointments/{appointment['id']}/").json()["latest_payment_session"]
    assert (latest["status"], latest["redirect_url"]) == ("creating", None)
    session = api.get(f"/api/payment-sessions/{latest['id']}/").json()
    assert session["redirect_url"] is None
