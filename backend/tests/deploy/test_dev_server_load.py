"""`make run`'s backend (scripts/serve-dev.sh: gunicorn with reload, SQLite) holds 50 simultaneous clients:
every connection is answered, none is reset, nothing answers 5xx (Django's development server reset them)."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from testing.booking import booking
from testing.net import free_port, served
from tests.deploy.helpers import BACKEND_DIR

CLIENTS = 50
BOOKINGS = 20  # of the 50: writers on SQLite beside the readers


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _open_slots(api: str, count: int) -> list[str]:
    today = datetime.now(UTC).date()
    slots: list[str] = []
    for start in range(0, 60, 14):
        days = httpx.get(
            f"{api}/api/availability/",
            params={
                "practitioner": "ana-reyes",
                "service": "initial_consultation",
                "from": (today + timedelta(days=start)).isoformat(),
                "to": (today + timedelta(days=start + 13)).isoformat(),
            },
            timeout=10,
        ).json()["days"]
        for slot in (slot for day in days for slot in day["slots"]):
            # Far enough apart that no two bookings overlap (a conflict is a 409, not what is tested).
            begins = datetime.fromisoformat(slot)
            if not slots or begins >= datetime.fromisoformat(slots[-1]) + timedelta(hours=3):
                slots.append(slot)
        if len(slots) >= count:
            return slots[:count]
    raise AssertionError(f"only {len(slots)} open slots in 60 days")


def test_make_run_backend_holds_50_simultaneous_clients(tmp_path: Path) -> None:
    port = free_port()
    api = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "BACKEND_PORT": str(port),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'dev.sqlite3'}",
        "THROTTLE_BOOKING": "1000/min",
        "LOG_LEVEL": "INFO",
    }
    for name in ("PORT", "WEB_CONCURRENCY", "GUNICORN_THREADS", "CACHE_URL", "REDIS_URL"):
        env.pop(name, None)
    log = tmp_path / "serve-dev.log"
    with served(
        ["bash", str(BACKEND_DIR / "scripts" / "serve-dev.sh")],
        cwd=BACKEND_DIR,
        env=env,
        log=log,
        ready=lambda: _answers(f"{api}/api/health/"),
        timeout=60,
    ):
        slots = _open_slots(api, BOOKINGS)
        barrier = threading.Barrier(CLIENTS)

        def client(i: int) -> int | str:
            # One connection per client, all opened at once (no pooling between them).
            with httpx.Client(timeout=30) as http:
                barrier.wait(timeout=30)
                try:
                    if i < BOOKINGS:
                        body = booking(practitioner="ana-reyes", appointment_time=slots[i])
                        return http.post(f"{api}/api/appointments/", json=body).status_code
                    path = ("/api/health/", "/api/config/", "/api/practitioners/")[i % 3]
                    return http.get(f"{api}{path}").status_code
                except httpx.HTTPError as error:
                    return f"{type(error).__name__}: {error}"

        with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            results = list(pool.map(client, range(CLIENTS)))
    failures = [r for r in results if not isinstance(r, int) or r >= 500]
    assert failures == [], f"{failures}\n{log.read_text()[-3000:]}"
    assert results[:BOOKINGS] == [201] * BOOKINGS, results
    assert set(results[BOOKINGS:]) == {200}, results
    output = log.read_text()
    assert "Starting gunicorn" in output
    assert "each keep their own cache" not in output  # one worker: local memory is right
