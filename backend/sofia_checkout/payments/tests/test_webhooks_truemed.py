"""Truemed webhooks: authenticated by key (legacy) or signature (signed mode), only a trigger to re-fetch the
session, which decides; amounts checked; a failed re-fetch asks for a retry (respx-mocked Truemed)."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from django.test import Client
from rest_framework.test import APIClient

from sofia_checkout.appointments.models import Appointment
from sofia_checkout.payments.models import PaymentSession, WebhookEvent, WebhookOutcome
from sofia_checkout.payments.tests.helpers import appointment_status
from testing.flows import send_truemed_webhook, started
from testing.provider_mocks import (
    TRUEMED_LEGACY_AUTH,
    TRUEMED_WHSEC,
    StripeMock,
    TruemedMock,
    truemed_legacy_body,
)
from testing.signatures import timestamped_hmac_header

pytestmark = pytest.mark.django_db


def notify(tm_id: str, status: str, client: Client | None = None) -> Any:
    """Truemed's legacy delivery about session `tm_id` claiming `status`, with the right key."""
    body = truemed_legacy_body(tm_id, status)
    return send_truemed_webhook(client or Client(), body, **TRUEMED_LEGACY_AUTH)


def test_truemed_refetches_and_applies(
    truemed_mock: TruemedMock, csrf_client: Client, hsa_checkout: Any
) -> None:
    appointment, _, tm_id = hsa_checkout()
    route = truemed_mock.retrieve(tm_id, "processing")
    # The body claims captured; Truemed, asked directly, says processing: the re-fetch wins.
    response = notify(tm_id, "captured", csrf_client)
    assert response.status_code == 204
    assert route.call_count == 1
    assert appointment_status(appointment) == "payment_processing"
    truemed_mock.retrieve(tm_id, "captured")
    second = truemed_legacy_body(tm_id, "captured") | {"n": 2}
    send_truemed_webhook(csrf_client, second, **TRUEMED_LEGACY_AUTH)
    assert appointment_status(appointment) == "confirmed"


@pytest.mark.parametrize("headers", [{}, {"x-truemed-api-key": "wrong"}, {"x-truemed-api-key": ""}])
def test_truemed_bad_key_rejected(
    truemed_mock: TruemedMock, headers: dict[str, str], hsa_checkout: Any
) -> None:
    appointment, _, tm_id = hsa_checkout()
    route = truemed_mock.retrieve(tm_id, "captured")
    response = send_truemed_webhook(Client(), truemed_legacy_body(tm_id, "captured"), **headers)
    assert response.status_code == 401
    assert route.call_count == 0
    assert appointment_status(appointment) == "pending_payment"


def test_truemed_captured_before_processing_ends_paid(truemed_mock: TruemedMock, hsa_checkout: Any) -> None:
    appointment, _, tm_id = hsa_checkout()
    truemed_mock.retrieve(tm_id, "captured")
    notify(tm_id, "captured")
    truemed_mock.retrieve(tm_id, "processing")  # a lagging read replica, or a late processing delivery
    notify(tm_id, "processing")
    assert PaymentSession.objects.get(provider_session_id=tm_id).status == "paid"
    assert appointment_status(appointment) == "confirmed"


def test_truemed_rejected_lets_the_shopper_pay_by_card(
    api: APIClient, truemed_mock: TruemedMock, stripe_mock: StripeMock, hsa_checkout: Any
) -> None:
    appointment, _, tm_id = hsa_checkout()
    truemed_mock.retrieve(tm_id, "processing")
    notify(tm_id, "processing")
    truemed_mock.retrieve(tm_id, "rejected")
    notify(tm_id, "rejected")
    assert appointment_status(appointment) == "pending_payment"
    stripe_mock.answer_create()
    assert started(api, appointment, "stripe")["status"] == "open"


def test_truemed_refetch_failure_asks_for_a_retry(truemed_mock: TruemedMock, hsa_checkout: Any) -> None:
    appointment, _, tm_id = hsa_checkout()
    truemed_mock.session_route(tm_id).mock(
        side_effect=[
            httpx.ConnectError("down"),
            httpx.Response(200, json=truemed_mock.session_body(tm_id, "captured")),
        ]
    )
    first = notify(tm_id, "captured")
    assert first.status_code == 503
    assert WebhookEvent.objects.get().outcome == WebhookOutcome.FAILED
    second = notify(tm_id, "captured")
    assert second.status_code == 204
    assert appointment_status(appointment) == "confirmed"
    assert WebhookEvent.objects.get().deliveries == 2


def test_truemed_unknown_session_and_malformed(book: Any) -> None:
    assert notify("nope", "captured").status_code == 204
    assert WebhookEvent.objects.get().outcome == WebhookOutcome.UNKNOWN_SESSION
    bad = send_truemed_webhook(Client(), b"{not json", **TRUEMED_LEGACY_AUTH)
    assert bad.status_code == 400
    # Authentic but naming no session (or no usable id): acknowledged and recorded, never refused (a
    # refused delivery is retried for days), and nothing is fetched.
    for body in ({"status": "captured"}, {"payment_id": "/payments/v1/anything?q=1", "status": "captured"}):
        assert send_truemed_webhook(Client(), body, **TRUEMED_LEGACY_AUTH).status_code == 204
    assert WebhookEvent.objects.filter(outcome=WebhookOutcome.IGNORED).count() == 2


def test_truemed_signed_mode(truemed_mock: TruemedMock, settings: Any, hsa_checkout: Any) -> None:
    settings.TRUEMED_WEBHOOK_MODE = "signed"
    appointment, _, tm_id = hsa_checkout()
    truemed_mock.retrieve(tm_id, "captured")
    body = json.dumps(
        {
            "webhook_delivery_id": "wd_1",
            "event_type": "payment_session_complete",
            "data": truemed_legacy_body(tm_id, "captured"),
        }
    ).encode()
    # The legacy header alone is not enough in signed mode.
    assert send_truemed_webhook(Client(), body, **TRUEMED_LEGACY_AUTH).status_code == 401
    stale = timestamped_hmac_header(body, TRUEMED_WHSEC, timestamp=int(time.time()) - 3600)
    assert send_truemed_webhook(Client(), body, **{"x-truemed-signature": stale}).status_code == 401
    forged = timestamped_hmac_header(body, "wrong")
    assert send_truemed_webhook(Client(), body, **{"x-truemed-signature": forged}).status_code == 401
    assert appointment_status(appointment) == "pending_payment"
    for _ in range(3):
        signature = timestamped_hmac_header(body, TRUEMED_WHSEC)
        ok = send_truemed_webhook(Client(), body, **{"x-truemed-signature": signature})
        assert ok.status_code == 204
    assert appointment_status(appointment) == "confirmed"
    event = WebhookEvent.objects.get(dedupe_key="wd_1")
    assert event.deliveries == 3


@pytest.mark.parametrize(
    "reported",
    [
        {"capture_amount": None},
        {"capture_amount": 0},
        {"capture_amount": "15000"},
        {"capture_amount": 15000.0},
        {"total_amount": 100, "capture_amount": 100},
        {"total_amount": 15000, "capture_amount": 100},
    ],
    ids=["capture-missing", "capture-zero", "capture-string", "capture-float", "amount-differs", "partial"],
)
def test_truemed_captured_without_our_exact_amount_is_flagged_not_confirmed(
    truemed_mock: TruemedMock, reported: dict[str, Any], hsa_checkout: Any
) -> None:
    appointment, session, tm_id = hsa_checkout()
    body = truemed_mock.session_body(tm_id, "captured") | reported
    body = {k: v for k, v in body.items() if v is not None}
    truemed_mock.session_route(tm_id).mock(return_value=httpx.Response(200, json=body))
    response = notify(tm_id, "captured")
    assert response.status_code == 204
    stored = PaymentSession.objects.get(pk=session["id"])
    assert stored.amount_mismatch
    # Money of unknown value: terminal, not live (a new attempt may start), refunded by cancel/reconcile.
    assert stored.status == "paid_unverified"
    assert appointment_status(appointment) == "pending_payment"
    assert "Refund owed" in Appointment.objects.get(pk=appointment["id"]).attention


def test_truemed_full_capture_confirms(truemed_mock: TruemedMock, hsa_checkout: Any) -> None:
    appointment, _, tm_id = hsa_checkout()
    truemed_mock.retrieve(tm_id, "captured")
    notify(tm_id, "captured")
    assert appointment_status(appointment) == "confirmed"
