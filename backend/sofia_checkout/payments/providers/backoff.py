"""Retrying a provider's 429 within a time budget, then giving up as ProviderBusyError.

Stripe asks clients to back off exponentially with jitter on 429 (https://docs.stripe.com/rate-limits,
"Handling limiting gracefully"); the stripe SDK itself does not retry a 429 unless the answer carries
`Stripe-Should-Retry: true`, and its backoff ignores Retry-After, so the adapters do it here. A Retry-After
header (Truemed, or any proxy in front of a provider) is honoured when present. Every retry goes through
the adapter's request gate again: our own limit counts it like any request.
"""

from __future__ import annotations

import logging
import math
import secrets
import time
from collections.abc import Callable, Mapping
from typing import TypeVar

from sofia_checkout.payments.providers.base import ProviderBusyError

logger = logging.getLogger(__name__)

T = TypeVar("T")
FIRST_PAUSE_SECONDS = 0.25
MAX_PAUSE_SECONDS = 2.0
_RANDOM = secrets.SystemRandom()


class ProviderLimitedError(ProviderBusyError):
    """The provider itself answered 429 (our gate let the request through)."""

    def __init__(self, message: str, *, retry_after: float | None, request_id: str = "") -> None:
        super().__init__(message, retry_after=math.ceil(retry_after or 1), http_status=429)
        self.hint = retry_after  # seconds the provider asked for, None when it named none
        self.request_id = request_id


def retry_after_header(headers: Mapping[str, str] | None) -> float | None:
    """Retry-After in seconds (the delta form; an HTTP date is not worth trusting clocks over), or None."""
    raw = (headers or {}).get("retry-after") or (headers or {}).get("Retry-After")
    try:
        value = float(raw) if raw is not None else None
    except ValueError:
        return None
    return value if value is not None and 0 <= value <= 3600 else None  # an hour at most


def _pause(attempt: int, hint: float | None) -> float:
    if hint is not None:
        return hint
    # Exponential with "equal jitter": half fixed, half random, so callers that were refused together do
    # not come back together.
    base = min(MAX_PAUSE_SECONDS, FIRST_PAUSE_SECONDS * 2**attempt)
    return float(base / 2 + _RANDOM.uniform(0, base / 2))


def retry_when_limited(
    call: Callable[[], T], *, budget_seconds: float, action: str, sleep: Callable[[float], None] = time.sleep
) -> T:
    """Run `call`; on the provider's 429 wait (its Retry-After, else exponential backoff) and try again while
    the pause still fits in `budget_seconds`. Then raises the last 429 as ProviderBusyError."""
    deadline = time.monotonic() + budget_seconds
    attempt = 0
    while True:
        try:
            return call()
        except ProviderLimitedError as exc:
            pause = _pause(attempt, exc.hint)
            fits = time.monotonic() + pause <= deadline
            logger.warning(
                "provider rate limit (429)%s",
                ", retrying" if fits else ", giving up for now",
                extra={
                    "action": action,
                    "provider_request_id": exc.request_id,
                    "retry_in_seconds": round(pause, 3),
                    "attempt": attempt + 1,
                },
            )
            if not fits:
                raise ProviderBusyError(
                    f"{action}: the provider's rate limit was reached",
                    retry_after=math.ceil(pause),
                    http_status=429,
                ) from exc
            sleep(pause)
            attempt += 1
