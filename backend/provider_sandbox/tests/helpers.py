"""What the sandbox tests share: credentials, request bodies, the webhook receiver and the in-process sandbox.

Fixtures that build these live in conftest.py; tests import the helpers from here.
"""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

from starlette.exceptions import StarletteDeprecationWarning
from starlette.requests import Request
from starlette.responses import Response
from stripe._encode import _api_encode

from provider_sandbox.config import SandboxConfig
from provider_sandbox.store import SandboxState
from provider_sandbox.stripe.models import StripeStore, stripe_store
from provider_sandbox.truemed.models import TruemedStore, truemed_store

# Starlette 1.x wants the `httpx2` package for its TestClient and warns (an error under the project's
# filterwarnings=error) when it falls back to httpx, which works the same. httpx2 is not installed here.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

STRIPE_KEY = "sk_test_sandbox_tests"
STRIPE_AUTH = {"Authorization": f"Bearer {STRIPE_KEY}"}
TRUEMED_KEY = "tm_key_for_tests"
TRUEMED_AUTH = {"x-truemed-api-key": TRUEMED_KEY}
STRIPE_WHSEC = "whsec_tests_secret"
TRUEMED_WHSEC = "tm_whsec_tests"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A throwaway backend: records every webhook and answers with scripted status codes."""

    url: str = ""
    requests: list[Received] = field(default_factory=list)
    scripted: dict[str, list[int]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, path: str, *codes: int) -> None:
        """The next answers for `path` (then the default: 200 for Stripe, 204 for Truemed)."""
        with self.lock:
            self.scripted[path] = list(codes)

    def on(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.path == path]

    def clear(self) -> None:
        with self.lock:
            self.requests.clear()
            self.scripted.clear()

    async def endpoint(self, request: Request) -> Response:
        body = await request.body()
        path = request.url.path
        with self.lock:
            self.requests.append(Received(path, dict(request.headers), body))
            codes = self.scripted.get(path) or []
            code = codes.pop(0) if codes else (204 if path == "/truemed" else 200)
        return Response(status_code=code)


def sandbox_config(receiver_url: str, **overrides: Any) -> SandboxConfig:
    base = SandboxConfig(
        public_url="http://sandbox.test",
        stripe_webhook_url=f"{receiver_url}/stripe",
        truemed_webhook_url=f"{receiver_url}/truemed",
        stripe_webhook_secret=STRIPE_WHSEC,
        truemed_api_key=TRUEMED_KEY,
        truemed_webhook_secret=TRUEMED_WHSEC,
        truemed_capture_delay_seconds=0.05,
        webhook_max_attempts=3,
        webhook_backoff_seconds=(0.01, 0.02),
        expiry_sweep_seconds=0.05,
    )
    return replace(base, **overrides)


@dataclass
class Sandbox:
    client: TestClient
    state: SandboxState
    receiver: Receiver

    @property
    def stripe(self) -> StripeStore:
        """What the emulated Stripe account holds (sessions, payment intents, refunds)."""
        return stripe_store(self.state)

    @property
    def truemed(self) -> TruemedStore:
        """What the emulated Truemed account holds (payment sessions)."""
        return truemed_store(self.state)

    def stripe_create(self, headers: dict[str, str] | None = None, **overrides: Any) -> Any:
        return self.client.post(
            "/stripe/v1/checkout/sessions",
            content=stripe_form(stripe_params(**overrides)),
            headers={**STRIPE_AUTH, "Content-Type": "application/x-www-form-urlencoded", **(headers or {})},
        )

    def stripe_session(self, **overrides: Any) -> dict[str, Any]:
        response = self.stripe_create(**overrides)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def truemed_create(self, body: dict[str, Any] | None = None, **overrides: Any) -> Any:
        return self.client.post(
            "/truemed/payments/v1/create_payment_session",
            json=body if body is not None else truemed_body(**overrides),
            headers=TRUEMED_AUTH,
        )

    def truemed_session(self, **overrides: Any) -> dict[str, Any]:
        response = self.truemed_create(**overrides)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.client.request(method, f"/_sandbox{path}", **kwargs)
        assert response.status_code < 300, (path, response.status_code, response.text)
        return response.json()


SandboxFactory = Callable[..., Sandbox]


def stripe_params(**overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": "usd",
                    "unit_amount": 15000,
                    "product_data": {"name": "Initial consultation (60 min) with Dr. Ana Reyes"},
                },
            }
        ],
        "success_url": "http://127.0.0.1:5173/checkout/return?x=1&session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://127.0.0.1:5173/checkout/cancelled?x=1",
        "client_reference_id": "ps-123",
        "customer_email": "jane@example.com",
        "metadata": {"appointment_id": "appt-1", "payment_session_id": "ps-123"},
        "expires_at": int(time.time()) + 3600,
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def stripe_form(params: dict[str, Any]) -> str:
    """Encode exactly as the stripe SDK does (its own encoder)."""
    return urlencode(list(_api_encode(params)))


def truemed_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "total_amount": 15000,
        "order_items": [
            {"sku": "initial_consultation", "name": "Initial consultation", "price": 15000, "quantity": 1}
        ],
        "amount_details": {"total_additional_charges": 0, "total_discounts": 0},
        "success_url": "http://127.0.0.1:5173/checkout/return?truemed_session_id={{payment_session_id}}",
        "failure_url": "http://127.0.0.1:5173/checkout/cancelled?x=1",
        "idempotency_key": f"key-{time.monotonic_ns()}",
        "customer_email": "jane@example.com",
        "customer_name": "Jane Doe",
        "customer_state": "CA",
        "metadata": '{"payment_session_id":"ps-1"}',
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}
