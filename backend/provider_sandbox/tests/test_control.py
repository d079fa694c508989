"""Control API: forced outcomes with their webhooks, delivery modes, listing, faults, reset."""

from __future__ import annotations

import asyncio
import json
import time
from types import SimpleNamespace
from typing import Any, cast

import pytest

from provider_sandbox.control import ControlError, Step, run_steps
from provider_sandbox.store import SandboxState
from provider_sandbox.tests.helpers import STRIPE_AUTH, TRUEMED_AUTH, Sandbox, stripe_form, stripe_params


def stripe_complete(sandbox: Sandbox, session_id: str, **body: Any) -> Any:
    return sandbox.client.post(f"/_sandbox/stripe/sessions/{session_id}/complete", json=body)


def truemed_complete(sandbox: Sandbox, session_id: str, **body: Any) -> Any:
    return sandbox.client.post(f"/_sandbox/truemed/payment_sessions/{session_id}/complete", json=body)


def stripe_read(sandbox: Sandbox, session_id: str) -> dict[str, Any]:
    return dict(sandbox.client.get(f"/stripe/v1/checkout/sessions/{session_id}", headers=STRIPE_AUTH).json())


def truemed_read(sandbox: Sandbox, session_id: str) -> dict[str, Any]:
    response = sandbox.client.get(f"/truemed/payments/v1/payment_session/{session_id}", headers=TRUEMED_AUTH)
    return dict(response.json())


def stripe_types(sandbox: Sandbox) -> list[str]:
    return [json.loads(r.body)["type"] for r in sandbox.receiver.on("/stripe")]


def truemed_statuses(sandbox: Sandbox) -> list[str]:
    return [json.loads(r.body)["status"] for r in sandbox.receiver.on("/truemed")]


def test_health(sandbox: Sandbox) -> None:
    assert sandbox.client.get("/_sandbox/health").json() == {"status": "ok"}


# --- Stripe outcomes ---------------------------------------------------------------------------


def test_stripe_paid(sandbox: Sandbox) -> None:
    session_id = sandbox.stripe_session()["id"]
    result = stripe_complete(sandbox, session_id, outcome="paid").json()
    assert result["deliveries"][0]["delivered"] is True
    assert result["events"][0]["event_type"] == "checkout.session.completed"
    assert stripe_types(sandbox) == ["checkout.session.completed"]
    session = stripe_read(sandbox, session_id)
    assert (session["status"], session["payment_status"], session["url"]) == ("complete", "paid", None)
    assert session["payment_intent"].startswith("pi_")
    assert session["customer_details"]["email"] == "jane@example.com"
    assert stripe_complete(sandbox, session_id, outcome="paid").status_code == 409


def test_stripe_declined_changes_nothing_and_sends_nothing(sandbox: Sandbox) -> None:
    session_id = sandbox.stripe_session()["id"]
    result = stripe_complete(sandbox, session_id, outcome="declined").json()
    assert result["deliveries"] == []
    assert stripe_read(sandbox, session_id)["status"] == "open"
    assert sandbox.stripe.sessions[session_id].declines[0]["decline_code"] == "generic_decline"
    assert sandbox.receiver.on("/stripe") == []
    assert stripe_complete(sandbox, session_id, outcome="paid").json()["session"]["payment_status"] == "paid"


def test_stripe_shopper_cancel_leaves_the_session_open(sandbox: Sandbox) -> None:
    session_id = sandbox.stripe_session()["id"]
    stripe_complete(sandbox, session_id, outcome="canceled")
    assert stripe_read(sandbox, session_id)["status"] == "open"
    assert sandbox.receiver.on("/stripe") == []


def test_stripe_expired(sandbox: Sandbox) -> None:
    session_id = sandbox.stripe_session()["id"]
    stripe_complete(sandbox, session_id, outcome="expired")
    assert stripe_read(sandbox, session_id)["status"] == "expired"
    assert stripe_types(sandbox) == ["checkout.session.expired"]


@pytest.mark.parametrize(
    ("body", "last_type", "payment_status"),
    [
        ({"outcome": "async_paid"}, "checkout.session.async_payment_succeeded", "paid"),
        ({"outcome": "async_failed"}, "checkout.session.async_payment_failed", "unpaid"),
        ({"outcome": "paid", "async": True}, "checkout.session.async_payment_succeeded", "paid"),
    ],
)
def test_stripe_delayed_payment_methods(
    sandbox: Sandbox, body: dict[str, Any], last_type: str, payment_status: str
) -> None:
    session_id = sandbox.stripe_session()["id"]
    stripe_complete(sandbox, session_id, **body)
    assert stripe_types(sandbox) == ["checkout.session.completed", last_type]
    first = json.loads(sandbox.receiver.on("/stripe")[0].body)["data"]["object"]
    assert (first["status"], first["payment_status"]) == ("complete", "unpaid")
    session = stripe_read(sandbox, session_id)
    assert (session["status"], session["payment_status"]) == ("complete", payment_status)


@pytest.mark.parametrize(
    ("body", "status"),
    [({"outcome": "bogus"}, 400), ({}, 400), ({"outcome": "paid", "delivery": "sideways"}, 400)],
)
def test_stripe_complete_validation(sandbox: Sandbox, body: dict[str, Any], status: int) -> None:
    session_id = sandbox.stripe_session()["id"]
    assert stripe_complete(sandbox, session_id, **body).status_code == status
    assert stripe_complete(sandbox, "cs_test_nope", outcome="paid").status_code == 404


def test_control_body_must_be_json(sandbox: Sandbox) -> None:
    response = sandbox.client.post("/_sandbox/stripe/sessions/x/complete", content=b"{not json")
    assert response.status_code == 400
    assert response.json()["error"] == "malformed_request"


# --- Truemed outcomes --------------------------------------------------------------------------


def test_truemed_captured_sends_processing_then_captured(sandbox: Sandbox) -> None:
    session_id = sandbox.truemed_session()["id"]
    result = truemed_complete(sandbox, session_id, outcome="captured").json()
    assert [d["status"] for d in result["deliveries"]] == ["processing", "captured"]
    assert truemed_statuses(sandbox) == ["processing", "captured"]
    session = truemed_read(sandbox, session_id)
    assert (session["status"], session["status_summary"], session["capture_amount"]) == (
        "captured",
        "Captured",
        15000,
    )
    assert session["authorized_on"]
    assert session["captured_on"] == session["authorized_on"]  # a one-time payment is captured at once


def test_truemed_processing_then_later_rejected(sandbox: Sandbox) -> None:
    session_id = sandbox.truemed_session()["id"]
    truemed_complete(sandbox, session_id, outcome="processing")
    processing = truemed_read(sandbox, session_id)
    assert (processing["status"], processing["status_summary"]) == ("processing", "Authorized")
    # One-time payments: capture_amount equals authorize_amount from processing on, and so do the dates.
    assert processing["capture_amount"] == processing["authorize_amount"] == 15000
    assert processing["captured_on"] == processing["authorized_on"] is not None
    truemed_complete(sandbox, session_id, outcome="rejected")
    assert truemed_statuses(sandbox) == ["processing", "rejected"]
    session = truemed_read(sandbox, session_id)
    assert (session["status"], session["status_summary"]) == ("rejected", "Rejected")
    assert truemed_complete(sandbox, session_id, outcome="captured").status_code == 409


def test_truemed_canceled(sandbox: Sandbox) -> None:
    session_id = sandbox.truemed_session()["id"]
    truemed_complete(sandbox, session_id, outcome="canceled")
    assert truemed_statuses(sandbox) == ["canceled"]
    assert truemed_read(sandbox, session_id)["status"] == "canceled"
    assert truemed_complete(sandbox, session_id, outcome="processing").status_code == 409


def test_reversed_delivery(sandbox: Sandbox) -> None:
    session_id = sandbox.truemed_session()["id"]
    truemed_complete(sandbox, session_id, outcome="captured", delivery="reversed")
    assert truemed_statuses(sandbox) == ["captured", "processing"]
    assert truemed_read(sandbox, session_id)["status"] == "captured"


def test_no_delivery_then_replay(sandbox: Sandbox) -> None:
    session_id = sandbox.stripe_session()["id"]
    result = stripe_complete(sandbox, session_id, outcome="paid", delivery="none").json()
    assert result["deliveries"] == []
    assert result["events"][0]["event_type"] == "checkout.session.completed"
    assert stripe_read(sandbox, session_id)["payment_status"] == "paid"
    assert sandbox.receiver.on("/stripe") == []
    sandbox.control("POST", f"/stripe/sessions/{session_id}/replay")  # the late delivery
    assert stripe_types(sandbox) == ["checkout.session.completed"]


def test_replay_needs_a_sent_webhook(sandbox: Sandbox) -> None:
    session_id = sandbox.truemed_session()["id"]
    assert sandbox.client.post(f"/_sandbox/truemed/sessions/{session_id}/replay").status_code == 409
    assert sandbox.client.post("/_sandbox/truemed/sessions/nope/replay").status_code == 404
    assert sandbox.client.post("/_sandbox/paypal/sessions/nope/replay").status_code == 404


# --- listing, config, faults, reset ------------------------------------------------------------


def test_sessions_listing(sandbox: Sandbox) -> None:
    stripe_id = sandbox.stripe_session(headers={"Idempotency-Key": "s-key"})["id"]
    truemed_id = sandbox.truemed_session(idempotency_key="t-key")["id"]
    sandbox.truemed_session(idempotency_key="t-key")
    listing = sandbox.control("GET", "/sessions")
    rows = {row["id"]: row for row in listing["sessions"]}
    assert rows[stripe_id]["provider"] == "stripe"
    assert rows[stripe_id]["idempotency_key"] == "s-key"
    assert rows[stripe_id]["status"] == "open"
    assert rows[truemed_id]["provider"] == "truemed"
    assert rows[truemed_id]["status"] == "pending"
    assert listing["creates_per_idempotency_key"] == {"s-key": 1, "t-key": 1}


def test_config_round_trip_and_validation(sandbox: Sandbox) -> None:
    assert sandbox.control("GET", "/config")["error_rate"] == 0
    updated = sandbox.control("POST", "/config", json={"latency_ms": 5, "error_rate": 0.5, "timeout_rate": 0})
    assert (updated["latency_ms"], updated["error_rate"], updated["timeout_rate"]) == (5, 0.5, 0)
    for bad in (
        {"error_rate": 1.5},
        {"timeout_rate": -0.1},
        {"latency_ms": -1},
        {"latency_ms": 2.5},
        {"latency_ms": "10"},
        {"error_rate": True},
        {"timeout_seconds": 0},
        {"surprise": 1},
    ):
        response = sandbox.client.post("/_sandbox/config", json=bad)
        assert response.status_code == 400, bad
        assert response.json()["error"] == "validation_error"
    assert sandbox.control("GET", "/config")["error_rate"] == 0.5


def test_error_fault_answers_500_in_each_provider_shape_and_does_nothing(sandbox: Sandbox) -> None:
    sandbox.control("POST", "/config", json={"error_rate": 1})
    stripe_answer = sandbox.stripe_create()
    assert stripe_answer.status_code == 500
    assert stripe_answer.json()["error"]["type"] == "api_error"
    truemed_answer = sandbox.truemed_create()
    assert truemed_answer.status_code == 500
    assert truemed_answer.json()["error"] == "ServerError"
    assert sandbox.stripe.sessions == {}
    assert sandbox.truemed.sessions == {}
    # Control routes and hosted pages are never faulted.
    assert sandbox.client.get("/_sandbox/sessions").status_code == 200
    assert sandbox.client.get("/pay/stripe/nope").status_code == 404


def test_latency_fault(sandbox: Sandbox) -> None:
    # A whole second of latency, so that a control call slowed only by a busy machine cannot pass for one.
    sandbox.control("POST", "/config", json={"latency_ms": 1000})
    started = time.monotonic()
    assert sandbox.stripe_create().status_code == 200
    assert time.monotonic() - started >= 1.0
    started = time.monotonic()
    sandbox.control("GET", "/sessions")
    assert time.monotonic() - started < 1.0  # control routes are never delayed


def test_timeout_fault_processes_but_answers_late(sandbox: Sandbox) -> None:
    sandbox.control("POST", "/config", json={"timeout_rate": 1, "timeout_seconds": 0.3})
    started = time.monotonic()
    late = sandbox.truemed_create(idempotency_key="slow-1")
    assert time.monotonic() - started >= 0.3
    assert late.status_code == 200
    # The session exists although a real client would have timed out: a retry with the key replays it.
    sandbox.control("POST", "/config", json={"timeout_rate": 0})
    assert sandbox.truemed_create(idempotency_key="slow-1").json()["id"] == late.json()["id"]
    assert sandbox.control("GET", "/sessions")["creates_per_idempotency_key"] == {"slow-1": 1}


def test_reset_clears_state_and_faults(sandbox: Sandbox) -> None:
    session_id = sandbox.stripe_session(headers={"Idempotency-Key": "r-key"})["id"]
    stripe_complete(sandbox, session_id, outcome="paid")
    sandbox.control("POST", "/config", json={"error_rate": 1, "latency_ms": 10})
    assert sandbox.control("POST", "/reset") == {"status": "reset"}
    assert sandbox.control("GET", "/sessions") == {"sessions": [], "creates_per_idempotency_key": {}}
    assert sandbox.control("GET", "/webhooks") == {"deliveries": []}
    config = sandbox.control("GET", "/config")
    assert (config["error_rate"], config["latency_ms"]) == (0, 0)
    # The key is forgotten too: it creates a new session.
    response = sandbox.client.post(
        "/stripe/v1/checkout/sessions",
        content=stripe_form(stripe_params()),
        headers={
            **STRIPE_AUTH,
            "Content-Type": "application/x-www-form-urlencoded",
            "Idempotency-Key": "r-key",
        },
    )
    assert response.json()["id"] != session_id


def test_settle_waits_for_background_webhooks(sandbox: Sandbox) -> None:
    session_id = sandbox.stripe_session()["id"]
    sandbox.receiver.answer("/stripe", 500, 500)  # delivered on the third attempt, after two backoffs
    expire = sandbox.client.post(f"/stripe/v1/checkout/sessions/{session_id}/expire", headers=STRIPE_AUTH)
    assert expire.status_code == 200
    settled = sandbox.client.post("/_sandbox/settle", json={"timeout_seconds": 5})
    assert (settled.status_code, settled.json()) == (200, {"pending": 0})
    # No polling: once settled, the webhook the API call caused has already been delivered.
    assert stripe_types(sandbox) == ["checkout.session.expired"] * 3
    assert sandbox.client.post("/_sandbox/settle", json={"timeout_seconds": 0}).status_code == 400


def test_each_step_rechecks_the_session_under_the_lock() -> None:
    """A forced outcome lets go of the lock while it delivers a webhook; if a parallel call (or the hosted
    page, or the expiry sweep) moved the session meanwhile, the next step must not run."""
    ran: list[str] = []

    async def run() -> None:
        state = cast(SandboxState, SimpleNamespace(lock=asyncio.Lock()))
        steps: list[Step] = [
            (lambda: True, lambda: ran.append("processing")),  # type: ignore[func-returns-value]
            (lambda: False, lambda: ran.append("captured")),  # type: ignore[func-returns-value]
        ]
        await run_steps(state, steps, "none")

    with pytest.raises(ControlError) as refused:
        asyncio.run(run())
    assert (refused.value.status, refused.value.code) == (409, "conflict")
    assert ran == ["processing"]


def test_the_expiry_sweep_survives_a_failing_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    from provider_sandbox.stripe import expiry

    passes: list[int] = []

    def expire_due(state: SandboxState) -> list[Any]:
        passes.append(len(passes))
        if len(passes) == 1:
            raise RuntimeError("one bad pass")
        return []

    monkeypatch.setattr(expiry, "expire_due", expire_due)
    monkeypatch.setattr(expiry, "deliver_later", lambda state, events: None)

    async def run() -> None:
        state = SimpleNamespace(lock=asyncio.Lock(), config=SimpleNamespace(expiry_sweep_seconds=0.001))
        task = asyncio.create_task(expiry.sweep_forever(cast(SandboxState, state)))
        while len(passes) < 3 and not task.done():
            await asyncio.sleep(0.005)
        assert not task.done(), "the sweeper stopped after a failing pass"
        task.cancel()

    asyncio.run(run())
    assert len(passes) >= 3
