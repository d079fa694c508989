"""Fault injection for the provider API routes only (not hosted pages, not /_sandbox).

- latency: every provider call waits `latency_ms` first.
- error: a share of calls answers 500 in the provider's error shape WITHOUT doing anything (provider down).
- timeout: a share of calls IS processed, but the answer is held back for `timeout_seconds` (far past any
  client timeout): the client sees a timeout although the session may exist. That is the case idempotency
  keys exist for; a retry with the same key must not create a second session.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from provider_sandbox.store import SandboxState
from provider_sandbox.stripe_api import stripe_error_body
from provider_sandbox.truemed_api import truemed_error_body

logger = logging.getLogger(__name__)

_RANDOM = secrets.SystemRandom()
STRIPE_API_PREFIX = "/stripe/v1/"
TRUEMED_API_PREFIX = "/truemed/payments/"


def _provider(path: str) -> str | None:
    if path.startswith(STRIPE_API_PREFIX):
        return "stripe"
    if path.startswith(TRUEMED_API_PREFIX):
        return "truemed"
    return None


class FaultInjection:
    def __init__(self, app: ASGIApp, state: SandboxState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        provider = _provider(scope.get("path", "")) if scope["type"] == "http" else None
        if provider is None:
            await self.app(scope, receive, send)
            return
        faults = self.state.faults
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        if faults.error_rate and _RANDOM.random() < faults.error_rate:
            logger.info("fault: 500 for %s %s", scope["method"], scope["path"])
            await self._server_error(provider, send)
            return
        if faults.timeout_rate and _RANDOM.random() < faults.timeout_rate:
            await self._late_answer(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _server_error(self, provider: str, send: Send) -> None:
        if provider == "stripe":
            body = stripe_error_body("An unknown error occurred (injected by the provider sandbox).")
        else:
            body = truemed_error_body(
                "ServerError", "Injected by the provider sandbox: retry with the same key"
            )
        payload = json.dumps(body).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 500,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    async def _late_answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await self.app(scope, receive, hold)
        seconds = self.state.faults.timeout_seconds
        logger.info("fault: holding the answer to %s %s for %.1fs", scope["method"], scope["path"], seconds)
        self.state.held_requests += 1
        try:
            # Released early by a reset or shutdown so nothing waits on an abandoned request.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.state.release_event().wait(), timeout=seconds)
        finally:
            self.state.held_requests -= 1
        with contextlib.suppress(OSError, RuntimeError):
            for message in held:
                await send(message)
