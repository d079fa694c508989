"""In-memory state of the sandbox, shared by API routes, hosted pages and control routes.

All request handling runs on one asyncio loop: code between two awaits is atomic. `lock` still serialises
each request's read-check-write (idempotency lookup + create), so a future await inside a handler cannot
open a race; it is never held while webhooks are being delivered (the backend calls back into the sandbox
while it handles a webhook).

The state knows no provider: each provider package keeps its records in its own store class (a dataclass
with `clear()`), reached with `state.store(StripeStore)`. So nothing here imports stripe/ or truemed/, and
the two never reach each other through the state.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, cast

import httpx
from starlette.requests import Request

from provider_sandbox.config import SandboxConfig, Switches
from provider_sandbox.rate_limits import RateLimiter

logger = logging.getLogger(__name__)


class ProviderStore(Protocol):
    """One provider's records; made empty by a reset."""

    def clear(self) -> None: ...


Store = TypeVar("Store", bound=ProviderStore)


@dataclass
class Faults:
    latency_ms: int = 0
    error_rate: float = 0.0
    timeout_rate: float = 0.0
    timeout_seconds: float = 30.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "latency_ms": self.latency_ms,
            "error_rate": self.error_rate,
            "timeout_rate": self.timeout_rate,
            "timeout_seconds": self.timeout_seconds,
        }


def _faults_from(config: SandboxConfig) -> Faults:
    return Faults(
        latency_ms=config.latency_ms,
        error_rate=config.error_rate,
        timeout_rate=config.timeout_rate,
        timeout_seconds=config.timeout_seconds,
    )


@dataclass
class SandboxState:
    config: SandboxConfig
    clock: Callable[[], float] = time.time
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    faults: Faults = field(default_factory=Faults)
    # Provider behaviours switchable at runtime (POST /_sandbox/config); start as configured.
    switches: Switches = field(default_factory=Switches)
    # Provider sessions actually created per idempotency key, both providers (replays do not count).
    creates_per_idempotency_key: Counter[str] = field(default_factory=Counter)
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    background: set[asyncio.Task[Any]] = field(default_factory=set)
    held_requests: int = 0
    # Request limits in force and what was accepted/refused (rate_limits.py); set from config below.
    rate_limiter: RateLimiter = field(default_factory=lambda: RateLimiter({}))
    # Set on reset so that requests held back by an injected timeout are released at once.
    hang_release: asyncio.Event | None = None
    _http: httpx.AsyncClient | None = None
    _stores: dict[type[Any], ProviderStore] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.faults = _faults_from(self.config)
        self.switches = self.config.switches
        self.rate_limiter = RateLimiter(dict(self.config.rate_limits))

    def store(self, kind: type[Store]) -> Store:
        """The records of one provider (its store class), made on first use."""
        found = self._stores.get(kind)
        if found is None:
            found = self._stores[kind] = kind()
        return cast(Store, found)

    def now(self) -> int:
        return int(self.clock())

    def http(self) -> httpx.AsyncClient:
        """The client that sends webhooks (created on the running loop, closed at shutdown)."""
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=self.config.webhook_timeout_seconds)
        return self._http

    def release_event(self) -> asyncio.Event:
        if self.hang_release is None:
            self.hang_release = asyncio.Event()
        return self.hang_release

    def release_held(self) -> None:
        """Answer every request held back by an injected timeout now (reset, shutdown)."""
        if self.hang_release is not None:
            self.hang_release.set()
            self.hang_release = None

    def spawn(self, coro: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        """Run work after the response (webhooks, delayed capture); keep a reference so it is not lost."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self.background.add(task)
        task.add_done_callback(self._forget)
        return task

    def _forget(self, task: asyncio.Task[Any]) -> None:
        self.background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("background task %s failed", task.get_name(), exc_info=task.exception())

    async def settle(self, timeout: float) -> int:
        """Wait for background work (deliveries, delayed captures, what they spawn); return what is left."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            tasks = [t for t in self.background if t is not asyncio.current_task()]
            remaining = deadline - asyncio.get_running_loop().time()
            if not tasks or remaining <= 0:
                return len(tasks)
            await asyncio.wait(tasks, timeout=remaining)

    async def cancel_background(self) -> None:
        tasks = [t for t in self.background if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.background.difference_update(tasks)

    async def reset(self) -> None:
        """Forget every session, key, delivery and fault; stop pending captures and deliveries."""
        await self.cancel_background()
        self.release_held()
        # "Clears faults": back to none at all, whatever the start-up environment asked for. Switched
        # behaviours go back to how the sandbox started (they are not faults).
        self.faults = Faults(timeout_seconds=self.config.timeout_seconds)
        self.switches = self.config.switches
        for store in self._stores.values():
            store.clear()
        self.creates_per_idempotency_key.clear()
        self.deliveries.clear()
        self.rate_limiter = RateLimiter(dict(self.config.rate_limits))

    async def close(self) -> None:
        await self.cancel_background()
        if self._http is not None:
            await self._http.aclose()
            self._http = None


def state_of(request: Request) -> SandboxState:
    """The sandbox state of the app serving this request (every route reads it through here)."""
    state: SandboxState = request.app.state.sandbox
    return state
