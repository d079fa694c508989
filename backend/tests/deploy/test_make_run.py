"""`make run` (honcho + the root Procfile) serves the demo where the README says, with no keys."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from testing.booking import booking
from testing.net import served, wait_until
from tests.deploy.helpers import REPO_DIR, VENV_BIN

PORTS = {"backend": 8000, "sandbox": 8100, "frontend": 5173}


def _port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Path]:
    busy = [f"{name} :{port}" for name, port in PORTS.items() if _port_in_use(port)]
    if busy:
        pytest.fail(f"ports in use ({', '.join(busy)}): stop `make run` before the tests", pytrace=False)
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}"}
    for name in ("PORT", "STRIPE_API_BASE", "TRUEMED_API_BASE", "STRIPE_SECRET_KEY", "TRUEMED_API_KEY"):
        env.pop(name, None)
    # What `make run` does: migrate, then start the Procfile.
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=REPO_DIR / "backend",
        env={**env, "DJANGO_DEBUG": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert migrate.returncode == 0, migrate.stderr
    with served(
        [str(VENV_BIN / "honcho"), "-f", "Procfile", "start"],
        cwd=REPO_DIR,
        env=env,
        log=tmp_path / "honcho.log",
        ready=lambda: all(
            _answers(url)
            for url in (
                "http://127.0.0.1:8000/api/health/",
                "http://127.0.0.1:8100/_sandbox/health",
                "http://127.0.0.1:5173/",
            )
        ),
        timeout=90,
    ):
        yield tmp_path / "honcho.log"


def test_make_run_serves_backend_sandbox_and_spa_on_the_documented_ports(demo: Path) -> None:
    spa = httpx.get("http://127.0.0.1:5173/checkout/return", timeout=5)
    assert spa.status_code == 200
    assert '<div id="root">' in spa.text
    config = httpx.get("http://127.0.0.1:8000/api/config/", timeout=5).json()
    assert set(config["payment_providers"]) == {"stripe", "truemed"}
    # The demo's seeded practitioners offer real open slots; book the first one.
    today = datetime.now(UTC).date()
    availability = httpx.get(
        "http://127.0.0.1:8000/api/availability/",
        params={
            "practitioner": "ana-reyes",
            "service": "initial_consultation",
            "from": today.isoformat(),
            "to": (today + timedelta(days=14)).isoformat(),
        },
        timeout=10,
    ).json()
    first_open = next(slot for day in availability["days"] for slot in day["slots"])
    # The backend talks to the sandbox with no keys: a card session lands on the sandbox's hosted page.
    booked = httpx.post(
        "http://127.0.0.1:8000/api/appointments/",
        json=booking(practitioner="ana-reyes", appointment_time=first_open),
        headers={"Origin": "http://127.0.0.1:5173"},
        timeout=10,
    )
    assert booked.status_code == 201, booked.text
    assert booked.headers["access-control-allow-origin"] == "http://127.0.0.1:5173"
    session = httpx.post(
        f"http://127.0.0.1:8000/api/appointments/{booked.json()['id']}/payment-sessions/",
        json={"provider": "stripe"},
        headers={"Authorization": f"Bearer {booked.json()['access_token']}"},
        timeout=15,
    )
    assert session.status_code == 201, session.text
    assert session.json()["redirect_url"].startswith("http://127.0.0.1:8100/")
    # The reconcile loop runs beside them (abandoned holds expire in the demo too).
    wait_until(lambda: '{"reconcile": {' in demo.read_text(), timeout=30, what="a reconcile pass in the log")
