"""Shared fixtures: an API client, booking helpers, and respx-mocked providers on hosts no test can reach."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import respx
import stripe
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

STRIPE_BASE = "https://stripe.test"
TRUEMED_BASE = "https://truemed.test"
STRIPE_WHSEC = "whsec_test_fixture"
TRUEMED_WHSEC = "tm_whsec_fixture"
TRUEMED_KEY = "tm_key_fixture"


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture(autouse=True)
def _provider_settings(settings: Any) -> None:
    settings.STRIPE_API_BASE = STRIPE_BASE
    settings.STRIPE_SECRET_KEY = "sk_test_fixture"
    settings.STRIPE_WEBHOOK_SECRET = STRIPE_WHSEC
    settings.TRUEMED_API_BASE = TRUEMED_BASE
    settings.TRUEMED_API_KEY = TRUEMED_KEY
    settings.TRUEMED_WEBHOOK_SECRET = TRUEMED_WHSEC
    settings.TRUEMED_WEBHOOK_MODE = "legacy"
    settings.PROVIDER_MAX_RETRIES = 0


def slot(hours: int = 48, minute: int = 0) -> str:
    """A bookable time, ISO 8601 with offset, whole minutes."""
    when = (timezone.now() + timedelta(hours=hours)).replace(minute=minute, second=0, microsecond=0)
    return when.isoformat()


def booking(**overrides: Any) -> dict[str, Any]:
    body = {
        "practitioner": "Dr. Ana Reyes",
        "service": "initial_consultation",
        "appointment_time": slot(),
        "client_name": "Jane Doe",
        "client_email": "Jane.Doe@Example.com",
        "client_state": "CA",
    }
    body.update(overrides)
    return body


@pytest.fixture
def book(api: APIClient) -> Callable[..., dict[str, Any]]:
    counter = iter(range(1, 10_000))

    def _book(**overrides: Any) -> dict[str, Any]:
        overrides.setdefault("appointment_time", slot(hours=24 + next(counter)))
        response = api.post("/api/appointments/", booking(**overrides), format="json")
        assert response.status_code == 201, response.json()
        return dict(response.json())

    return _book


def stripe_session(
    *,
    session_id: str = "cs_test_fixture",
    status: str = "open",
    payment_status: str = "unpaid",
    amount_total: int = 15000,
    currency: str = "usd",
    client_reference_id: str | None = None,
    payment_intent: str | None = None,
) -> dict[str, Any]:
    return {
        "id": session_id,
        "object": "checkout.session",
        "status": status,
        "payment_status": payment_status,
        "amount_total": amount_total,
        "amount_subtotal": amount_total,
        "currency": currency,
        "client_reference_id": client_reference_id,
        "metadata": {},
        "url": f"https://checkout.stripe.test/pay/{session_id}" if status == "open" else None,
        "payment_intent": payment_intent,
        "expires_at": int(time.time()) + 3600,
        "livemode": False,
        "mode": "payment",
    }


class StripeMock:
    """respx routes for the Checkout endpoints, recording what the SDK sent."""

    def __init__(self, router: respx.MockRouter) -> None:
        self.router = router
        self.create = router.post(f"{STRIPE_BASE}/v1/checkout/sessions")
        self.sessions: dict[str, dict[str, Any]] = {}

    def answer_create(self, **session: Any) -> None:
        def handler(request: httpx.Request) -> httpx.Response:
            form = dict(httpx.QueryParams(request.content.decode()))
            body = stripe_session(
                client_reference_id=form.get("client_reference_id"),
                amount_total=int(form["line_items[0][price_data][unit_amount]"]),
                **session,
            )
            self.sessions[body["id"]] = body
            return httpx.Response(200, json=body)

        self.create.mock(side_effect=handler)

    def retrieve(self, session_id: str, **fields: Any) -> respx.Route:
        return self.router.get(f"{STRIPE_BASE}/v1/checkout/sessions/{session_id}").mock(
            return_value=httpx.Response(200, json=stripe_session(session_id=session_id, **fields))
        )


@pytest.fixture
def stripe_mock() -> Iterator[StripeMock]:
    with respx.mock(assert_all_called=False) as router:
        yield StripeMock(router)


class TruemedMock:
    def __init__(self, router: respx.MockRouter) -> None:
        self.router = router
        self.create = router.post(f"{TRUEMED_BASE}/payments/v1/create_payment_session")

    def answer_create(self, session_id: str | None = None) -> str:
        session_id = session_id or str(uuid.uuid4())
        self.create.mock(
            return_value=httpx.Response(
                200, json={"id": session_id, "redirect_url": f"https://truemed.test/pay/{session_id}"}
            )
        )
        return session_id

    def retrieve(self, session_id: str, status: str, total_amount: int = 15000) -> respx.Route:
        return self.router.get(f"{TRUEMED_BASE}/payments/v1/payment_session/{session_id}").mock(
            return_value=httpx.Response(
                200, json={"id": session_id, "status": status, "total_amount": total_amount, "metadata": ""}
            )
        )


@pytest.fixture
def truemed_mock() -> Iterator[TruemedMock]:
    with respx.mock(assert_all_called=False) as router:
        yield TruemedMock(router)


def stripe_event(event_type: str, session: dict[str, Any], event_id: str | None = None) -> bytes:
    return json.dumps(
        {
            "id": event_id or f"evt_{uuid.uuid4().hex[:24]}",
            "object": "event",
            "api_version": "2026-10-28.endive",
            "created": int(time.time()),
            "data": {"object": session},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": event_type,
        }
    ).encode()


def stripe_signature(body: bytes, secret: str = STRIPE_WHSEC, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def truemed_signature(body: bytes, secret: str = TRUEMED_WHSEC, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


@pytest.fixture
def signed_stripe_header() -> Callable[[bytes], str]:
    # The SDK's own generator: our helper above must agree with it.
    def _sign(body: bytes) -> str:
        t = int(time.time())
        return f"t={t},v1={stripe.WebhookSignature._compute_signature(f'{t}.{body.decode()}', STRIPE_WHSEC)}"

    return _sign


__all__ = ["override_settings"]
