"""Stripe adapter alone (respx on the SDK's httpx client): what is sent on the wire, how a Checkout Session
maps to our state, how errors translate, expire and refund. No Django models. Webhooks: in
test_stripe_adapter_webhooks.py."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx

from sofia_checkout.payments.providers.base import (
    CreateSessionRequest,
    ProviderRejectedError,
    ProviderUnavailableError,
    RefundRequest,
)
from sofia_checkout.payments.providers.stripe_checkout.adapter import StripeCheckoutProvider
from sofia_checkout.payments.statuses import PaymentStatus
from testing.provider_mocks import session_request_fields, stripe_session

BASE = "https://stripe.unit"
SECRET_KEY = "sk_test_unit"
WHSEC = "whsec_unit"
SESSIONS = f"{BASE}/v1/checkout/sessions"
EXPIRES_AT = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
REQUEST = CreateSessionRequest(
    **session_request_fields(
        payment_session_id="ps_ours",
        appointment_id="appt_1",
        idempotency_key="sofia-appt_1-stripe-1",
        expires_at=EXPIRES_AT,
    )
)


@pytest.fixture
def adapter() -> Iterator[StripeCheckoutProvider]:
    provider = StripeCheckoutProvider(
        secret_key=SECRET_KEY, webhook_secret=WHSEC, api_base=BASE, timeout=1, max_retries=0
    )
    yield provider
    provider.close()


@pytest.fixture
def stripe_api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


def error(status: int, error_type: str, code: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {"type": error_type, "message": "no"}
    if code:
        body["code"] = code
    return httpx.Response(status, json={"error": body})


def form_of(request: httpx.Request) -> dict[str, str]:
    return dict(httpx.QueryParams(request.content.decode()))


# --- create ----------------------------------------------------------------------------------------


def test_create_sends_server_side_price_data_with_the_idempotency_key(
    adapter: StripeCheckoutProvider, stripe_api: respx.MockRouter
) -> None:
    route = stripe_api.post(SESSIONS).mock(
        return_value=httpx.Response(200, json=stripe_session(client_reference_id="ps_ours"))
    )
    created = adapter.create_session(REQUEST)
    request = route.calls.last.request
    assert form_of(request) == {
        "mode": "payment",
        "allowed_payment_method_types[0]": "card",
        "line_items[0][quantity]": "1",
        "line_items[0][price_data][currency]": "usd",
        "line_items[0][price_data][unit_amount]": "15000",
        "line_items[0][price_data][product_data][name]": REQUEST.description,
        "success_url": REQUEST.success_url,
        "cancel_url": REQUEST.cancel_url,
        "client_reference_id": "ps_ours",
        "customer_email": "jane@example.com",
        "metadata[appointment_id]": "appt_1",
        "metadata[payment_session_id]": "ps_ours",
        "expires_at": str(int(EXPIRES_AT.timestamp())),
    }
    assert "{CHECKOUT_SESSION_ID}" in form_of(request)["success_url"]  # Stripe fills it in, not us
    assert request.headers["Idempotency-Key"] == "sofia-appt_1-stripe-1"
    assert request.headers["Authorization"] == f"Bearer {SECRET_KEY}"
    assert request.headers["Stripe-Version"]  # the SDK pins its API version
    assert "X-Request-ID" in request.headers
    assert (created.provider_session_id, created.status) == ("cs_test_fixture", PaymentStatus.OPEN)
    assert created.redirect_url == "https://checkout.stripe.test/pay/cs_test_fixture"
    assert created.our_payment_session_id == "ps_ours"


def test_a_retried_create_resends_the_same_key(stripe_api: respx.MockRouter) -> None:
    route = stripe_api.post(SESSIONS).mock(
        side_effect=[httpx.ConnectError("blip"), httpx.Response(200, json=stripe_session())]
    )
    retrying = StripeCheckoutProvider(
        secret_key=SECRET_KEY, webhook_secret=WHSEC, api_base=BASE, timeout=1, max_retries=1
    )
    try:
        assert retrying.create_session(REQUEST).provider_session_id == "cs_test_fixture"
    finally:
        retrying.close()
    assert route.call_count == 2
    assert {call.request.headers["Idempotency-Key"] for call in route.calls} == {REQUEST.idempotency_key}
    assert route.calls[0].request.content == route.calls[1].request.content


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"id": "not_a_session", "status": "open", "url": "https://x.test"},
        {"id": "cs_1", "status": "open"},
    ],
    ids=["empty", "not-a-checkout-session-id", "open-without-url"],
)
def test_a_create_answer_that_is_not_a_usable_session_is_unavailable(
    adapter: StripeCheckoutProvider, stripe_api: respx.MockRouter, body: dict[str, Any]
) -> None:
    stripe_api.post(SESSIONS).mock(return_value=httpx.Response(200, json=body))
    with pytest.raises(ProviderUnavailableError):
        adapter.create_session(REQUEST)


# --- session -> our state --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "payment_status", "ours"),
    [
        ("open", "unpaid", PaymentStatus.OPEN),
        ("complete", "paid", PaymentStatus.PAID),
        ("complete", "no_payment_required", PaymentStatus.PAID),
        ("complete", "unpaid", PaymentStatus.PROCESSING),
        ("expired", "unpaid", PaymentStatus.EXPIRED),
    ],
)
def test_retrieve_maps_the_session_to_our_state(
    adapter: StripeCheckoutProvider,
    stripe_api: respx.MockRouter,
    status: str,
    payment_status: str,
    ours: PaymentStatus,
) -> None:
    session = stripe_session(
        session_id="cs_test_9",
        status=status,
        payment_status=payment_status,
        amount_total=12000,
        currency="usd",
        client_reference_id="ps_ours",
        payment_intent="pi_9",
    )
    stripe_api.get(f"{SESSIONS}/cs_test_9").mock(return_value=httpx.Response(200, json=session))
    state = adapter.retrieve_session("cs_test_9")
    assert state.status == ours
    assert state.provider_status == f"{status}/{payment_status}"
    assert (state.amount_cents, state.currency) == (12000, "usd")
    assert state.payment_reference == "pi_9"
    assert state.our_payment_session_id == "ps_ours"


def test_an_expanded_payment_intent_and_odd_amounts_are_read_defensively(
    adapter: StripeCheckoutProvider, stripe_api: respx.MockRouter
) -> None:
    session = stripe_session(status="complete", payment_status="paid") | {
        "payment_intent": {"id": "pi_expanded", "object": "payment_intent"},
        "amount_total": "15000",
        "currency": None,
    }
    stripe_api.get(f"{SESSIONS}/cs_test_fixture").mock(return_value=httpx.Response(200, json=session))
    state = adapter.retrieve_session("cs_test_fixture")
    assert state.payment_reference == "pi_expanded"
    assert (state.amount_cents, state.currency) == (None, None)  # not an integer: unknown, never trusted


# --- errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "raised", "http_status"),
    [
        (error(400, "invalid_request_error", "parameter_invalid_integer"), ProviderRejectedError, 400),
        (error(400, "idempotency_error"), ProviderRejectedError, 400),
        (error(401, "invalid_request_error"), ProviderRejectedError, 401),
        (error(402, "card_error", "card_declined"), ProviderRejectedError, 402),
        (error(404, "invalid_request_error", "resource_missing"), ProviderRejectedError, 404),
        (error(429, "rate_limit_error"), ProviderUnavailableError, 429),
        (error(500, "api_error"), ProviderUnavailableError, 500),
        (error(503, "api_error"), ProviderUnavailableError, 503),
        (httpx.ConnectError("refused"), ProviderUnavailableError, None),
        (httpx.ReadTimeout("slow"), ProviderUnavailableError, None),
        (httpx.Response(200, text="<html>not json"), ProviderUnavailableError, 200),
    ],
    ids=["400", "400-idem", "401", "402", "404", "429", "500", "503", "refused", "timeout", "html"],
)
def test_errors_translate_to_rejected_or_unavailable(
    adapter: StripeCheckoutProvider,
    stripe_api: respx.MockRouter,
    answer: httpx.Response | Exception,
    raised: type[Exception],
    http_status: int | None,
) -> None:
    stripe_api.post(SESSIONS).mock(side_effect=[answer])
    with pytest.raises(raised) as caught:
        adapter.create_session(REQUEST)
    assert getattr(caught.value, "http_status", None) == http_status


def test_a_refusal_carries_stripes_error_code(
    adapter: StripeCheckoutProvider, stripe_api: respx.MockRouter
) -> None:
    stripe_api.get(f"{SESSIONS}/cs_missing").mock(
        return_value=error(404, "invalid_request_error", "resource_missing")
    )
    with pytest.raises(ProviderRejectedError) as refused:
        adapter.retrieve_session("cs_missing")
    assert refused.value.provider_code == "resource_missing"


# --- expire ----------------------------------------------------------------------------------------


def test_cancel_expires_an_open_session(
    adapter: StripeCheckoutProvider, stripe_api: respx.MockRouter
) -> None:
    expire = stripe_api.post(f"{SESSIONS}/cs_test_fixture/expire").mock(
        return_value=httpx.Response(200, json=stripe_session(status="expired"))
    )
    assert adapter.cancel_session("cs_test_fixture").status == PaymentStatus.EXPIRED
    assert expire.call_count == 1


def test_cancel_of_a_session_that_cannot_expire_answers_its_state_from_a_retrieve(
    adapter: StripeCheckoutProvider, stripe_api: respx.MockRouter
) -> None:
    # Stripe expires only open sessions: a paid one is refused with a 400, and what it is now is the answer.
    stripe_api.post(f"{SESSIONS}/cs_test_fixture/expire").mock(
        return_value=error(400, "invalid_request_error", "checkout_session_not_open")
    )
    retrieve = stripe_api.get(f"{SESSIONS}/cs_test_fixture").mock(
        return_value=httpx.Response(200, json=stripe_session(status="complete", payment_status="paid"))
    )
    assert adapter.cancel_session("cs_test_fixture").status == PaymentStatus.PAID
    assert retrieve.call_count == 1


def test_cancel_while_stripe_is_down_raises_instead_of_guessing(
    adapter: StripeCheckoutProvider, stripe_api: respx.MockRouter
) -> None:
    stripe_api.post(f"{SESSIONS}/cs_test_fixture/expire").mock(return_value=error(500, "api_error"))
    retrieve = stripe_api.get(f"{SESSIONS}/cs_test_fixture")
    with pytest.raises(ProviderUnavailableError):
        adapter.cancel_session("cs_test_fixture")
    assert retrieve.call_count == 0


# --- refund ----------------------------------------------------------------------------------------

REFUND = RefundRequest(
    payment_reference="pi_9",
    provider_session_id="cs_test_fixture",
    amount_cents=15000,
    idempotency_key="sofia-refund-ps_ours",
)


def test_refund_sends_the_payment_intent_amount_and_key(
    adapter: StripeCheckoutProvider, stripe_api: respx.MockRouter
) -> None:
    route = stripe_api.post(f"{BASE}/v1/refunds").mock(
        return_value=httpx.Response(200, json={"id": "re_1", "object": "refund", "status": "succeeded"})
    )
    result = adapter.refund(REFUND)
    request = route.calls.last.request
    assert form_of(request) == {
        "payment_intent": "pi_9",
        "amount": "15000",
        "reason": "requested_by_customer",
    }
    assert request.headers["Idempotency-Key"] == "sofia-refund-ps_ours"
    assert (result.provider_refund_id, result.provider_status) == ("re_1", "succeeded")


def test_refund_without_a_payment_intent_is_refused_without_a_call(
    adapter: StripeCheckoutProvider, stripe_api: respx.MockRouter
) -> None:
    route = stripe_api.post(f"{BASE}/v1/refunds")
    with pytest.raises(ProviderRejectedError):
        adapter.refund(replace(REFUND, payment_reference=""))
    assert route.call_count == 0


def test_refund_errors_translate(adapter: StripeCheckoutProvider, stripe_api: respx.MockRouter) -> None:
    stripe_api.post(f"{BASE}/v1/refunds").mock(
        side_effect=[error(400, "invalid_request_error", "charge_already_refunded"), httpx.ConnectError("x")]
    )
    with pytest.raises(ProviderRejectedError) as refused:
        adapter.refund(REFUND)
    assert refused.value.provider_code == "charge_already_refunded"
    with pytest.raises(ProviderUnavailableError):
        adapter.refund(REFUND)
