"""The cache the rate limits count in: Redis from CACHE_URL/REDIS_URL, and the start-up warning when several
worker processes would each count in their own local memory."""

from __future__ import annotations

import pytest

from config import settings as project_settings
from config.startup_checks import per_process_cache_warning

LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
REDIS = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache"}}


def test_a_redis_url_gives_djangos_redis_cache_with_short_socket_timeouts() -> None:
    config = project_settings._cache_config("redis://:pw@10.0.0.5:6379/3?key_prefix=sofia")
    assert config["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
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
