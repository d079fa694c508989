"""Our provider rate limit: paced schedules per provider and endpoint, shared via Redis, shoppers first."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache.backends.redis import RedisCache

from sofia_checkout.payments.provider_limits import (
    LocalScheduler,
    Priority,
    ProviderGate,
    RedisClockOffset,
    RedisScheduler,
    Schedule,
    current_priority,
    provider_priority,
)
from sofia_checkout.payments.providers.base import ProviderBusyError, RefundRequest, RefundResult
from sofia_checkout.payments.providers.registry import _RefundsInBackground
from testing.net import free_port
from testing.redis_server import redis_server

CREATE = "POST /v1/checkout/sessions"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_slots_are_paced_one_interval_apart_and_refused_beyond_the_wait() -> None:
    clock = Clock()
    scheduler = LocalScheduler(clock)
    every = [Schedule("global", 0.1)]
    waits = [scheduler.reserve(every, max_wait=0.25, force=False) for _ in range(4)]
    assert waits[:3] == [(True, 0.0), (True, pytest.approx(0.1)), (True, pytest.approx(0.2))]
    assert waits[3] == (False, pytest.approx(0.3))  # nothing reserved: the next one still sees 0.3
    assert scheduler.reserve(every, max_wait=0.25, force=False) == (False, pytest.approx(0.3))
    assert scheduler.reserve(every, max_wait=0, force=True) == (True, pytest.approx(0.3))
    clock.now += 10
    assert scheduler.reserve(every, max_wait=0, force=False) == (True, 0.0)  # idle again: no burst saved


def test_a_call_takes_a_slot_in_both_the_provider_and_the_endpoint_schedule() -> None:
    clock = Clock()
    scheduler = LocalScheduler(clock)
    provider, create, read = Schedule("p", 0.05), Schedule("p:create", 0.5), Schedule("p:read", 0.5)
    assert scheduler.reserve([provider, create], max_wait=5, force=False) == (True, 0.0)
    # Another endpoint only waits for the provider-wide slot; the same endpoint for its own.
    assert scheduler.reserve([provider, read], max_wait=5, force=False) == (True, pytest.approx(0.05))
    assert scheduler.reserve([provider, create], max_wait=5, force=False) == (True, pytest.approx(0.5))


class Recorder:
    def __init__(self) -> None:
        self.slept: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)


@pytest.fixture
def limits(settings: Any) -> None:
    settings.PROVIDER_RATE_LIMITS = {
        "stripe": {"global_per_second": 10, "endpoint_per_second": 10, "endpoints": {}}
    }
    settings.PROVIDER_RATE_LIMIT_SAFETY = 1.0


@pytest.mark.usefixtures("limits")
def test_a_shopper_waits_for_a_near_slot_and_hears_busy_with_retry_after_beyond() -> None:
    clock, slept = Clock(), Recorder()
    gate = ProviderGate(
        "stripe", LocalScheduler(clock), shopper_wait=0.25, background_wait=0, sleep=slept, clock=clock
    )
    for _ in range(3):
        gate(CREATE)
    assert slept.slept == [pytest.approx(0.1), pytest.approx(0.2)]
    with pytest.raises(ProviderBusyError) as refused:
        gate(CREATE)
    assert refused.value.retry_after == 1  # the queue ahead drains in 0.3 s: whole seconds, at least 1


class Oversleeping:
    """A sleep on a busy machine: it returns `late` seconds after it should have."""

    def __init__(self, clock: Clock, late: float) -> None:
        self.clock, self.late, self.calls = clock, late, 0

    def __call__(self, seconds: float) -> None:
        self.calls += 1
        self.clock.now += seconds + (self.late if self.calls == 1 else 0.0)


@pytest.mark.usefixtures("limits")
def test_a_call_woken_late_gives_its_slot_up_and_takes_the_next_free_one() -> None:
    """Sent late, it would reach the provider among the next slots' calls: more than the limit within a
    second. It takes a new slot instead (10/s here: slots 0.1 s apart)."""
    clock = Clock()
    scheduler = LocalScheduler(clock)
    ahead = ProviderGate(
        "stripe", scheduler, shopper_wait=1, background_wait=0, sleep=Recorder(), clock=clock
    )
    ahead(CREATE)  # takes the slot at 100.0; the next free one is 100.1
    sleep = Oversleeping(clock, late=0.3)
    gate = ProviderGate("stripe", scheduler, shopper_wait=1, background_wait=0, sleep=sleep, clock=clock)
    gate(CREATE)  # its slot was 100.1; woken at 100.4, it takes 100.4 (free) and leaves then
    assert clock.now == pytest.approx(100.4)
    # Both slots it took are spent: the next caller is paced after the second.
    assert scheduler.reserve([Schedule("provider-rate:stripe", 0.1)], max_wait=1, force=False) == (
        True,
        pytest.approx(0.1),
    )


@pytest.mark.usefixtures("limits")
def test_a_call_woken_late_with_no_time_left_hears_busy_and_sends_nothing() -> None:
    clock = Clock()
    scheduler = LocalScheduler(clock)
    ProviderGate("stripe", scheduler, shopper_wait=1, background_wait=0, sleep=Recorder(), clock=clock)(
        CREATE
    )
    sleep = Oversleeping(clock, late=0.5)
    gate = ProviderGate("stripe", scheduler, shopper_wait=0.25, background_wait=0, sleep=sleep, clock=clock)
    with pytest.raises(ProviderBusyError) as refused:
        gate(CREATE)
    assert refused.value.retry_after >= 1


@pytest.mark.usefixtures("limits")
def test_a_call_a_little_late_still_goes(settings: Any) -> None:
    settings.PROVIDER_RATE_LIMIT_SAFETY = 0.8  # slots 1.25 x the provider's spacing apart: 0.125 s of slack
    clock = Clock()
    scheduler = LocalScheduler(clock)
    ProviderGate("stripe", scheduler, shopper_wait=1, background_wait=0, sleep=Recorder(), clock=clock)(
        CREATE
    )
    sleep = Oversleeping(clock, late=0.1)  # within half the slack
    ProviderGate("stripe", scheduler, shopper_wait=1, background_wait=0, sleep=sleep, clock=clock)(CREATE)
    assert sleep.calls == 1
    assert clock.now == pytest.approx(100.225)


@pytest.mark.usefixtures("limits")
def test_background_work_never_queues_ahead_of_shoppers() -> None:
    clock = Clock()
    scheduler = LocalScheduler(clock)

    def advancing(seconds: float) -> None:
        clock.now += seconds

    gate = ProviderGate(
        "stripe", scheduler, shopper_wait=1, background_wait=0.3, sleep=advancing, clock=clock
    )
    with provider_priority(Priority.BACKGROUND):
        gate(CREATE)  # idle: goes at once
        gate(CREATE)  # polls until the slot it would take is free now
    assert clock.now == pytest.approx(100.1)
    shopper = ProviderGate("stripe", scheduler, shopper_wait=5, background_wait=0, sleep=lambda s: None)
    for _ in range(20):
        shopper(CREATE)  # two seconds of shoppers queued
    with provider_priority(Priority.BACKGROUND), pytest.raises(ProviderBusyError):
        gate(CREATE)
    assert clock.now < 100.1 + 0.3 + 0.2  # gave up after its own bounded wait


@pytest.mark.usefixtures("limits")
def test_webhook_intake_is_counted_but_never_waits_nor_is_refused() -> None:
    clock, slept = Clock(), Recorder()
    scheduler = LocalScheduler(clock)
    gate = ProviderGate("stripe", scheduler, shopper_wait=0, background_wait=0, sleep=slept)
    with provider_priority(Priority.WEBHOOK):
        for _ in range(30):
            gate(CREATE)
    assert slept.slept == []
    with pytest.raises(ProviderBusyError) as refused:
        gate(CREATE)  # the shopper behind leaves the room the deliveries used
    assert refused.value.retry_after == 3


def test_no_limit_configured_means_no_gate(settings: Any) -> None:
    settings.PROVIDER_RATE_LIMITS = {"stripe": {"global_per_second": 0, "endpoint_per_second": 0}}
    gate = ProviderGate("stripe", LocalScheduler(Clock()), shopper_wait=0, background_wait=0)
    for _ in range(100):
        gate(CREATE)


@pytest.mark.usefixtures("limits")
def test_an_endpoint_of_its_own_limit(settings: Any) -> None:
    settings.PROVIDER_RATE_LIMITS["stripe"]["endpoints"] = {CREATE: 1}
    gate = ProviderGate("stripe", LocalScheduler(Clock()), shopper_wait=0.5, background_wait=0)
    gate(CREATE)
    with pytest.raises(ProviderBusyError):
        gate(CREATE)
    gate("GET /v1/checkout/sessions/{id}")  # another endpoint: only the provider-wide 10/s applies


class _Adapter:
    def __init__(self) -> None:
        self.seen: list[Priority] = []

    def refund(self, request: RefundRequest) -> RefundResult:
        self.seen.append(current_priority())
        return RefundResult("re_1", "succeeded", "succeeded")  # type: ignore[arg-type]

    def retrieve_session(self, provider_session_id: str) -> Priority:
        return current_priority()


def test_refunds_go_at_background_priority_except_inside_webhook_intake() -> None:
    adapter = _Adapter()
    wrapped: Any = _RefundsInBackground(adapter)  # type: ignore[arg-type]
    request = RefundRequest("pi_1", "cs_1", 100, "key")
    wrapped.refund(request)
    with provider_priority(Priority.WEBHOOK):
        wrapped.refund(request)
    assert adapter.seen == [Priority.BACKGROUND, Priority.WEBHOOK]
    assert wrapped.retrieve_session("cs_1") == Priority.SHOPPER


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_server(Path(tmp_path_factory.mktemp("redis"))) as url:
        yield url


def test_redis_schedule_paces_parallel_callers_exactly(redis_url: str) -> None:
    """Eight threads, each with its own Redis connection (as separate replicas would have), 32 calls at
    20/s: the slots, on Redis's clock, are one interval apart, so never more than 21 fall within a second."""
    interval = 0.05
    starts: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        scheduler = RedisScheduler(RedisCache(redis_url, {"KEY_PREFIX": "pace-test"}))
        for _ in range(4):
            granted, _, start = scheduler.reserve_slot([Schedule("p", interval)], max_wait=5, force=False)
            assert granted
            with lock:
                starts.append(start / 1_000_000)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    starts.sort()
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert len(starts) == 32
    assert min(gaps) >= interval - 1e-6
    most_in_a_second = max(sum(1 for t in starts if start <= t < start + 1) for start in starts)
    assert most_in_a_second <= 1 / interval + 1


def test_redis_schedule_refuses_without_reserving_and_keeps_microseconds(redis_url: str) -> None:
    cache = RedisCache(redis_url, {"KEY_PREFIX": "refuse-test"})
    scheduler = RedisScheduler(cache)
    schedule = [Schedule("q", 1.0)]
    assert scheduler.reserve(schedule, max_wait=0, force=False)[0]
    granted, wait = scheduler.reserve(schedule, max_wait=0.5, force=False)
    assert not granted
    assert 0.9 < wait <= 1.0
    assert not scheduler.reserve(schedule, max_wait=0.5, force=False)[0]  # the refusal reserved nothing
    stored = cache._cache.get_client(write=True).get(cache.make_and_validate_key("q"))  # type: ignore[attr-defined]
    assert stored.isdigit()  # an exact integer of microseconds, not Lua's rounded float format


def test_redis_schedule_counts_the_wait_from_when_the_slot_was_given_not_when_the_reply_came(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reply that took longer than the fastest one leaves less of the wait: aiming at `wait` after the
    reply would leave late, and so arrive among the next slots' calls."""
    clock = Clock()
    scheduler = RedisScheduler(RedisCache(redis_url, {"KEY_PREFIX": "offset-test"}), clock=clock)
    # (granted, wait, start) as the script answers, in microseconds on Redis's clock (its now: 1000 s).
    answers = iter([(1, 0, 1_000_000_000), (1, 1_000_000, 1_001_000_000)])
    monkeypatch.setattr(scheduler, "reserve_slot", lambda *args, **kwargs: next(answers))
    clock.now = 10.0  # the first reply comes at once: Redis's clock reads ours + 990 s
    assert scheduler.reserve([Schedule("o", 1.0)], max_wait=5, force=False) == (True, 0.0)
    clock.now = 10.2  # the second one reaches us 0.2 s after Redis gave the slot at 1001 s
    assert scheduler.reserve([Schedule("o", 1.0)], max_wait=5, force=False) == (True, pytest.approx(0.8))


def test_redis_clock_offset_keeps_the_fastest_reading_of_the_last_half_minute() -> None:
    offset = RedisClockOffset()
    assert offset.add(redis_now=1000.0, ours=10.0) == 990.0
    assert offset.add(redis_now=1001.0, ours=11.05) == 990.0  # a slow reply: the earlier reading stands
    assert offset.add(redis_now=1002.0, ours=11.99) == pytest.approx(990.01)  # a faster one replaces it
    assert offset.add(redis_now=1050.0, ours=60.2) == pytest.approx(989.8)  # the old readings expired


def test_an_unreachable_redis_paces_in_process_instead_of_failing(caplog: pytest.LogCaptureFixture) -> None:
    scheduler = RedisScheduler(
        RedisCache(f"redis://127.0.0.1:{free_port()}/0", {"OPTIONS": {"socket_connect_timeout": 0.2}})
    )
    schedule = [Schedule("down", 1.0)]
    assert scheduler.reserve(schedule, max_wait=0, force=False) == (True, 0.0)
    assert not scheduler.reserve(schedule, max_wait=0.5, force=False)[0]
    assert "Redis unreachable" in caplog.text
