"""Starts the real provider sandbox process for contract and round-trip tests.

Contract tests drive the backend's real adapters (stripe SDK, httpx Truemed client) against it. Round-trip
tests also start the backend (pytest-django's live_server) so the sandbox's signed webhooks reach it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

BACKEND_DIR = Path(__file__).resolve().parents[2]
SANDBOX_STRIPE_WHSEC = "whsec_contract_secret"
SANDBOX_TRUEMED_KEY = "tm_contract_api_key"
SANDBOX_TRUEMED_WHSEC = "tm_contract_webhook_secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Sandbox:
    def __init__(self, url: str, process: subprocess.Popen[bytes], log: Path) -> None:
        self.url = url
        self.process = process
        self.log = log
        self.http = httpx.Client(base_url=url, timeout=30)

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, f"/_sandbox{path}", **kwargs)
        assert response.status_code < 300, (path, response.status_code, response.text)
        return response.json() if response.content else None

    def reset(self) -> None:
        self.control("POST", "/reset")

    def configure(self, **faults: float) -> None:
        self.control("POST", "/config", json=faults)

    def sessions(self) -> Any:
        return self.control("GET", "/sessions")

    def webhooks(self) -> Any:
        return self.control("GET", "/webhooks")


def start_sandbox(tmp_dir: Path, *, webhook_base: str, mode: str = "legacy") -> Sandbox:
    port = free_port()
    env = {
        **os.environ,
        "SANDBOX_HOST": "127.0.0.1",
        "SANDBOX_PORT": str(port),
        "SANDBOX_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "SANDBOX_STRIPE_WEBHOOK_URL": f"{webhook_base}/api/webhooks/stripe/",
        "SANDBOX_TRUEMED_WEBHOOK_URL": f"{webhook_base}/api/webhooks/truemed/",
        "SANDBOX_TRUEMED_WEBHOOK_MODE": mode,
        "SANDBOX_TRUEMED_CAPTURE_DELAY_SECONDS": "0.2",
        "SANDBOX_WEBHOOK_MAX_ATTEMPTS": "3",
        "STRIPE_WEBHOOK_SECRET": SANDBOX_STRIPE_WHSEC,
        "TRUEMED_API_KEY": SANDBOX_TRUEMED_KEY,
        "TRUEMED_WEBHOOK_SECRET": SANDBOX_TRUEMED_WHSEC,
    }
    log = tmp_dir / f"sandbox-{port}.log"
    with log.open("wb") as log_file:  # the child keeps its own descriptor
        process = subprocess.Popen(
            [sys.executable, "-m", "provider_sandbox"],
            cwd=BACKEND_DIR,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"sandbox exited: {log.read_text()}")
        try:
            with httpx.Client(timeout=1) as probe:
                healthy = probe.get(f"{url}/_sandbox/health").status_code == 200
            if healthy:
                return Sandbox(url, process, log)
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"sandbox did not start: {log.read_text()}")


def stop_sandbox(sandbox: Sandbox) -> None:
    sandbox.http.close()
    sandbox.process.terminate()
    try:
        sandbox.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        sandbox.process.kill()


@pytest.fixture(scope="session")
def sandbox(live_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    running = start_sandbox(tmp_path_factory.mktemp("sandbox"), webhook_base=live_server.url)
    yield running
    stop_sandbox(running)


@pytest.fixture
def use_sandbox(sandbox: Sandbox, settings: Any) -> Iterator[Sandbox]:
    """Point the backend at the sandbox (as `make run` does), with a clean sandbox state.

    On the way out it waits for the webhooks the test caused, so none reaches the live backend after the
    test's settings and database access are gone.
    """
    sandbox.reset()
    settings.STRIPE_API_BASE = f"{sandbox.url}/stripe"
    settings.STRIPE_SECRET_KEY = "sk_test_contract"
    settings.STRIPE_WEBHOOK_SECRET = SANDBOX_STRIPE_WHSEC
    settings.TRUEMED_API_BASE = f"{sandbox.url}/truemed"
    settings.TRUEMED_API_KEY = SANDBOX_TRUEMED_KEY
    settings.TRUEMED_WEBHOOK_SECRET = SANDBOX_TRUEMED_WHSEC
    settings.TRUEMED_WEBHOOK_MODE = "legacy"
    settings.PROVIDER_TIMEOUT_SECONDS = 5
    yield sandbox
    sandbox.control("POST", "/settle", json={"timeout_seconds": 30})
