"""Benchmark: what a payment-session create adds over the provider's own latency, 1 and 16 shoppers at once.

Production-shaped: the backend under gunicorn (`backend/scripts/start-backend.sh`, DEBUG off) on the
database of BENCH_DATABASE_URL (PostgreSQL; default: DATABASE_URL), the offline sandbox with injected
provider latency (`POST /_sandbox/config {"latency_ms": ...}`, BENCH_PROVIDER_LATENCY_MS, default 150). For
each concurrency it times, with the same number of threads at once:
- the provider alone: the real Stripe adapter's create call straight to the sandbox (what our server waits
  for inside one request);
- the whole API call: `POST /api/appointments/{id}/payment-sessions/` for a fresh booking per call.
The added latency is the difference of the two at p50 and p99. Prints figures, asserts nothing.

Run: `cd backend && DATABASE_URL=postgres://... .venv/bin/python ../bench/create_session_overhead.py`.
Importable: `measure(api_url=..., sandbox_url=..., concurrency=..., rounds=...)` against servers started
elsewhere (e.g. by `make bench`), and `start_servers(...)` to start them.
"""

# A command-line benchmark: it prints, and starts the project's own scripts.
# ruff: noqa: T201, S607, E402

from __future__ import annotations

import contextlib
import os
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx

BACKEND = Path(__file__).resolve().parent.parent / "backend"
sys.path.insert(0, str(BACKEND))

from sandbox_roundtrip_bench import request as bench_request  # bench/ (this script's folder) is on sys.path

from sofia_checkout.payments.providers.stripe_checkout.adapter import StripeCheckoutProvider
from testing.net import free_port, wait_until

STRIPE_KEY, STRIPE_WHSEC = "sk_test_bench", "whsec_bench_overhead"
TM_KEY, TM_WHSEC = "tm_bench_key", "tm_bench_whsec"


@dataclass(frozen=True)
class Overhead:
    concurrency: int
    calls: int
    provider_p50_ms: float
    provider_p99_ms: float
    api_p50_ms: float
    api_p99_ms: float
    errors: int

    @property
    def added_p50_ms(self) -> float:
        return self.api_p50_ms - self.provider_p50_ms

    @property
    def added_p99_ms(self) -> float:
        return self.api_p99_ms - self.provider_p99_ms

    def line(self) -> str:
        return (
            f"create-session, {self.concurrency:>2} at once ({self.calls} calls, {self.errors} errors): "
            f"provider p50 {self.provider_p50_ms:6.1f} ms p99 {self.provider_p99_ms:6.1f} ms | "
            f"API p50 {self.api_p50_ms:6.1f} ms p99 {self.api_p99_ms:6.1f} ms | "
            f"added p50 {self.added_p50_ms:5.1f} ms p99 {self.added_p99_ms:5.1f} ms"
        )


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def _offset(call: Callable[[int], float], by: int, i: int) -> float:
    return call(by + i)


def _in_waves(concurrency: int, rounds: int, call: Callable[[int], float]) -> list[float]:
    """`rounds` waves of `concurrency` calls started together; every call's latency in ms."""
    latencies: list[float] = []
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for wave in range(rounds):
            latencies += pool.map(call, range(wave * concurrency, (wave + 1) * concurrency))
    return latencies


def _open_slots(api: httpx.Client, needed: int) -> list[dict[str, str]]:
    """Bookable, non-overlapping (practitioner, service, time) triples from the availability API."""
    config = api.get("/api/practitioners/").raise_for_status().json()
    found: list[dict[str, str]] = []
    first = datetime.now(UTC).date() + timedelta(days=1)
    for week in range(12):
        start = first + timedelta(days=7 * week)
        for practitioner in config:
            service = practitioner["services"][0]
            blocks = timedelta(minutes=service["duration_minutes"] + service["buffer_minutes"])
            days = api.get(
                "/api/availability/",
                params={
                    "practitioner": practitioner["id"],
                    "service": service["slug"],
                    "from": start.isoformat(),
                    "to": (start + timedelta(days=6)).isoformat(),
                    "tz": "UTC",
                },
            )
            free_from = datetime.min.replace(tzinfo=UTC)
            for day in days.raise_for_status().json()["days"]:
                for slot in day["slots"]:
                    when = datetime.fromisoformat(slot)
                    if when < free_from:
                        continue  # would overlap the visit picked before it
                    free_from = when + blocks
                    found.append(
                        {
                            "practitioner": practitioner["id"],
                            "service": service["slug"],
                            "appointment_time": slot,
                        }
                    )
            if len(found) >= needed:
                return found[:needed]
    raise RuntimeError(f"only {len(found)} open slots; the benchmark needs {needed}")


def _book(api: httpx.Client, slot: dict[str, str]) -> tuple[str, dict[str, str]]:
    body = {**slot, "client_name": "Bench Shopper", "client_email": "bench@example.com", "client_state": "CA"}
    answer = api.post("/api/appointments/", json=body).raise_for_status().json()
    token = answer.get("access_token")  # the appointment's bearer token, where the API issues one
    return answer["id"], ({"Authorization": f"Bearer {token}"} if token else {})


def _stripe_adapter(sandbox_url: str) -> StripeCheckoutProvider:
    return StripeCheckoutProvider(
        secret_key=STRIPE_KEY,
        webhook_secret=STRIPE_WHSEC,
        api_base=f"{sandbox_url}/stripe",
        timeout=30,
        max_retries=0,
    )


def _warm_up_calls(concurrency: int) -> int:
    """Calls made before timing: two waves per worker thread pool (the first requests import, connect and
    build the adapters)."""
    return max(concurrency, 4) * 2


def _alternating(
    *, sandbox_url: str, concurrency: int, rounds: int, api_call: Callable[[int], float | None]
) -> Overhead:
    """Time `rounds` waves of `concurrency` calls: the provider alone (the backend's Stripe adapter straight
    to the sandbox), then `api_call` (its latency in ms, None when it failed), called with 0, 1, ... in order;
    the first _warm_up_calls(concurrency) are not timed."""
    adapter = _stripe_adapter(sandbox_url)
    warm_up = _warm_up_calls(concurrency)

    def provider_call(i: int) -> float:
        request = bench_request(i)
        started = time.perf_counter()
        adapter.create_session(request)
        return (time.perf_counter() - started) * 1000

    failed = 0

    def counted(i: int) -> float:
        nonlocal failed
        elapsed = api_call(i)
        if elapsed is None:
            failed += 1
            return 0.0
        return elapsed

    _in_waves(concurrency, 1, provider_call)  # warm the connection pools of both sides
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(api_call, range(warm_up)))
    # Waves alternate, so a noisy machine weighs on both sides alike.
    provider: list[float] = []
    through_api: list[float] = []
    for wave in range(rounds):
        provider += _in_waves(concurrency, 1, provider_call)
        through_api += _in_waves(concurrency, 1, partial(_offset, counted, warm_up + wave * concurrency))
    adapter.close()
    return Overhead(
        concurrency=concurrency,
        calls=len(through_api),
        provider_p50_ms=statistics.median(provider),
        provider_p99_ms=_p(provider, 0.99),
        api_p50_ms=statistics.median(through_api),
        api_p99_ms=_p(through_api, 0.99),
        errors=failed,
    )


def _timed_post(http: httpx.Client, url: str, headers: dict[str, str]) -> float | None:
    started = time.perf_counter()
    response = http.post(url, json={"provider": "stripe"}, headers=headers)
    elapsed = (time.perf_counter() - started) * 1000
    return elapsed if response.status_code == 201 else None


def measure(*, api_url: str, sandbox_url: str, concurrency: int, rounds: int = 10) -> Overhead:
    """Time `rounds` waves of `concurrency` create calls: the provider alone, then through the API, each
    on a fresh booking."""
    with httpx.Client(base_url=api_url, timeout=60) as api:
        needed = _warm_up_calls(concurrency) + concurrency * rounds
        booked = [_book(api, slot) for slot in _open_slots(api, needed)]

        def api_call(i: int) -> float | None:
            appointment_id, headers = booked[i]
            return _timed_post(api, f"/api/appointments/{appointment_id}/payment-sessions/", headers)

        return _alternating(
            sandbox_url=sandbox_url,
            concurrency=concurrency,
            rounds=rounds,
            api_call=api_call,
        )


def measure_forwarder(
    *, forwarder_url: str, sandbox_url: str, concurrency: int, rounds: int = 10
) -> Overhead:
    """The same waves against bench/bare_forwarder.py: what serving a create adds before any of our work."""
    with httpx.Client(base_url=forwarder_url, timeout=60) as forwarder:
        return _alternating(
            sandbox_url=sandbox_url,
            concurrency=concurrency,
            rounds=rounds,
            api_call=lambda _: _timed_post(forwarder, "/", {}),
        )


def _wait_http(url: str, process: subprocess.Popen[bytes], what: str, log: Path) -> None:
    def up() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited: {log.read_text()[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            return httpx.get(url, timeout=1).status_code == 200
        return False

    wait_until(up, 60, what, interval=0.2)


@contextlib.contextmanager
def start_servers(
    *, database_url: str, log_dir: Path, latency_ms: int, extra_env: dict[str, str] | None = None
) -> Iterator[tuple[str, str]]:
    """The sandbox (with `latency_ms` injected) and the production server on `database_url`, on free ports:
    yields (api_url, sandbox_url); both stop on the way out."""
    api_port, sandbox_port = free_port(), free_port()
    api_url, sandbox_url = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{sandbox_port}"
    base = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "LANG": "C.UTF-8",
    }
    sandbox_env = {
        **os.environ,
        **base,
        "SANDBOX_PORT": str(sandbox_port),
        "SANDBOX_STRIPE_WEBHOOK_URL": f"{api_url}/api/webhooks/stripe/",
        "SANDBOX_TRUEMED_WEBHOOK_URL": f"{api_url}/api/webhooks/truemed/",
        "SANDBOX_WEBHOOK_MAX_ATTEMPTS": "1",
        # The sandbox enforces Stripe's and Truemed's request limits (0: off); not what is measured here.
        "SANDBOX_STRIPE_RATE_LIMIT": "0",
        "SANDBOX_STRIPE_ENDPOINT_RATE_LIMIT": "0",
        "SANDBOX_TRUEMED_RATE_LIMIT": "0",
        "SANDBOX_TRUEMED_ENDPOINT_RATE_LIMIT": "0",
        "STRIPE_WEBHOOK_SECRET": STRIPE_WHSEC,
        "TRUEMED_API_KEY": TM_KEY,
        "TRUEMED_WEBHOOK_SECRET": TM_WHSEC,
        "LOG_LEVEL": "WARNING",
    }
    api_env = {
        **base,
        "HOME": os.environ.get("HOME", "/tmp"),  # noqa: S108 - only where gunicorn looks for its config
        "PYTHON": sys.executable,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": database_url,
        "PORT": str(api_port),
        "STRIPE_API_BASE": f"{sandbox_url}/stripe",
        "STRIPE_SECRET_KEY": STRIPE_KEY,
        "STRIPE_WEBHOOK_SECRET": STRIPE_WHSEC,
        "TRUEMED_API_BASE": f"{sandbox_url}/truemed",
        "TRUEMED_API_KEY": TM_KEY,
        "TRUEMED_WEBHOOK_SECRET": TM_WHSEC,
        # One client address makes every request: the rate limits are not what is measured.
        "THROTTLE_BOOKING": "1000000/min",
        "THROTTLE_PAYMENT_SESSION": "1000000/min",
        "THROTTLE_SYNC": "1000000/min",
        # Nor are our own limits on calls to the providers (0: off).
        "STRIPE_RATE_LIMIT_PER_SECOND": "0",
        "STRIPE_ENDPOINT_RATE_LIMIT_PER_SECOND": "0",
        "TRUEMED_RATE_LIMIT_PER_SECOND": "0",
        "TRUEMED_ENDPOINT_RATE_LIMIT_PER_SECOND": "0",
        "LOG_LEVEL": "WARNING",
        **(extra_env or {}),
    }
    sandbox_log, api_log = log_dir / "sandbox.log", log_dir / "backend.log"
    with sandbox_log.open("wb") as out:
        sandbox = subprocess.Popen(
            [sys.executable, "-m", "provider_sandbox"], cwd=BACKEND, env=sandbox_env, stdout=out, stderr=out
        )
    with api_log.open("wb") as out:
        backend = subprocess.Popen(
            ["bash", "scripts/start-backend.sh"],
            cwd=BACKEND,
            env=api_env,
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
    try:
        _wait_http(f"{sandbox_url}/_sandbox/health", sandbox, "the sandbox", sandbox_log)
        _wait_http(f"{api_url}/api/health/", backend, "the backend", api_log)
        httpx.post(f"{sandbox_url}/_sandbox/config", json={"latency_ms": latency_ms}).raise_for_status()
        yield api_url, sandbox_url
    finally:
        for process in (backend, sandbox):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, 15) if process is backend else process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=20)
            if process.poll() is None:
                process.kill()


def main() -> None:
    database_url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgres"):
        sys.exit("Set BENCH_DATABASE_URL (or DATABASE_URL) to a PostgreSQL database (production-shaped).")
    latency_ms = int(os.environ.get("BENCH_PROVIDER_LATENCY_MS", "150"))
    rounds = int(os.environ.get("BENCH_ROUNDS", "10"))
    log_dir = Path(os.environ.get("BENCH_LOG_DIR", "") or Path.cwd() / ".bench-logs")
    log_dir.mkdir(parents=True, exist_ok=True)
    extra: dict[str, Any] = {}
    for name in ("WEB_CONCURRENCY", "GUNICORN_THREADS", "DB_POOL_MAX_SIZE", "DB_POOL_MIN_SIZE"):
        if os.environ.get(name):
            extra[name] = os.environ[name]
    with start_servers(
        database_url=database_url, log_dir=log_dir, latency_ms=latency_ms, extra_env=extra
    ) as (
        api_url,
        sandbox_url,
    ):
        print(
            f"provider latency injected: {latency_ms} ms; server: gunicorn on {database_url.split('@')[-1]}"
        )
        for concurrency in (1, 16):
            print(
                measure(
                    api_url=api_url, sandbox_url=sandbox_url, concurrency=concurrency, rounds=rounds
                ).line()
            )


if __name__ == "__main__":
    main()
