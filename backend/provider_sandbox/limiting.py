"""Request limits for the provider API routes (not hosted pages, not /_sandbox): 429 over the limit.

Runs before fault injection, as a provider's own front door would: a request is counted when it arrives,
before any injected latency. Which paths are a provider's API and how its 429 reads are passed in by app.py
(each provider package words its own refusal): this module knows no provider.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from provider_sandbox.rate_limits import endpoint_name, retry_after_seconds
from provider_sandbox.store import SandboxState

logger = logging.getLogger(__name__)

# (state, seconds until a retry would fit) -> the 429 body and its extra headers, in the provider's words.
Refusal = Callable[[SandboxState, int], tuple[dict[str, Any], dict[str, str]]]


@dataclass(frozen=True)
class LimitedApi:
    provider: str
    mount: str  # where the provider's routes are mounted ("/stripe"): endpoint names are relative to it
    prefix: str  # the paths that are its API ("/stripe/v1/")
    refusal: Refusal


class RateLimiting:
    def __init__(self, app: ASGIApp, state: SandboxState, apis: Sequence[LimitedApi]) -> None:
        self.app = app
        self.state = state
        self.apis = tuple(apis)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        api = next((api for api in self.apis if path.startswith(api.prefix)), None)
        if api is None:
            await self.app(scope, receive, send)
            return
        endpoint = endpoint_name(scope["method"], path[len(api.mount) :])
        wait = self.state.rate_limiter.admit(api.provider, endpoint, now=time.monotonic(), wall=time.time())
        if not wait:
            await self.app(scope, receive, send)
            return
        seconds = retry_after_seconds(wait)
        logger.info("rate limit: 429 for %s %s (fits again in %.2fs)", api.provider, endpoint, wait)
        body, headers = api.refusal(self.state, seconds)
        payload = json.dumps(body).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                    *((name.lower().encode(), value.encode()) for name, value in headers.items()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})
