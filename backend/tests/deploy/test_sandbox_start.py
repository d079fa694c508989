"""scripts/start-sandbox.sh, the `sandbox` service's command, run natively with the compose environment."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import urllib.request
from pathlib import Path

from tests.deploy.conftest import BACKEND_DIR, free_port, production_env, wait_until


def _health(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_sandbox/health", timeout=2) as response:  # noqa: S310
            return bool(response.status == 200)
    except OSError:
        return False


def test_start_sandbox_serves_health_on_the_configured_address(tmp_path: Path) -> None:
    port = free_port()
    env = production_env(
        SANDBOX_HOST="127.0.0.1",
        SANDBOX_PORT=str(port),
        SANDBOX_PUBLIC_URL="http://localhost:8100",
        SANDBOX_STRIPE_WEBHOOK_URL="http://backend:8000/api/webhooks/stripe/",
        SANDBOX_TRUEMED_WEBHOOK_URL="http://backend:8000/api/webhooks/truemed/",
    )
    log = tmp_path / "sandbox.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            ["bash", str(BACKEND_DIR / "scripts" / "start-sandbox.sh")],
            cwd=BACKEND_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: proc.poll() is not None or _health(url), 20, "the sandbox's /_sandbox/health")
        assert proc.poll() is None, f"start-sandbox.sh exited {proc.returncode}:\n{log.read_text()}"
        with urllib.request.urlopen(f"{url}/_sandbox/health", timeout=5) as response:  # noqa: S310
            assert response.status == 200
            json.loads(response.read())
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)


def test_start_sandbox_refuses_a_bad_configuration() -> None:
    env = production_env(SANDBOX_PORT=str(free_port()), SANDBOX_TRUEMED_WEBHOOK_MODE="sometimes")
    result = subprocess.run(
        ["bash", str(BACKEND_DIR / "scripts" / "start-sandbox.sh")],
        cwd=BACKEND_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    assert result.returncode != 0
    assert "SANDBOX_TRUEMED_WEBHOOK_MODE" in result.stderr
