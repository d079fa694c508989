"""Leases, not locks: one caller at a time talks to a provider about one payment session or refund.

A lease is a timestamp stored in a short transaction ("I am calling the provider about this row until
then"). The call itself runs with no transaction open and no row locked; the answer is applied, and the
lease cleared, in another short transaction. Other callers wait for the outcome (bounded) or skip the row;
a lease whose holder died simply runs out, and the next caller resends the same idempotency key.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from sofia_checkout.core.db import release_connection_while_waiting


def provider_call_lease() -> timedelta:
    """How long one caller may take over a provider call: every try with its timeout, plus a margin."""
    return timedelta(seconds=settings.PROVIDER_TIMEOUT_SECONDS * (settings.PROVIDER_MAX_RETRIES + 1) + 5)


def lease_held(until: datetime | None, now: datetime | None = None) -> bool:
    """Whether a lease ending at `until` is still running."""
    return until is not None and until > (now or timezone.now())


def wait_for_release(read_lease: Callable[[], datetime | None], *, deadline: float) -> bool:
    """Poll `read_lease` until the lease is gone or ran out; False if the monotonic `deadline` came first.

    Starts fast (the usual provider call takes a few hundred milliseconds) and backs off to a few polls a
    second, so fifty waiters on one attempt cost the database little.
    """
    pause = 0.01
    while time.monotonic() < deadline:
        if not lease_held(read_lease()):
            return True
        release_connection_while_waiting()
        time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
        pause = min(pause * 1.5, 0.2)
    return not lease_held(read_lease())
