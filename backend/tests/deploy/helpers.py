"""Helpers for the deployment tests: they run the real scripts and binaries as subprocesses (no Docker).

Ports, polling and server processes come from testing/net.py.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sys
from pathlib import Path

import pytest

BACKEND_DIR = Path(__file__).resolve().parents[2]
REPO_DIR = BACKEND_DIR.parent
VENV_BIN = Path(sys.executable).parent


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
