"""Webhook intake for both providers: unreadable or hostile bodies are refused and stored, never a 500; a
second payment is flagged; nothing of a webhook leaks into the public API (respx-mocked providers)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from sofia_checkout.appointments.models import Appointment
from sofia_checkout.payments.models import PaymentSession, WebhookEvent
from sofia_checkout.payments.tests.helpers import appointment_status
from testing.flows import send_stripe_webhook, send_truemed_webhook, started
from testing.provider_mocks import (
    TRUEMED_LEGACY_AUTH,
    StripeMock,
    TruemedMock,
    stripe_event,
    stripe_paid_session,
    truemed_legacy_body,
)

pytestmark = pytest.mark.django_db


def test_webhooks_are_not_in_the_public_api_output(api: APIClient, card_checkout: Any) -> None:
    appointment, session = card_checkout()
    send_stripe_webhook(Client(), stripe_event("checkout.session.completed", stripe_paid_session(session)))
    detail = json.dumps(api.get(f"/api/appointments/{appointment['id']}/").json())
    assert "pi_123" not in detail
    assert "evt_" not in detail
    assert "idempotency" not in detail


def test_nul_bytes_and_invalid_utf8_are_stored_not_crashing() -> None:
    # PostgreSQL text cannot hold NUL: schemathesis found this as a 500 there.
    body = b'\x00{"id": "evt_\x00", \xff\xfe}'
    assert send_stripe_webhook(Client(), body, "garbage").status_code == 400
    assert send_truemed_webhook(Client(), body, **{"x-truemed-api-key": "wrong"}).status_code == 401
    payloads = list(WebhookEvent.objects.values_list("payload", flat=True))
    assert len(payloads) == 2
    assert all("\x00" not in p and p.startswith("\ufffd{") for p in payloads)


def test_a_second_payment_for_a_confirmed_appointment_is_flagged(
    api: APIClient, book: Any, stripe_mock: StripeMock, truemed_mock: TruemedMock
) -> None:
    appointment = book()
    tm_id = truemed_mock.answer_create()
    truemed = started(api, appointment, "truemed")
    PaymentSession.objects.filter(pk=truemed["id"]).update(status="failed")  # e.g. believed rejected
    stripe_mock.answer_create()
    card = started(api, appointment, "stripe")
    send_stripe_webhook(Client(), stripe_event("checkout.session.completed", stripe_paid_session(card)))
    assert appointment_status(appointment) == "confirmed"
    # Truemed, asked again, says it captured the money after all: money outranks, and someone must refund.
    truemed_mock.retrieve(tm_id, "captured")
    send_truemed_webhook(Client(), truemed_legacy_body(tm_id, "captured"), **TRUEMED_LEGACY_AUTH)
    assert PaymentSession.objects.get(pk=truemed["id"]).status == "paid"
    assert "Paid twice" in Appointment.objects.get(pk=appointment["id"]).attention


@pytest.mark.parametrize(
    "body",
    [b"[" * 30_000 + b"]" * 30_000, b"[1, 2]", b'"text"', b"not json"],
    ids=["deep", "list", "str", "text"],
)
def test_authenticated_but_unreadable_webhooks_are_400_not_500(body: bytes) -> None:
    stripe = send_stripe_webhook(Client(), body)  # correctly signed
    assert stripe.status_code == 400
    truemed = send_truemed_webhook(Client(), body, **TRUEMED_LEGACY_AUTH)
    assert truemed.status_code == 400
    assert stripe.json()["code"] == truemed.json()["code"] == "malformed_request"
