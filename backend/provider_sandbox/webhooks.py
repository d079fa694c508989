"""Webhook delivery (with bounded retries and a log of every attempt) and the shared signature grammar.

How each provider signs and what it accepts as delivered is the provider's own (`WebhookTarget`, built in
stripe/objects.py and truemed/objects.py); this module only sends. Each attempt is signed afresh with the
current time, as the providers do.
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

from provider_sandbox.events import WebhookEvent
from provider_sandbox.store import SandboxState

logger = logging.getLogger(__name__)

_BASE_HEADERS = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "provider-sandbox/1"}


def signature_header(body: bytes, secret: str, timestamp: int) -> str:
    """`t=<unix>,v1=<hex>`: HMAC-SHA256(secret, "{t}.{body}") as Stripe computes it
    (https://docs.stripe.com/webhooks#verify-manually); Truemed's signed mode is given the same grammar."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _backoff(state: SandboxState, attempt: int) -> float:
    delays = state.config.webhook_backoff_seconds
    return delays[min(attempt - 1, len(delays) - 1)]


async def deliver(state: SandboxState, event: WebhookEvent, *, replay: bool = False) -> dict[str, Any]:
    """Send one event until it is accepted or the attempts run out; return a summary for callers."""
    url = event.target.url
    attempts = state.config.webhook_max_attempts
    last_code: int | None = None
    delivered = False
    attempt = 0
    for attempt in range(1, attempts + 1):
        error: str | None = None
        try:
            headers = {**_BASE_HEADERS, **event.target.headers(event.body, state.now())}
            response = await state.http().post(url, content=event.body, headers=headers)
            last_code = response.status_code
            delivered = event.target.accepted(response.status_code)
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
