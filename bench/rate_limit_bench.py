"""Benchmark: the sustained payment-session create rate at the provider's limit, over two production replicas.

Starts PostgreSQL and Redis (scripts/ensure-*.sh), the sandbox holding Stripe's sandbox limits (25 requests a
second per account and per endpoint, 50 ms latency) and two production servers (scripts/start-backend.sh,
sharing the limit through Redis), books appointments, then offers creates faster than the limit for
BENCH_RATE_SECONDS (default 10) with shoppers that retry after Retry-After. Prints what the sandbox accepted
per second in the steady part (goal: >= 90% of its limit) and what it refused (goal: no 429 at all).
Asserts nothing. Run: `make bench`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BACKEND = Path(__file__).resolve().parent.parent / "backend"
sys.path.insert(0, str(BACKEND))

import httpx  # noqa: E402
import psycopg  # noqa: E402

from testing.net import free_port, served  # noqa: E402
from tests.deploy.helpers import REPO_DIR, production_env  # noqa: E402

LIMIT = 25
SECONDS = float(os.environ.get("BENCH_RATE_SECONDS", "8"))
OFFERED_PER_SECOND = 35  # well over the limit: the backend must hold the line, not the shoppers
CREATE = "POST /v1/checkout/sessions"
OFFERINGS = (("ana-reyes", "follow_up"), ("sam-okafor", "initial_consultation"), ("jordan-lee", "follow_up"))


def ensure(script: str) -> str:
    result = subprocess.run(  # noqa: S603 - the project's own scripts
        ["bash", str(REPO_DIR / "scripts" / script)],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return result.stdout.strip().splitlines()[-1]


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def book_offering(api: str, practitioner: str, service: str, count: int) -> list[dict[str, Any]]:
    today = datetime.now(UTC).date()
    booked: list[dict[str, Any]] = []
    with httpx.Client(base_url=api, timeout=30) as http:
        for start in (0, 31, 62):
            days = http.get(
                "/api/availability/",
                params={
                    "practitioner": practitioner,
                    "service": service,
                    "from": (today + timedelta(days=start)).isoformat(),
                    "to": (today + timedelta(days=start + 30)).isoformat(),
                },
            ).json()["days"]
            for slot in (slot for day in days for slot in day["slots"]):
                body = {
                    "practitioner": practitioner,
                    "service": service,
                    "appointment_time": slot,
                    "client_name": "Bench Shopper",
                    "client_email": "bench.shopper@example.com",
                    "client_state": "CA",
                }
                response = http.post("/api/appointments/", json=body)
                if response.status_code == 201:
                    booked.append(response.json())
                    if len(booked) == count:
                        return booked
    return booked


def book_many(api: str, count: int) -> list[dict[str, Any]]:
    """`count` appointments, booked for the three demo practitioners side by side."""
    share = -(-count // len(OFFERINGS))
    with ThreadPoolExecutor(max_workers=len(OFFERINGS)) as pool:
        lists = pool.map(lambda offering: book_offering(api, *offering, share), OFFERINGS)
    return [appointment for booked in lists for appointment in booked][:count]


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="rate-limit-bench-"))
    admin_url, redis_url = ensure("ensure-postgres.sh"), ensure("ensure-redis.sh")
    database = f"sofia_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    sandbox_port, ports = free_port(), [free_port(), free_port()]
    sandbox = f"http://127.0.0.1:{sandbox_port}"
    replicas = [f"http://127.0.0.1:{port}" for port in ports]
    env = production_env(
        DATABASE_URL=admin_url.rsplit("/", 1)[0] + f"/{database}",
        CACHE_URL=f"{redis_url}/0?key_prefix=bench-{uuid.uuid4().hex[:12]}",
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        WEB_CONCURRENCY="2",
        GUNICORN_THREADS="16",
        LOG_LEVEL="WARNING",
        THROTTLE_BOOKING="100000/min",
        THROTTLE_PAYMENT_SESSION="100000/min",
        STRIPE_API_BASE=f"{sandbox}/stripe",
        TRUEMED_API_BASE=f"{sandbox}/truemed",
    )
    try:
        with ExitStack() as stack:
            stack.enter_context(
                served(
                    ["bash", "scripts/start-sandbox.sh"],
                    cwd=BACKEND,
                    env={
                        **env,
                        "SANDBOX_HOST": "127.0.0.1",
                        "SANDBOX_PORT": str(sandbox_port),
                        "SANDBOX_LATENCY_MS": "50",
                        "SANDBOX_STRIPE_RATE_LIMIT": str(LIMIT),
                        "SANDBOX_STRIPE_ENDPOINT_RATE_LIMIT": str(LIMIT),
                        "SANDBOX_STRIPE_WEBHOOK_URL": f"{replicas[0]}/api/webhooks/stripe/",
                        "SANDBOX_TRUEMED_WEBHOOK_URL": f"{replicas[0]}/api/webhooks/truemed/",
                    },
                    log=tmp / "sandbox.log",
                    ready=lambda: answers(f"{sandbox}/_sandbox/health"),
                    timeout=30,
                )
            )
            for index, (url, port) in enumerate(zip(replicas, ports, strict=True)):
                stack.enter_context(
                    served(
                        ["bash", "scripts/start-backend.sh"],
                        cwd=BACKEND,
                        env={
                            **env,
                            "HOST": "127.0.0.1",
                            "PORT": str(port),
                            "MIGRATE_ON_START": str(1 - index),
                        },
                        log=tmp / f"replica-{index + 1}.log",
                        ready=lambda url=url: answers(f"{url}/api/ready/"),
                        timeout=90,
                    )
                )
            run(replicas, sandbox)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def run(replicas: list[str], sandbox: str) -> None:
    total = int(SECONDS * OFFERED_PER_SECOND)
    appointments = book_many(replicas[0], total)
    httpx.delete(f"{sandbox}/_sandbox/stats.json", timeout=10)
    answers_seen: Counter[int] = Counter()
    lock = threading.Lock()

    def shop(i: int) -> None:
        time.sleep(i / OFFERED_PER_SECOND)  # arrivals spread evenly at the offered rate
        appointment = appointments[i]
        url = f"{replicas[i % len(replicas)]}/api/appointments/{appointment['id']}/payment-sessions/"
        headers = {"Authorization": f"Bearer {appointment['access_token']}"}
        for _ in range(20):
            try:  # a connection per attempt: a kept-alive one may be closed by the server meanwhile
                response = httpx.post(url, json={"provider": "stripe"}, headers=headers, timeout=60)
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

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=len(appointments)) as pool:
        list(pool.map(shop, range(len(appointments))))
    elapsed = time.monotonic() - started
    stats = httpx.get(f"{sandbox}/_sandbox/stats.json", timeout=10).json()["providers"]["stripe"]
    creates = stats["endpoints"][CREATE]
    rows = creates["per_second"]
    steady = [row["accepted"] for row in rows[1:-1]] or [row["accepted"] for row in rows]
    sustained = sum(steady) / len(steady)
    share = 100 * sustained / LIMIT
    refused = creates["refused"] + stats["global"]["refused"]
    print(  # noqa: T201
        f"provider rate limit ({len(replicas)} replicas, sandbox limit {LIMIT}/s, "
        f"offered {OFFERED_PER_SECOND}/s for {SECONDS:.0f} s):\n"
        f"  sustained creates       {sustained:6.1f} /s  = {share:5.1f}% of the limit (goal >= 90%)\n"
        f"  429s seen by provider   {refused:6d}       (goal 0)\n"
        f"  most in any one second  {creates['max_accepted_in_any_second']:6d}       (limit {LIMIT})\n"
        f"  creates accepted        {creates['accepted']:6d} of {len(appointments)} shoppers"
        f" in {elapsed:.1f} s; answers {dict(sorted(answers_seen.items()))} (503 busy; 0 no answer)"
    )


if __name__ == "__main__":
    main()
