"""Django's RedisCache, failing open: the cache only holds rate-limit counters, so a Redis outage must not
turn every throttled request into a 500. While Redis cannot be reached, reads find nothing and writes are
dropped (the limits stop counting, bookings and payments go on); one warning line every 30 s says so.

It also keeps one redis.Redis client per connection pool: Django builds a new one around the pool for every
command, and with redis-py 7 that construction costs more CPU than the command's round trip (two per
throttled request)."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

_WARN_EVERY_SECONDS = 30.0
_last_warning = 0.0
_warning_lock = threading.Lock()


def warn_unreachable(operation: str, error: RedisError) -> None:
    """One warning line every 30 s at most, whatever failed."""
    global _last_warning  # noqa: PLW0603 - one rate-limited warning per process
    with _warning_lock:
        now = time.monotonic()
        if now - _last_warning < _WARN_EVERY_SECONDS:
            return
        _last_warning = now
    logger.warning(
        "cache unreachable (%s: %s): rate limits are not counted until Redis answers again",
        operation,
        type(error).__name__,
    )


class ReusedClientRedisCacheClient(RedisCacheClient):
    """One redis.Redis per pool, reused: a client only borrows a connection from its pool for each command,
    so sharing it is safe (Django's caches are per thread anyway)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        django_client: Any = self  # the attributes below are Django's, undeclared in its stubs
        pool = django_client._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients.setdefault(id(pool), django_client._client(connection_pool=pool))
        return client


class FailOpenRedisCache(RedisCache):
    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        try:
            return super().get(key, default, version)
        except RedisError as error:
            warn_unreachable("get", error)
            return default

    def set(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> None:
        try:
            super().set(key, value, timeout, version)
        except RedisError as error:
            warn_unreachable("set", error)

    def add(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> bool:
        try:
            return bool(super().add(key, value, timeout, version))
        except RedisError as error:
            warn_unreachable("add", error)
            return False

    def delete(self, key: Any, version: int | None = None) -> bool:
        try:
            return bool(super().delete(key, version))
        except RedisError as error:
            warn_unreachable("delete", error)
            return False
