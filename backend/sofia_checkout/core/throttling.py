"""DRF's scoped rate limits, counted on Redis in one atomic round trip.

DRF's ScopedRateThrottle keeps a list of request times per client in the cache and reads it, trims and
appends, and writes it back: two cache round trips per request (on the polled appointment read, about a
fifth of its cost), and concurrent requests overwrite each other's appends, so a burst across threads or
replicas is undercounted. CountingScopedRateThrottle keeps DRF's scopes, rates (the THROTTLE_* settings) and
semantics (a sliding window: at most the rate's number of requests in any period; only allowed requests
count; Retry-After until the oldest leaves the window), but on Redis the log is a sorted set trimmed, counted
and appended by one script, atomically. On any other cache (local memory: one process) DRF's own code runs.
While Redis is unreachable the limits fail open, as core/cache.py does.

Endpoints that share a scope share its count only if they use the same class: every throttled endpoint uses
this one (appointments/access_api.py maps the per-appointment endpoints onto it).
"""

from __future__ import annotations

import hashlib
import itertools
import os
import uuid
from typing import Any

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.redis import RedisCache
from django.http import HttpRequest
from redis.exceptions import NoScriptError, RedisError
from rest_framework.request import Request
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from sofia_checkout.core.cache import warn_unreachable

# KEYS[1]: the client's log (score: request time). ARGV: now, the window (s), the limit, a unique member.
# Returns {1} when the request is allowed and logged, {0, oldest} when the limit is reached.
_ALLOW = """
local now, window = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, oldest[2]}
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('EXPIRE', KEYS[1], math.ceil(window))
return {1}
"""
_ALLOW_SHA1 = hashlib.sha1(_ALLOW.encode()).hexdigest()  # noqa: S324 - Redis names scripts so


# A log entry's unique member: a random prefix, the process id (workers forked after import share the prefix)
# and a counter. Not uuid4 per request: that reads the OS's random source, a system call that hands the GIL
# to another thread on a busy server.
_PREFIX = uuid.uuid4().hex[:12]
_SEQUENCE = itertools.count()


def _allow_on_redis(cache: RedisCache, key: str, now: float, window: int, limit: int) -> tuple[bool, float]:
    """(allowed, the oldest logged request's time when refused)."""
    backend: Any = cache  # Django's RedisCache has no such operation: its client, with its key prefix
    full_key = backend.make_and_validate_key(key)
    client = backend._cache.get_client(full_key, write=True)
    args = (1, full_key, repr(now), window, limit, f"{_PREFIX}-{os.getpid()}-{next(_SEQUENCE)}")
    try:
        answer = client.evalsha(_ALLOW_SHA1, *args)
    except NoScriptError:  # the first call since Redis started: send the script itself
        answer = client.eval(_ALLOW, *args)
    return bool(answer[0]), float(answer[1]) if len(answer) > 1 else now


# On a Django request: the scopes this request was already allowed and counted in, so that a view which checks
# its throttle before DRF's handling (and then hands the request on) does not count it twice.
COUNTED_SCOPES = "sofia_counted_throttle_scopes"


def mark_counted(request: HttpRequest, scope: str) -> None:
    setattr(request, COUNTED_SCOPES, {*getattr(request, COUNTED_SCOPES, ()), scope})


class CountingScopedRateThrottle(ScopedRateThrottle):
    # Not DRF's list: the two must never read each other's key.
    cache_format = "throttle_log_%(scope)s_%(ident)s"

    def allow_request(self, request: Request, view: APIView) -> bool:
        cache = caches[DEFAULT_CACHE_ALIAS]
        self.refused_until: float | None = None
        self.scope = getattr(view, self.scope_attr, None)
        # No scope; or allowed and counted earlier in this same request (checkout/early_not_modified.py).
        if not self.scope or self.scope in getattr(request, COUNTED_SCOPES, ()):
            return True
        if not isinstance(cache, RedisCache):
            return super().allow_request(request, view)  # DRF's log, in this process's cache
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        if self.num_requests is None or self.duration is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        self.now = self.timer()
        try:
            allowed, oldest = _allow_on_redis(cache, key, self.now, self.duration, self.num_requests)
        except RedisError as error:
            warn_unreachable("throttle", error)
            return True
        if not allowed:
            self.refused_until = oldest + self.duration
        return allowed

    def wait(self) -> float | None:
        if self.refused_until is None:
            return super().wait()
        return max(self.refused_until - self.now, 0.001)
