"""Logs are JSON lines that join up by request, appointment and payment session, and never carry what could
leak: the patient's email and name, API keys, webhook secrets (Truemed's legacy header carries one on every
delivery), Stripe signatures, Django's SECRET_KEY. Checked over a whole booking + payment + webhook + refund
flow, with every value proven to have passed through the system, at DEBUG level."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest
from django.conf import settings
from django.test import Client
from pythonjsonlogger.json import JsonFormatter
from rest_framework.test import APIClient

from sofia_checkout.core.logging import RequestIdFilter
from testing.flows import send_stripe_webhook, send_truemed_webhook, started
from testing.provider_mocks import (
    STRIPE_SECRET_KEY,
    STRIPE_WHSEC,
    TRUEMED_KEY,
    TRUEMED_LEGACY_AUTH,
    TRUEMED_WHSEC,
    StripeMock,
    TruemedMock,
    stripe_event,
    stripe_paid_session,
    stripe_refund,
    stripe_signature,
    truemed_legacy_body,
)

pytestmark = pytest.mark.django_db

EMAIL = "Jane.Doe@Example.com"
NAME = "Jane Doe"


def json_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Every captured record as the production formatter writes it (extra fields included)."""
    formatter = JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s")
    return [formatter.format(record) for record in caplog.records]


def test_a_whole_flow_logs_ids_and_nothing_that_could_leak(
    api: APIClient,
    book: Any,
    stripe_mock: StripeMock,
    truemed_mock: TruemedMock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.handler.addFilter(RequestIdFilter())

    # Card: book, start paying (with a request id), paid by webhook, then cancelled and refunded.
    card_appointment = book(client_email=EMAIL, client_name=NAME)
    stripe_mock.answer_create()
    card = api.post(
        f"/api/appointments/{card_appointment['id']}/payment-sessions/",
        {"provider": "stripe"},
        format="json",
        HTTP_X_REQUEST_ID="req-test-123456",
    ).json()
    create = stripe_mock.create.calls.last.request
    assert create.headers["X-Request-ID"] == "req-test-123456"
    assert create.headers["Authorization"] == f"Bearer {STRIPE_SECRET_KEY}"  # the key was really used
    assert EMAIL.lower() in httpx.QueryParams(create.content.decode())["customer_email"].lower()
    paid = stripe_event("checkout.session.completed", stripe_paid_session(card))
    signature = stripe_signature(paid)
    assert send_stripe_webhook(Client(), paid, signature).status_code == 200
    forged = stripe_signature(paid, secret="whsec_wrong")
    assert send_stripe_webhook(Client(), paid + b" ", forged).status_code == 400
    stripe_mock.refunds(httpx.Response(200, json=stripe_refund("re_log", payment_intent="pi_123")))
    assert api.post(f"/api/appointments/{card_appointment['id']}/cancel/").json()["status"] == "cancelled"

    # HSA/FSA: book, start paying, Truemed's webhook (its header is the shared secret), one with a bad key.
    hsa_appointment = book(client_email=EMAIL, client_name=NAME)
    tm_id = truemed_mock.answer_create()
    started(api, hsa_appointment, "truemed")
    truemed_create = json.loads(truemed_mock.create.calls.last.request.content)
    assert (truemed_create["customer_email"], truemed_create["customer_name"]) == (EMAIL.lower(), NAME)
    assert truemed_mock.create.calls.last.request.headers["x-truemed-api-key"] == TRUEMED_KEY
    truemed_mock.retrieve(tm_id, "captured")
    body = truemed_legacy_body(tm_id, "captured")
    assert send_truemed_webhook(Client(), body, **TRUEMED_LEGACY_AUTH).status_code == 204
    assert (
        send_truemed_webhook(Client(), body | {"n": 1}, **{"x-truemed-api-key": "guess"}).status_code == 401
    )

    for call in [*stripe_mock.router.calls, *truemed_mock.router.calls]:
        sent = str(call.request.url) + call.request.content.decode()
        for appointment in (card_appointment, hsa_appointment):
            assert appointment["access_token"] not in sent  # no provider ever sees a token

    lines = json_lines(caplog)
    text = "\n".join(lines)
    leakable = {
        "patient email": EMAIL.lower(),
        "patient email (local part)": "jane.doe",
        "patient name": NAME.lower(),
        "Stripe secret key": STRIPE_SECRET_KEY.lower(),
        "Stripe webhook secret": STRIPE_WHSEC.lower(),
        "Stripe signature": signature.split("v1=")[1],
        "forged Stripe signature": forged.split("v1=")[1],
        "Truemed API key": TRUEMED_KEY.lower(),
        "Truemed webhook secret": TRUEMED_WHSEC.lower(),
        "Django SECRET_KEY": settings.SECRET_KEY.lower(),
        "card appointment's access token": card_appointment["access_token"].lower(),
        "HSA/FSA appointment's access token": hsa_appointment["access_token"].lower(),
    }
    found = {what for what, value in leakable.items() if value in text.lower()}
    assert not found, f"leaked into the logs: {sorted(found)}"

    # The capture is not vacuous: every step logged, and the lines join up by id.
    messages = [json.loads(line)["message"] for line in lines]
    for expected in (
        "payment session created",
        "payment status changed",
        "webhook rejected: authentication failed",
        "refund recorded",
        "appointment cancelled",
    ):
        assert expected in messages, messages
    card_lines = [json.loads(line) for line in lines if card["id"] in line]
    assert card_lines
    for line in card_lines:
        if "payment_session_id" in line and "appointment_id" in line:
            assert line["appointment_id"] == card_appointment["id"]
    created = next(
        json.loads(line) for line in lines if json.loads(line)["message"] == "payment session created"
    )
    assert (created["request_id"], created["payment_session_id"]) == ("req-test-123456", card["id"])
