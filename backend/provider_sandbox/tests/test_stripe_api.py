"""Stripe Checkout emulation: shapes, Stripe's rules, errors, idempotency, refunds (in-process)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from provider_sandbox.tests.helpers import STRIPE_AUTH, Sandbox, stripe_form, stripe_params
from testing.net import wait_until

FIXTURES = json.loads((Path(__file__).parent / "fixtures" / "stripe_fixtures3_subset.json").read_text())
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def error_of(response: Any) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}, body
    error = dict(body["error"])
    assert {"type", "code", "message", "param"} <= set(error)
    return error


def test_create_returns_a_stripe_shaped_open_session(sandbox: Sandbox) -> None:
    session = sandbox.stripe_session()
    assert session["object"] == "checkout.session"
    assert session["id"].startswith("cs_test_")
    assert (session["status"], session["payment_status"], session["mode"]) == ("open", "unpaid", "payment")
    assert (session["amount_total"], session["amount_subtotal"], session["currency"]) == (15000, 15000, "usd")
    assert session["client_reference_id"] == "ps-123"
    assert session["customer_email"] == "jane@example.com"
    assert session["metadata"] == {"appointment_id": "appt-1", "payment_session_id": "ps-123"}
    assert session["url"] == f"http://sandbox.test/pay/stripe/{session['id']}"
    assert "{CHECKOUT_SESSION_ID}" in session["success_url"]  # substituted only on redirect
    assert session["livemode"] is False
    assert session["payment_intent"] is None
    assert abs(session["created"] - time.time()) < 5
    assert session["expires_at"] > session["created"]


def test_session_has_the_field_set_of_real_stripe_objects(sandbox: Sandbox) -> None:
    session = sandbox.stripe_session()
    assert set(session) == set(FIXTURES["checkout.session"])
    sandbox.control("POST", f"/stripe/sessions/{session['id']}/complete", json={"outcome": "paid"})
    event = json.loads(sandbox.receiver.on("/stripe")[0].body)
    assert set(event) == set(FIXTURES["event"])
    assert set(event["data"]["object"]) == set(FIXTURES["checkout.session"])
    intent = sandbox.client.get(f"/stripe/v1/checkout/sessions/{session['id']}", headers=STRIPE_AUTH).json()
    refund = sandbox.client.post(
        "/stripe/v1/refunds",
        content=stripe_form({"payment_intent": intent["payment_intent"]}),
        headers={**STRIPE_AUTH, **FORM},
    ).json()
    assert set(refund) == set(FIXTURES["refund"])


def test_default_expiry_is_24_hours(sandbox: Sandbox) -> None:
    session = sandbox.stripe_session(expires_at=None)
    assert session["expires_at"] - session["created"] == 24 * 3600


def test_retrieve_and_expire(sandbox: Sandbox) -> None:
    session = sandbox.stripe_session()
    path = f"/stripe/v1/checkout/sessions/{session['id']}"
    assert sandbox.client.get(path, headers=STRIPE_AUTH).json() == session
    expired = sandbox.client.post(f"{path}/expire", headers={**STRIPE_AUTH, **FORM})
    assert expired.status_code == 200
    assert expired.json()["status"] == "expired"
    assert expired.json()["url"] is None
    again = sandbox.client.post(f"{path}/expire", headers={**STRIPE_AUTH, **FORM})
    assert again.status_code == 400
    assert error_of(again)["type"] == "invalid_request_error"
    assert 'status of "expired"' in error_of(again)["message"]
    # Expiring through the API also announces it, like Stripe.
    wait_until(lambda: len(sandbox.receiver.on("/stripe")) == 1)
    event = json.loads(sandbox.receiver.on("/stripe")[0].body)
    assert event["type"] == "checkout.session.expired"
    assert event["request"]["id"].startswith("req_")


def test_expire_refused_once_paid(sandbox: Sandbox) -> None:
    session = sandbox.stripe_session()
    sandbox.control("POST", f"/stripe/sessions/{session['id']}/complete", json={"outcome": "paid"})
    refused = sandbox.client.post(
        f"/stripe/v1/checkout/sessions/{session['id']}/expire", headers={**STRIPE_AUTH, **FORM}
    )
    assert refused.status_code == 400
    paid = sandbox.client.get(f"/stripe/v1/checkout/sessions/{session['id']}", headers=STRIPE_AUTH).json()
    assert (paid["status"], paid["payment_status"], paid["url"]) == ("complete", "paid", None)
    assert paid["payment_intent"].startswith("pi_")


def test_unknown_session_is_404_resource_missing(sandbox: Sandbox) -> None:
    for response in (
        sandbox.client.get("/stripe/v1/checkout/sessions/cs_test_nope", headers=STRIPE_AUTH),
        sandbox.client.post(
            "/stripe/v1/checkout/sessions/cs_test_nope/expire", headers={**STRIPE_AUTH, **FORM}
        ),
    ):
        assert response.status_code == 404
        error = error_of(response)
        assert (error["type"], error["code"]) == ("invalid_request_error", "resource_missing")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer sk_live_abc"},
        {"Authorization": "Bearer nope"},
        {"Authorization": "Basic x"},
    ],
)
def test_authentication(sandbox: Sandbox, headers: dict[str, str]) -> None:
    response = sandbox.client.post(
        "/stripe/v1/checkout/sessions", content=stripe_form(stripe_params()), headers={**headers, **FORM}
    )
    assert response.status_code == 401
    assert error_of(response)["type"] == "invalid_request_error"
    assert sandbox.stripe.sessions == {}
    assert sandbox.client.get("/stripe/v1/checkout/sessions/x", headers=headers).status_code == 401


def test_unknown_route_is_a_stripe_404(sandbox: Sandbox) -> None:
    response = sandbox.client.get("/stripe/v1/customers", headers=STRIPE_AUTH)
    assert response.status_code == 404
    assert "Unrecognized request URL" in error_of(response)["message"]


def _line(**price_data: Any) -> list[dict[str, Any]]:
    data = {"currency": "usd", "unit_amount": 15000, "product_data": {"name": "Visit"}}
    data.update(price_data)
    return [{"quantity": 1, "price_data": {k: v for k, v in data.items() if v is not None}}]


@pytest.mark.parametrize(
    ("overrides", "param"),
    [
        ({"mode": None}, "mode"),
        ({"mode": "subscription"}, "mode"),
        ({"mode": "bogus"}, "mode"),
        ({"line_items": None}, "line_items"),
        ({"line_items": _line(unit_amount=0)}, "line_items[0][price_data][unit_amount]"),
        ({"line_items": _line(unit_amount=-5)}, "line_items[0][price_data][unit_amount]"),
        ({"line_items": _line(unit_amount="12.5")}, "line_items[0][price_data][unit_amount]"),
        ({"line_items": _line(unit_amount=None)}, "line_items[0][price_data][unit_amount]"),
        ({"line_items": _line(unit_amount=20)}, "line_items"),
        ({"line_items": _line(currency=None)}, "line_items[0][price_data][currency]"),
        ({"line_items": _line(currency="dollars")}, "line_items[0][price_data][currency]"),
        (
            {"line_items": _line(product_data={"description": "x"})},
            "line_items[0][price_data][product_data][name]",
        ),
        ({"line_items": _line(product_data=None)}, "line_items[0][price_data][product_data]"),
        ({"line_items": [{"price_data": _line()[0]["price_data"]}]}, "line_items[0][quantity]"),
        (
            {"line_items": [{"quantity": 0, "price_data": _line()[0]["price_data"]}]},
            "line_items[0][quantity]",
        ),
        ({"line_items": [{"quantity": 1, "price": "price_123"}]}, "line_items[0][price]"),
        ({"line_items": [*_line(), *_line(currency="eur")]}, "line_items"),
        ({"success_url": None}, "success_url"),
        ({"success_url": "not a url"}, "success_url"),
        ({"success_url": "ftp://example.com/x"}, "success_url"),
        ({"cancel_url": "javascript:alert(1)"}, "cancel_url"),
        ({"expires_at": int(time.time()) + 60}, "expires_at"),
        ({"expires_at": int(time.time()) + 25 * 3600}, "expires_at"),
        ({"expires_at": "tomorrow"}, "expires_at"),
        ({"customer_email": "not-an-email"}, "customer_email"),
        ({"client_reference_id": "x" * 201}, "client_reference_id"),
        ({"metadata": {"k" * 41: "v"}}, f"metadata[{'k' * 41}]"),
        ({"metadata": {"k": "v" * 501}}, "metadata[k]"),
        ({"metadata": {f"k{i}": "v" for i in range(51)}}, "metadata"),
        ({"surprise": "1"}, "surprise"),
    ],
)
def test_stripe_rules(sandbox: Sandbox, overrides: dict[str, Any], param: str) -> None:
    response = sandbox.stripe_create(**overrides)
    assert response.status_code == 400, response.text
    error = error_of(response)
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    assert error["message"]
    assert sandbox.stripe.sessions == {}


def test_several_line_items_add_up(sandbox: Sandbox) -> None:
    items = [
        {
            "quantity": 2,
            "price_data": {"currency": "USD", "unit_amount": 1000, "product_data": {"name": "A"}},
        },
        {"quantity": 1, "price_data": {"currency": "usd", "unit_amount": 500, "product_data": {"name": "B"}}},
    ]
    session = sandbox.stripe_session(line_items=items)
    assert (session["amount_total"], session["currency"]) == (2500, "usd")


# --- idempotency -------------------------------------------------------------------------------


def test_same_key_same_parameters_replays_the_first_answer(sandbox: Sandbox) -> None:
    params = stripe_params()
    first = sandbox.stripe_create(headers={"Idempotency-Key": "k-1"}, **params)
    second = sandbox.stripe_create(headers={"Idempotency-Key": "k-1"}, **params)
    assert second.status_code == first.status_code == 200
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert len(sandbox.stripe.sessions) == 1
    assert sandbox.control("GET", "/sessions")["creates_per_idempotency_key"] == {"k-1": 1}


def test_same_key_different_parameters_is_an_idempotency_error(sandbox: Sandbox) -> None:
    params = stripe_params()
    sandbox.stripe_create(headers={"Idempotency-Key": "k-2"}, **params)
    changed = sandbox.stripe_create(
        headers={"Idempotency-Key": "k-2"}, **{**params, "customer_email": "x@y.zz"}
    )
    assert changed.status_code == 400
    assert error_of(changed)["type"] == "idempotency_error"
    assert len(sandbox.stripe.sessions) == 1


def test_same_key_on_another_endpoint_is_an_idempotency_error(sandbox: Sandbox) -> None:
    session = sandbox.stripe_session(headers={"Idempotency-Key": "k-3"})
    other = sandbox.client.post(
        f"/stripe/v1/checkout/sessions/{session['id']}/expire",
        headers={**STRIPE_AUTH, **FORM, "Idempotency-Key": "k-3"},
    )
    assert other.status_code == 400
    assert error_of(other)["type"] == "idempotency_error"


def test_errors_raised_while_executing_are_replayed(sandbox: Sandbox) -> None:
    session = sandbox.stripe_session()
    path = f"/stripe/v1/checkout/sessions/{session['id']}/expire"
    headers = {**STRIPE_AUTH, **FORM}
    sandbox.client.post(path, headers=headers)
    first = sandbox.client.post(path, headers={**headers, "Idempotency-Key": "e-1"})
    second = sandbox.client.post(path, headers={**headers, "Idempotency-Key": "e-1"})
    assert first.status_code == second.status_code == 400
    assert first.json() == second.json()
    assert second.headers["Idempotent-Replayed"] == "true"


def test_validation_errors_are_not_saved_under_the_key(sandbox: Sandbox) -> None:
    """Stripe: "If incoming parameters failed validation ... no idempotent result is saved"."""
    bad = sandbox.stripe_create(headers={"Idempotency-Key": "v-1"}, mode=None)
    assert bad.status_code == 400
    good = sandbox.stripe_create(headers={"Idempotency-Key": "v-1"})
    assert good.status_code == 200


def test_overlong_idempotency_key(sandbox: Sandbox) -> None:
    assert sandbox.stripe_create(headers={"Idempotency-Key": "k" * 256}).status_code == 400


# --- refunds -----------------------------------------------------------------------------------


def _paid_intent(sandbox: Sandbox) -> str:
    session = sandbox.stripe_session()
    done = sandbox.control(
        "POST", f"/stripe/sessions/{session['id']}/complete", json={"outcome": "paid", "delivery": "none"}
    )
    return str(done["session"]["payment_intent"])


def _refund(sandbox: Sandbox, key: str | None = None, **params: Any) -> Any:
    headers = {**STRIPE_AUTH, **FORM, **({"Idempotency-Key": key} if key else {})}
    return sandbox.client.post("/stripe/v1/refunds", content=stripe_form(params), headers=headers)


def test_partial_refunds_accumulate_up_to_the_amount(sandbox: Sandbox) -> None:
    intent = _paid_intent(sandbox)
    first = _refund(sandbox, payment_intent=intent, amount=5000, reason="requested_by_customer")
    assert first.status_code == 200
    refund = first.json()
    assert refund["object"] == "refund"
    assert refund["id"].startswith("re_")
    assert (refund["amount"], refund["status"], refund["payment_intent"]) == (5000, "succeeded", intent)
    assert refund["charge"].startswith("ch_")
    too_much = _refund(sandbox, payment_intent=intent, amount=10001)
    assert too_much.status_code == 400
    assert error_of(too_much)["code"] == "amount_too_large"
    rest = _refund(sandbox, payment_intent=intent)
    assert rest.json()["amount"] == 10000
    done = _refund(sandbox, payment_intent=intent)
    assert error_of(done)["code"] == "charge_already_refunded"
    fetched = sandbox.client.get(f"/stripe/v1/refunds/{refund['id']}", headers=STRIPE_AUTH)
    assert fetched.json() == refund


def test_refund_idempotency(sandbox: Sandbox) -> None:
    intent = _paid_intent(sandbox)
    first = _refund(sandbox, "r-1", payment_intent=intent, amount=1000)
    again = _refund(sandbox, "r-1", payment_intent=intent, amount=1000)
    assert again.json()["id"] == first.json()["id"]
    assert sandbox.stripe.payment_intents[intent].amount_refunded == 1000
    changed = _refund(sandbox, "r-1", payment_intent=intent, amount=2000)
    assert error_of(changed)["type"] == "idempotency_error"


@pytest.mark.parametrize(
    ("params", "param"),
    [({}, "payment_intent"), ({"payment_intent": "pi_nope"}, "payment_intent"), ({"amount": "0"}, "amount")],
)
def test_refund_errors(sandbox: Sandbox, params: dict[str, Any], param: str) -> None:
    if "amount" in params:
        params = {**params, "payment_intent": _paid_intent(sandbox)}
    response = _refund(sandbox, **params)
    assert response.status_code == 400
    assert error_of(response)["param"] == param


# --- automatic expiry --------------------------------------------------------------------------


def test_open_session_expires_at_expires_at_and_announces_it(sandbox: Sandbox) -> None:
    session = sandbox.stripe_session()
    sandbox.state.clock = lambda: time.time() + 2 * 3600
    wait_until(lambda: len(sandbox.receiver.on("/stripe")) == 1)
    event = json.loads(sandbox.receiver.on("/stripe")[0].body)
    assert event["type"] == "checkout.session.expired"
    assert event["data"]["object"]["id"] == session["id"]
    read = sandbox.client.get(f"/stripe/v1/checkout/sessions/{session['id']}", headers=STRIPE_AUTH).json()
    assert (read["status"], read["url"]) == ("expired", None)
