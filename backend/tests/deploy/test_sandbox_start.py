"""scripts/start-sandbox.sh, the `sandbox` service's command, run natively with the compose environment."""

from __future__ import annotations

import subprocess
import urllib.request
from pathlib import Path

from testing.net import free_port, served
from tests.deploy.helpers import BACKEND_DIR, production_env


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
    url = f"http://127.0.0.1:{port}"
    command = ["bash", str(BACKEND_DIR / "scripts" / "start-sandbox.sh")]
    with served(command, cwd=BACKEND_DIR, env=env, log=log, ready=lambda: _health(url), timeout=20):
        assert _health(url)
    ready_line = next(line for line in log.read_text().splitlines() if "provider sandbox ready" in line)
    assert "public http://localhost:8100" in ready_line
    assert "http://backend:8000/api/webhooks/stripe/" in ready_line


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
