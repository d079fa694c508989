"""Stripe fidelity: create parameters as the installed SDK types them, ui_mode, and refunds that end later."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
import stripe
from stripe.params.checkout._session_create_params import SessionCreateParams

from provider_sandbox.config import Switches
from provider_sandbox.stripe.sdk_params import CREATE_PARAMS, literal_values, unknown_create_param
from provider_sandbox.tests.helpers import (
    STRIPE_AUTH,
    STRIPE_WHSEC,
    Sandbox,
    SandboxFactory,
    stripe_form,
)
from testing.net import wait_until

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def error_of(response: Any) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    return dict(response.json()["error"])


# --- create parameters from the SDK ------------------------------------------------------------


def test_accepted_names_are_exactly_the_sdks_typed_create_params() -> None:
    """The source of truth is stripe/params/checkout/_session_create_params.py of the installed SDK."""
    request_options = set(stripe.RequestOptions.__annotations__)
    assert set(SessionCreateParams.__annotations__) - request_options == CREATE_PARAMS
    assert not CREATE_PARAMS & request_options  # api_key, idempotency_key, ... are never form fields
    assert {"mode", "line_items", "success_url", "allowed_payment_method_types", "ui_mode"} <= CREATE_PARAMS
    for name in CREATE_PARAMS:
        assert unknown_create_param({name: "x"}) is None, name


def test_payment_method_types_is_no_longer_a_create_parameter(sandbox: Sandbox) -> None:
    """stripe 16.x (API 2026-10-28.endive) moved it to allowed_payment_method_types: Stripe's own 400."""
    assert "payment_method_types" not in CREATE_PARAMS
    error = error_of(sandbox.stripe_create(payment_method_types=["card"]))
    assert error == {
        "type": "invalid_request_error",
        "code": "parameter_unknown",
        "message": "Received unknown parameter: payment_method_types",
        "param": "payment_method_types",
        "doc_url": "https://stripe.com/docs/error-codes/parameter-unknown",
    }
    assert sandbox.stripe.sessions == {}


def test_allowed_payment_method_types_is_accepted_and_shown_on_the_session(sandbox: Sandbox) -> None:
    session = sandbox.stripe_session(allowed_payment_method_types=["card"])
    assert session["payment_method_types"] == ["card"]
    assert sandbox.stripe.sessions[session["id"]].payment_method_types == ["card"]
    both = sandbox.stripe_session(allowed_payment_method_types=["card", "link"])
    assert both["payment_method_types"] == ["card", "link"]
    none_left = sandbox.stripe_create(excluded_payment_method_types=["card"])
    assert error_of(none_left)["param"] == "excluded_payment_method_types"
    assert error_of(sandbox.stripe_create(allowed_payment_method_types=[""]))["param"] == (
        "allowed_payment_method_types[0]"
    )


@pytest.mark.parametrize(
    ("overrides", "param"),
    [
        ({"payment_method_types": ["card"]}, "payment_method_types"),
        (
            {
                "line_items": [
                    {
                        "quantity": 1,
                        "price_data": {
                            "currency": "usd",
                            "unit_amount": 5000,
                            "product_data": {"name": "Visit", "colour": "red"},
                        },
                    }
                ]
            },
            "line_items[0][price_data][product_data][colour]",
        ),
        ({"line_items": [{"quantity": 1, "amount": 5000}]}, "line_items[0][amount]"),
        ({"payment_intent_data": {"capture": "manual"}}, "payment_intent_data[capture]"),
    ],
)
def test_unknown_names_are_refused_at_any_depth(
    sandbox: Sandbox, overrides: dict[str, Any], param: str
) -> None:
    error = error_of(sandbox.stripe_create(**overrides))
    assert (error["code"], error["param"]) == ("parameter_unknown", param)
    assert error["message"] == f"Received unknown parameter: {param}"


def test_free_form_hashes_take_any_key(sandbox: Sandbox) -> None:
    session = sandbox.stripe_session(
        metadata={"anything": "goes", "0": "index-like"},
        payment_intent_data={"metadata": {"appointment": "a-1"}, "description": "Visit"},
    )
    assert session["metadata"] == {"anything": "goes", "0": "index-like"}


def test_ui_mode_is_hosted_page(sandbox: Sandbox) -> None:
    assert literal_values("ui_mode") == ("elements", "embedded_page", "form", "hosted_page")
    assert sandbox.stripe_session()["ui_mode"] == "hosted_page"  # the default, as the real API answers
    assert sandbox.stripe_session(ui_mode="hosted_page")["ui_mode"] == "hosted_page"
    embedded = error_of(sandbox.stripe_create(ui_mode="embedded_page"))
    assert embedded["param"] == "ui_mode"
    assert "hosted_page only" in embedded["message"]
    bogus = error_of(sandbox.stripe_create(ui_mode="hosted"))
    assert (bogus["param"], bogus["code"]) == ("ui_mode", "parameter_invalid_string")


# --- refunds that end later --------------------------------------------------------------------


def paid_intent(sandbox: Sandbox) -> str:
    session = sandbox.stripe_session()
    done = sandbox.control(
        "POST", f"/stripe/sessions/{session['id']}/complete", json={"outcome": "paid", "delivery": "none"}
    )
    return str(done["session"]["payment_intent"])


def refund(sandbox: Sandbox, **params: Any) -> dict[str, Any]:
    response = sandbox.client.post(
        "/stripe/v1/refunds", content=stripe_form(params), headers={**STRIPE_AUTH, **FORM}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def retrieve(sandbox: Sandbox, refund_id: str) -> dict[str, Any]:
    response = sandbox.client.get(f"/stripe/v1/refunds/{refund_id}", headers=STRIPE_AUTH)
    assert response.status_code == 200, response.text
    return dict(response.json())


def refund_events(sandbox: Sandbox) -> list[stripe.Event]:
    """The refund events the receiver got, verified with the real SDK as the backend verifies them."""
    events = [
        stripe.Webhook.construct_event(r.body, r.headers["stripe-signature"], STRIPE_WHSEC)
        for r in sandbox.receiver.on("/stripe")
    ]
    return [e for e in events if e.type.startswith("refund.")]


def test_refunds_succeed_at_once_by_default(sandbox: Sandbox) -> None:
    made = refund(sandbox, payment_intent=paid_intent(sandbox))
    assert made["status"] == "succeeded"
    assert "pending_reason" not in made
    assert "failure_reason" not in made
    assert retrieve(sandbox, made["id"]) == made
    assert refund_events(sandbox) == []


def test_pending_refund_then_succeeded_sends_refund_updated(sandbox: Sandbox) -> None:
    config = sandbox.control("POST", "/config", json={"stripe_refund_outcome": "pending"})
    assert config["stripe_refund_outcome"] == "pending"
    intent = paid_intent(sandbox)
    made = refund(sandbox, payment_intent=intent, amount=5000)
    assert (made["status"], made["pending_reason"]) == ("pending", "processing")
    assert retrieve(sandbox, made["id"])["status"] == "pending"
    row = next(r for r in sandbox.control("GET", "/sessions")["sessions"] if r["provider"] == "stripe")
    assert row["refunds"] == [{"id": made["id"], "amount": 5000, "status": "pending"}]
    done = sandbox.control("POST", f"/stripe/refunds/{made['id']}/complete", json={"outcome": "succeeded"})
    assert done["refund"]["status"] == "succeeded"
    assert [d["event_type"] for d in done["deliveries"]] == ["refund.updated"]
    [event] = refund_events(sandbox)
    assert event.type == "refund.updated"
    assert (event.data.object.id, event.data.object.status) == (made["id"], "succeeded")
    assert event.data.previous_attributes.status == "pending"
    assert retrieve(sandbox, made["id"])["status"] == "succeeded"
    log = sandbox.control("GET", "/webhooks")["deliveries"]
    assert log[0]["session_id"] == row["id"]
    # Settled once: a second completion is a conflict; unknown refunds and outcomes are refused.
    again = sandbox.client.post(f"/_sandbox/stripe/refunds/{made['id']}/complete", json={"outcome": "failed"})
    assert again.status_code == 409
    assert (
        sandbox.client.post(
            "/_sandbox/stripe/refunds/re_nope/complete", json={"outcome": "failed"}
        ).status_code
        == 404
    )
    bad = sandbox.client.post(f"/_sandbox/stripe/refunds/{made['id']}/complete", json={"outcome": "paid"})
    assert bad.status_code == 400


def test_pending_refund_then_failed_sends_updated_then_failed_and_frees_the_amount(sandbox: Sandbox) -> None:
    sandbox.control("POST", "/config", json={"stripe_refund_outcome": "pending"})
    intent = paid_intent(sandbox)
    made = refund(sandbox, payment_intent=intent)
    assert made["amount"] == 15000  # no amount: everything
    # While pending, the amount is held: nothing is left to refund.
    held = sandbox.client.post(
        "/stripe/v1/refunds", content=stripe_form({"payment_intent": intent}), headers={**STRIPE_AUTH, **FORM}
    )
    assert error_of(held)["code"] == "charge_already_refunded"
    done = sandbox.control("POST", f"/stripe/refunds/{made['id']}/complete", json={"outcome": "failed"})
    assert [d["event_type"] for d in done["deliveries"]] == ["refund.updated", "refund.failed"]
    assert all(d["delivered"] for d in done["deliveries"])
    updated, failed = refund_events(sandbox)
    assert (updated.type, failed.type) == ("refund.updated", "refund.failed")
    assert updated.id != failed.id
    for event in (updated, failed):
        assert event.data.object.status == "failed"
        assert event.data.object.failure_reason == "expired_or_canceled_card"
    read = retrieve(sandbox, made["id"])
    assert read["status"] == "failed"
    assert read["failure_balance_transaction"].startswith("txn_")
    # The failed refund gave the money back to the charge: it can be refunded again.
    sandbox.control("POST", "/config", json={"stripe_refund_outcome": "succeeded"})
    assert refund(sandbox, payment_intent=intent)["amount"] == 15000


@pytest.mark.parametrize(
    ("outcome", "types"),
    [
        ("pending_then_succeeded", ["refund.updated"]),
        ("pending_then_failed", ["refund.updated", "refund.failed"]),
    ],
)
def test_refunds_can_settle_by_themselves(
    make_sandbox: SandboxFactory, outcome: str, types: list[str]
) -> None:
    sandbox = make_sandbox(refund_settle_seconds=0.05)
    sandbox.control("POST", "/config", json={"stripe_refund_outcome": outcome})
    made = refund(sandbox, payment_intent=paid_intent(sandbox))
    assert made["status"] == "pending"
    wait_until(lambda: len(refund_events(sandbox)) == len(types))
    assert [e.type for e in refund_events(sandbox)] == types
    assert retrieve(sandbox, made["id"])["status"] == outcome.removeprefix("pending_then_")


def test_a_control_settlement_wins_over_the_timer(make_sandbox: SandboxFactory) -> None:
    sandbox = make_sandbox(refund_settle_seconds=0.2)
    sandbox.control("POST", "/config", json={"stripe_refund_outcome": "pending_then_failed"})
    made = refund(sandbox, payment_intent=paid_intent(sandbox))
    sandbox.control("POST", f"/stripe/refunds/{made['id']}/complete", json={"outcome": "succeeded"})
    wait_until(lambda: not sandbox.state.background)
    assert retrieve(sandbox, made["id"])["status"] == "succeeded"
    assert [e.type for e in refund_events(sandbox)] == ["refund.updated"]


def test_refund_outcome_from_start_up_is_back_after_a_reset(make_sandbox: SandboxFactory) -> None:
    sandbox = make_sandbox(switches=replace(Switches(), stripe_refund_outcome="pending"))
    assert refund(sandbox, payment_intent=paid_intent(sandbox))["status"] == "pending"
    sandbox.control("POST", "/config", json={"stripe_refund_outcome": "succeeded"})
    sandbox.control("POST", "/reset")
    assert sandbox.control("GET", "/config")["stripe_refund_outcome"] == "pending"
    refused = sandbox.client.post("/_sandbox/config", json={"stripe_refund_outcome": "eventually"})
    assert (refused.status_code, refused.json()["error"]) == (400, "validation_error")


def test_refund_webhook_bodies_are_pretty_printed_events(sandbox: Sandbox) -> None:
    sandbox.control("POST", "/config", json={"stripe_refund_outcome": "pending"})
    made = refund(sandbox, payment_intent=paid_intent(sandbox))
    sandbox.control("POST", f"/stripe/refunds/{made['id']}/complete", json={"outcome": "succeeded"})
    [received] = sandbox.receiver.on("/stripe")
    body = json.loads(received.body)
    assert received.body.startswith(b"{\n")
    assert (body["object"], body["livemode"], body["request"]) == (
        "event",
        False,
        {"id": None, "idempotency_key": None},
    )
    assert body["data"]["object"]["object"] == "refund"
