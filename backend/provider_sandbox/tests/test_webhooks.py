"""Webhooks reach a real HTTP receiver, signed as the providers sign them, and are retried on failure."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
import stripe

from provider_sandbox.tests.helpers import STRIPE_WHSEC, TRUEMED_WHSEC, Sandbox, SandboxFactory
from provider_sandbox.webhooks import signature_header


def complete_stripe(sandbox: Sandbox, outcome: str = "paid", **extra: object) -> dict[str, object]:
    session = sandbox.stripe_session()
    result: dict[str, object] = sandbox.control(
        "POST", f"/stripe/sessions/{session['id']}/complete", json={"outcome": outcome, **extra}
    )
    return result


def complete_truemed(sandbox: Sandbox, outcome: str = "captured", **extra: object) -> dict[str, object]:
    session = sandbox.truemed_session()
    result: dict[str, object] = sandbox.control(
        "POST", f"/truemed/payment_sessions/{session['id']}/complete", json={"outcome": outcome, **extra}
    )
    return result


def test_stripe_webhook_verifies_with_the_real_sdk(sandbox: Sandbox) -> None:
    result = complete_stripe(sandbox)
    [received] = sandbox.receiver.on("/stripe")
    event = stripe.Webhook.construct_event(received.body, received.headers["stripe-signature"], STRIPE_WHSEC)
    assert event.type == "checkout.session.completed"
    assert event.id.startswith("evt_")
    assert event.object == "event"
    assert event.livemode is False
    assert event.pending_webhooks == 1
    assert event.api_version
    session = event.data.object
    assert (session.object, session.status, session.payment_status) == (
        "checkout.session",
        "complete",
        "paid",
    )
    assert session.id == result["session"]["id"]  # type: ignore[index]
    assert session.client_reference_id == "ps-123"
    assert received.headers["content-type"].startswith("application/json")


def test_stripe_signature_fails_with_another_secret_or_altered_body(sandbox: Sandbox) -> None:
    complete_stripe(sandbox)
    [received] = sandbox.receiver.on("/stripe")
    header = received.headers["stripe-signature"]
    assert header.startswith("t=")
    assert ",v1=" in header
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(received.body, header, "whsec_other")
    # A receiver that re-serialises the JSON instead of using the raw body fails, as it would with Stripe.
    reserialised = json.dumps(json.loads(received.body)).encode()
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(reserialised, header, STRIPE_WHSEC)


def test_truemed_legacy_webhook(sandbox: Sandbox) -> None:
    result = complete_truemed(sandbox, "captured")
    received = sandbox.receiver.on("/truemed")
    assert [json.loads(r.body)["status"] for r in received] == ["processing", "captured"]
    for r in received:
        assert r.headers["x-truemed-api-key"] == TRUEMED_WHSEC
        assert "x-truemed-signature" not in r.headers
    body = json.loads(received[-1].body)
    assert set(body) == {
        "payment_id",
        "status",
        "created_at",
        "order_items",
        "authorize_amount",
        "capture_amount",
        "metadata",
    }
    assert body["payment_id"] == result["session"]["id"]  # type: ignore[index]
    assert (body["authorize_amount"], body["capture_amount"]) == (15000, 15000)
    assert body["metadata"] == '{"payment_session_id":"ps-1"}'


def test_truemed_signed_webhook(make_sandbox: SandboxFactory) -> None:
    sandbox = make_sandbox(truemed_webhook_mode="signed")
    complete_truemed(sandbox, "rejected")
    received = sandbox.receiver.on("/truemed")
    assert len(received) == 2
    delivery_ids = set()
    for r in received:
        assert "x-truemed-api-key" not in r.headers
        parts = dict(p.split("=", 1) for p in r.headers["x-truemed-signature"].split(","))
        assert abs(int(parts["t"]) - time.time()) < 60
        expected = hmac.new(TRUEMED_WHSEC.encode(), f"{parts['t']}.".encode() + r.body, hashlib.sha256)
        assert hmac.compare_digest(parts["v1"], expected.hexdigest())
        envelope = json.loads(r.body)
        assert set(envelope) == {"webhook_delivery_id", "event_type", "data"}
        assert envelope["event_type"] == "payment_session.updated"  # dot-notation, as documented
        delivery_ids.add(envelope["webhook_delivery_id"])
    assert [json.loads(r.body)["data"]["status"] for r in received] == ["processing", "rejected"]
    assert len(delivery_ids) == 2


def test_signature_helper_matches_the_stripe_sdk() -> None:
    body = b'{"id": "evt_1"}'
    assert signature_header(body, "whsec_x", 1700000000) == stripe.WebhookSignature.generate_signature_header(
        body.decode(), "whsec_x", 1700000000
    )


def test_stripe_retries_until_2xx(sandbox: Sandbox) -> None:
    sandbox.receiver.answer("/stripe", 500, 503)
    result = complete_stripe(sandbox)
    [delivery] = result["deliveries"]  # type: ignore[misc]
    assert delivery["delivered"] is True
    assert delivery["attempts"] == 3
    received = sandbox.receiver.on("/stripe")
    assert len(received) == 3
    assert len({json.loads(r.body)["id"] for r in received}) == 1  # the same event each time
    log = sandbox.control("GET", "/webhooks")["deliveries"]
    assert [(d["attempt"], d["status_code"], d["ok"]) for d in log] == [
        (1, 500, False),
        (2, 503, False),
        (3, 200, True),
    ]


def test_truemed_expects_204_and_gives_up_after_max_attempts(sandbox: Sandbox) -> None:
    sandbox.receiver.answer("/truemed", 200, 200, 200)
    result = complete_truemed(sandbox, "processing")
    [delivery] = result["deliveries"]  # type: ignore[misc]
    assert (delivery["delivered"], delivery["attempts"], delivery["status_code"]) == (False, 3, 200)
    assert len(sandbox.receiver.on("/truemed")) == 3


def test_unreachable_receiver_is_logged_not_fatal(make_sandbox: SandboxFactory) -> None:
    sandbox = make_sandbox(stripe_webhook_url="http://127.0.0.1:9/nothing", webhook_max_attempts=2)
    result = complete_stripe(sandbox)
    [delivery] = result["deliveries"]  # type: ignore[misc]
    assert (delivery["delivered"], delivery["attempts"], delivery["status_code"]) == (False, 2, None)
    log = sandbox.control("GET", "/webhooks")["deliveries"]
    assert all(d["error"] for d in log)


def test_replay_sends_the_same_event_again(sandbox: Sandbox) -> None:
    result = complete_stripe(sandbox)
    session_id = result["session"]["id"]  # type: ignore[index]
    replay = sandbox.control("POST", f"/stripe/sessions/{session_id}/replay")
    assert replay["deliveries"][0]["delivered"] is True
    first, second = sandbox.receiver.on("/stripe")
    assert first.body == second.body
    assert stripe.Webhook.construct_event(second.body, second.headers["stripe-signature"], STRIPE_WHSEC)
    log = sandbox.control("GET", "/webhooks")["deliveries"]
    assert [d["replay"] for d in log] == [False, True]


def test_truemed_replay_repeats_the_last_status(make_sandbox: SandboxFactory) -> None:
    sandbox = make_sandbox(truemed_webhook_mode="signed")
    result = complete_truemed(sandbox, "captured")
    session_id = result["session"]["id"]  # type: ignore[index]
    sandbox.control("POST", f"/truemed/sessions/{session_id}/replay")
    received = sandbox.receiver.on("/truemed")
    assert len(received) == 3
    assert received[2].body == received[1].body
    assert json.loads(received[2].body)["data"]["status"] == "captured"
