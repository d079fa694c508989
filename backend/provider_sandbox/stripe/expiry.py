"""Stripe expires open sessions at `expires_at` by itself and announces it (`checkout.session.expired`).

The sandbox checks every second (the sweeper app.py starts) and on every access to a session.
"""

from __future__ import annotations

import asyncio
import logging

from provider_sandbox.events import WebhookEvent
from provider_sandbox.store import SandboxState
from provider_sandbox.stripe.models import stripe_store
from provider_sandbox.stripe.objects import mark_expired
from provider_sandbox.webhooks import deliver_later

logger = logging.getLogger(__name__)


def expire_due(state: SandboxState) -> list[WebhookEvent]:
    """Expire every open session whose time is up; return the events announcing it."""
    now = state.now()
    return [
        mark_expired(state, s)
        for s in stripe_store(state).sessions.values()
        if s.status == "open" and s.expires_at <= now
    ]


def expire_overdue(state: SandboxState) -> None:
    """Before a session is read or changed (under the lock): expire what is due, announce it later."""
    deliver_later(state, expire_due(state))


async def sweep_forever(state: SandboxState) -> None:
    """Expire due sessions every `expiry_sweep_seconds` until cancelled."""
    while True:
        await asyncio.sleep(state.config.expiry_sweep_seconds)
        try:
            async with state.lock:
                events = expire_due(state)
            deliver_later(state, events)
        except Exception:
            # One bad pass must not stop expiry for good: log it and sweep again next time.
            logger.exception("expiry sweep failed")
