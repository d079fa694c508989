"""Benchmark: the sustained payment-session create rate at the provider's limit, over two production replicas.

Starts PostgreSQL and Redis (scripts/ensure-*.sh), the sandbox holding Stripe's sandbox limits (25 requests a
second per account and per endpoint, 50 ms latency) and two production servers (scripts/start-backend.sh,
sharing the limit through Redis), books appointments, then offers creates faster than the limit for
BENCH_RATE_SECONDS (default 8) with shoppers that retry after Retry-After (one pooled HTTP client, as a load
generator would use). Prints what the sandbox accepted per second in the steady part, the whole seconds while
shoppers keep arriving faster than the limit after the first (goal: >= 90% of its limit), and what it refused
over the whole run (goal: no 429 at all). Each replica makes a few creates first (its clients connect).
Asserts nothing. Run: `make bench`.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BACKEND = Path(__file__).resolve().parent.parent / "backend"
sys.path.insert(0, str(BACKEND))

import httpx  # noqa: E402

from testing.replicas import book_many, stripe_limited_site  # noqa: E402

LIMIT = 25
SECONDS = float(os.environ.get("BENCH_RATE_SECONDS", "8"))
OFFERED_PER_SECOND = 35  # well over the limit: the backend must hold the line, not the shoppers
CREATE = "POST /v1/checkout/sessions"


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="rate-limit-bench-"))
    with stripe_limited_site(tmp, replicas=2, limit=LIMIT, name="bench") as site:
        run(site.replicas, site.sandbox)


def run(replicas: list[str], sandbox: str) -> None:
    total = int(SECONDS * OFFERED_PER_SECOND)
    warm_up = 4 * len(replicas)
    booked = book_many(replicas[0], total + warm_up)
    appointments = booked[warm_up:]
    for i, appointment in enumerate(booked[:warm_up]):  # each replica's first calls set up its clients
        httpx.post(
            f"{replicas[i % len(replicas)]}/api/appointments/{appointment['id']}/payment-sessions/",
            json={"provider": "stripe"},
            headers={"Authorization": f"Bearer {appointment['access_token']}"},
            timeout=60,
        ).raise_for_status()
    time.sleep(1)  # a second with no create: the schedule starts afresh
    httpx.delete(f"{sandbox}/_sandbox/stats.json", timeout=10)
    answers_seen: Counter[int] = Counter()
    lock = threading.Lock()

    def shop(i: int) -> None:
        time.sleep(i / OFFERED_PER_SECOND)  # arrivals spread evenly at the offered rate
        appointment = appointments[i]
        url = f"{replicas[i % len(replicas)]}/api/appointments/{appointment['id']}/payment-sessions/"
        headers = {"Authorization": f"Bearer {appointment['access_token']}"}
        for _ in range(20):
            try:
                response = client.post(url, json={"provider": "stripe"}, headers=headers, timeout=60)
            except httpx.TransportError:
                with lock:
                    answers_seen[0] += 1
                time.sleep(1)
                continue
            with lock:
                answers_seen[response.status_code] += 1
            if response.status_code != 503:
                return
            time.sleep(int(response.headers.get("Retry-After", "1")))

    started, started_wall = time.monotonic(), time.time()
    limits = httpx.Limits(max_connections=len(appointments), max_keepalive_connections=len(appointments))
    with httpx.Client(limits=limits) as client, ThreadPoolExecutor(max_workers=len(appointments)) as pool:
        list(pool.map(shop, range(len(appointments))))
    elapsed = time.monotonic() - started
    stats = httpx.get(f"{sandbox}/_sandbox/stats.json", timeout=10).json()["providers"]["stripe"]
    creates = stats["endpoints"][CREATE]
    rows = creates["per_second"]
    # The steady part: the whole seconds while shoppers kept arriving faster than the limit, after the
    # first (a ramp-up); the drain afterwards (retries after Retry-After) is not a rate at the limit.
    first, last = int(started_wall) + 1, int(started_wall + SECONDS) - 1
    counted = {row["second"]: row["accepted"] for row in rows}
    steady = [counted.get(second, 0) for second in range(first, last + 1)]
    sustained = sum(steady) / len(steady)
    share = 100 * sustained / LIMIT
    refused = creates["refused"] + stats["global"]["refused"]
    print(  # noqa: T201
        f"provider rate limit ({len(replicas)} replicas, sandbox limit {LIMIT}/s, "
        f"offered {OFFERED_PER_SECOND}/s for {SECONDS:.0f} s):\n"
        f"  sustained creates       {sustained:6.1f} /s  = {share:5.1f}% of the limit (goal >= 90%),"
        f" per second {steady}\n"
        f"  429s seen by provider   {refused:6d}       (goal 0)\n"
        f"  most in any one second  {creates['max_accepted_in_any_second']:6d}       (limit {LIMIT})\n"
        f"  creates accepted        {creates['accepted']:6d} of {len(appointments)} shoppers"
        f" in {elapsed:.1f} s; answers {dict(sorted(answers_seen.items()))} (503 busy; 0 no answer)"
    )


if __name__ == "__main__":
    main()
