"""Start-up refuses DEBUG with real money (issue 10, item 9): DJANGO_DEBUG=1 relaxes every secret check and
shows tracebacks, so it is refused with PAYMENTS_LIVE_MODE=1 or a real provider host; the interactive API
docs are served in production only when API_DOCS_ENABLED says so. Checked on the function, on a real
process start (the settings module as deployed) and on the URLconf."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, override_settings
from django.urls import clear_url_caches

from config.startup_checks import check_provider_settings
from testing.startup import REAL_SECRET_KEY, sandbox_settings

BACKEND_DIR = Path(__file__).resolve().parents[3]
SANDBOX: dict[str, Any] = sandbox_settings()
LIVE: dict[str, Any] = {
    "PAYMENTS_LIVE_MODE": True,
    "STRIPE_SECRET_KEY": "sk_live_abc",
    "STRIPE_WEBHOOK_SECRET": "whsec_live",
    "STRIPE_API_BASE": "https://api.stripe.com",
    "TRUEMED_API_KEY": "tm_live",
    "TRUEMED_WEBHOOK_SECRET": "tm_live_whsec",
    "TRUEMED_API_BASE": "https://api.truemed.com",
}
REAL_STRIPE_TEST_MODE: dict[str, Any] = {
    "STRIPE_SECRET_KEY": "sk_test_real",
    "STRIPE_WEBHOOK_SECRET": "whsec_real",
    "STRIPE_API_BASE": "https://api.stripe.com",
}


def settings_with(*layers: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    merged = dict(SANDBOX)
    for layer in layers:
        merged.update(layer)
    merged.update(overrides)
    return merged


def test_the_same_configurations_start_without_debug() -> None:
    # The baseline: each of these is accepted when DEBUG is off, so only DEBUG makes the cases below fail.
    for configuration in (settings_with(), settings_with(LIVE), settings_with(REAL_STRIPE_TEST_MODE)):
        check_provider_settings(configuration)


def test_debug_with_live_mode_is_refused() -> None:
    with pytest.raises(ImproperlyConfigured, match="DJANGO_DEBUG"):
        check_provider_settings(settings_with(LIVE, DEBUG=True))


@pytest.mark.parametrize(
    "hosts",
    [
        REAL_STRIPE_TEST_MODE,
        {"TRUEMED_API_BASE": "https://dev-api.truemed.com"},
        {"STRIPE_API_BASE": "https://api.stripe.com"},  # even with the sandbox's placeholder secrets
    ],
    ids=["real-stripe-test-mode", "real-truemed-sandbox", "real-stripe-placeholder-secrets"],
)
def test_debug_with_a_real_provider_host_is_refused(hosts: dict[str, Any]) -> None:
    with pytest.raises(ImproperlyConfigured, match="DJANGO_DEBUG"):
        check_provider_settings(settings_with(hosts, DEBUG=True, SECRET_KEY="dev-only-insecure-key"))


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "sandbox"])
def test_debug_against_the_offline_sandbox_is_allowed(host: str) -> None:
    check_provider_settings(
        settings_with(
            DEBUG=True,
            SECRET_KEY="dev-only-insecure-key",
            STRIPE_API_BASE=f"http://{host}:8100/stripe",
            TRUEMED_API_BASE=f"http://{host}:8100/truemed",
        )
    )


def start_settings(**env: str) -> subprocess.CompletedProcess[str]:
    """Load config.settings (as the deployed process does) in a fresh interpreter with this environment."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "STRIPE_", "TRUEMED_"))}
    clean.pop("PAYMENTS_LIVE_MODE", None)
    clean.pop("API_DOCS_ENABLED", None)
    clean["DJANGO_SETTINGS_MODULE"] = "config.settings"
    clean.update(env)
    script = (
        "import django; django.setup()\n"
        "from django.conf import settings\n"
        "from django.urls import Resolver404, resolve\n"
        "try:\n    resolve('/api/docs/'); docs = 'docs served'\n"
        "except Resolver404:\n    docs = 'no docs'\n"
        "print(docs, settings.DEBUG)\n"
    )
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=BACKEND_DIR,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_process_with_debug_and_live_mode_refuses_to_start() -> None:
    started = start_settings(
        DJANGO_DEBUG="1",
        PAYMENTS_LIVE_MODE="1",
        STRIPE_SECRET_KEY="sk_live_abc",
        STRIPE_WEBHOOK_SECRET="whsec_live",
        STRIPE_API_BASE="https://api.stripe.com",
        TRUEMED_API_KEY="tm_live",
        TRUEMED_WEBHOOK_SECRET="tm_live_whsec",
        TRUEMED_API_BASE="https://api.truemed.com",
    )
    assert started.returncode != 0, started.stdout
    assert "DJANGO_DEBUG=1 is only for the offline sandbox" in started.stderr


def test_a_process_with_debug_against_the_sandbox_starts_and_serves_the_docs() -> None:
    started = start_settings(DJANGO_DEBUG="1")
    assert started.returncode == 0, started.stderr
    assert started.stdout.split() == ["docs", "served", "True"]


def test_a_production_process_serves_no_api_docs_unless_enabled() -> None:
    production = start_settings(DJANGO_DEBUG="0", DJANGO_SECRET_KEY=REAL_SECRET_KEY)
    assert production.returncode == 0, production.stderr
    assert production.stdout.split() == ["no", "docs", "False"]
    enabled = start_settings(DJANGO_DEBUG="0", DJANGO_SECRET_KEY=REAL_SECRET_KEY, API_DOCS_ENABLED="1")
    assert enabled.returncode == 0, enabled.stderr
    assert enabled.stdout.split() == ["docs", "served", "False"]


@pytest.fixture
def reload_urls() -> Iterator[Any]:
    """Re-read config.urls after a settings change (it decides at import); restored afterwards."""
    import config.urls

    original = getattr(django_settings, "API_DOCS_ENABLED", True)

    def reload() -> None:
        importlib.reload(config.urls)
        clear_url_caches()

    yield reload
    with override_settings(API_DOCS_ENABLED=original):
        reload()


@pytest.mark.django_db
def test_the_docs_url_follows_api_docs_enabled(settings: Any, reload_urls: Any) -> None:
    settings.API_DOCS_ENABLED = False
    reload_urls()
    assert Client().get("/api/docs/").status_code == 404
    assert Client().get("/api/schema/").status_code == 200  # the schema itself stays (the SPA's client)
    settings.API_DOCS_ENABLED = True
    reload_urls()
    assert Client().get("/api/docs/").status_code == 200
