"""A provider that fails, refuses or answers garbage when a session is created: 503 keeps the attempt for a
retry with the same key and parameters, a refusal (502) closes it (respx-mocked providers)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from rest_framework.test import APIClient

from sofia_checkout.appointments.models import Appointment, AppointmentStatus
from sofia_checkout.payments.models import PaymentSession
from sofia_checkout.payments.statuses import PaymentStatus
from testing.flows import start_payment
from testing.provider_mocks import StripeMock, TruemedMock

pytestmark = pytest.mark.django_db


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
    failed = start_payment(api, appointment["id"], "stripe")
    assert failed.status_code == status
    assert failed.json()["code"] == code
    assert failed.json()["message"]
    assert Appointment.objects.get(pk=appointment["id"]).status == AppointmentStatus.PENDING_PAYMENT
    stored = PaymentSession.objects.get(appointment_id=appointment["id"])
    assert stored.status == PaymentStatus.CREATING
    assert stored.provider_session_id is None

    stripe_mock.answer_create()
    retried = start_payment(api, appointment["id"], "stripe")
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
    refused = start_payment(api, appointment["id"], "stripe")
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
    retried = start_payment(api, appointment["id"], "stripe")
    assert retried.status_code == 201
    keys = [call.request.headers["Idempotency-Key"] for call in stripe_mock.create.calls]
    assert keys == [first.idempotency_key, f"sofia-{appointment['id']}-stripe-2"]


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
    response = start_payment(api, appointment["id"], "stripe")
    assert (response.status_code, response.json()["code"]) == (503, "provider_unavailable")
    stored = PaymentSession.objects.get(appointment_id=appointment["id"])
    assert (stored.status, stored.provider_session_id) == (PaymentStatus.CREATING, None)


def test_truemed_timeout_and_malformed_json(api: APIClient, book: Any, truemed_mock: TruemedMock) -> None:
    appointment = book()
    truemed_mock.create.mock(side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200, text="{")])
    assert start_payment(api, appointment["id"], "truemed").json()["code"] == "provider_unavailable"
    assert start_payment(api, appointment["id"], "truemed").json()["code"] == "provider_unavailable"
    truemed_mock.answer_create()
    assert start_payment(api, appointment["id"], "truemed").status_code == 201
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
    response = start_payment(api, appointment["id"], "truemed")
    assert (response.status_code, response.json()["code"]) == (503, "provider_unavailable")


def test_truemed_refusal_is_provider_error(api: APIClient, book: Any, truemed_mock: TruemedMock) -> None:
    appointment = book()
    truemed_mock.create.mock(
        return_value=httpx.Response(400, json={"error": "TotalAmountInvalid", "message": "x"})
    )
    response = start_payment(api, appointment["id"], "truemed")
    assert response.status_code == 502
    assert response.json()["code"] == "provider_error"
