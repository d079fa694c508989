"""Cancelling an appointment (payments/cancellation.py): an unpaid session is stopped at the provider, a
paid one refunded once with a stored idempotency key; failed, unrecorded and late refunds (respx-mocked
providers)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from rest_framework.test import APIClient

from sofia_checkout.appointments.models import Appointment
from sofia_checkout.payments.models import PaymentSession, Refund
from testing.provider_mocks import StripeMock, TruemedMock

pytestmark = pytest.mark.django_db


def cancel(api: APIClient, appointment: dict[str, Any]) -> Any:
    return api.post(f"/api/appointments/{appointment['id']}/cancel/")


def paid_by_card(
    api: APIClient, card_checkout: Any, stripe_mock: StripeMock
) -> tuple[dict[str, Any], dict[str, Any]]:
    """An appointment confirmed by a paid Checkout Session (payment_intent pi_9), and that session."""
    appointment, session = card_checkout()
    stripe_mock.retrieve("cs_test_fixture", status="complete", payment_status="paid", payment_intent="pi_9")
    api.post(f"/api/payment-sessions/{session['id']}/sync/")
    return appointment, session


def synced_truemed(
    api: APIClient, hsa_checkout: Any, truemed_mock: TruemedMock, status: str
) -> tuple[dict[str, Any], dict[str, Any], str]:
    """An appointment whose Truemed session was synced in `status`: it, our session, Truemed's id."""
    appointment, session, tm_id = hsa_checkout()
    truemed_mock.retrieve(tm_id, status)
    api.post(f"/api/payment-sessions/{session['id']}/sync/")
    return appointment, session, tm_id


def test_cancel_unpaid_cancels_provider_session(
    api: APIClient, stripe_mock: StripeMock, card_checkout: Any
) -> None:
    appointment, _ = card_checkout()
    expire = stripe_mock.expire("cs_test_fixture")
    for _ in range(2):  # idempotent
        response = cancel(api, appointment)
        assert response.status_code == 200
        assert response.json()["status"] == "cancelled"
    assert expire.call_count == 1
    assert PaymentSession.objects.get().status == "expired"


def test_cancel_paid_refunds_once(api: APIClient, card_checkout: Any, stripe_mock: StripeMock) -> None:
    appointment, _ = paid_by_card(api, card_checkout, stripe_mock)
    refund_route = stripe_mock.refunds(
        httpx.ConnectError("down"),
        httpx.Response(200, json={"id": "re_1", "object": "refund", "status": "succeeded", "amount": 15000}),
    )
    down = cancel(api, appointment)
    assert down.status_code == 503
    assert Appointment.objects.get(pk=appointment["id"]).status == "confirmed"
    ok = cancel(api, appointment)
    assert ok.status_code == 200
    assert ok.json()["status"] == "cancelled"
    again = cancel(api, appointment)
    assert again.status_code == 200
    assert refund_route.call_count == 2
    keys = {c.request.headers["Idempotency-Key"] for c in refund_route.calls}
    assert len(keys) == 1
    sent = dict(httpx.QueryParams(refund_route.calls.last.request.content.decode()))
    assert sent == {"payment_intent": "pi_9", "amount": "15000", "reason": "requested_by_customer"}
    assert Refund.objects.get().status == "succeeded"
    assert PaymentSession.objects.get().status == "refunded"


def test_cancel_truemed_paid_refund_body(
    api: APIClient, hsa_checkout: Any, truemed_mock: TruemedMock
) -> None:
    appointment, session, tm_id = synced_truemed(api, hsa_checkout, truemed_mock, "captured")
    route = truemed_mock.refunds(httpx.Response(200, json={"refund_id": "rf_1"}))
    assert cancel(api, appointment).json()["status"] == "cancelled"
    body = json.loads(route.calls.last.request.content)
    assert body == {
        "amount": 15000,
        "idempotency_key": f"sofia-refund-{session['id']}",
        "payment_id": tm_id,
        "reason": "customer_request",
    }


def test_cancel_during_review_conflicts(api: APIClient, hsa_checkout: Any, truemed_mock: TruemedMock) -> None:
    appointment, _, _ = synced_truemed(api, hsa_checkout, truemed_mock, "processing")
    assert cancel(api, appointment).status_code == 409


def test_a_refund_that_does_not_go_through_leaves_the_appointment_paid_and_flagged(
    api: APIClient, card_checkout: Any, stripe_mock: StripeMock
) -> None:
    appointment, _ = paid_by_card(api, card_checkout, stripe_mock)
    stripe_mock.refunds(httpx.Response(200, json={"id": "re_2", "object": "refund", "status": "failed"}))
    response = cancel(api, appointment)
    assert response.status_code == 502
    assert response.json()["code"] == "provider_error"
    stored = Appointment.objects.get(pk=appointment["id"])
    assert stored.status == "confirmed"
    assert "re_2" in stored.attention
    assert Refund.objects.get().status == "failed"
    assert PaymentSession.objects.get().status == "paid"


def test_a_failed_refund_can_be_retried_with_a_new_key(
    api: APIClient, card_checkout: Any, stripe_mock: StripeMock
) -> None:
    appointment, session = paid_by_card(api, card_checkout, stripe_mock)
    route = stripe_mock.refunds(
        httpx.Response(200, json={"id": "re_1", "object": "refund", "status": "failed"}),
        httpx.Response(200, json={"id": "re_2", "object": "refund", "status": "succeeded"}),
    )
    assert cancel(api, appointment).status_code == 502
    retried = cancel(api, appointment)
    assert retried.status_code == 200
    assert retried.json()["status"] == "cancelled"
    keys = [call.request.headers["Idempotency-Key"] for call in route.calls]
    assert keys == [f"sofia-refund-{session['id']}", f"sofia-refund-{session['id']}-2"]
    assert list(Refund.objects.order_by("created_at").values_list("status", flat=True)) == [
        "failed",
        "succeeded",
    ]


def test_a_refund_made_but_not_yet_recorded_is_recorded_on_retry(
    api: APIClient, card_checkout: Any, stripe_mock: StripeMock
) -> None:
    appointment, session = paid_by_card(api, card_checkout, stripe_mock)
    # The provider refunded; the process died before the session was marked refunded.
    Refund.objects.create(
        payment_session_id=session["id"],
        amount_cents=15000,
        idempotency_key=f"sofia-refund-{session['id']}",
        status="succeeded",
        provider_refund_id="re_1",
    )
    route = stripe_mock.refunds()
    assert cancel(api, appointment).status_code == 200
    assert route.call_count == 0
    assert PaymentSession.objects.get().status == "refunded"


def test_money_that_arrived_after_the_hold_expired_is_refunded_on_cancel(
    api: APIClient, card_checkout: Any, stripe_mock: StripeMock
) -> None:
    appointment, _ = paid_by_card(api, card_checkout, stripe_mock)
    Appointment.objects.filter(pk=appointment["id"]).update(status="expired")  # paid after release, rebooked
    stripe_mock.refunds(httpx.Response(200, json={"id": "re_3", "object": "refund", "status": "succeeded"}))
    assert cancel(api, appointment).status_code == 200
    assert PaymentSession.objects.get().status == "refunded"
    assert Refund.objects.get().status == "succeeded"
