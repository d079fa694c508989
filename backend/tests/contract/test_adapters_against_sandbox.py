"""Contract: the real adapters (stripe SDK, httpx Truemed client) against the running provider sandbox."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from sofia_checkout.payments.providers.base import (
    CreateSessionRequest,
    ProviderRejectedError,
    ProviderUnavailableError,
    RefundOutcome,
    RefundRequest,
)
from sofia_checkout.payments.providers.stripe_checkout.adapter import StripeCheckoutProvider
from sofia_checkout.payments.providers.truemed.adapter import TruemedProvider
from sofia_checkout.payments.statuses import PaymentStatus
from testing.provider_mocks import session_request_fields
from tests.contract.helpers import SANDBOX_STRIPE_WHSEC, SANDBOX_TRUEMED_KEY, SANDBOX_TRUEMED_WHSEC, Sandbox

# The sandbox sends webhooks as the real providers would (an expire sends checkout.session.expired); they
# reach the live backend, configured for this sandbox by `use_sandbox`, and are recorded there.
pytestmark = [pytest.mark.contract, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def fresh(use_sandbox: Sandbox) -> Iterator[Sandbox]:
    yield use_sandbox
    for adapter in _opened:
        adapter.close()
    _opened.clear()


_opened: list[StripeCheckoutProvider | TruemedProvider] = []


def stripe_adapter(
    sandbox: Sandbox, *, key: str = "sk_test_contract", timeout: float = 5
) -> StripeCheckoutProvider:
    adapter = StripeCheckoutProvider(
        secret_key=key,
        webhook_secret=SANDBOX_STRIPE_WHSEC,
        api_base=f"{sandbox.url}/stripe",
        timeout=timeout,
        max_retries=0,
    )
    _opened.append(adapter)
    return adapter


def truemed_adapter(
    sandbox: Sandbox, *, key: str = SANDBOX_TRUEMED_KEY, timeout: float = 5
) -> TruemedProvider:
    adapter = TruemedProvider(
        api_key=key,
        api_base=f"{sandbox.url}/truemed",
        webhook_secret=SANDBOX_TRUEMED_WHSEC,
        webhook_mode="legacy",
        timeout=timeout,
        max_retries=1,
    )
    _opened.append(adapter)
    return adapter


def request(**overrides: object) -> CreateSessionRequest:
    return CreateSessionRequest(
        **session_request_fields(idempotency_key=f"contract-{uuid.uuid4()}", **overrides)
    )


# --- Stripe --------------------------------------------------------------------------------------


def test_stripe_create_retrieve_expire(fresh: Sandbox) -> None:
    adapter = stripe_adapter(fresh)
    req = request()
    created = adapter.create_session(req)
    assert created.provider_session_id.startswith("cs_test_")
    assert created.status == PaymentStatus.OPEN
    assert created.amount_cents == 15000
    assert created.currency == "usd"
    assert created.redirect_url
    assert created.redirect_url.startswith(fresh.url)
    assert created.our_payment_session_id == req.payment_session_id
    read = adapter.retrieve_session(created.provider_session_id)
    assert read.status == PaymentStatus.OPEN
    expired = adapter.cancel_session(created.provider_session_id)
    assert expired.status == PaymentStatus.EXPIRED
    # Expiring again is refused by Stripe; the adapter answers with the current state instead.
    assert adapter.cancel_session(created.provider_session_id).status == PaymentStatus.EXPIRED


def test_stripe_idempotency(fresh: Sandbox) -> None:
    adapter = stripe_adapter(fresh)
    req = request()
    first = adapter.create_session(req)
    again = adapter.create_session(req)
    assert again.provider_session_id == first.provider_session_id
    with pytest.raises(ProviderRejectedError) as changed:
        adapter.create_session(replace(req, amount_cents=9999))
    assert changed.value.http_status == 400


def test_stripe_rules_and_errors(fresh: Sandbox) -> None:
    adapter = stripe_adapter(fresh)
    with pytest.raises(ProviderRejectedError):
        adapter.create_session(request(expires_at=datetime.now(UTC) + timedelta(minutes=5)))
    with pytest.raises(ProviderRejectedError):
        adapter.create_session(request(expires_at=datetime.now(UTC) + timedelta(hours=30)))
    with pytest.raises(ProviderRejectedError) as missing:
        adapter.retrieve_session("cs_test_does_not_exist")
    assert missing.value.http_status == 404
    with pytest.raises(ProviderRejectedError) as auth:
        stripe_adapter(fresh, key="sk_wrong").create_session(request())
    assert auth.value.http_status == 401


def test_stripe_paid_then_refund(fresh: Sandbox) -> None:
    adapter = stripe_adapter(fresh)
    created = adapter.create_session(request())
    fresh.complete("stripe", created.provider_session_id, "paid", delivery="none")
    paid = adapter.retrieve_session(created.provider_session_id)
    assert paid.status == PaymentStatus.PAID
    assert paid.payment_reference.startswith("pi_")
    refund = adapter.refund(
        RefundRequest(
            paid.payment_reference, created.provider_session_id, 15000, idempotency_key=f"r-{uuid.uuid4()}"
        )
    )
    assert refund.outcome == RefundOutcome.SUCCEEDED
    assert refund.provider_refund_id.startswith("re_")
    again = adapter.refund_status(
        provider_refund_id=refund.provider_refund_id, provider_session_id=created.provider_session_id
    )
    assert (again.outcome, again.provider_refund_id) == (RefundOutcome.SUCCEEDED, refund.provider_refund_id)


def assert_errors_and_timeouts_are_unavailable(
    adapter: StripeCheckoutProvider | TruemedProvider, sandbox: Sandbox
) -> None:
    """Every create fails (5xx), then every create hangs: both are ProviderUnavailableError, in time."""
    sandbox.configure(error_rate=1)
    with pytest.raises(ProviderUnavailableError):
        adapter.create_session(request())
    sandbox.configure(error_rate=0, timeout_rate=1)
    started = time.monotonic()
    with pytest.raises(ProviderUnavailableError):
        adapter.create_session(request())
    assert time.monotonic() - started < 5


def test_stripe_faults(fresh: Sandbox) -> None:
    adapter = stripe_adapter(fresh, timeout=1)
    assert_errors_and_timeouts_are_unavailable(adapter, fresh)
    fresh.configure(timeout_rate=0, latency_ms=200)
    started = time.monotonic()
    adapter.create_session(request())
    assert time.monotonic() - started >= 0.2


# --- Truemed -------------------------------------------------------------------------------------


def test_truemed_create_retrieve_cancel(fresh: Sandbox) -> None:
    adapter = truemed_adapter(fresh)
    req = request(
        success_url="http://127.0.0.1:5173/checkout/return?truemed_session_id={{payment_session_id}}"
    )
    created = adapter.create_session(req)
    uuid.UUID(created.provider_session_id)
    assert created.redirect_url
    assert created.redirect_url.startswith(fresh.url)
    read = adapter.retrieve_session(created.provider_session_id)
    assert read.status == PaymentStatus.OPEN
    assert read.provider_status == "pending"
    assert read.amount_cents == 15000
    assert read.our_payment_session_id == req.payment_session_id
    cancelled = adapter.cancel_session(created.provider_session_id)
    assert cancelled.status == PaymentStatus.CANCELED
    assert adapter.cancel_session(created.provider_session_id).status == PaymentStatus.CANCELED


def test_truemed_idempotency_and_errors(fresh: Sandbox) -> None:
    adapter = truemed_adapter(fresh)
    req = request()
    assert adapter.create_session(req).provider_session_id == adapter.create_session(req).provider_session_id
    with pytest.raises(ProviderRejectedError) as auth:
        truemed_adapter(fresh, key="wrong").create_session(request())
    assert auth.value.http_status == 401
    with pytest.raises(ProviderRejectedError) as missing:
        adapter.retrieve_session(str(uuid.uuid4()))
    assert missing.value.http_status == 404
    with pytest.raises(ProviderRejectedError) as negative:
        adapter.create_session(request(amount_cents=-5))
    assert negative.value.http_status == 400


def test_truemed_captured_then_refund(fresh: Sandbox) -> None:
    adapter = truemed_adapter(fresh)
    created = adapter.create_session(request())
    fresh.complete("truemed", created.provider_session_id, "captured", delivery="none")
    assert adapter.retrieve_session(created.provider_session_id).status == PaymentStatus.PAID
    result = adapter.refund(
        RefundRequest(created.provider_session_id, created.provider_session_id, 15000, f"r-{uuid.uuid4()}")
    )
    assert result.provider_refund_id


def test_truemed_faults(fresh: Sandbox) -> None:
    assert_errors_and_timeouts_are_unavailable(truemed_adapter(fresh, timeout=1), fresh)
