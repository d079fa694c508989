"""Helpers for the deployment tests: they run the real scripts and binaries as subprocesses (no Docker)."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

BACKEND_DIR = Path(__file__).resolve().parents[2]
REPO_DIR = BACKEND_DIR.parent
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require_binary(name: str, *extra_dirs: str) -> str:
    """The path of a system tool CI installs (scripts/install-system-deps.sh); never a skip."""
    found = shutil.which(name, path=os.pathsep.join([os.environ.get("PATH", ""), *extra_dirs]))
    if not found:
        pytest.fail(
            f"`{name}` is not installed: the deployment tests need it "
            f"(apt-get install {name}, or bash scripts/install-system-deps.sh).",
            pytrace=False,
        )
    return found


def production_env(**overrides: str) -> dict[str, str]:
    """A clean environment for the backend: production values, no inherited Django or provider settings.

    Values are explicit (even empty) so a developer's .env, read by the settings with overwrite=False,
    cannot change the outcome.
    """
    env = {
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "PYTHON": sys.executable,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "1",
        "DJANGO_SECURE_PROXY": "0",
        "DATABASE_URL": "",
        "PAYMENTS_LIVE_MODE": "0",
        "STRIPE_SECRET_KEY": "",
        "STRIPE_WEBHOOK_SECRET": "",
        "STRIPE_API_BASE": "",
        "TRUEMED_API_KEY": "",
        "TRUEMED_WEBHOOK_SECRET": "",
        "TRUEMED_API_BASE": "",
        "TRUEMED_WEBHOOK_MODE": "legacy",
        "LOG_FORMAT": "json",
        "WEB_CONCURRENCY": "1",
        "WAIT_FOR_DB_ATTEMPTS": "3",
        "WAIT_FOR_DB_INTERVAL": "0.2",
    }
    env.update(overrides)
    return env


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout}s waiting for {what}", pytrace=False)


@contextlib.contextmanager
def served(
    command: list[str],
    *,
    cwd: Path,
    env: dict[str, str],
    log: Path,
    ready: Callable[[], bool],
    timeout: float,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server command in its own process group until it is ready; stop the whole group afterwards."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        wait_until(lambda: proc.poll() is not None or ready(), timeout, f"{command[-1]} to be ready ({log})")
        assert proc.poll() is None, f"{command[-1]} exited {proc.returncode}:\n{log.read_text()}"
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
