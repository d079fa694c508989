"""Steps through the public API that many tests take: start a payment session, deliver a webhook.

They speak HTTP only (Django's and DRF's test clients), never the product's modules.
"""

from __future__ import annotations

import json
from typing import Any

from django.test import Client
from rest_framework.test import APIClient

from testing.provider_mocks import stripe_signature


def start_payment(api: APIClient, appointment_id: str, provider: str) -> Any:
    """POST .../payment-sessions/ for `provider`; the response, whatever it is."""
    return api.post(
        f"/api/appointments/{appointment_id}/payment-sessions/", {"provider": provider}, format="json"
    )


def started(api: APIClient, appointment: dict[str, Any], provider: str) -> dict[str, Any]:
    """Start a payment session that must be created (201); its body."""
    response = start_payment(api, appointment["id"], provider)
    assert response.status_code == 201, response.json()  # noqa: S101 - a step of a test
    return dict(response.json())


def send_stripe_webhook(client: Client, body: bytes, signature: str | None = None) -> Any:
    """Deliver `body` to our Stripe webhook, signed with the test secret unless `signature` is given."""
    return client.post(
        "/api/webhooks/stripe/",
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=stripe_signature(body) if signature is None else signature,
    )


def send_truemed_webhook(client: Client, body: dict[str, Any] | bytes, **headers: str) -> Any:
    """Deliver `body` (an object is sent as JSON) to our Truemed webhook with these headers."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    meta = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}
    return client.post("/api/webhooks/truemed/", data=raw, content_type="application/json", **meta)
