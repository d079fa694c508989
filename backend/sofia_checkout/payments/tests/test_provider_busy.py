"""A busy provider (our limit reached, or its own 429): 503 provider_busy with Retry-After, nothing sent over
the limit, the stored attempt and its idempotency key reused on the retry; webhooks never wait for a turn."""

from __future__ import annotations

import logging
import time
from typing import Any

import httpx
import pytest
from django.test import Client
from rest_framework.test import APIClient

from sofia_checkout.core.errors import ProviderBusy, ProviderUnavailable, busy_instead
from sofia_checkout.payments.models import PaymentSession
from sofia_checkout.payments.providers.base import ProviderBusyError
from sofia_checkout.payments.tests.helpers import appointment_status
from testing.flows import send_truemed_webhook, start_payment
from testing.provider_mocks import (
    TRUEMED_LEGACY_AUTH,
    StripeMock,
    TruemedMock,
    stripe_session,
    truemed_legacy_body,
)

pytestmark = pytest.mark.django_db

CREATE = "POST /v1/checkout/sessions"


@pytest.fixture
def one_create_a_second(settings: Any) -> None:
    settings.PROVIDER_RATE_LIMITS = {
        "stripe": {"global_per_second": 0, "endpoint_per_second": 0, "endpoints": {CREATE: 1}},
        "truemed": {"global_per_second": 1, "endpoint_per_second": 0, "endpoints": {}},
    }
    settings.PROVIDER_RATE_LIMIT_SAFETY = 1.0
    settings.PROVIDER_RATE_LIMIT_WAIT_SECONDS = 0.0


def busy(response: Any) -> None:
    assert response.status_code == 503, response.json()
    assert response.json()["code"] == "provider_busy"
    assert int(response["Retry-After"]) >= 1


@pytest.mark.usefixtures("one_create_a_second")
def test_no_turn_answers_busy_and_the_retry_sends_the_stored_key_once(
    api: APIClient, book: Any, stripe_mock: StripeMock
) -> None:
    stripe_mock.answer_create(fresh_ids=True)
    first, second = book(), book()
    assert start_payment(api, first["id"], "stripe").status_code == 201
    refused = start_payment(api, second["id"], "stripe")
    busy(refused)
    assert stripe_mock.create.call_count == 1  # nothing was sent over the limit
    attempt = PaymentSession.objects.get(appointment_id=second["id"])
    assert attempt.status == "creating"

    time.sleep(int(refused["Retry-After"]))
    retried = start_payment(api, second["id"], "stripe")
    assert retried.status_code == 201, retried.json()
    assert stripe_mock.create.call_count == 2
    assert stripe_mock.create.calls.last.request.headers["Idempotency-Key"] == attempt.idempotency_key
    assert PaymentSession.objects.filter(appointment_id=second["id"]).count() == 1
    assert retried.json()["id"] == str(attempt.id)


@pytest.mark.usefixtures("one_create_a_second")
def test_sync_when_busy_leaves_the_session_as_it_was(
    api: APIClient, card_checkout: Any, stripe_mock: StripeMock, settings: Any
) -> None:
    _, session = card_checkout()
    settings.PROVIDER_RATE_LIMITS["stripe"]["global_per_second"] = 1
    route = stripe_mock.retrieve(session["provider_session_id"], status="complete", payment_status="paid")
    assert api.post(f"/api/payment-sessions/{session['id']}/sync/").status_code == 200
    refused = api.post(f"/api/payment-sessions/{session['id']}/sync/")
    busy(refused)
    assert route.call_count == 1


def test_a_provider_429_is_retried_with_the_same_key_within_the_budget(
    api: APIClient, book: Any, stripe_mock: StripeMock, settings: Any
) -> None:
    settings.PROVIDER_BUSY_RETRY_SECONDS = 2.0
    appointment = book()
    limited = httpx.Response(429, json={"error": {"type": "invalid_request_error", "code": "rate_limit"}})
    stripe_mock.create.mock(side_effect=[limited, httpx.Response(200, json=stripe_session())])
    response = start_payment(api, appointment["id"], "stripe")
    assert response.status_code == 201, response.json()
    keys = {call.request.headers["Idempotency-Key"] for call in stripe_mock.create.calls}
    assert stripe_mock.create.call_count == 2
    assert len(keys) == 1


def test_a_provider_429_that_persists_is_busy_and_logged_with_its_request_id(
    api: APIClient, book: Any, stripe_mock: StripeMock, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.PROVIDER_BUSY_RETRY_SECONDS = 0.3
    appointment = book()
    stripe_mock.create.mock(
        return_value=httpx.Response(
            429,
            json={"error": {"type": "invalid_request_error", "code": "rate_limit", "message": "slow down"}},
            headers={"Request-Id": "req_limited123"},
        )
    )
    with caplog.at_level(logging.WARNING):
        busy(start_payment(api, appointment["id"], "stripe"))
    assert any(getattr(r, "provider_request_id", "") == "req_limited123" for r in caplog.records)
    assert PaymentSession.objects.get(appointment_id=appointment["id"]).status == "creating"


def test_truemed_retry_after_is_honoured_or_passed_on(
    api: APIClient, book: Any, truemed_mock: TruemedMock, settings: Any
) -> None:
    settings.PROVIDER_BUSY_RETRY_SECONDS = 1.0
    limited = {"error": "RateLimited", "message": "later"}
    truemed_mock.create.mock(
        side_effect=[
            httpx.Response(429, json=limited, headers={"Retry-After": "0"}),
            httpx.Response(
                200, json={"id": "8c1d6f2e-0b7a-4c65-9d1e-3f5a7b9c0d2e", "redirect_url": "https://t/p"}
            ),
        ]
    )
    assert start_payment(api, book()["id"], "truemed").status_code == 201
    truemed_mock.create.mock(return_value=httpx.Response(429, json=limited, headers={"Retry-After": "7"}))
    refused = start_payment(api, book()["id"], "truemed")
    busy(refused)
    assert refused["Retry-After"] == "7"  # longer than our budget: the shopper hears the provider's wait


@pytest.mark.usefixtures("one_create_a_second")
def test_webhook_intake_never_waits_for_a_turn(
    hsa_checkout: Any, truemed_mock: TruemedMock, csrf_client: Client
) -> None:
    appointment, _, tm_id = hsa_checkout()  # took Truemed's one turn this second
    route = truemed_mock.retrieve(tm_id, "captured")
    for n in range(3):
        body = truemed_legacy_body(tm_id, "captured") | {"n": n}
        assert send_truemed_webhook(csrf_client, body, **TRUEMED_LEGACY_AUTH).status_code == 204
    assert route.call_count == 3
    assert appointment_status(appointment) == "confirmed"


def test_the_envelope_says_busy_only_when_the_cause_says_when_to_retry() -> None:
    unavailable = ProviderUnavailable()
    unavailable.__cause__ = ProviderBusyError("full", retry_after=4)  # as `raise ... from` sets it
    answered = busy_instead(unavailable)
    assert isinstance(answered, ProviderBusy)
    assert answered.retry_after == 4
    plain = ProviderUnavailable()
    assert busy_instead(plain) is plain
