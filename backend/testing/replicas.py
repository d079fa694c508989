"""A throwaway multi-replica site for the scale tests and the benchmarks: the provider sandbox and N
production servers (scripts/start-backend.sh, gunicorn) on one PostgreSQL and one Redis, as compose runs them.

PostgreSQL and Redis are started by scripts/ensure-postgres.sh and scripts/ensure-redis.sh; each site makes
its own database (dropped afterwards) and its own Redis key prefix, so parallel runs never share state.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import psycopg

from testing.net import free_port, served
from tests.deploy.helpers import BACKEND_DIR, REPO_DIR, production_env

# Demo practitioners and services with many open slots (follow-ups are short).
OFFERINGS = (("ana-reyes", "follow_up"), ("sam-okafor", "initial_consultation"), ("jordan-lee", "follow_up"))


def ensure(script: str) -> str:
    """Run scripts/ensure-postgres.sh or ensure-redis.sh; its last line is the server's URL."""
    result = subprocess.run(  # noqa: S603 - the project's own scripts
        ["bash", str(REPO_DIR / "scripts" / script)],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if result.returncode != 0:
        raise RuntimeError(f"scripts/{script} failed: {result.stderr}")
    return result.stdout.strip().splitlines()[-1]


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@dataclass
class Site:
    replicas: list[str]
    sandbox: str
    env: dict[str, str]  # the replicas' environment, for manage.py commands beside them
    redis_url: str
    cache_prefix: str
    logs: list[Path]  # sandbox, then replica-1, replica-2, ...

    def server_logs(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text()[-3000:]}" for log in self.logs)


@contextmanager
def replica_site(
    tmp: Path, *, replicas: int, env: dict[str, str], sandbox_env: dict[str, str], name: str = "replicas"
) -> Iterator[Site]:
    """Start the sandbox and `replicas` servers; `env` adds to (or replaces) the production environment of
    every process, `sandbox_env` to the sandbox's only. `name` marks the database and the Redis key prefix."""
    admin_url, redis_url = ensure("ensure-postgres.sh"), ensure("ensure-redis.sh")
    database = f"sofia_{name}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    prefix = f"{name}-{uuid.uuid4().hex[:12]}"
    sandbox_port, ports = free_port(), [free_port() for _ in range(replicas)]
    sandbox = f"http://127.0.0.1:{sandbox_port}"
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    site_env = production_env(
        DATABASE_URL=admin_url.rsplit("/", 1)[0] + f"/{database}",
        CACHE_URL=f"{redis_url}/0?key_prefix={prefix}",
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        WEB_CONCURRENCY="2",
        STRIPE_API_BASE=f"{sandbox}/stripe",
        TRUEMED_API_BASE=f"{sandbox}/truemed",
        **env,
    )
    logs = [tmp / "sandbox.log", *(tmp / f"replica-{i + 1}.log" for i in range(replicas))]
    try:
        with ExitStack() as stack:
            stack.enter_context(
                served(
                    ["bash", "scripts/start-sandbox.sh"],
                    cwd=BACKEND_DIR,
                    env={
                        **site_env,
                        "SANDBOX_HOST": "127.0.0.1",
                        "SANDBOX_PORT": str(sandbox_port),
                        "SANDBOX_STRIPE_WEBHOOK_URL": f"{urls[0]}/api/webhooks/stripe/",
                        "SANDBOX_TRUEMED_WEBHOOK_URL": f"{urls[0]}/api/webhooks/truemed/",
                        **sandbox_env,
                    },
                    log=logs[0],
                    ready=partial(answers, f"{sandbox}/_sandbox/health"),
                    timeout=30,
                )
            )
            # The first replica migrates; the others start on the migrated database (MIGRATE_ON_START=0).
            for index, (url, port) in enumerate(zip(urls, ports, strict=True)):
                stack.enter_context(
                    served(
                        ["bash", "scripts/start-backend.sh"],
                        cwd=BACKEND_DIR,
                        env={
                            **site_env,
                            "HOST": "127.0.0.1",
                            "PORT": str(port),
                            "MIGRATE_ON_START": "1" if index == 0 else "0",
                            "BACKEND_REPLICA_NAME": f"replica-{index + 1}",
                        },
                        log=logs[index + 1],
                        ready=partial(answers, f"{url}/api/ready/"),
                        timeout=90,
                    )
                )
            yield Site(urls, sandbox, site_env, redis_url, prefix, logs)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _book_offering(api: str, practitioner: str, service: str, count: int) -> list[dict[str, Any]]:
    """Up to `count` appointments in the practitioner's open slots over 93 days (earliest first)."""
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
                    "client_name": "Jane Doe",
                    "client_email": "jane.doe@example.com",
                    "client_state": "CA",
                }
                response = http.post("/api/appointments/", json=body)
                if response.status_code == 201:
                    booked.append(response.json())
                    if len(booked) == count:
                        return booked
                elif response.status_code != 409:  # 409: overlaps the one just booked
                    raise AssertionError(response.text)
    return booked


@contextmanager
def stripe_limited_site(
    tmp: Path, *, replicas: int, limit: int, name: str, safety: float | None = None
) -> Iterator[Site]:
    """`replica_site` with the sandbox holding Stripe's limits (`limit` a second per account and per
    endpoint, 50 ms latency) and our own pacing at its production defaults (PROVIDER_RATE_LIMIT_SAFETY
    0.92, unless `safety` is given): the provider's limit is what is under test, not our booking and create
    throttles."""
    env = {
        "GUNICORN_THREADS": "16",
        "LOG_LEVEL": "WARNING",
        "THROTTLE_BOOKING": "100000/min",
        "THROTTLE_PAYMENT_SESSION": "100000/min",
    }
    if safety is not None:
        env["PROVIDER_RATE_LIMIT_SAFETY"] = str(safety)
    sandbox_env = {
        "SANDBOX_LATENCY_MS": "50",
        "SANDBOX_STRIPE_RATE_LIMIT": str(limit),
        "SANDBOX_STRIPE_ENDPOINT_RATE_LIMIT": str(limit),
    }
    with replica_site(tmp, replicas=replicas, env=env, sandbox_env=sandbox_env, name=name) as site:
        yield site


def book_many(api: str, count: int) -> list[dict[str, Any]]:
    """`count` appointments (with their access tokens), booked for the demo practitioners side by side."""
    share = -(-count // len(OFFERINGS))
    with ThreadPoolExecutor(max_workers=len(OFFERINGS)) as pool:
        lists = pool.map(lambda offering: _book_offering(api, offering[0], offering[1], share), OFFERINGS)
    booked = [appointment for appointments in lists for appointment in appointments][:count]
    if len(booked) < count:
        raise AssertionError(f"only {len(booked)} open slots")
    return booked
