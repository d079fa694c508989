"""Contract: the real adapters meet the sandbox's request limits: the SDK's 429 is read as busy, retried
within the budget, and our gate keeps the provider from ever refusing (its own count says so)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from sofia_checkout.payments.provider_limits import LocalScheduler, ProviderGate
from sofia_checkout.payments.providers.base import (
    CreateSessionRequest,
    ProviderBusyError,
    RequestGate,
    no_gate,
)
from sofia_checkout.payments.providers.stripe_checkout.adapter import StripeCheckoutProvider
from sofia_checkout.payments.providers.truemed.adapter import TruemedProvider
from testing.provider_mocks import session_request_fields
from tests.contract.helpers import SANDBOX_STRIPE_WHSEC, SANDBOX_TRUEMED_KEY, SANDBOX_TRUEMED_WHSEC, Sandbox

pytestmark = [pytest.mark.contract, pytest.mark.django_db(transaction=True)]

STRIPE_CREATE = "POST /v1/checkout/sessions"
TRUEMED_CREATE = "POST /payments/v1/create_payment_session"


@pytest.fixture
def limited(use_sandbox: Sandbox) -> Iterator[Sandbox]:
    use_sandbox.control(
        "POST",
        "/config",
        json={
            "rate_limits": {
                "stripe": {"global_per_second": 25, "endpoints": {STRIPE_CREATE: 2}},
                "truemed": {"global_per_second": 25, "endpoints": {TRUEMED_CREATE: 2}},
            }
        },
    )
    yield use_sandbox
    use_sandbox.reset()


def stripe(
    sandbox: Sandbox, *, busy_retry_seconds: float, gate: RequestGate = no_gate
) -> StripeCheckoutProvider:
    return StripeCheckoutProvider(
        secret_key="sk_test_contract",
        webhook_secret=SANDBOX_STRIPE_WHSEC,
        api_base=f"{sandbox.url}/stripe",
        timeout=5,
        max_retries=0,
        gate=gate,
        busy_retry_seconds=busy_retry_seconds,
    )


def truemed(sandbox: Sandbox, *, busy_retry_seconds: float) -> TruemedProvider:
    return TruemedProvider(
        api_key=SANDBOX_TRUEMED_KEY,
        api_base=f"{sandbox.url}/truemed",
        webhook_secret=SANDBOX_TRUEMED_WHSEC,
        webhook_mode="legacy",
        timeout=5,
        max_retries=0,
        busy_retry_seconds=busy_retry_seconds,
    )


def request() -> CreateSessionRequest:
    return CreateSessionRequest(**session_request_fields(idempotency_key=f"contract-{uuid.uuid4()}"))


def create_stats(sandbox: Sandbox, provider: str, endpoint: str) -> Any:
    return sandbox.control("GET", "/stats.json")["providers"][provider]["endpoints"][endpoint]


def test_stripe_429_is_busy_at_once_without_budget_and_retried_with_one(limited: Sandbox) -> None:
    impatient = stripe(limited, busy_retry_seconds=0)
    impatient.create_session(request())
    impatient.create_session(request())
    with pytest.raises(ProviderBusyError) as refused:
        impatient.create_session(request())
    assert refused.value.http_status == 429
    assert refused.value.retry_after >= 1
    patient = stripe(limited, busy_retry_seconds=3)
    assert patient.create_session(request()).provider_session_id.startswith("cs_test_")
    stats = create_stats(limited, "stripe", STRIPE_CREATE)
    assert stats["accepted"] == 3
    assert stats["refused"] >= 2  # the impatient one, and the patient one's first tries
    impatient.close()
    patient.close()


def test_truemed_429_carries_retry_after_which_the_adapter_honours(limited: Sandbox) -> None:
    adapter = truemed(limited, busy_retry_seconds=0)
    adapter.create_session(request())
    adapter.create_session(request())
    with pytest.raises(ProviderBusyError) as refused:
        adapter.create_session(request())
    assert refused.value.retry_after == 1  # the sandbox's Retry-After
    patient = truemed(limited, busy_retry_seconds=2)
    started = time.monotonic()
    patient.create_session(request())
    assert time.monotonic() - started < 2
    adapter.close()
    patient.close()


def test_our_gate_keeps_the_sandbox_from_refusing(limited: Sandbox, settings: Any) -> None:
    settings.PROVIDER_RATE_LIMITS = {
        "stripe": {"global_per_second": 25, "endpoint_per_second": 25, "endpoints": {STRIPE_CREATE: 2}}
    }
    settings.PROVIDER_RATE_LIMIT_SAFETY = 0.9
    gate = ProviderGate("stripe", LocalScheduler(), shopper_wait=5, background_wait=0)
    adapter = stripe(limited, busy_retry_seconds=0, gate=gate)
    for _ in range(5):
        adapter.create_session(request())
    stats = create_stats(limited, "stripe", STRIPE_CREATE)
    assert (stats["accepted"], stats["refused"]) == (5, 0)
    assert stats["max_accepted_in_any_second"] <= 2
    adapter.close()
