"""Provider request limits and what the sandbox accepted and refused, per provider and endpoint.

Stripe counts requests per second per account (the global limit: 25 in a sandbox, 100 live) and, on top,
per API endpoint (25 a second unless documented otherwise); a named operation is one endpoint whatever
object id it names (https://docs.stripe.com/rate-limits). The sandbox holds each limit over a sliding one-
second window: a request is accepted only if fewer than `limit` requests were accepted in the second before
it, so "at most N in any one-second window" holds exactly and tests can rely on it. Refused requests do not
count against the window (a client that backs off is not punished further).

The counts are kept even with no limit set (0), so a test can assert what a provider would have seen.
"""

from __future__ import annotations

import math
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from provider_sandbox.config import ProviderLimits

WINDOW_SECONDS = 1.0
# Per-second rows kept per endpoint for the stats page (ten minutes).
KEPT_SECONDS = 600
_ID_SEGMENT = re.compile(r"[A-Za-z0-9_-]*\d[A-Za-z0-9_-]*")
_MIN_ID_LENGTH = 8
GLOBAL = "global"


def endpoint_name(method: str, path: str) -> str:
    """`POST /v1/checkout/sessions`, `GET /v1/checkout/sessions/{id}`: object ids count as one endpoint."""
    segments = [
        "{id}" if len(seg) >= _MIN_ID_LENGTH and _ID_SEGMENT.fullmatch(seg) else seg
        for seg in path.split("/")
    ]
    return f"{method.upper()} {'/'.join(segments)}"


@dataclass
class _Counter:
    """One window (an endpoint, or a provider's global one): accepted times in the last second, totals,
    the most ever accepted within one second, and per-second rows."""

    recent: deque[float] = field(default_factory=deque)
    accepted: int = 0
    refused: int = 0
    max_in_window: int = 0
    per_second: dict[int, list[int]] = field(default_factory=dict)

    def in_window(self, now: float) -> int:
        while self.recent and self.recent[0] <= now - WINDOW_SECONDS:
            self.recent.popleft()
        return len(self.recent)

    def wait(self, now: float, limit: int) -> float:
        """Seconds until one more request would fit under `limit` (0: it fits now)."""
        if not limit or self.in_window(now) < limit:
            return 0.0
        return self.recent[-limit] + WINDOW_SECONDS - now

    def record(self, now: float, wall: float, *, accepted: bool) -> None:
        row = self.per_second.setdefault(int(wall), [0, 0])
        if accepted:
            self.recent.append(now)
            self.accepted += 1
            row[0] += 1
            self.max_in_window = max(self.max_in_window, self.in_window(now))
        else:
            self.refused += 1
            row[1] += 1
        if len(self.per_second) > KEPT_SECONDS:
            del self.per_second[min(self.per_second)]

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "refused": self.refused,
            "max_accepted_in_any_second": self.max_in_window,
            "per_second": [
                {"second": second, "accepted": row[0], "refused": row[1]}
                for second, row in sorted(self.per_second.items())
            ],
        }


@dataclass
class RateLimiter:
    """The limits in force and the counts, for every provider. Runs on the sandbox's one event loop: each
    call is atomic (no await inside)."""

    limits: dict[str, ProviderLimits]
    _counters: dict[tuple[str, str], _Counter] = field(default_factory=dict)

    def _counter(self, provider: str, endpoint: str) -> _Counter:
        return self._counters.setdefault((provider, endpoint), _Counter())

    def admit(self, provider: str, endpoint: str, *, now: float, wall: float) -> float:
        """Count one request; 0.0 if accepted, else the seconds after which a retry would fit."""
        limits = self.limits.get(provider, ProviderLimits(0, 0))
        overall, own = self._counter(provider, GLOBAL), self._counter(provider, endpoint)
        wait = max(overall.wait(now, limits.global_per_second), own.wait(now, limits.for_endpoint(endpoint)))
        for counter in (overall, own):
            counter.record(now, wall, accepted=wait == 0)
        return wait

    def clear(self) -> None:
        self._counters.clear()

    def stats(self) -> dict[str, Any]:
        providers: dict[str, Any] = {}
        for (provider, endpoint), counter in sorted(self._counters.items()):
            entry = providers.setdefault(provider, {"limits": self._limits_of(provider), "endpoints": {}})
            if endpoint == GLOBAL:
                entry[GLOBAL] = counter.as_dict()
            else:
                entry["endpoints"][endpoint] = counter.as_dict()
        return {"window_seconds": WINDOW_SECONDS, "providers": providers}

    def _limits_of(self, provider: str) -> dict[str, Any]:
        return self.limits.get(provider, ProviderLimits(0, 0)).as_dict()


def retry_after_seconds(wait: float) -> int:
    """A Retry-After value (whole seconds, at least 1) for a refusal that fits again after `wait`."""
    return max(1, math.ceil(wait))
