"""Contract (issue 10, items 10-14): the real adapters and scripts/verify-truemed-sandbox.py against the
running sandbox, where the sandbox now follows the providers more closely.

Over 400 lines on purpose: every section shares the module-scoped sandbox processes and the recording
receiver below (starting them is the slow part), and splitting the file would start them once per file.

Two kinds of test:
- deliveries captured raw (a sandbox process whose webhooks go to a recording receiver here), fed to the
  adapters' parse_webhook byte for byte: what the adapters make of each webhook shape the sandbox can send;
- the shared sandbox of tests/contract/conftest.py (its webhooks reach the live backend): adapter calls,
  product round trips, and the verify script.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from rest_framework.test import APIClient

from sofia_checkout.appointments.models import Appointment
from sofia_checkout.payments.models import PaymentSession, WebhookEvent
from sofia_checkout.payments.providers.base import (
    CreateSessionRequest,
    ProviderError,
    ProviderRejectedError,
    RefundOutcome,
    RefundRequest,
    WebhookAuthError,
)
from sofia_checkout.payments.providers.stripe_checkout.adapter import StripeCheckoutProvider
from sofia_checkout.payments.providers.truemed.adapter import TruemedProvider
from sofia_checkout.payments.statuses import PaymentStatus
from testing.flows import started
from testing.net import free_port, wait_until
from tests.contract.helpers import (
    BACKEND_DIR,
    SANDBOX_STRIPE_WHSEC,
    SANDBOX_TRUEMED_KEY,
    SANDBOX_TRUEMED_WHSEC,
    Sandbox,
    start_sandbox,
    stop_sandbox,
)

pytestmark = pytest.mark.contract

VERIFY_SCRIPT = BACKEND_DIR.parent / "scripts" / "verify-truemed-sandbox.py"


# --- a receiver that keeps deliveries byte for byte --------------------------------------------


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Recorder:
    url: str = ""
    deliveries: list[Delivery] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, count: int, provider: str) -> list[Delivery]:
        """Wait for `count` deliveries to `provider`'s webhook path; return them and forget them."""

        def mine() -> list[Delivery]:
            with self.lock:
                return [d for d in self.deliveries if f"/{provider}/" in d.path]

        wait_until(lambda: len(mine()) >= count, timeout=10, what=f"{count} {provider} deliveries")
        found = mine()
        with self.lock:
            self.deliveries = [d for d in self.deliveries if d not in found]
        return found


def _handler(recorder: Recorder) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            with recorder.lock:
                recorder.deliveries.append(Delivery(self.path, headers, body))
            # What each provider counts as delivered: any 2xx for Stripe, 204 for Truemed.
            self.send_response(204 if "/truemed/" in self.path else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


@pytest.fixture(scope="module")
def recorder() -> Iterator[Recorder]:
    recorder = Recorder()
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _handler(recorder))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    recorder.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield recorder
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def _capturing(tmp_path_factory: pytest.TempPathFactory, recorder: Recorder, mode: str) -> Iterator[Sandbox]:
    running = start_sandbox(tmp_path_factory.mktemp(f"capture-{mode}"), webhook_base=recorder.url, mode=mode)
    yield running
    stop_sandbox(running)


@pytest.fixture(scope="module")
def _signed_process(tmp_path_factory: pytest.TempPathFactory, recorder: Recorder) -> Iterator[Sandbox]:
    yield from _capturing(tmp_path_factory, recorder, "signed")


@pytest.fixture(scope="module")
def _legacy_process(tmp_path_factory: pytest.TempPathFactory, recorder: Recorder) -> Iterator[Sandbox]:
    yield from _capturing(tmp_path_factory, recorder, "legacy")


def _clean(sandbox: Sandbox, recorder: Recorder) -> Sandbox:
    sandbox.reset()
    with recorder.lock:
        recorder.deliveries.clear()
    return sandbox


@pytest.fixture
def signed(_signed_process: Sandbox, recorder: Recorder) -> Sandbox:
    """A sandbox in signed mode whose webhooks are recorded raw (not sent to the backend)."""
    return _clean(_signed_process, recorder)


@pytest.fixture
def legacy(_legacy_process: Sandbox, recorder: Recorder) -> Sandbox:
    return _clean(_legacy_process, recorder)


# --- adapters ----------------------------------------------------------------------------------

_opened: list[StripeCheckoutProvider | TruemedProvider] = []


@pytest.fixture(autouse=True)
def _close_adapters() -> Iterator[None]:
    yield
    for adapter in _opened:
        adapter.close()
    _opened.clear()


def truemed_adapter(sandbox: Sandbox, *, mode: str = "legacy") -> TruemedProvider:
    adapter = TruemedProvider(
        api_key=SANDBOX_TRUEMED_KEY,
        api_base=f"{sandbox.url}/truemed",
        webhook_secret=SANDBOX_TRUEMED_WHSEC,
        webhook_mode=mode,
        timeout=5,
        max_retries=0,
    )
    _opened.append(adapter)
    return adapter


def stripe_adapter(sandbox: Sandbox) -> StripeCheckoutProvider:
    adapter = StripeCheckoutProvider(
        secret_key="sk_test_fidelity",
        webhook_secret=SANDBOX_STRIPE_WHSEC,
        api_base=f"{sandbox.url}/stripe",
        timeout=5,
        max_retries=0,
    )
    _opened.append(adapter)
    return adapter


def request(**overrides: Any) -> CreateSessionRequest:
    base = CreateSessionRequest(
        payment_session_id=str(uuid.uuid4()),
        appointment_id=str(uuid.uuid4()),
        idempotency_key=f"fidelity-{uuid.uuid4()}",
        amount_cents=15000,
        currency="usd",
        sku="initial_consultation",
        description="Initial consultation (60 min) with Dr. Ana Reyes",
        customer_email="jane@example.com",
        customer_name="Jane Doe",
        customer_state="CA",
        success_url="http://127.0.0.1:5173/checkout/return?x=1&session_id={CHECKOUT_SESSION_ID}",
        cancel_url="http://127.0.0.1:5173/checkout/cancelled?x=1",
        expires_at=datetime.now(UTC) + timedelta(hours=1),
    )
    return replace(base, **overrides)


def switch(sandbox: Sandbox, **settings: Any) -> dict[str, Any]:
    """Switch sandbox behaviours at runtime (undone by the next reset)."""
    return dict(sandbox.control("POST", "/config", json=settings))


def assume(sandbox: Sandbox, **assumptions: str) -> None:
    switch(sandbox, truemed_assumptions=assumptions)


def complete(sandbox: Sandbox, provider: str, session_id: str, outcome: str, **extra: Any) -> dict[str, Any]:
    return dict(sandbox.complete(provider, session_id, outcome, **extra))


# --- Truemed deliveries, parsed by the adapter byte for byte -----------------------------------


@pytest.mark.parametrize("id_field", ["payment_id", "payment_session_id", "id"])
def test_truemed_adapter_reads_each_id_field_of_signed_deliveries(
    signed: Sandbox, recorder: Recorder, id_field: str
) -> None:
    assume(signed, webhook_id_field=id_field)
    adapter = truemed_adapter(signed, mode="signed")
    req = request()
    session = adapter.create_session(req)
    complete(signed, "truemed", session.provider_session_id, "captured")
    processing, captured = recorder.take(2, "truemed")
    notices = [adapter.parse_webhook(body=d.body, headers=d.headers) for d in (processing, captured)]
    for delivery, notice in zip((processing, captured), notices, strict=True):
        envelope = json.loads(delivery.body)
        assert envelope["event_type"] == "payment_session.updated"  # dot-notation
        assert envelope["data"][id_field] == session.provider_session_id
        assert (notice.handled, notice.event_type) == (True, "payment_session.updated")
        assert notice.dedupe_key == envelope["webhook_delivery_id"]
        assert notice.provider_session_id == session.provider_session_id
        assert notice.our_payment_session_id == req.payment_session_id
    assert notices[0].dedupe_key != notices[1].dedupe_key


def test_truemed_adapter_acknowledges_a_non_payment_event(signed: Sandbox, recorder: Recorder) -> None:
    """Item 11: authentic, but not about a payment session: acknowledged and recorded, never refused."""
    adapter = truemed_adapter(signed, mode="signed")
    signed.control("POST", "/truemed/events", json={"event_type": "qualification.completed"})
    [delivery] = recorder.take(1, "truemed")
    notice = adapter.parse_webhook(body=delivery.body, headers=delivery.headers)
    assert (notice.handled, notice.event_type, notice.provider_session_id) == (
        False,
        "qualification.completed",
        None,
    )
    assert notice.dedupe_key == json.loads(delivery.body)["webhook_delivery_id"]


def test_truemed_adapter_and_the_signature_grammar(signed: Sandbox, recorder: Recorder) -> None:
    """The adapter reads t and v1 in any order; a grammar without a timestamp is refused, which is what
    scripts/verify-truemed-sandbox.py is there to catch against the real sandbox."""
    adapter = truemed_adapter(signed, mode="signed")
    session = adapter.create_session(request())
    assume(signed, signature="v1_t")
    complete(signed, "truemed", session.provider_session_id, "processing")
    [swapped] = recorder.take(1, "truemed")
    assert swapped.headers["x-truemed-signature"].startswith("v1=")
    assert adapter.parse_webhook(body=swapped.body, headers=swapped.headers).handled
    assume(signed, signature="sha256")
    complete(signed, "truemed", session.provider_session_id, "captured")
    [bare] = recorder.take(1, "truemed")
    with pytest.raises(WebhookAuthError):
        adapter.parse_webhook(body=bare.body, headers=bare.headers)


def test_truemed_adapter_and_the_legacy_header_value(legacy: Sandbox, recorder: Recorder) -> None:
    adapter = truemed_adapter(legacy)
    session = adapter.create_session(request())
    complete(legacy, "truemed", session.provider_session_id, "processing")
    [shared_secret] = recorder.take(1, "truemed")
    notice = adapter.parse_webhook(body=shared_secret.body, headers=shared_secret.headers)
    assert (notice.handled, notice.provider_session_id) == (True, session.provider_session_id)
    # If Truemed put the merchant's API key in the header instead, the adapter would refuse every delivery.
    assume(legacy, legacy_header="api_key")
    complete(legacy, "truemed", session.provider_session_id, "captured")
    [api_key] = recorder.take(1, "truemed")
    assert api_key.headers["x-truemed-api-key"] == SANDBOX_TRUEMED_KEY
    with pytest.raises(WebhookAuthError):
        adapter.parse_webhook(body=api_key.body, headers=api_key.headers)


# --- Stripe refund events, parsed by the adapter byte for byte ---------------------------------


def test_stripe_adapter_reads_refund_updated_and_failed(legacy: Sandbox, recorder: Recorder) -> None:
    adapter = stripe_adapter(legacy)
    session = adapter.create_session(request())
    complete(legacy, "stripe", session.provider_session_id, "paid", delivery="none")
    paid = adapter.retrieve_session(session.provider_session_id)
    switch(legacy, stripe_refund_outcome="pending")
    refunds = [
        adapter.refund(
            RefundRequest(paid.payment_reference, paid.provider_session_id, 5000, f"r-{uuid.uuid4()}")
        )
        for _ in range(2)
    ]
    assert [r.outcome for r in refunds] == [RefundOutcome.PENDING] * 2  # pending is not succeeded
    legacy.control(
        "POST", f"/stripe/refunds/{refunds[0].provider_refund_id}/complete", json={"outcome": "succeeded"}
    )
    legacy.control(
        "POST", f"/stripe/refunds/{refunds[1].provider_refund_id}/complete", json={"outcome": "failed"}
    )
    deliveries = recorder.take(3, "stripe")
    notices = [adapter.parse_webhook(body=d.body, headers=d.headers) for d in deliveries]
    assert [(n.event_type, n.refund.provider_refund_id, n.refund.outcome) for n in notices if n.refund] == [
        ("refund.updated", refunds[0].provider_refund_id, RefundOutcome.SUCCEEDED),
        ("refund.updated", refunds[1].provider_refund_id, RefundOutcome.FAILED),
        ("refund.failed", refunds[1].provider_refund_id, RefundOutcome.FAILED),
    ]
    assert all(n.livemode is False for n in notices)


# --- the shared sandbox: adapters --------------------------------------------------------------


@pytest.fixture
def fresh(use_sandbox: Sandbox) -> Sandbox:
    return use_sandbox


pytest_db = pytest.mark.django_db(transaction=True)


@pytest_db
def test_stripe_adapter_sends_only_sdk_create_params(fresh: Sandbox) -> None:
    """Item 10: the sandbox refuses any name outside the installed SDK's SessionCreateParams (as Stripe would
    refuse what the pinned API version dropped), so a create that succeeds here sends only known names."""
    created = stripe_adapter(fresh).create_session(request())
    session = httpx.get(
        f"{fresh.url}/stripe/v1/checkout/sessions/{created.provider_session_id}",
        headers={"Authorization": "Bearer sk_test_fidelity"},
    ).json()
    assert session["payment_method_types"] == ["card"]  # from allowed_payment_method_types
    assert session["ui_mode"] == "hosted_page"


@pytest_db
def test_stripe_refund_pending_then_failed(fresh: Sandbox) -> None:
    adapter = stripe_adapter(fresh)
    created = adapter.create_session(request())
    complete(fresh, "stripe", created.provider_session_id, "paid", delivery="none")
    paid = adapter.retrieve_session(created.provider_session_id)
    switch(fresh, stripe_refund_outcome="pending")
    refund = adapter.refund(
        RefundRequest(paid.payment_reference, paid.provider_session_id, None, f"r-{uuid.uuid4()}")
    )
    assert (refund.outcome, refund.provider_status) == (RefundOutcome.PENDING, "pending")
    status = adapter.refund_status(
        provider_refund_id=refund.provider_refund_id, provider_session_id=paid.provider_session_id
    )
    assert status.outcome == RefundOutcome.PENDING
    done = fresh.control(
        "POST", f"/stripe/refunds/{refund.provider_refund_id}/complete", json={"outcome": "failed"}
    )
    # Both signed events reached the live backend, which verified and recorded them (a refusal is a 400).
    assert [(d["event_type"], d["status_code"]) for d in done["deliveries"]] == [
        ("refund.updated", 200),
        ("refund.failed", 200),
    ]
    recorded = WebhookEvent.objects.filter(provider="stripe", event_type__startswith="refund.")
    assert sorted(e.event_type for e in recorded if e.signature_valid) == ["refund.failed", "refund.updated"]
    status = adapter.refund_status(
        provider_refund_id=refund.provider_refund_id, provider_session_id=paid.provider_session_id
    )
    assert (status.outcome, status.provider_status) == (RefundOutcome.FAILED, "failed")


@pytest_db
def test_stripe_refund_pending_then_succeeded_by_itself(fresh: Sandbox) -> None:
    adapter = stripe_adapter(fresh)
    created = adapter.create_session(request())
    complete(fresh, "stripe", created.provider_session_id, "paid", delivery="none")
    paid = adapter.retrieve_session(created.provider_session_id)
    switch(fresh, stripe_refund_outcome="pending_then_succeeded")
    refund = adapter.refund(
        RefundRequest(paid.payment_reference, paid.provider_session_id, 15000, f"r-{uuid.uuid4()}")
    )
    assert refund.outcome == RefundOutcome.PENDING

    def outcome() -> RefundOutcome:
        return adapter.refund_status(
            provider_refund_id=refund.provider_refund_id, provider_session_id=paid.provider_session_id
        ).outcome

    # Polled at 10 a second: faster would meet the sandbox's request limit (25 a second, as Stripe's).
    wait_until(
        lambda: outcome() == RefundOutcome.SUCCEEDED, timeout=10, what="the refund to settle", interval=0.1
    )


@pytest_db
def test_truemed_refund_is_pending_until_status_summary_shows_it(fresh: Sandbox) -> None:
    adapter = truemed_adapter(fresh)
    created = adapter.create_session(request())
    sid = created.provider_session_id
    complete(fresh, "truemed", sid, "captured", delivery="none")
    captured = adapter.retrieve_session(sid)
    assert (captured.status, captured.amount_cents) == (PaymentStatus.PAID, 15000)  # capture_amount
    assume(fresh, refund_summary="pending")
    refund = adapter.refund(RefundRequest(sid, sid, 5000, f"r-{uuid.uuid4()}"))
    assert refund.outcome == RefundOutcome.PENDING  # {refund_id} only says "accepted"
    status = adapter.refund_status(provider_refund_id=refund.provider_refund_id, provider_session_id=sid)
    assert (status.outcome, status.provider_status) == (RefundOutcome.PENDING, "Captured")
    fresh.control(
        "POST", f"/truemed/refunds/{refund.provider_refund_id}/complete", json={"outcome": "succeeded"}
    )
    status = adapter.refund_status(provider_refund_id=refund.provider_refund_id, provider_session_id=sid)
    assert (status.outcome, status.provider_status) == (RefundOutcome.SUCCEEDED, "Partially Refunded")
    # With the default (the summary changes at once) the re-read finds it done straight away.
    assume(fresh, refund_summary="immediate")
    rest = adapter.refund(RefundRequest(sid, sid, 10000, f"r-{uuid.uuid4()}"))
    status = adapter.refund_status(provider_refund_id=rest.provider_refund_id, provider_session_id=sid)
    assert (status.outcome, status.provider_status) == (RefundOutcome.SUCCEEDED, "Refunded")


@pytest_db
def test_truemed_field_shapes_through_the_adapter(fresh: Sandbox) -> None:
    """Item 13: processing already carries capture_amount = authorize_amount; the adapter takes the
    amount from capture_amount only once captured, and the metadata names our payment session."""
    adapter = truemed_adapter(fresh)
    req = request()
    sid = adapter.create_session(req).provider_session_id
    complete(fresh, "truemed", sid, "processing", delivery="none")
    processing = adapter.retrieve_session(sid)
    assert (processing.status, processing.provider_status) == (PaymentStatus.PROCESSING, "processing")
    assert processing.our_payment_session_id == req.payment_session_id
    complete(fresh, "truemed", sid, "captured", delivery="none")
    assert adapter.retrieve_session(sid).status == PaymentStatus.PAID


@pytest_db
def test_truemed_error_body_detail_is_still_a_refusal(fresh: Sandbox) -> None:
    assume(fresh, error_body="detail")
    with pytest.raises(ProviderRejectedError) as refused:
        truemed_adapter(fresh).create_session(request(amount_cents=-5))
    assert (refused.value.http_status, refused.value.provider_code) == (400, "")


@pytest_db
def test_truemed_cancel_answered_with_id_only(fresh: Sandbox) -> None:
    assume(fresh, cancel_answer="id")
    adapter = truemed_adapter(fresh)
    sid = adapter.create_session(request()).provider_session_id
    assert adapter.cancel_session(sid).status == PaymentStatus.CANCELED


@pytest_db
def test_truemed_cancel_answered_204_without_a_body(fresh: Sandbox) -> None:
    assume(fresh, cancel_answer="empty")
    adapter = truemed_adapter(fresh)
    sid = adapter.create_session(request()).provider_session_id
    assert adapter.cancel_session(sid).status == PaymentStatus.CANCELED


@pytest_db
def test_truemed_refund_answer_without_refund_id_is_never_taken_as_done(fresh: Sandbox) -> None:
    adapter = truemed_adapter(fresh)
    sid = adapter.create_session(request()).provider_session_id
    complete(fresh, "truemed", sid, "captured", delivery="none")
    assume(fresh, refund_answer="id")
    try:
        result = adapter.refund(RefundRequest(sid, sid, 15000, f"r-{uuid.uuid4()}"))
    except ProviderError:
        return
    assert result.outcome != RefundOutcome.SUCCEEDED


# --- the shared sandbox: product round trips ---------------------------------------------------


def truemed_deliveries(sandbox: Sandbox, provider_session_id: str) -> list[dict[str, Any]]:
    return [
        d
        for d in sandbox.webhooks()["deliveries"]
        if d["provider"] == "truemed" and d["session_id"] == provider_session_id
    ]


@pytest_db
@pytest.mark.roundtrip
def test_shopper_leaves_the_truemed_page_then_pays_by_card(
    use_sandbox: Sandbox, api: APIClient, book: Any
) -> None:
    """Item 12: Cancel on Truemed's page returns to failure_url; the session stays pending (no webhook), so
    nothing changes at our end; the shopper can still pay another way."""
    appointment = book()
    session = started(api, appointment, "truemed")
    hosted = session["redirect_url"]
    left = httpx.post(f"{hosted}/cancel")
    assert left.status_code == 303
    assert "/checkout/cancelled" in left.headers["location"]
    row = next(r for r in use_sandbox.sessions()["sessions"] if r["id"] == session["provider_session_id"])
    assert (row["status"], row["shopper_cancels"]) == ("pending", 1)
    assert truemed_deliveries(use_sandbox, session["provider_session_id"]) == []
    assert PaymentSession.objects.get(pk=session["id"]).status == PaymentStatus.OPEN
    assert Appointment.objects.get(pk=appointment["id"]).status == "pending_payment"
    card = started(api, appointment, "stripe")
    complete(use_sandbox, "stripe", card["provider_session_id"], "paid")
    assert Appointment.objects.get(pk=appointment["id"]).status == "confirmed"


@pytest_db
@pytest.mark.roundtrip
@pytest.mark.parametrize("id_field", ["payment_session_id", "id"])
def test_truemed_webhook_id_field_variants_confirm(
    use_sandbox: Sandbox, api: APIClient, book: Any, id_field: str
) -> None:
    assume(use_sandbox, webhook_id_field=id_field)
    appointment = book()
    session = started(api, appointment, "truemed")
    complete(use_sandbox, "truemed", session["provider_session_id"], "captured")
    assert Appointment.objects.get(pk=appointment["id"]).status == "confirmed"
    events = WebhookEvent.objects.filter(
        provider="truemed", provider_session_id=session["provider_session_id"]
    )
    assert sorted(e.outcome for e in events) == ["applied", "applied"]


@pytest_db
@pytest.mark.roundtrip
def test_non_payment_truemed_events_are_acknowledged_and_recorded(
    live_server: Any, use_sandbox: Sandbox, settings: Any, tmp_path: Path
) -> None:
    """Item 11, end to end in both modes: 204 (so Truemed does not retry for 7 days) and one recorded row."""
    legacy = use_sandbox.control("POST", "/truemed/events", json={"event_type": "qualification.completed"})
    assert [(d["delivered"], d["status_code"]) for d in legacy["deliveries"]] == [(True, 204)]
    signed = start_sandbox(tmp_path, webhook_base=live_server.url, mode="signed")
    try:
        settings.TRUEMED_API_BASE = f"{signed.url}/truemed"
        settings.TRUEMED_WEBHOOK_MODE = "signed"
        sent = signed.control(
            "POST", "/truemed/events", json={"event_type": "qualification.completed", "data": {"id": "q-1"}}
        )
        assert [(d["delivered"], d["status_code"]) for d in sent["deliveries"]] == [(True, 204)]
        event = WebhookEvent.objects.get(provider="truemed", dedupe_key=sent["event"]["event_id"])
        assert (event.event_type, event.signature_valid, event.outcome) == (
            "qualification.completed",
            True,
            "ignored",
        )
    finally:
        stop_sandbox(signed)


# --- scripts/verify-truemed-sandbox.py against our own emulator --------------------------------


def run_verify(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(VERIFY_SCRIPT), *args],
        env={**os.environ, "TRUEMED_API_KEY": SANDBOX_TRUEMED_KEY, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest_db
def test_verify_script_finds_every_assumption_holding_in_the_sandbox(fresh: Sandbox) -> None:
    adapter = truemed_adapter(fresh)
    captured = adapter.create_session(request()).provider_session_id
    complete(fresh, "truemed", captured, "captured", delivery="none")
    result = run_verify("--base", f"{fresh.url}/truemed", "--refund-session", captured)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "FAILS" not in result.stdout
    assert "UNKNOWN" not in result.stdout
    assert "9 of 9 assumptions hold." in result.stdout  # the refund check included
    row = next(r for r in fresh.sessions()["sessions"] if r["id"] == captured)
    assert row["refunded_amount"] == 1  # the script refunded 1 cent, as it says


@pytest_db
def test_verify_script_tells_when_an_assumption_fails(fresh: Sandbox) -> None:
    """The same run against a sandbox switched to behave otherwise: the script names what broke."""
    assume(fresh, cancel_path="/payments/v1/payment_session/{id}/void", error_body="detail")
    result = run_verify("--base", f"{fresh.url}/truemed")
    assert result.returncode == 1, result.stdout + result.stderr
    failing = [line for line in result.stdout.splitlines() if line.startswith("FAILS")]
    assert len(failing) == 2, result.stdout
    assert "cancel path" in failing[0]
    assert "error body shape" in failing[1]


@pytest.mark.parametrize("mode", ["signed", "legacy"])
def test_verify_script_checks_captured_deliveries(
    mode: str, signed: Sandbox, legacy: Sandbox, recorder: Recorder, tmp_path: Path
) -> None:
    """The script's offline check of a saved webhook delivery, on deliveries our sandbox really sent."""
    sandbox = signed if mode == "signed" else legacy
    session = truemed_adapter(sandbox, mode=mode).create_session(request())
    complete(sandbox, "truemed", session.provider_session_id, "processing")
    [delivery] = recorder.take(1, "truemed")
    body, headers = tmp_path / "body.json", tmp_path / "headers.json"
    body.write_bytes(delivery.body)
    headers.write_text(json.dumps(delivery.headers))
    args = ["--offline", "--webhook-body", str(body), "--webhook-headers", str(headers)]
    result = run_verify(*args, "--webhook-secret", SANDBOX_TRUEMED_WHSEC)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 of 1 assumptions hold." in result.stdout
    tampered = run_verify(*args, "--webhook-secret", "not-the-secret")
    assert tampered.returncode == 1, tampered.stdout
