"""Our side of the providers' request limits: every replica paces its calls through one shared schedule.

Each provider endpoint (and the provider as a whole) has a rate from settings, kept under the provider's
documented limit by PROVIDER_RATE_LIMIT_SAFETY. A call reserves the next free slot of both schedules
(GCRA, a token bucket with a burst of one: https://en.wikipedia.org/wiki/Generic_cell_rate_algorithm), so
in any one second at most rate x 1 s + 1 calls leave, whatever the number of processes, and a crowd is
served in arrival order, one slot after another:
- a shopper's call (create, sync, cancel) takes a slot up to PROVIDER_RATE_LIMIT_WAIT_SECONDS away and
  waits for it; a slot further away is refused at once as ProviderBusyError (503 provider_busy with
  Retry-After: when the queue ahead will have drained), so nothing is ever sent over the limit;
- background work (the reconcile job, refunds) only takes a slot nobody is queued for, polling for up to
  PROVIDER_RATE_LIMIT_BACKGROUND_WAIT_SECONDS: shoppers always go first;
- webhook intake never waits and is never refused (a provider's delivery must not fail on our limit), but
  its calls are counted, so shoppers behind it leave the room it used.

Where: Redis when the cache is Redis (one Lua script, atomic, on Redis's own clock, so replicas on several
machines agree); otherwise a schedule in this process, right only where there is one process.
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NoReturn, Protocol

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

from sofia_checkout.payments.providers.base import ProviderBusyError, RequestGate

logger = logging.getLogger(__name__)


class Priority(StrEnum):
    SHOPPER = "shopper"
    BACKGROUND = "background"
    WEBHOOK = "webhook"


_priority: ContextVar[Priority] = ContextVar("provider_call_priority", default=Priority.SHOPPER)


def current_priority() -> Priority:
    return _priority.get()


@contextlib.contextmanager
def provider_priority(priority: Priority) -> Iterator[None]:
    """Provider calls made inside this block take their slots as `priority` (the default: shopper)."""
    token = _priority.set(priority)
    try:
        yield
    finally:
        _priority.reset(token)


@dataclass(frozen=True)
class Schedule:
    key: str
    interval: float  # seconds between two calls


class SlotScheduler(Protocol):
    def reserve(self, schedules: Sequence[Schedule], *, max_wait: float, force: bool) -> tuple[bool, float]:
        """Reserve the earliest slot free in every schedule. (True, wait): reserved, send `wait` seconds
        after this returns.
        (False, wait): the slot is `wait` away, more than max_wait; nothing reserved. `force` always
        reserves."""
        ...


class LocalScheduler:
    """The schedule in this process's memory (one process only: each process would pace on its own)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._next: dict[str, float] = {}

    def reserve(self, schedules: Sequence[Schedule], *, max_wait: float, force: bool) -> tuple[bool, float]:
        with self._lock:
            now = self._clock()
            start = max([now, *(self._next.get(s.key, now) for s in schedules)])
            if start - now > max_wait and not force:
                return False, start - now
            for schedule in schedules:
                self._next[schedule.key] = start + schedule.interval
            return True, start - now


# KEYS: the schedules; ARGV[1]: max wait (microseconds), ARGV[2]: "1" to force, ARGV[2+i]: KEYS[i]'s
# interval (microseconds). Redis's clock (TIME), so every replica reads the same one. Numbers are written
# with %d: Lua's default number format would round microsecond timestamps.
_RESERVE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local start = now
for i, key in ipairs(KEYS) do
  local nxt = tonumber(redis.call('GET', key))
  if nxt and nxt > start then start = nxt end
end
local wait = start - now
if wait > tonumber(ARGV[1]) and ARGV[2] ~= '1' then
  return {0, wait, start}
end
for i, key in ipairs(KEYS) do
  local nxt = start + tonumber(ARGV[2 + i])
  redis.call('SET', key, string.format('%d', nxt), 'PX', math.floor((nxt - now) / 1000) + 1000)
end
return {1, wait, start}
"""
_MICRO = 1_000_000


class RedisClockOffset:
    """Redis's clock minus ours, so a slot on Redis's clock is met on ours, whatever each reply's delay.

    Each reply brings Redis's time when the script ran; read against our clock when the reply arrived, it
    is at most the true offset (the reply took some time). The largest reading of the last half minute is
    the best estimate (the fastest reply), as NTP takes its best sample; old readings expire so drift is
    followed."""

    KEEP_SECONDS = 30.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._readings: deque[tuple[float, float]] = deque()  # (our clock, reading), readings decreasing

    def add(self, redis_now: float, ours: float) -> float:
        """Record one reading; the estimate (seconds to add to our clock to read Redis's)."""
        reading = redis_now - ours
        with self._lock:
            while self._readings and self._readings[-1][1] <= reading:
                self._readings.pop()  # a newer, larger reading makes older smaller ones useless
            self._readings.append((ours, reading))
            while self._readings[0][0] < ours - self.KEEP_SECONDS:
                self._readings.popleft()
            return self._readings[0][1]


class RedisScheduler:
    """The schedule in Redis, shared by every process and replica that uses the same Redis. While Redis
    cannot be reached, each process paces on its own (logged): the provider's own limit and our 429
    handling still stand, and shoppers are not refused for an outage of ours."""

    def __init__(self, cache: RedisCache, clock: Callable[[], float] = time.monotonic) -> None:
        self._cache = cache
        self._clock = clock
        self._offset = RedisClockOffset()
        self._fallback = LocalScheduler(clock)
        # The first server takes every write (Django's RedisCache), so all keys of a script live together.
        # Django exposes no public handle on the client: its RedisCacheClient is `_cache`.
        client = cache._cache.get_client(write=True)  # type: ignore[attr-defined]
        self._script = client.register_script(_RESERVE_LUA)

    def reserve_slot(
        self, schedules: Sequence[Schedule], *, max_wait: float, force: bool
    ) -> tuple[int, int, int]:
        """(granted 1/0, wait, the slot's start on Redis's clock), both in microseconds."""
        keys = [self._cache.make_and_validate_key(s.key) for s in schedules]
        args: list[Any] = [int(max_wait * _MICRO), "1" if force else "0"]
        args += [max(1, int(s.interval * _MICRO)) for s in schedules]
        granted, wait, start = self._script(keys=keys, args=args)
        return int(granted), int(wait), int(start)

    def reserve(self, schedules: Sequence[Schedule], *, max_wait: float, force: bool) -> tuple[bool, float]:
        try:
            granted, wait, start = self.reserve_slot(schedules, max_wait=max_wait, force=force)
        except RedisError as exc:
            logger.error(
                "provider rate limit: Redis unreachable, pacing in this process", extra={"error": str(exc)}
            )
            return self._fallback.reserve(schedules, max_wait=max_wait, force=force)
        answered = self._clock()
        offset = self._offset.add((start - wait) / _MICRO, answered)
        # The wait counted from now on our clock: a reply that took longer than the fastest one leaves
        # less of it (aiming at `wait` after the reply would send late, before the reply early).
        return bool(granted), max(0.0, start / _MICRO - offset - answered)


def scheduler_from_settings() -> SlotScheduler:
    cache = caches[settings.PROVIDER_RATE_LIMIT_CACHE]
    if isinstance(cache, RedisCache):
        return RedisScheduler(cache)
    return LocalScheduler()


def _schedules(provider: str, endpoint: str) -> list[Schedule]:
    """The provider-wide schedule and the endpoint's, each at the provider's limit x the safety margin."""
    limits: dict[str, Any] = settings.PROVIDER_RATE_LIMITS.get(provider, {})
    safety = settings.PROVIDER_RATE_LIMIT_SAFETY
    rates = {
        f"provider-rate:{provider}": limits.get("global_per_second", 0),
        f"provider-rate:{provider}:{endpoint}": limits.get("endpoints", {}).get(
            endpoint, limits.get("endpoint_per_second", 0)
        ),
    }
    return [Schedule(key, 1 / (rate * safety)) for key, rate in rates.items() if rate]


@dataclass
class ProviderGate:
    """The request gate the registry gives an adapter (payments/providers/base.py: RequestGate)."""

    provider: str
    scheduler: SlotScheduler
    shopper_wait: float
    background_wait: float
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    def __call__(self, endpoint: str) -> None:
        schedules = _schedules(self.provider, endpoint)
        if not schedules:
            return
        priority = _priority.get()
        if priority == Priority.WEBHOOK:
            self.scheduler.reserve(schedules, max_wait=0, force=True)
            return
        deadline = self.clock() + (
            self.shopper_wait if priority == Priority.SHOPPER else self.background_wait
        )
        while True:
            if priority == Priority.SHOPPER:
                granted, wait = self.scheduler.reserve(
                    schedules, max_wait=max(0.0, deadline - self.clock()), force=False
                )
            else:
                granted, wait = self._background_slot(schedules, deadline)
            if not granted:
                self._busy(endpoint, priority, wait)
            due = self.clock() + wait
            if due > self.clock():
                self.sleep(due - self.clock())
            # Woken late (a busy machine), this call would arrive among later slots' calls and the
            # provider could see more than its limit within a second: that slot is given up for another.
            if self.clock() - due <= _late_tolerance():
                return
            if self.clock() >= deadline:
                self._busy(endpoint, priority, wait)
            logger.info("provider rate limit: late for a slot, taking another", extra={"endpoint": endpoint})

    def _busy(self, endpoint: str, priority: Priority, wait: float) -> NoReturn:
        logger.warning(
            "provider rate limit: no slot",
            extra={"provider": self.provider, "endpoint": endpoint, "priority": str(priority)},
        )
        raise ProviderBusyError(
            f"{self.provider} {endpoint}: our request limit is reached", retry_after=max(1, math.ceil(wait))
        )

    def _background_slot(self, schedules: Sequence[Schedule], deadline: float) -> tuple[bool, float]:
        """Take a slot only when no shopper is queued; poll briefly for one."""
        while True:
            granted, wait = self.scheduler.reserve(schedules, max_wait=0, force=False)
            if granted or self.clock() + min(wait, 0.2) > deadline:
                return granted, wait
            self.sleep(min(wait, 0.2))


def _late_tolerance() -> float:
    """How late a call may leave after its slot: half the slack the safety margin buys (slots come
    1/safety times the provider's spacing apart, so a second holds that much room); the other half is
    for the way to the provider. Never under 10 ms, a sleep's own usual overshoot."""
    safety: float = settings.PROVIDER_RATE_LIMIT_SAFETY
    return max(0.01, (1 / safety - 1) / 2)


def request_gate(provider: str, scheduler: SlotScheduler | None = None) -> RequestGate:
    """The gate for one provider's adapter, from settings."""
    return ProviderGate(
        provider=provider,
        scheduler=scheduler or scheduler_from_settings(),
        shopper_wait=settings.PROVIDER_RATE_LIMIT_WAIT_SECONDS,
        background_wait=settings.PROVIDER_RATE_LIMIT_BACKGROUND_WAIT_SECONDS,
    )
