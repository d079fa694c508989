"""HTTP benchmark (issue 13): the product measured from outside, as a clinic runs it. `make bench` runs it.

Starts, on free ports: the provider sandbox with 150 ms injected latency; the production server
(backend/scripts/start-backend.sh: gunicorn) on a PostgreSQL database of its own and Redis (a key prefix of
its own); and `make run`'s server (backend/scripts/serve-dev.sh) on a SQLite file. Then prints every row of
the issue-13 table measured in this run, with the goal beside it and PASS/MISS:

  (a) `make run` (SQLite): a booking while another shopper's payment-session create waits 3 s on the provider
  (b) create-session latency added over the provider's own (the backend's adapter calling the sandbox
      directly, the same way, in the same run), 1 shopper (median) and 16 shoppers (median, p99); and, for
      reference, the same against bench/bare_forwarder.py under the same gunicorn: the floor those rows
      start from before the product does any work
  (c) appointment read req/s / /api/health/ req/s, 32 connections (wrk): the polling path (If-None-Match),
      the median of BENCH_WRK_PAIRS (5) runs each paired with a health run in ABBA order; the full read once
  (d) queries: new payment session / booking / appointment read (CaptureQueriesContext, in process, same DB)
  (e) `make run` under 50 simultaneous clients: resets and 5xx
  (f, g) SPA first-route JS (gzip) and LCP at 4x CPU throttle: frontend/scripts/measure-spa.mjs

Benchmarks print figures; nothing here is a timed test. Needs root for PostgreSQL
(scripts/ensure-postgres.sh), Debian's redis-server and wrk (scripts/install-system-deps.sh).
BENCH_SKIP_SPA=1 skips (f, g); BENCH_ROUNDS_ONE, BENCH_ROUNDS_MANY, BENCH_WRK_SECONDS and BENCH_WRK_PAIRS size
the runs.
"""

# A command-line benchmark: it prints, and runs the project's own scripts.
# ruff: noqa: T201, S603, S607, E402, PLC0415

from __future__ import annotations

import json
import os
import platform
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
BACKEND = REPO / "backend"
FRONTEND = REPO / "frontend"
sys.path.insert(0, str(BACKEND))

import httpx

from testing.net import free_port, served
from testing.replicas import answers, ensure

PROVIDER_LATENCY_MS = 150
# These rows measure our latency over the provider's, not the providers' request limits (16 shoppers
# create about 80 sessions a second here): both the sandbox's and ours are off. rate_limit_bench.py
# measures the limits.
NO_PROVIDER_RATE_LIMITS = dict.fromkeys(
    (
        "SANDBOX_STRIPE_RATE_LIMIT",
        "SANDBOX_STRIPE_ENDPOINT_RATE_LIMIT",
        "SANDBOX_TRUEMED_RATE_LIMIT",
        "SANDBOX_TRUEMED_ENDPOINT_RATE_LIMIT",
        "STRIPE_RATE_LIMIT_PER_SECOND",
        "STRIPE_ENDPOINT_RATE_LIMIT_PER_SECOND",
        "TRUEMED_RATE_LIMIT_PER_SECOND",
        "TRUEMED_ENDPOINT_RATE_LIMIT_PER_SECOND",
    ),
    "0",
)
SLOW_PROVIDER_MS = 3000
SHOPPERS = 16
ROUNDS_ONE = int(os.environ.get("BENCH_ROUNDS_ONE", "20"))
ROUNDS_MANY = int(os.environ.get("BENCH_ROUNDS_MANY", "8"))
WRK_CONNECTIONS = 32
WRK_SECONDS = int(os.environ.get("BENCH_WRK_SECONDS", "3"))
WRK_PAIRS = int(os.environ.get("BENCH_WRK_PAIRS", "5"))
SIMULTANEOUS = 50
HIGH_LIMIT = "1000000/min"  # every request comes from 127.0.0.1: the rate limits must not be what is measured


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


# --- the servers -----------------------------------------------------------------------------------------


@contextmanager
def own_database(admin_url: str) -> Iterator[str]:
    import psycopg

    name = f"sofia_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        from django.apps import apps
        from django.db import connections

        if apps.ready:
            connections.close_all()  # this process's own (query counts)
        try:
            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except psycopg.Error as error:  # never hide the run's own outcome behind a clean-up failure
            log(f"could not drop the bench database {name}: {error}")


def base_env(**overrides: str) -> dict[str, str]:
    env = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": os.environ.get("HOME", str(Path.home())),
        "LANG": "C.UTF-8",
        "PYTHON": sys.executable,
        "LOG_LEVEL": "WARNING",
        "THROTTLE_BOOKING": HIGH_LIMIT,
        "THROTTLE_PAYMENT_SESSION": HIGH_LIMIT,
        "THROTTLE_SYNC": HIGH_LIMIT,
        "THROTTLE_APPOINTMENT_READ": HIGH_LIMIT,
        **NO_PROVIDER_RATE_LIMITS,
    }
    env.update(overrides)
    return env


@dataclass
class Run:
    tmp: Path
    stack: ExitStack
    sandbox: str = ""
    production: str = ""
    make_run: str = ""
    forwarder: str = ""
    production_env: dict[str, str] = field(default_factory=dict)

    def serve(self, name: str, command: list[str], env: dict[str, str], ready_url: str) -> None:
        log(f"starting {name}")
        self.stack.enter_context(
            served(
                command,
                cwd=BACKEND,
                env=env,
                log=self.tmp / f"{name}.log",
                ready=lambda: answers(ready_url),
                timeout=120,
            )
        )

    def provider_latency(self, ms: int) -> None:
        answer = httpx.post(f"{self.sandbox}/_sandbox/config", json={"latency_ms": ms}, timeout=10)
        answer.raise_for_status()


def start_everything(run: Run, database_url: str, redis_url: str) -> None:
    sandbox_port, production_port, dev_port = free_port(), free_port(), free_port()
    run.sandbox = f"http://127.0.0.1:{sandbox_port}"
    run.production = f"http://127.0.0.1:{production_port}"
    run.make_run = f"http://127.0.0.1:{dev_port}"
    providers = {"STRIPE_API_BASE": f"{run.sandbox}/stripe", "TRUEMED_API_BASE": f"{run.sandbox}/truemed"}
    run.serve(
        "sandbox",
        ["bash", "scripts/start-sandbox.sh"],
        base_env(
            SANDBOX_HOST="127.0.0.1",
            SANDBOX_PORT=str(sandbox_port),
            SANDBOX_LATENCY_MS=str(PROVIDER_LATENCY_MS),
            SANDBOX_STRIPE_WEBHOOK_URL=f"{run.production}/api/webhooks/stripe/",
            SANDBOX_TRUEMED_WEBHOOK_URL=f"{run.production}/api/webhooks/truemed/",
        ),
        f"{run.sandbox}/_sandbox/health",
    )
    run.production_env = base_env(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,testserver",
        DJANGO_SECURE_SSL_REDIRECT="0",
        DATABASE_URL=database_url,
        CACHE_URL=f"{redis_url}/0?key_prefix=bench-{uuid.uuid4().hex[:10]}",
        HOST="127.0.0.1",
        PORT=str(production_port),
        LOG_FORMAT="json",
        **providers,
    )
    run.serve(
        "production",
        ["bash", "scripts/start-backend.sh"],
        run.production_env,
        f"{run.production}/api/ready/",
    )
    # The floor under the create rows: bench/bare_forwarder.py under the same gunicorn, settings and env.
    forwarder_port = free_port()
    run.forwarder = f"http://127.0.0.1:{forwarder_port}"
    run.serve(
        "bare-forwarder",
        [
            *(sys.executable, "-m", "gunicorn", "--pythonpath", str(REPO / "bench")),
            *("-c", "gunicorn.conf.py", "bare_forwarder:application"),
        ],
        {**run.production_env, "PORT": str(forwarder_port)},
        f"{run.forwarder}/",
    )
    # `make run`'s backend exactly as the Procfile starts it, on a SQLite file of its own.
    run.serve(
        "make-run",
        ["bash", "scripts/serve-dev.sh"],
        base_env(
            DATABASE_URL=f"sqlite:///{run.tmp / 'make-run.sqlite3'}",
            BACKEND_PORT=str(dev_port),
            LOG_LEVEL="WARNING",
            **providers,
        ),
        f"{run.make_run}/api/health/",
    )
    # Both databases: every demo practitioner bookable around the clock, so the bench books any half hour.
    for url in (database_url, f"sqlite:///{run.tmp / 'make-run.sqlite3'}"):
        env = base_env(DATABASE_URL=url, DJANGO_DEBUG="1")
        code = "from testing.schedule import bookable_around_the_clock; bookable_around_the_clock()"
        subprocess.run(
            [sys.executable, "manage.py", "shell", "-v", "0", "-c", code], cwd=BACKEND, env=env, check=True
        )


# --- shoppers ------------------------------------------------------------------------------------------


class Slots:
    """Distinct half-hour follow-up visits, two practitioners, from three hours ahead on."""

    def __init__(self) -> None:
        start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=3)
        self._next = (
            (start + timedelta(minutes=30 * (i // 2)), ("ana-reyes", "jordan-lee")[i % 2])
            for i in range(10**6)
        )
        self._lock = threading.Lock()

    def take(self) -> tuple[datetime, str]:
        with self._lock:
            return next(self._next)


SLOTS = Slots()


def next_booking() -> dict[str, str]:
    """A booking body for the next free slot (each bench booking takes its own half hour)."""
    when, practitioner = SLOTS.take()
    return {
        "practitioner": practitioner,
        "service": "follow_up",
        "appointment_time": when.isoformat(),
        "client_name": "Bench Shopper",
        "client_email": "bench.shopper@example.com",
        "client_state": "CA",
    }


def book(http: httpx.Client, api: str) -> tuple[float, httpx.Response]:
    body = next_booking()
    started = time.perf_counter()
    answer = http.post(f"{api}/api/appointments/", json=body)
    return (time.perf_counter() - started) * 1000, answer


def token_headers(appointment: dict[str, Any]) -> dict[str, str]:
    """The appointment's access token (issue 12) when the API hands one out."""
    token = appointment.get("access_token")
    return {"Authorization": f"Bearer {token}"} if token else {}


def booked(api: str, count: int) -> list[dict[str, Any]]:
    def one(_: int) -> dict[str, Any]:
        with httpx.Client(timeout=30) as http:
            _, answer = book(http, api)
        if answer.status_code != 201:
            raise RuntimeError(f"booking failed: {answer.status_code} {answer.text[:300]}")
        return dict(answer.json())

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(one, range(count)))


def create_session(http: httpx.Client, api: str, appointment: dict[str, Any]) -> float:
    started = time.perf_counter()
    answer = http.post(
        f"{api}/api/appointments/{appointment['id']}/payment-sessions/",
        json={"provider": "stripe"},
        headers=token_headers(appointment),
    )
    elapsed = (time.perf_counter() - started) * 1000
    if answer.status_code not in {200, 201}:
        raise RuntimeError(f"create session failed: {answer.status_code} {answer.text[:300]}")
    return elapsed


# --- (a) and (e): make run -------------------------------------------------------------------------------


def booking_beside_a_slow_create(run: Run) -> dict[str, Any]:
    """Bookings made while another shopper's create waits SLOW_PROVIDER_MS on the provider."""
    appointment = booked(run.make_run, 1)[0]
    run.provider_latency(SLOW_PROVIDER_MS)
    try:
        slow: dict[str, float] = {}

        def shopper() -> None:
            with httpx.Client(timeout=60) as http:
                slow["ms"] = create_session(http, run.make_run, appointment)

        creating = threading.Thread(target=shopper)
        creating.start()
        latencies: list[float] = []
        with httpx.Client(timeout=60) as http:
            for _ in range(3):  # at about 0.5, 1 and 1.5 s into the create (or later, if they wait)
                time.sleep(0.5)
                ms, answer = book(http, run.make_run)
                if answer.status_code != 201:
                    raise RuntimeError(f"booking failed: {answer.status_code} {answer.text[:300]}")
                latencies.append(ms)
        creating.join()
    finally:
        run.provider_latency(PROVIDER_LATENCY_MS)
    return {"bookings_ms": latencies, "worst_ms": max(latencies), "slow_create_ms": slow.get("ms", 0.0)}


def simultaneous_clients(api: str) -> dict[str, Any]:
    """50 clients at once on `make run`'s server: 20 bookings and 30 reads, one connection each."""
    barrier = threading.Barrier(SIMULTANEOUS)

    def client(i: int) -> int | str:
        with httpx.Client(timeout=60) as http:
            barrier.wait(timeout=30)
            try:
                if i < 20:
                    return book(http, api)[1].status_code
                return http.get(
                    f"{api}{('/api/health/', '/api/config/', '/api/practitioners/')[i % 3]}"
                ).status_code
            except httpx.HTTPError as error:
                return type(error).__name__

    with ThreadPoolExecutor(max_workers=SIMULTANEOUS) as pool:
        results = list(pool.map(client, range(SIMULTANEOUS)))
    resets = sum(1 for r in results if isinstance(r, str))
    errors = sum(1 for r in results if isinstance(r, int) and r >= 500)
    return {"resets": resets, "5xx": errors, "statuses": sorted({str(r) for r in results})}


# --- (b): create-session latency over the provider's ---------------------------------------------------


def create_session_overhead(run: Run) -> dict[str, Any]:
    """bench/create_session_overhead.py's measurement (one implementation for both benchmarks): waves of
    creates through our API, each on a fresh booking, alternating with waves of the backend's own Stripe
    adapter calling the sandbox directly, after a warm-up; the added latency is the difference. Then the
    same against bench/bare_forwarder.py: the floor any create endpoint served this way starts from. Each
    figure is create_session_overhead.Overhead, by name: one, many, floor_one, floor_many."""
    from create_session_overhead import measure, measure_forwarder  # bench/ is on sys.path

    one = measure(api_url=run.production, sandbox_url=run.sandbox, concurrency=1, rounds=ROUNDS_ONE)
    many = measure(api_url=run.production, sandbox_url=run.sandbox, concurrency=SHOPPERS, rounds=ROUNDS_MANY)
    floor_one, floor_many = (
        measure_forwarder(forwarder_url=run.forwarder, sandbox_url=run.sandbox, concurrency=c, rounds=r)
        for c, r in ((1, ROUNDS_ONE), (SHOPPERS, ROUNDS_MANY))
    )
    for overhead in (one, many, floor_one, floor_many):
        if overhead.errors:
            raise RuntimeError(f"{overhead.errors} creates failed: {overhead.line()}")
    return {"one": one, "many": many, "floor_one": floor_one, "floor_many": floor_many}


# --- (c): appointment read vs health, wrk ------------------------------------------------------------


def wrk(url: str, headers: dict[str, str], seconds: int = WRK_SECONDS) -> dict[str, Any]:
    command = ["wrk", "-t2", f"-c{WRK_CONNECTIONS}", f"-d{seconds}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "rps": float(rate.group(1)) if rate else 0.0,
        "non_2xx_3xx": int(bad.group(1)) if bad else 0,
        "socket_errors": sum(int(n) for n in errors.groups()) if errors else 0,
    }


def paired_ratios(
    target: tuple[str, dict[str, str]], health_url: str, pairs: int
) -> tuple[list[float], list[dict[str, Any]]]:
    """`pairs` runs of `target` each beside a run of health, in ABBA order (health first, then the target
    first, ...), so that a machine whose speed drifts during the row weighs on both sides alike: each pair's
    req/s ratio, and the target's runs."""
    ratios: list[float] = []
    runs: list[dict[str, Any]] = []
    for pair in range(pairs):
        if pair % 2 == 0:
            health = wrk(health_url, {})
            measured = wrk(*target)
        else:
            measured = wrk(*target)
            health = wrk(health_url, {})
        ratios.append(measured["rps"] / health["rps"])
        runs.append({**measured, "health_rps": health["rps"]})
    return ratios, runs


def read_vs_health(run: Run) -> dict[str, Any]:
    """The full read beside health once; the polling path (If-None-Match: 304, the row's figure) in
    WRK_PAIRS pairs with health, its figure the median of the pairs' ratios (every pair is printed)."""
    appointment = booked(run.production, 1)[0]
    url = f"{run.production}/api/appointments/{appointment['id']}/"
    headers = token_headers(appointment)
    first = httpx.get(url, headers=headers, timeout=10)
    first.raise_for_status()
    health_url = f"{run.production}/api/health/"
    (ratio,), (read,) = paired_ratios((url, headers), health_url, 1)
    result: dict[str, Any] = {"health": {"rps": read["health_rps"]}, "read": read, "ratio": ratio}
    etag = first.headers.get("ETag")
    if etag:
        again = httpx.get(url, headers={**headers, "If-None-Match": etag}, timeout=10)
        poll_ratios, polls = paired_ratios((url, {**headers, "If-None-Match": etag}), health_url, WRK_PAIRS)
        result.update(
            poll={"rps": statistics.median(r["rps"] for r in polls)},
            poll_status=again.status_code,
            poll_ratio=statistics.median(poll_ratios),
            poll_ratios=poll_ratios,
            health={"rps": statistics.median(r["health_rps"] for r in polls)},
        )
    return result


# --- (d): queries ----------------------------------------------------------------------------------------


def expect_status(status: int, expected: set[int], body: bytes) -> None:
    if status not in expected:
        raise RuntimeError(f"HTTP {status}, expected {sorted(expected)}: {body[:300]!r}")


def query_counts() -> dict[str, int]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    body = next_booking()
    counts: dict[str, int] = {}
    with CaptureQueriesContext(connection) as booking:
        answer = client.post("/api/appointments/", body, content_type="application/json")
    expect_status(answer.status_code, {201}, answer.content)
    counts["booking"] = len(booking.captured_queries)
    appointment = answer.json()
    auth = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in token_headers(appointment).items()}
    with CaptureQueriesContext(connection) as create:
        answer = client.post(
            f"/api/appointments/{appointment['id']}/payment-sessions/",
            {"provider": "stripe"},
            content_type="application/json",
            **auth,
        )
    expect_status(answer.status_code, {200, 201}, answer.content)
    counts["new payment session"] = len(create.captured_queries)
    client.get(f"/api/appointments/{appointment['id']}/", **auth)  # warm, as a poll after the first is
    with CaptureQueriesContext(connection) as read:
        answer = client.get(f"/api/appointments/{appointment['id']}/", **auth)
    expect_status(answer.status_code, {200}, answer.content)
    counts["appointment read"] = len(read.captured_queries)
    if answer.get("ETag"):
        with CaptureQueriesContext(connection) as poll:
            again = client.get(
                f"/api/appointments/{appointment['id']}/", HTTP_IF_NONE_MATCH=answer["ETag"], **auth
            )
        counts["appointment read (If-None-Match)"] = len(poll.captured_queries)
        counts["poll status"] = again.status_code
    return counts


def django_in_process(env: dict[str, str]) -> None:
    """This process talks to the production server's database and sandbox with its settings (for (b), (d))."""
    for name in list(os.environ):
        if name.startswith(("DJANGO_", "DATABASE_", "STRIPE_", "TRUEMED_", "THROTTLE_", "CACHE_", "REDIS_")):
            del os.environ[name]
    os.environ.update({k: v for k, v in env.items() if k not in {"HOST", "PORT", "PATH", "HOME"}})
    import warnings

    import django

    # Static files are not collected here (the server never serves them in this bench).
    warnings.filterwarnings("ignore", message="No directory at")
    django.setup()


# --- (f, g): the SPA --------------------------------------------------------------------------------------


def spa_figures() -> dict[str, Any] | str:
    script = FRONTEND / "scripts" / "measure-spa.mjs"
    if os.environ.get("BENCH_SKIP_SPA") == "1":
        return "skipped (BENCH_SKIP_SPA=1)"
    if not script.exists():
        return "not measured (frontend/scripts/measure-spa.mjs is missing)"
    log("measuring the SPA (build, then Chromium at 4x CPU throttle)")
    out = subprocess.run(["node", str(script)], cwd=FRONTEND, capture_output=True, text=True, check=False)
    lines = [line for line in out.stdout.splitlines() if line.strip().startswith("{")]
    if out.returncode != 0 or not lines:
        return f"not measured (measure-spa.mjs exit {out.returncode}: {out.stderr.strip()[-300:]})"
    figures: dict[str, Any] = json.loads(lines[-1])
    return figures


# --- the table -------------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.1f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    postgres = subprocess.run(
        ["psql", "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    redis_version = subprocess.run(
        ["redis-server", "--version"], capture_output=True, text=True, check=False
    ).stdout.split(" sha=")[0]
    return (
        f"{os.cpu_count()} cores ({cpu}){memory}; {platform.platform()}; Python {platform.python_version()}; "
        f"{postgres}; {redis_version}"
    )


def print_table(rows: list[tuple[str, str, str, str]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    header = ("what", "measured", "goal", "")
    widths = [max(w, len(h)) for w, h in zip(widths, header, strict=True)]
    line = " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    print(f"| {line} |")
    print("| " + " | ".join("-" * w for w in widths) + " |")
    for row in rows:
        print("| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) + " |")


Row = tuple[str, str, str, str]


def ms_list(values: list[float]) -> str:
    return ", ".join(f"{v:.0f}" for v in values)


def table(  # noqa: PLR0917 - one argument per measured part, in the table's order
    slow: dict[str, Any],
    crowd: dict[str, Any],
    overhead: dict[str, Any],
    reads: dict[str, Any],
    queries: dict[str, int],
    spa: dict[str, Any] | str,
) -> list[Row]:
    one, many = overhead["one"], overhead["many"]
    floor_one, floor_many = overhead["floor_one"], overhead["floor_many"]
    polled = "poll" in reads
    ratio = reads["poll_ratio"] if polled else reads["ratio"]
    poll = (
        f"median of {len(reads['poll_ratios'])} pairs: "
        f"{', '.join(f'{r:.2f}' for r in reads['poll_ratios'])}; If-None-Match -> {reads['poll_status']}: "
        f"{reads['poll']['rps']:.0f} req/s; "
        if polled
        else "no ETag, plain reads; "
    )
    counts = (queries["new payment session"], queries["booking"], queries["appointment read"])
    conditional = f"; conditional read {queries['appointment read (If-None-Match)']}" if polled else ""
    rows: list[Row] = [
        (
            "make run (SQLite): a booking while another shopper's create waits 3 s on the provider",
            f"{slow['worst_ms']:.0f} ms worst of {ms_list(slow['bookings_ms'])} ms "
            f"(the create took {slow['slow_create_ms']:.0f} ms)",
            "<= 200 ms",
            verdict(slow["worst_ms"] <= 200),
        ),
        (
            "added latency of create-session over the provider's latency, one shopper",
            f"{one.added_p50_ms:.1f} ms median (create {one.api_p50_ms:.1f} "
            f"- provider {one.provider_p50_ms:.1f} ms)",
            "<= 5 ms",
            verdict(one.added_p50_ms <= 5),
        ),
        (
            f"same, {SHOPPERS} shoppers at once",
            f"{many.added_p50_ms:.1f} ms median, {many.added_p99_ms:.1f} ms p99 (create "
            f"{many.api_p50_ms:.0f}/{many.api_p99_ms:.0f}, provider "
            f"{many.provider_p50_ms:.0f}/{many.provider_p99_ms:.0f} ms)",
            "<= 15 ms median, <= 50 ms p99",
            verdict(many.added_p50_ms <= 15 and many.added_p99_ms <= 50),
        ),
        (
            "reference, no goal: the two rows above against bench/bare_forwarder.py (same gunicorn and "
            "Stripe adapter; no Django, no database): what serving a create adds before our work",
            f"one shopper {floor_one.added_p50_ms:.1f} ms median; {SHOPPERS} shoppers "
            f"{floor_many.added_p50_ms:.1f} ms median, {floor_many.added_p99_ms:.1f} ms p99 (forwarder "
            f"{floor_many.api_p50_ms:.0f}/{floor_many.api_p99_ms:.0f}, provider "
            f"{floor_many.provider_p50_ms:.0f}/{floor_many.provider_p99_ms:.0f} ms)",
            "(the floor)",
            "-",
        ),
        (
            f"appointment read (polling) req/s / /api/health/ req/s, {WRK_CONNECTIONS} connections",
            f"{ratio:.2f} ({poll}full read {reads['read']['rps']:.0f} req/s = {reads['ratio']:.2f}; "
            f"health {reads['health']['rps']:.0f} req/s)",
            ">= 0.40",
            verdict(ratio >= 0.40),
        ),
        (
            "queries: new payment session / booking / appointment read",
            f"{counts[0]} / {counts[1]} / {counts[2]}{conditional}",
            "<= 8 / <= 4 / <= 2",
            verdict(counts[0] <= 8 and counts[1] <= 4 and counts[2] <= 2),
        ),
        (
            f"make run under {SIMULTANEOUS} simultaneous clients",
            f"{crowd['resets']} resets, {crowd['5xx']} 5xx (statuses {', '.join(crowd['statuses'])})",
            "no reset, no 5xx",
            verdict(crowd["resets"] == 0 and crowd["5xx"] == 0),
        ),
    ]
    js, lcp = "checkout SPA: JavaScript for the first route, gzip", "LCP of the booking page, 4x CPU throttle"
    if isinstance(spa, str):
        return [*rows, (js, spa, "<= 90 KiB", "MISS"), (lcp, spa, "<= 600 ms", "MISS")]
    kib = spa["first_route_js_gzip_bytes"] / 1024
    median_lcp = float(spa["lcp_ms_median"])
    runs = [float(v) for v in spa.get("lcp_ms", [])]
    spa_rows = [
        (js, f"{kib:.1f} KiB", "<= 90 KiB", verdict(kib <= 90)),
        (lcp, f"{median_lcp:.0f} ms median of {ms_list(runs)} ms", "<= 600 ms", verdict(median_lcp <= 600)),
    ]
    if "lcp_floor_ms_median" in spa:
        floor = [float(v) for v in spa["lcp_floor_ms"]]
        spa_rows.append(
            (
                "reference, no goal: LCP of a plain two-line HTML page (no CSS, no JS), same server, "
                "Chromium and throttle, alternated with the row above: the navigation's own cost",
                f"{float(spa['lcp_floor_ms_median']):.0f} ms median of {ms_list(floor)} ms",
                "(the floor)",
                "-",
            )
        )
    return [*rows, *spa_rows]


def main() -> int:
    for tool in ("wrk", "redis-server", "psql"):
        if not shutil.which(tool):
            print(f"bench: `{tool}` is missing: bash scripts/install-system-deps.sh", file=sys.stderr)
            return 1
    admin_url = ensure("ensure-postgres.sh")
    redis_url = ensure("ensure-redis.sh")
    started = time.monotonic()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="sofia-bench-") as tmp, own_database(admin_url) as database_url:
        with ExitStack() as stack:
            run = Run(Path(tmp), stack)
            start_everything(run, database_url, redis_url)
            django_in_process(run.production_env)
            log("(a) a booking beside a create that waits 3 s on the provider (make run)")
            slow = booking_beside_a_slow_create(run)
            log("(e) 50 simultaneous clients (make run)")
            crowd = simultaneous_clients(run.make_run)
            # (d) and (c) book one visit each first; (b) then books around them (availability API).
            log("(d) queries per request")
            queries = query_counts()
            log("(c) appointment read vs /api/health/ with wrk")
            reads = read_vs_health(run)
            log("(b) create-session latency over the provider's, 1 and 16 shoppers")
            overhead = create_session_overhead(run)
        spa = spa_figures()

    rows = table(slow, crowd, overhead, reads, queries, spa)
    print(
        f"\nIssue 13, measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC in {time.monotonic() - started:.0f} s"
    )
    print(f"Machine: {machine()}")
    # Other work on the machine inflates every absolute time; say how busy it was.
    print(f"Load average (1 min): {load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end")
    print(
        "Production server: scripts/start-backend.sh (gunicorn, "
        f"WEB_CONCURRENCY={os.environ.get('WEB_CONCURRENCY', '2')}) on PostgreSQL + Redis; make run: "
        f"scripts/serve-dev.sh on SQLite; sandbox latency {PROVIDER_LATENCY_MS} ms.\n"
    )
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
