"""Truemed adapter alone (respx): read retries, error mapping, webhook parsing. No Django models involved."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from sofia_checkout.payments.providers.base import (
    ProviderRejectedError,
    ProviderUnavailableError,
    WebhookAuthError,
)
from sofia_checkout.payments.providers.truemed.adapter import TruemedProvider
from sofia_checkout.payments.statuses import PaymentStatus

BASE = "https://truemed.unit"


def adapter(max_retries: int = 2, mode: str = "legacy") -> TruemedProvider:
    return TruemedProvider(
        api_key="k",
        api_base=BASE,
        webhook_secret="whs",
        webhook_mode=mode,
        timeout=1,
        max_retries=max_retries,
    )


@respx.mock
def test_reads_are_retried_with_backoff_then_succeed() -> None:
    route = respx.get(f"{BASE}/payments/v1/payment_session/s1").mock(
        side_effect=[
            httpx.Response(503),
            httpx.ConnectError("blip"),
            httpx.Response(200, json={"id": "s1", "status": "captured", "total_amount": 100}),
        ]
    )
    state = adapter(max_retries=2).retrieve_session("s1")
    assert state.status == PaymentStatus.PAID
    assert route.call_count == 3


@respx.mock
def test_reads_give_up_after_the_bound() -> None:
    route = respx.get(f"{BASE}/payments/v1/payment_session/s1").mock(return_value=httpx.Response(500))
    with pytest.raises(ProviderUnavailableError):
        adapter(max_retries=1).retrieve_session("s1")
    assert route.call_count == 2


@respx.mock
def test_creates_are_not_retried_by_the_adapter() -> None:
    route = respx.post(f"{BASE}/payments/v1/create_payment_session").mock(return_value=httpx.Response(502))
    from datetime import UTC, datetime

    from sofia_checkout.payments.providers.base import CreateSessionRequest

    with pytest.raises(ProviderUnavailableError):
        adapter().create_session(
            CreateSessionRequest(
                "p",
                "a",
                "key",
                100,
                "usd",
                "sku",
                "d",
                "e@example.com",
                "n",
                "CA",
                "https://s",
                "https://c",
                datetime.now(UTC),
            )
        )
    assert route.call_count == 1  # the shopper's retry resends the stored key instead


@respx.mock
def test_refusals_and_odd_answers() -> None:
    respx.get(f"{BASE}/payments/v1/payment_session/missing").mock(
        return_value=httpx.Response(404, json={"error": "PaymentSessionDoesNotExist", "message": "x"})
    )
    with pytest.raises(ProviderRejectedError) as refused:
        adapter().retrieve_session("missing")
    assert refused.value.provider_code == "PaymentSessionDoesNotExist"
    respx.get(f"{BASE}/payments/v1/payment_session/odd").mock(
        return_value=httpx.Response(200, json={"id": "odd"})
    )
    with pytest.raises(ProviderUnavailableError):
        adapter(max_retries=0).retrieve_session("odd")


def test_webhook_session_id_field_variants() -> None:
    for field in ("payment_id", "payment_session_id", "id"):
        body = json.dumps({field: "s9", "status": "captured"}).encode()
        notice = adapter().parse_webhook(body=body, headers={"x-truemed-api-key": "whs"})
        assert notice.provider_session_id == "s9"
        assert notice.state is None  # a trigger only: the status is re-fetched


def test_legacy_key_is_compared_whole() -> None:
    body = b'{"payment_id": "s"}'
    for bad in ("wh", "whs ", "WHS", "whsx"):
        with pytest.raises(WebhookAuthError):
            adapter().parse_webhook(body=body, headers={"x-truemed-api-key": bad})
