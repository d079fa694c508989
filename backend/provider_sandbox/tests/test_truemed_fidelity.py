"""Truemed fidelity: dot-notation event types, notifications that name no payment session, a shopper leaving
the hosted page, refunds that show later, and every unverified assumption switchable (docs/sandbox.md)."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
import uuid
from dataclasses import replace
from typing import Any

import pytest

from provider_sandbox.config import ConfigError, SandboxConfig, Switches, TruemedAssumptions
from provider_sandbox.tests.helpers import (
    TRUEMED_AUTH,
    TRUEMED_KEY,
    TRUEMED_WHSEC,
    Sandbox,
    SandboxFactory,
)
from testing.net import wait_until

API = "/truemed/payments/v1"


def switched(make_sandbox: SandboxFactory, **assumptions: str) -> Sandbox:
    """A sandbox started with some Truemed assumptions switched (SANDBOX_TRUEMED_ASSUMPTIONS in-process)."""
    mode = assumptions.pop("mode", "legacy")
    switches = replace(Switches(), truemed=TruemedAssumptions().changed(assumptions))
    return make_sandbox(switches=switches, truemed_webhook_mode=mode)


def read(sandbox: Sandbox, session_id: str) -> dict[str, Any]:
    response = sandbox.client.get(f"{API}/payment_session/{session_id}", headers=TRUEMED_AUTH)
    assert response.status_code == 200, response.text
    return dict(response.json())


def complete(sandbox: Sandbox, session_id: str, outcome: str, **extra: Any) -> dict[str, Any]:
    return dict(
        sandbox.control(
            "POST", f"/truemed/payment_sessions/{session_id}/complete", json={"outcome": outcome, **extra}
        )
    )


def captured(sandbox: Sandbox) -> str:
    session_id = sandbox.truemed_session()["id"]
    complete(sandbox, session_id, "captured", delivery="none")
    return session_id


def refund_body(session_id: str, amount: int = 15000, key: str | None = None) -> dict[str, Any]:
    return {
        "amount": amount,
        "idempotency_key": key or f"r-{uuid.uuid4()}",
        "payment_id": session_id,
        "reason": "customer_request",
    }


def bodies(sandbox: Sandbox) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in sandbox.receiver.on("/truemed")]


# --- event types -------------------------------------------------------------------------------


def test_signed_event_type_is_configurable_dot_notation(make_sandbox: SandboxFactory) -> None:
    sandbox = make_sandbox(
        truemed_webhook_mode="signed",
        switches=replace(Switches(), truemed_event_type="payment_session.completed"),
    )
    complete(sandbox, sandbox.truemed_session()["id"], "processing")
    assert [b["event_type"] for b in bodies(sandbox)] == ["payment_session.completed"]
    sandbox.control("POST", "/config", json={"truemed_event_type": "payment_session.status_changed"})
    complete(sandbox, sandbox.truemed_session()["id"], "processing")
    assert bodies(sandbox)[-1]["event_type"] == "payment_session.status_changed"
    assert (
        sandbox.control("GET", "/webhooks")["deliveries"][-1]["event_type"]
        == "payment_session.status_changed"
    )
    for bad in ("Payment Session", "payment_session.", ".x", 7, "x" * 101):
        response = sandbox.client.post("/_sandbox/config", json={"truemed_event_type": bad})
        assert response.status_code == 400, bad
    assert sandbox.control("GET", "/config")["truemed_event_type"] == "payment_session.status_changed"


def test_an_authentic_non_payment_event_signed(make_sandbox: SandboxFactory) -> None:
    """Truemed may send other event types (qualification, refunds) to the same URL; the control API sends
    one, signed like every other delivery, so the product's acknowledge-and-record path runs end to end."""
    sandbox = make_sandbox(truemed_webhook_mode="signed")
    result = sandbox.control(
        "POST",
        "/truemed/events",
        json={"event_type": "qualification.completed", "data": {"qualification_id": "q-1"}},
    )
    assert result["event"]["event_type"] == "qualification.completed"
    [delivery] = result["deliveries"]
    assert (delivery["delivered"], delivery["status_code"]) == (True, 204)
    [received] = sandbox.receiver.on("/truemed")
    envelope = json.loads(received.body)
    assert envelope["event_type"] == "qualification.completed"
    assert envelope["data"] == {"qualification_id": "q-1"}
    assert envelope["webhook_delivery_id"] == delivery["event_id"]
    parts = dict(p.split("=", 1) for p in received.headers["x-truemed-signature"].split(","))
    expected = hmac.new(TRUEMED_WHSEC.encode(), f"{parts['t']}.".encode() + received.body, hashlib.sha256)
    assert hmac.compare_digest(parts["v1"], expected.hexdigest())
    assert sandbox.truemed.other_events[0].event_id == delivery["event_id"]


def test_an_authentic_non_payment_event_legacy_and_its_default_data(sandbox: Sandbox) -> None:
    sandbox.control("POST", "/truemed/events", json={"event_type": "qualification.completed"})
    [received] = sandbox.receiver.on("/truemed")
    assert received.headers["x-truemed-api-key"] == TRUEMED_WHSEC
    body = json.loads(received.body)
    assert body["status"] == "approved"
    assert not {"payment_id", "payment_session_id", "id"} & set(body)  # names no payment session
    for bad in ({}, {"event_type": "Qualification Completed"}, {"event_type": "x.y", "data": [1]}):
        response = sandbox.client.post("/_sandbox/truemed/events", json=bad)
        assert (response.status_code, response.json()["error"]) == (400, "validation_error")


# --- hosted-page cancel vs the cancel API ------------------------------------------------------


def test_abandoned_outcome_changes_nothing_and_sends_nothing(sandbox: Sandbox) -> None:
    session_id = sandbox.truemed_session()["id"]
    result = complete(sandbox, session_id, "abandoned")
    assert (result["session"]["status"], result["events"], result["deliveries"]) == ("pending", [], [])
    assert read(sandbox, session_id)["status"] == "pending"
    assert sandbox.truemed.sessions[session_id].shopper_cancels == 1
    assert sandbox.receiver.on("/truemed") == []
    # The shopper may still pay; only the cancel API (or the control outcome standing for it) cancels.
    complete(sandbox, session_id, "canceled")
    assert [b["status"] for b in bodies(sandbox)] == ["canceled"]
    refused = sandbox.client.post(
        f"/_sandbox/truemed/payment_sessions/{session_id}/complete", json={"outcome": "abandoned"}
    )
    assert refused.status_code == 409


# --- field shapes ------------------------------------------------------------------------------


def test_status_summary_and_amounts_through_the_lifecycle(sandbox: Sandbox) -> None:
    session_id = sandbox.truemed_session()["id"]
    pending = read(sandbox, session_id)
    assert (pending["status_summary"], pending["authorize_amount"], pending["capture_amount"]) == (
        "Incomplete",
        0,
        0,
    )
    assert pending["authorized_on"] is pending["captured_on"] is None
    complete(sandbox, session_id, "processing")
    processing = read(sandbox, session_id)
    assert processing["status_summary"] == "Authorized"
    assert processing["capture_amount"] == processing["authorize_amount"] == 15000
    assert processing["captured_on"] == processing["authorized_on"]
    complete(sandbox, session_id, "captured")
    done = read(sandbox, session_id)
    assert (done["status_summary"], done["capture_amount"]) == ("Captured", 15000)
    assert (done["authorized_on"], done["captured_on"]) == (
        processing["authorized_on"],
        processing["captured_on"],
    )
    # The webhooks carry the same amounts (and the order items with their item_id).
    for body in bodies(sandbox):
        assert body["capture_amount"] == body["authorize_amount"] == 15000
        assert body["order_items"][0]["item_id"] == done["order_items"][0]["item_id"]
    canceled_id = sandbox.truemed_session()["id"]
    complete(sandbox, canceled_id, "canceled")
    assert read(sandbox, canceled_id)["status_summary"] == "Canceled"


# --- refunds that show later -------------------------------------------------------------------


def test_refund_summary_pending_until_the_control_api_ends_it(make_sandbox: SandboxFactory) -> None:
    sandbox = switched(make_sandbox, refund_summary="pending")
    session_id = captured(sandbox)
    first = sandbox.client.post(f"{API}/refund", json=refund_body(session_id, 5000), headers=TRUEMED_AUTH)
    assert first.status_code == 200
    refund_id = first.json()["refund_id"]
    assert read(sandbox, session_id)["status_summary"] == "Captured"  # accepted, not yet done
    # A pending refund holds its amount.
    too_much = sandbox.client.post(f"{API}/refund", json=refund_body(session_id, 10001), headers=TRUEMED_AUTH)
    assert too_much.json()["error"] == "AmountInvalid"
    done = sandbox.control("POST", f"/truemed/refunds/{refund_id}/complete", json={"outcome": "succeeded"})
    assert done["session"]["status_summary"] == "Partially Refunded"
    assert done["deliveries"] == []  # Truemed documents no refund webhook
    rest = sandbox.client.post(f"{API}/refund", json=refund_body(session_id, 10000), headers=TRUEMED_AUTH)
    failed = sandbox.control(
        "POST", f"/truemed/refunds/{rest.json()['refund_id']}/complete", json={"outcome": "failed"}
    )
    assert failed["session"]["status_summary"] == "Partially Refunded"  # a failed refund never shows
    row = next(r for r in sandbox.control("GET", "/sessions")["sessions"] if r["id"] == session_id)
    assert [r["status"] for r in row["refunds"]] == ["succeeded", "failed"]
    assert row["refunded_amount"] == 5000
    again = sandbox.client.post(f"/_sandbox/truemed/refunds/{refund_id}/complete", json={"outcome": "failed"})
    assert again.status_code == 409
    unknown = sandbox.client.post(
        f"/_sandbox/truemed/refunds/{uuid.uuid4()}/complete", json={"outcome": "failed"}
    )
    assert unknown.status_code == 404


# --- every unverified assumption, switched -----------------------------------------------------


def test_defaults_are_what_the_adapter_assumes(sandbox: Sandbox) -> None:
    config = sandbox.control("GET", "/config")
    assert config["truemed_event_type"] == "payment_session.updated"
    assert config["truemed_assumptions"] == {
        "cancel_path": "/payments/v1/payment_session/{id}/cancel",
        "cancel_answer": "id_status",
        "refund_path": "/payments/v1/refund",
        "refund_answer": "refund_id",
        "refund_summary": "immediate",
        "webhook_id_field": "payment_id",
        "signature": "t_v1",
        "legacy_header": "webhook_secret",
        "error_body": "error_message",
    }


def test_cancel_path_and_answer(make_sandbox: SandboxFactory) -> None:
    sandbox = switched(
        make_sandbox, cancel_path="/payments/v1/payment_session/{id}/void", cancel_answer="empty"
    )
    session_id = sandbox.truemed_session()["id"]
    old = sandbox.client.post(f"{API}/payment_session/{session_id}/cancel", headers=TRUEMED_AUTH)
    assert (old.status_code, old.json()["error"]) == (404, "NotFound")
    cancel = sandbox.client.post(f"{API}/payment_session/{session_id}/void", headers=TRUEMED_AUTH)
    assert (cancel.status_code, cancel.content) == (204, b"")
    assert read(sandbox, session_id)["status"] == "canceled"
    sandbox.control("POST", "/config", json={"truemed_assumptions": {"cancel_answer": "id"}})
    other = sandbox.truemed_session()["id"]
    assert sandbox.client.post(f"{API}/payment_session/{other}/void", headers=TRUEMED_AUTH).json() == {
        "id": other
    }
    missing = sandbox.client.post(f"{API}/payment_session/{uuid.uuid4()}/void", headers=TRUEMED_AUTH)
    assert missing.json()["error"] == "PaymentSessionDoesNotExist"


def test_refund_path_and_answer(make_sandbox: SandboxFactory) -> None:
    sandbox = switched(make_sandbox, refund_path="/payments/v1/refunds", refund_answer="id")
    session_id = captured(sandbox)
    assert (
        sandbox.client.post(f"{API}/refund", json=refund_body(session_id), headers=TRUEMED_AUTH).status_code
        == 404
    )
    made = sandbox.client.post(f"{API}/refunds", json=refund_body(session_id, key="k1"), headers=TRUEMED_AUTH)
    assert set(made.json()) == {"id"}
    replay = sandbox.client.post(
        f"{API}/refunds", json=refund_body(session_id, key="k1"), headers=TRUEMED_AUTH
    )
    assert replay.json() == made.json()
    assert read(sandbox, session_id)["status_summary"] == "Refunded"


@pytest.mark.parametrize("field", ["payment_session_id", "id"])
def test_webhook_id_field(make_sandbox: SandboxFactory, field: str) -> None:
    sandbox = switched(make_sandbox, webhook_id_field=field)
    session_id = sandbox.truemed_session()["id"]
    complete(sandbox, session_id, "processing")
    [body] = bodies(sandbox)
    assert body[field] == session_id
    assert "payment_id" not in body


@pytest.mark.parametrize(
    ("grammar", "pattern"), [("v1_t", r"v1=[0-9a-f]{64},t=\d+"), ("sha256", r"sha256=[0-9a-f]{64}")]
)
def test_signature_grammar(make_sandbox: SandboxFactory, grammar: str, pattern: str) -> None:
    sandbox = switched(make_sandbox, signature=grammar, mode="signed")
    complete(sandbox, sandbox.truemed_session()["id"], "processing")
    [received] = sandbox.receiver.on("/truemed")
    header = received.headers["x-truemed-signature"]
    assert re.fullmatch(pattern, header), header
    parts = dict(p.split("=", 1) for p in header.split(","))
    signed = f"{parts['t']}.".encode() + received.body if "t" in parts else received.body
    digest = parts.get("v1") or parts["sha256"]
    assert hmac.compare_digest(digest, hmac.new(TRUEMED_WHSEC.encode(), signed, hashlib.sha256).hexdigest())


def test_legacy_header_may_carry_the_api_key(make_sandbox: SandboxFactory) -> None:
    sandbox = switched(make_sandbox, legacy_header="api_key")
    complete(sandbox, sandbox.truemed_session()["id"], "processing")
    [received] = sandbox.receiver.on("/truemed")
    assert received.headers["x-truemed-api-key"] == TRUEMED_KEY


def test_error_body_detail(sandbox: Sandbox) -> None:
    sandbox.control("POST", "/config", json={"truemed_assumptions": {"error_body": "detail"}})
    refused = sandbox.truemed_create(total_amount=1)
    assert (refused.status_code, set(refused.json())) == (400, {"detail"})
    unauthorized = sandbox.client.get(f"{API}/payment_session/x")
    assert (unauthorized.status_code, set(unauthorized.json())) == (401, {"detail"})
    sandbox.control("POST", "/config", json={"error_rate": 1})
    down = sandbox.truemed_create()
    assert (down.status_code, set(down.json())) == (500, {"detail"})


def test_runtime_switches_merge_validate_and_reset(sandbox: Sandbox) -> None:
    sandbox.control("POST", "/config", json={"truemed_assumptions": {"cancel_answer": "id"}})
    sandbox.control("POST", "/config", json={"truemed_assumptions": {"refund_answer": "id"}})
    now = sandbox.control("GET", "/config")["truemed_assumptions"]
    assert (now["cancel_answer"], now["refund_answer"]) == ("id", "id")  # merged, name by name
    for bad in (
        {"truemed_assumptions": {"signature": "md5"}},
        {"truemed_assumptions": {"surprise": "x"}},
        {"truemed_assumptions": {"cancel_path": "/elsewhere/{id}"}},
        {"truemed_assumptions": {"cancel_path": "/payments/v1/cancel"}},
        {"truemed_assumptions": {"refund_path": "/payments/v1/{id}/refund"}},
        {"truemed_assumptions": {"error_body": 1}},
        {"truemed_assumptions": "error_body=detail"},
        {"truemed_assumptions": {"error_body": "detail"}, "error_rate": 2},
    ):
        response = sandbox.client.post("/_sandbox/config", json=bad)
        assert (response.status_code, response.json()["error"]) == (400, "validation_error"), bad
    # A refused call changed nothing.
    assert sandbox.control("GET", "/config")["truemed_assumptions"]["error_body"] == "error_message"
    assert sandbox.control("GET", "/config")["error_rate"] == 0
    sandbox.control("POST", "/reset")
    assert sandbox.control("GET", "/config")["truemed_assumptions"]["cancel_answer"] == "id_status"


def test_assumptions_from_the_environment() -> None:
    config = SandboxConfig.from_env(
        {
            "SANDBOX_TRUEMED_ASSUMPTIONS": (
                " error_body=detail , cancel_path=/payments/v1/payment_session/{id}/void"
            ),
            "SANDBOX_TRUEMED_EVENT_TYPE": "payment_session.completed",
            "SANDBOX_STRIPE_REFUND_OUTCOME": "pending_then_failed",
        }
    )
    assert config.switches.truemed.error_body == "detail"
    assert config.switches.truemed.cancel_path == "/payments/v1/payment_session/{id}/void"
    assert config.switches.truemed.signature == "t_v1"  # the rest stay the defaults
    assert config.switches.truemed_event_type == "payment_session.completed"
    assert config.switches.stripe_refund_outcome == "pending_then_failed"
    assert SandboxConfig.from_env({}).switches == Switches()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SANDBOX_TRUEMED_ASSUMPTIONS", "error_body"),
        ("SANDBOX_TRUEMED_ASSUMPTIONS", "colour=red"),
        ("SANDBOX_TRUEMED_ASSUMPTIONS", "signature=md5"),
        ("SANDBOX_TRUEMED_EVENT_TYPE", "PaymentSessionComplete"),
        ("SANDBOX_STRIPE_REFUND_OUTCOME", "later"),
    ],
)
def test_bad_switches_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        SandboxConfig.from_env({name: value})


def test_a_switched_webhook_reaches_the_receiver_in_time(make_sandbox: SandboxFactory) -> None:
    """The hosted page's own flow follows the switches too (webhook id field on a real page payment)."""
    sandbox = switched(make_sandbox, webhook_id_field="id")
    session = sandbox.truemed_session()
    path = session["redirect_url"].removeprefix("http://sandbox.test")
    sandbox.client.post(f"{path}/survey", data={"reason": "x"})
    started = time.monotonic()
    sandbox.client.post(f"{path}/pay", data={"action": "pay"})
    wait_until(lambda: len(sandbox.receiver.on("/truemed")) == 2)
    assert time.monotonic() - started < 5
    assert [(b["id"], b["status"]) for b in bodies(sandbox)] == [
        (session["id"], "processing"),
        (session["id"], "captured"),
    ]
