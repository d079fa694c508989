from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from django.test import Client
from pythonjsonlogger.json import JsonFormatter
from rest_framework.test import APIClient

from sofia_checkout.core.logging import RequestIdFilter
from testing.flows import send_stripe_webhook
from testing.provider_mocks import (
    STRIPE_SECRET_KEY,
    STRIPE_WHSEC,
    TRUEMED_KEY,
    TRUEMED_WHSEC,
    StripeMock,
    stripe_event,
    stripe_session,
)

pytestmark = pytest.mark.django_db


def test_payment_logs_carry_ids_and_no_secrets(
    api: APIClient, book: Any, stripe_mock: StripeMock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    caplog.handler.addFilter(RequestIdFilter())
    appointment = book()
    stripe_mock.answer_create()
    session = api.post(
        f"/api/appointments/{appointment['id']}/payment-sessions/",
        {"provider": "stripe"},
        format="json",
        HTTP_X_REQUEST_ID="req-test-123456",
    ).json()
    assert stripe_mock.create.calls.last.request.headers["X-Request-ID"] == "req-test-123456"
    paid = stripe_session(status="complete", payment_status="paid", client_reference_id=session["id"])
    body = stripe_event("checkout.session.completed", paid)
    send_stripe_webhook(Client(), body)

    formatter = JsonFormatter("%(levelname)s %(name)s %(message)s %(request_id)s")
    lines = [formatter.format(record) for record in caplog.records]
    text = "\n".join(lines)
    for secret in (STRIPE_SECRET_KEY, STRIPE_WHSEC, TRUEMED_KEY, TRUEMED_WHSEC, "4242"):
        assert secret not in text
    payment_lines = [json.loads(line) for line in lines if "payment" in json.loads(line)["message"]]
    assert payment_lines
    for line in payment_lines:
        assert line["appointment_id"] == appointment["id"]
        assert line["payment_session_id"] == session["id"]
    created = next(line for line in payment_lines if line["message"] == "payment session created")
    assert created["request_id"] == "req-test-123456"
