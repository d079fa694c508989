"""Webhook signing and delivery (with bounded retries and a log of every attempt).

Stripe: `Stripe-Signature: t=<unix>,v1=<hex>`, HMAC-SHA256 keyed with the whole `whsec_...` secret over
`"{t}.{body}"` (https://docs.stripe.com/webhooks#verify-manually); any 2xx counts as delivered.
Truemed legacy: `x-truemed-api-key: <secret>`; signed: `x-truemed-signature: t=<unix>,v1=<hex>` over the same
string (header grammar is our documented guess); only 204 counts as delivered (Truemed's documented answer).
Each attempt is signed afresh with the current time, as the providers do.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from collections.abc import Sequence
from typing import Any

import httpx

from provider_sandbox.store import SandboxState, WebhookEvent

logger = logging.getLogger(__name__)


def signature_header(body: bytes, secret: str, timestamp: int) -> str:
    """`t=<unix>,v1=<hex>`: HMAC-SHA256(secret, "{t}.{body}") as Stripe computes it."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _headers(state: SandboxState, event: WebhookEvent) -> dict[str, str]:
    config = state.config
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "provider-sandbox/1"}
    if event.provider == "stripe":
        headers["User-Agent"] = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
        headers["Stripe-Signature"] = signature_header(event.body, config.stripe_webhook_secret, state.now())
    elif config.truemed_webhook_mode == "signed":
        headers["x-truemed-signature"] = signature_header(
            event.body, config.truemed_webhook_secret, state.now()
        )
    else:
        headers["x-truemed-api-key"] = config.truemed_webhook_secret
    return headers


def _url(state: SandboxState, event: WebhookEvent) -> str:
    if event.provider == "stripe":
        return state.config.stripe_webhook_url
    return state.config.truemed_webhook_url


def _accepted(event: WebhookEvent, status_code: int) -> bool:
    if event.provider == "truemed":
        return status_code == 204
    return 200 <= status_code < 300


def _backoff(state: SandboxState, attempt: int) -> float:
    delays = state.config.webhook_backoff_seconds
    return delays[min(attempt - 1, len(delays) - 1)]


async def deliver(state: SandboxState, event: WebhookEvent, *, replay: bool = False) -> dict[str, Any]:
    """Send one event until it is accepted or the attempts run out; return a summary for callers."""
    url = _url(state, event)
    attempts = state.config.webhook_max_attempts
    last_code: int | None = None
    delivered = False
    attempt = 0
    for attempt in range(1, attempts + 1):
        error: str | None = None
        try:
            response = await state.http().post(url, content=event.body, headers=_headers(state, event))
            last_code = response.status_code
            delivered = _accepted(event, response.status_code)
        except httpx.HTTPError as exc:
            last_code, error = None, f"{type(exc).__name__}: {exc}"
        state.deliveries.append(
            {
                "provider": event.provider,
                "event_id": event.event_id,
                "event_type": event.event_type,
                "session_id": event.session_id,
                "status": event.status,
                "attempt": attempt,
                "status_code": last_code,
                "ok": delivered,
                "error": error,
                "replay": replay,
                "url": url,
                "at": state.now(),
                "body": json.loads(event.body),
            }
        )
        if delivered:
            logger.info("webhook %s %s delivered (attempt %d)", event.provider, event.event_id, attempt)
            break
        logger.warning(
            "webhook %s %s attempt %d/%d failed: %s",
            event.provider,
            event.event_id,
            attempt,
            attempts,
            error or f"HTTP {last_code}",
        )
        if attempt < attempts:
            await asyncio.sleep(_backoff(state, attempt))
    return {
        "provider": event.provider,
        "event_id": event.event_id,
        "event_type": event.event_type,
        "status": event.status,
        "delivered": delivered,
        "attempts": attempt,
        "status_code": last_code,
    }


async def deliver_all(state: SandboxState, events: Sequence[WebhookEvent]) -> list[dict[str, Any]]:
    """Deliver one after another: a later event is only sent once the earlier one is settled."""
    return [await deliver(state, event) for event in events]


def deliver_later(state: SandboxState, events: Sequence[WebhookEvent]) -> None:
    """Deliver in the background (the provider does not make the shopper or the API caller wait)."""
    if events:
        state.spawn(deliver_all(state, list(events)), name=f"webhooks-{events[0].event_id}")
