"""The real process (`python -m provider_sandbox`) driven by the real stripe SDK and plain httpx."""

from __future__ import annotations

import json
import os
import smtplib
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe

from provider_sandbox.tests.helpers import Receiver, stripe_params
from testing.net import free_port, served, wait_until

BACKEND_DIR = Path(__file__).resolve().parents[2]
STRIPE_WHSEC = "whsec_process_test"
TRUEMED_KEY = "tm_process_key"
TRUEMED_WHSEC = "tm_process_whsec"


@dataclass
class Running:
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    smtp_port: int

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        response = httpx.request(method, f"{self.url}/_sandbox{path}", timeout=10, **kwargs)
        assert response.status_code < 300, response.text
        return response.json()


@pytest.fixture(scope="module")
def running(_receiver_server: Receiver, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    port = free_port()
    smtp_port = free_port()
    env = {
        **os.environ,
        "SANDBOX_HOST": "127.0.0.1",
        "SANDBOX_PORT": str(port),
        "SANDBOX_SMTP_PORT": str(smtp_port),
        "SANDBOX_PUBLIC_URL": "",  # empty means default: http://SANDBOX_HOST:SANDBOX_PORT
        "SANDBOX_STRIPE_WEBHOOK_URL": f"{_receiver_server.url}/stripe",
        "SANDBOX_TRUEMED_WEBHOOK_URL": f"{_receiver_server.url}/truemed",
        "SANDBOX_TRUEMED_WEBHOOK_MODE": "signed",
        "SANDBOX_TRUEMED_EVENT_TYPE": "payment_session.status_changed",
        "SANDBOX_TRUEMED_ASSUMPTIONS": "",
        "SANDBOX_STRIPE_REFUND_OUTCOME": "",
        "SANDBOX_TRUEMED_CAPTURE_DELAY_SECONDS": "0.1",
        "SANDBOX_WEBHOOK_MAX_ATTEMPTS": "2",
        "STRIPE_WEBHOOK_SECRET": STRIPE_WHSEC,
        "TRUEMED_API_KEY": TRUEMED_KEY,
        "TRUEMED_WEBHOOK_SECRET": TRUEMED_WHSEC,
        "LOG_LEVEL": "INFO",
    }
    log = tmp_path_factory.mktemp("sandbox") / "sandbox.log"
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            return httpx.get(f"{url}/_sandbox/health", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    command = [sys.executable, "-m", "provider_sandbox"]
    with served(command, cwd=BACKEND_DIR, env=env, log=log, ready=healthy, timeout=20) as process:
        yield Running(url, process, log, smtp_port)


@pytest.fixture
def sandbox(running: Running, receiver: Receiver) -> Running:
    running.control("POST", "/reset")
    return running


@pytest.fixture
def client(sandbox: Running) -> Iterator[stripe.StripeClient]:
    http_client = stripe.HTTPXClient(timeout=5, allow_sync_methods=True)
    yield stripe.StripeClient(
        "sk_test_process",
        http_client=http_client,
        base_addresses={"api": f"{sandbox.url}/stripe"},
        max_network_retries=0,
    )
    http_client.close()


def params(**overrides: Any) -> dict[str, Any]:
    """A create body as the stripe SDK takes it (the shared one, with this module's metadata)."""
    metadata = {"appointment_id": "a-1", "payment_session_id": "ps-1"}
    return stripe_params(**{"metadata": metadata, **overrides})


def test_sdk_create_retrieve_expire(
    sandbox: Running, client: stripe.StripeClient, receiver: Receiver
) -> None:
    created = client.v1.checkout.sessions.create(params(), {"idempotency_key": "proc-1"})  # type: ignore[arg-type]
    assert created.id.startswith("cs_test_")
    assert created.url == f"{sandbox.url}/pay/stripe/{created.id}"
    assert (created.status, created.amount_total, created.currency) == ("open", 15000, "usd")
    assert created.metadata["appointment_id"] == "a-1"
    again = client.v1.checkout.sessions.create(
        params(**{"expires_at": created.expires_at}), {"idempotency_key": "proc-1"}
    )  # type: ignore[arg-type]
    assert again.id == created.id
    read = client.v1.checkout.sessions.retrieve(created.id)
    assert read.to_dict() == created.to_dict()
    expired = client.v1.checkout.sessions.expire(created.id)
    assert (expired.status, expired.url) == ("expired", None)
    wait_until(lambda: len(receiver.on("/stripe")) == 1)
    [delivery] = receiver.on("/stripe")
    event = stripe.Webhook.construct_event(delivery.body, delivery.headers["stripe-signature"], STRIPE_WHSEC)
    assert event.type == "checkout.session.expired"
    assert sandbox.control("GET", "/sessions")["creates_per_idempotency_key"] == {"proc-1": 1}


def test_sdk_maps_errors_to_its_own_classes(sandbox: Running, client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as invalid:
        client.v1.checkout.sessions.create(params(expires_at=int(time.time()) + 60))  # type: ignore[arg-type]
    assert (invalid.value.http_status, invalid.value.param) == (400, "expires_at")
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.checkout.sessions.retrieve("cs_test_missing")
    assert (missing.value.http_status, missing.value.code) == (404, "resource_missing")
    fixed = params()
    client.v1.checkout.sessions.create(fixed, {"idempotency_key": "proc-2"})  # type: ignore[arg-type]
    with pytest.raises(stripe.IdempotencyError) as idem:
        client.v1.checkout.sessions.create(
            {**fixed, "customer_email": "x@y.zz"}, {"idempotency_key": "proc-2"}
        )  # type: ignore[arg-type]
    assert idem.value.http_status == 400
    bad_key = stripe.HTTPXClient(allow_sync_methods=True)
    try:
        other = stripe.StripeClient(
            "sk_wrong", http_client=bad_key, base_addresses={"api": f"{sandbox.url}/stripe"}
        )
        with pytest.raises(stripe.AuthenticationError) as auth:
            other.v1.checkout.sessions.retrieve("cs_test_x")
        assert auth.value.http_status == 401
    finally:
        bad_key.close()
    sandbox.control("POST", "/config", json={"error_rate": 1})
    with pytest.raises(stripe.APIError) as server:
        client.v1.checkout.sessions.create(params())  # type: ignore[arg-type]
    assert server.value.http_status == 500


def test_sdk_create_params_follow_the_sdk(sandbox: Running, client: stripe.StripeClient) -> None:
    """What the product sends with the pinned SDK: allowed_payment_method_types and ui_mode are create
    parameters; payment_method_types is not any more, and the SDK raises Stripe's parameter_unknown."""
    created = client.v1.checkout.sessions.create(
        params(allowed_payment_method_types=["card"], ui_mode="hosted_page")  # type: ignore[arg-type]
    )
    assert (created.ui_mode, created.payment_method_types) == ("hosted_page", ["card"])
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.checkout.sessions.create(params(payment_method_types=["card"]))  # type: ignore[arg-type]
    assert (refused.value.http_status, refused.value.code, refused.value.param) == (
        400,
        "parameter_unknown",
        "payment_method_types",
    )


def test_sdk_pending_refund_then_failed(
    sandbox: Running, client: stripe.StripeClient, receiver: Receiver
) -> None:
    created = client.v1.checkout.sessions.create(params())  # type: ignore[arg-type]
    sandbox.control(
        "POST", f"/stripe/sessions/{created.id}/complete", json={"outcome": "paid", "delivery": "none"}
    )
    intent = client.v1.checkout.sessions.retrieve(created.id).payment_intent
    sandbox.control("POST", "/config", json={"stripe_refund_outcome": "pending"})
    refund = client.v1.refunds.create({"payment_intent": str(intent)})
    assert (refund.status, refund.amount) == ("pending", 15000)
    sandbox.control("POST", f"/stripe/refunds/{refund.id}/complete", json={"outcome": "failed"})
    read = client.v1.refunds.retrieve(refund.id)
    assert (read.status, read.failure_reason) == ("failed", "expired_or_canceled_card")
    events = [
        stripe.Webhook.construct_event(d.body, d.headers["stripe-signature"], STRIPE_WHSEC)
        for d in receiver.on("/stripe")
    ]
    assert [(e.type, e.data.object.id) for e in events] == [
        ("refund.updated", refund.id),
        ("refund.failed", refund.id),
    ]


def test_sdk_paid_then_refund(sandbox: Running, client: stripe.StripeClient, receiver: Receiver) -> None:
    created = client.v1.checkout.sessions.create(params())  # type: ignore[arg-type]
    result = sandbox.control("POST", f"/stripe/sessions/{created.id}/complete", json={"outcome": "paid"})
    assert result["deliveries"][0]["delivered"] is True
    paid = client.v1.checkout.sessions.retrieve(created.id)
    assert (paid.status, paid.payment_status) == ("complete", "paid")
    assert isinstance(paid.payment_intent, str)
    refund = client.v1.refunds.create(
        {"payment_intent": paid.payment_intent, "amount": 5000, "reason": "requested_by_customer"},
        {"idempotency_key": "refund-1"},
    )
    assert (refund.object, refund.status, refund.amount) == ("refund", "succeeded", 5000)
    [delivery] = receiver.on("/stripe")
    event = stripe.Webhook.construct_event(delivery.body, delivery.headers["stripe-signature"], STRIPE_WHSEC)
    assert event.type == "checkout.session.completed"


def test_truemed_over_http(sandbox: Running, receiver: Receiver) -> None:
    with httpx.Client(base_url=f"{sandbox.url}/truemed", headers={"x-truemed-api-key": TRUEMED_KEY}) as http:
        body = {
            "total_amount": 15000,
            "order_items": [{"sku": "visit", "name": "Visit", "price": 15000, "quantity": 1}],
            "success_url": "http://127.0.0.1:5173/checkout/return?truemed_session_id={{payment_session_id}}",
            "failure_url": "http://127.0.0.1:5173/checkout/cancelled",
            "idempotency_key": "tm-proc-1",
            "metadata": json.dumps({"payment_session_id": "ps-1"}),
        }
        created = http.post("/payments/v1/create_payment_session", json=body)
        assert created.status_code == 200
        session_id = created.json()["id"]
        assert created.json()["redirect_url"] == f"{sandbox.url}/pay/truemed/{session_id}"
        assert http.post("/payments/v1/create_payment_session", json=body).json()["id"] == session_id
        assert http.get(f"/payments/v1/payment_session/{session_id}").json()["status"] == "pending"
        unauthorized = httpx.get(f"{sandbox.url}/truemed/payments/v1/payment_session/{session_id}")
        assert unauthorized.status_code == 401
        # The hosted page, as a browser would post it.
        page = f"{sandbox.url}/pay/truemed/{session_id}"
        assert httpx.post(f"{page}/survey", data={"reason": "x"}).status_code == 303
        paid = httpx.post(f"{page}/pay", data={"action": "pay"})
        assert paid.headers["location"].endswith(f"truemed_session_id={session_id}")
        wait_until(lambda: len(receiver.on("/truemed")) == 2)
        assert http.get(f"/payments/v1/payment_session/{session_id}").json()["status"] == "captured"
    for delivery in receiver.on("/truemed"):
        assert delivery.headers["x-truemed-signature"].startswith("t=")
        assert json.loads(delivery.body)["event_type"] == "payment_session.status_changed"


def test_timeout_fault_beats_the_client_timeout_and_reset_releases_it(sandbox: Running) -> None:
    sandbox.control("POST", "/config", json={"timeout_rate": 1, "timeout_seconds": 30})
    body = {
        "total_amount": 100,
        "order_items": [{"name": "x", "price": 100, "quantity": 1}],
        "success_url": "http://shop.test/ok",
        "idempotency_key": "hang-1",
    }
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            f"{sandbox.url}/truemed/payments/v1/create_payment_session",
            json=body,
            headers={"x-truemed-api-key": TRUEMED_KEY},
            timeout=0.5,
        )
    assert time.monotonic() - started < 5
    assert sandbox.control("GET", "/config")["held_requests"] == 1
    # The request was processed although the client gave up.
    assert sandbox.control("GET", "/sessions")["creates_per_idempotency_key"] == {"hang-1": 1}
    # A held request is released by a reset instead of lingering for 30 s.
    answers: list[int] = []
    waiter = threading.Thread(
        target=lambda: answers.append(
            httpx.post(
                f"{sandbox.url}/truemed/payments/v1/create_payment_session",
                json=body,
                headers={"x-truemed-api-key": TRUEMED_KEY},
                timeout=20,
            ).status_code
        )
    )
    waiter.start()
    wait_until(lambda: sandbox.control("GET", "/config")["held_requests"] == 2)
    sandbox.control("POST", "/reset")
    waiter.join(timeout=10)
    assert answers == [200]
    assert sandbox.control("GET", "/config")["held_requests"] == 0


def test_the_process_runs_the_mail_sink_on_its_smtp_port(sandbox: Running) -> None:
    message = EmailMessage()
    message["From"] = "appointments@sofia.test"
    message["To"] = "jane@example.com"
    message["Subject"] = "Through the real process"
    message.set_content("Hello")
    with smtplib.SMTP("127.0.0.1", sandbox.smtp_port, timeout=5) as client:
        client.send_message(message)

    emails = httpx.get(f"{sandbox.url}/_sandbox/emails.json", timeout=5).json()["emails"]
    assert [(e["subject"], e["to"], e["text"].strip()) for e in emails] == [
        ("Through the real process", ["jane@example.com"], "Hello")
    ]
    assert httpx.delete(f"{sandbox.url}/_sandbox/emails.json", timeout=5).json() == {"emails": []}


def test_an_smtp_port_asked_for_and_taken_stops_the_start(sandbox: Running) -> None:
    env = {**os.environ, "SANDBOX_PORT": str(free_port()), "SANDBOX_SMTP_PORT": str(sandbox.smtp_port)}
    result = subprocess.run(
        [sys.executable, "-m", "provider_sandbox"],
        cwd=BACKEND_DIR,
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert b"mail sink: cannot listen" in result.stderr
