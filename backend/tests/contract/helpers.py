"""The real provider sandbox as a process: start it on a free port, drive its control API, stop it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from testing.net import free_port, stop_process_group, wait_until

BACKEND_DIR = Path(__file__).resolve().parents[2]
SANDBOX_STRIPE_WHSEC = "whsec_contract_secret"
SANDBOX_TRUEMED_KEY = "tm_contract_api_key"
SANDBOX_TRUEMED_WHSEC = "tm_contract_webhook_secret"


class Sandbox:
    """A running sandbox: its URL, its process and log, and a client for its `/_sandbox` control API."""

    def __init__(self, url: str, process: subprocess.Popen[bytes], log: Path, smtp_port: int) -> None:
        self.url = url
        self.process = process
        self.log = log
        self.smtp_port = smtp_port  # its mail sink (SMTP); the messages at /_sandbox/emails.json
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

    def complete(self, provider: str, provider_session_id: str, outcome: str, **extra: Any) -> Any:
        """Finish a session on its hosted page as a shopper would (`outcome`: paid, declined, ...)."""
        kind = "stripe/sessions" if provider == "stripe" else "truemed/payment_sessions"
        return self.control(
            "POST", f"/{kind}/{provider_session_id}/complete", json={"outcome": outcome, **extra}
        )


def _healthy(url: str) -> bool:
    try:
        with httpx.Client(timeout=1) as probe:
            return probe.get(f"{url}/_sandbox/health").status_code == 200
    except httpx.TransportError:
        return False


def start_sandbox(tmp_dir: Path, *, webhook_base: str, mode: str = "legacy") -> Sandbox:
    """Start `python -m provider_sandbox`, its webhooks going to `webhook_base`; return once it is healthy."""
    port = free_port()
    smtp_port = free_port()
    env = {
        **os.environ,
        "SANDBOX_HOST": "127.0.0.1",
        "SANDBOX_PORT": str(port),
        "SANDBOX_SMTP_PORT": str(smtp_port),
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
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: process.poll() is not None or _healthy(url), 20, "the sandbox", interval=0.1)
    except AssertionError:
        stop_process_group(process)
        raise RuntimeError(f"sandbox did not start: {log.read_text()}") from None
    if process.poll() is not None:
        raise RuntimeError(f"sandbox exited: {log.read_text()}")
    return Sandbox(url, process, log, smtp_port)


def stop_sandbox(sandbox: Sandbox) -> None:
    sandbox.http.close()
    stop_process_group(sandbox.process, grace=10)
