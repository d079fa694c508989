"""Fixtures that start the real provider sandbox process for contract and round-trip tests.

Contract tests drive the backend's real adapters (stripe SDK, httpx Truemed client) against it. Round-trip
tests also start the backend (pytest-django's live_server) so the sandbox's signed webhooks reach it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.contract.helpers import (
    SANDBOX_STRIPE_WHSEC,
    SANDBOX_TRUEMED_KEY,
    SANDBOX_TRUEMED_WHSEC,
    Sandbox,
    start_sandbox,
    stop_sandbox,
)


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
