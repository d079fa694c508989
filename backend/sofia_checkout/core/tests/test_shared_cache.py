"""The cache the rate limits count in: Redis from CACHE_URL/REDIS_URL, and the start-up warning when several
worker processes would each count in their own local memory."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.throttling import ScopedRateThrottle

from config import settings as project_settings
from config.startup_checks import per_process_cache_warning
from sofia_checkout.core import cache as fail_open
from sofia_checkout.core.cache import FailOpenRedisCache
from testing.net import free_port
from testing.redis_server import redis_server

LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
REDIS = {"default": {"BACKEND": "sofia_checkout.core.cache.FailOpenRedisCache"}}


def test_a_redis_url_gives_djangos_redis_cache_with_short_socket_timeouts() -> None:
    config = project_settings._cache_config("redis://:pw@10.0.0.5:6379/3?key_prefix=sofia")
    assert (
        config["BACKEND"] == "sofia_checkout.core.cache.FailOpenRedisCache"
    )  # Django's RedisCache, fail-open
    assert config["LOCATION"] == "redis://:pw@10.0.0.5:6379/3"
    assert config["KEY_PREFIX"] == "sofia"  # upper-case, as Django reads it
    assert config["OPTIONS"] == {"socket_connect_timeout": 1, "socket_timeout": 1}


def test_other_cache_urls_pass_through() -> None:
    config = project_settings._cache_config("locmemcache://")
    assert config["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    assert "OPTIONS" not in config or config["OPTIONS"] == {}


def test_the_default_is_local_memory() -> None:
    # The test run sets neither CACHE_URL nor REDIS_URL (conftest-free: the settings' own default).
    if project_settings.CACHE_URL:
        pytest.fail("this test run has CACHE_URL/REDIS_URL set; the default cannot be checked", pytrace=False)
    assert project_settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"


@pytest.mark.parametrize(
    ("caches", "processes", "warns"),
    [(LOCMEM, 1, False), (LOCMEM, 2, True), (LOCMEM, 8, True), (REDIS, 8, False)],
    ids=["locmem-one-process", "locmem-two", "locmem-eight", "redis-eight"],
)
def test_several_processes_on_a_per_process_cache_are_warned_about(
    caches: dict[str, dict[str, str]], processes: int, warns: bool
) -> None:
    warning = per_process_cache_warning(caches, processes)
    assert (warning is not None) is warns
    if warning:
        assert f"{processes} worker processes" in warning
        assert "CACHE_URL" in warning
        assert "WEB_CONCURRENCY=1" in warning


def _dead_redis() -> dict[str, Any]:
    """A Redis URL where nothing listens (connections refused at once)."""
    return project_settings._cache_config(f"redis://127.0.0.1:{free_port()}/0")


def test_an_unreachable_redis_reads_as_empty_and_drops_writes(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fail_open, "_last_warning", float("-inf"))  # another test may have just warned
    config = _dead_redis()
    dead = FailOpenRedisCache(config["LOCATION"], {"OPTIONS": config["OPTIONS"]})
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="sofia_checkout.core.cache"):
        assert dead.get("throttle_booking_127.0.0.1", []) == []
        dead.set("throttle_booking_127.0.0.1", [1.0], 60)
        assert dead.add("k", 1) is False
        assert dead.delete("k") is False
    assert time.monotonic() - started < 5
    assert "rate limits are not counted until Redis answers again" in caplog.text


@pytest.mark.django_db
def test_requests_go_on_while_the_rate_limit_cache_is_down(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"booking": "1/min"})
    cache.clear()
    counted = [
        Client().post("/api/appointments/", {}, content_type="application/json").status_code for _ in range(2)
    ]
    assert counted == [400, 429]  # with a working cache the second is refused
    settings.CACHES = {"default": _dead_redis()}
    uncounted = [
        Client().post("/api/appointments/", {}, content_type="application/json").status_code for _ in range(2)
    ]
    assert uncounted == [400, 400]  # not counted (fail open), never a 500


def test_one_redis_client_per_pool_is_reused_across_commands(tmp_path: Path) -> None:
    """Django builds a redis.Redis per command, which costs more CPU than the command; ours keeps one."""
    with redis_server(tmp_path) as url:
        shared = FailOpenRedisCache(url, {"KEY_PREFIX": "reuse-test"})
        client = shared._cache.get_client(write=True)
        shared.set("counter", [1.0, 2.0], 60)
        assert shared.get("counter") == [1.0, 2.0]
        assert shared.add("counter", [], 60) is False
        assert shared._cache.get_client() is client
        assert shared._cache.get_client("counter", write=True) is client
