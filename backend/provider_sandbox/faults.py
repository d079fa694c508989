"""Fault injection for the provider API routes only (not hosted pages, not /_sandbox).

- latency: every provider call waits `latency_ms` first.
- error: a share of calls answers 500 in the provider's error shape WITHOUT doing anything (provider down).
- timeout: a share of calls IS processed, but the answer is held back for `timeout_seconds` (far past any
  client timeout): the client sees a timeout although the session may exist. That is the case idempotency
  keys exist for; a retry with the same key must not create a second session.

Which paths are a provider's API, and how its 500 body reads (it may depend on switched behaviours), are
passed in by app.py: this module knows no provider.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Callable, Mapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from provider_sandbox.store import SandboxState

logger = logging.getLogger(__name__)

_RANDOM = secrets.SystemRandom()


ErrorBody = Callable[[SandboxState], dict[str, Any]]


class FaultInjection:
    def __init__(self, app: ASGIApp, state: SandboxState, apis: Mapping[str, ErrorBody]) -> None:
        """`apis`: the path prefix of each provider API -> the body of its 500 answer (provider's shape)."""
        self.app = app
        self.state = state
        self.error_bodies = dict(apis)

    def _error_body(self, scope: Scope) -> bytes | None:
        """The 500 body if this is a call to a provider API (which faults apply to), else None."""
        if scope["type"] != "http":
            return None
        path = scope.get("path", "")
        body = next((body for prefix, body in self.error_bodies.items() if path.startswith(prefix)), None)
        return None if body is None else json.dumps(body(self.state)).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        error_body = self._error_body(scope)
        if error_body is None:
            await self.app(scope, receive, send)
            return
        faults = self.state.faults
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        if faults.error_rate and _RANDOM.random() < faults.error_rate:
            logger.info("fault: 500 for %s %s", scope["method"], scope["path"])
            await self._server_error(error_body, send)
            return
        if faults.timeout_rate and _RANDOM.random() < faults.timeout_rate:
            await self._late_answer(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _server_error(self, payload: bytes, send: Send) -> None:
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
