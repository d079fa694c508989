"""The rate limits on Redis (core/throttling.py): counted atomically in one round trip, DRF's sliding window
and Retry-After, failing open while Redis is down."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import caches
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory
from rest_framework.throttling import ScopedRateThrottle

from config import settings as project_settings
from sofia_checkout.core.throttling import CountingScopedRateThrottle
from testing.net import free_port
from testing.redis_server import redis_server


class _View:
    throttle_scope = "booking"


def _request(address: str = "10.0.0.7") -> Request:
    return Request(APIRequestFactory().get("/", REMOTE_ADDR=address))


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_server(Path(tmp_path_factory.mktemp("redis"))) as url:
        yield url


@pytest.fixture
def on_redis(settings: Any, redis_url: str) -> None:
    settings.CACHES = {"default": project_settings._cache_config(f"{redis_url}/0")}
    caches["default"].clear()


def rate(monkeypatch: pytest.MonkeyPatch, booking: str) -> None:
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"booking": booking})


@pytest.mark.usefixtures("on_redis")
def test_parallel_requests_on_redis_are_counted_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    rate(monkeypatch, "25/min")
    allowed: list[bool] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def client() -> None:
        start.wait()
        for _ in range(10):
            answer = CountingScopedRateThrottle().allow_request(_request(), _View())  # type: ignore[arg-type]
            with lock:
                allowed.append(answer)

    threads = [threading.Thread(target=client) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert allowed.count(True) == 25  # of 80, none lost to a concurrent read-modify-write
    other_client = CountingScopedRateThrottle()
    assert other_client.allow_request(_request("10.0.0.8"), _View())  # type: ignore[arg-type]


@pytest.mark.usefixtures("on_redis")
def test_the_window_slides_and_retry_after_waits_for_the_oldest(monkeypatch: pytest.MonkeyPatch) -> None:
    rate(monkeypatch, "2/s")
    throttle = CountingScopedRateThrottle()
    first = time.time()
    assert throttle.allow_request(_request(), _View())  # type: ignore[arg-type]
    time.sleep(0.3)
    assert throttle.allow_request(_request(), _View())  # type: ignore[arg-type]
    assert not throttle.allow_request(_request(), _View())  # type: ignore[arg-type]
    wait = throttle.wait()
    assert wait is not None
    assert 0 < wait <= 1 - (time.time() - first) + 0.05  # until the first request leaves the window
    time.sleep(wait + 0.05)
    assert throttle.allow_request(_request(), _View())  # type: ignore[arg-type]
    assert not throttle.allow_request(_request(), _View())  # type: ignore[arg-type]  (refused: not logged)


def test_an_unreachable_redis_lets_requests_through(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    rate(monkeypatch, "1/min")
    settings.CACHES = {"default": project_settings._cache_config(f"redis://127.0.0.1:{free_port()}/0")}
    throttle = CountingScopedRateThrottle()
    assert all(throttle.allow_request(_request(), _View()) for _ in range(3))  # type: ignore[arg-type]
