"""Round trips: backend API -> sandbox (real adapters, HTTP) -> signed webhooks -> backend (live server)."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest
from rest_framework.test import APIClient

from sofia_checkout.appointments.models import Appointment
from sofia_checkout.payments.models import PaymentSession, WebhookEvent
from testing.flows import start_payment, started
from testing.mail import point_django_at
from testing.parallel import in_parallel
from testing.patient import PatientClient
from tests.contract.helpers import Sandbox, start_sandbox, stop_sandbox

pytestmark = [pytest.mark.roundtrip, pytest.mark.django_db(transaction=True)]


def complete(sandbox: Sandbox, session: dict[str, Any], outcome: str, **extra: Any) -> Any:
    """The shopper finishes our payment session `session` on the sandbox's hosted page."""
    return sandbox.complete(session["provider"], session["provider_session_id"], outcome, **extra)


def status_of(appointment: dict[str, Any]) -> str:
    return Appointment.objects.get(pk=appointment["id"]).status


def test_card_paid_confirms(use_sandbox: Sandbox, api: APIClient, book: Any) -> None:
    appointment = book()
    session = started(api, appointment, "stripe")
    assert session["redirect_url"].startswith(use_sandbox.url)
    complete(use_sandbox, session, "paid")
    assert status_of(appointment) == "confirmed"
    event = WebhookEvent.objects.get(provider="stripe")
    assert event.signature_valid
    assert event.event_type == "checkout.session.completed"
    assert api.post(f"/api/payment-sessions/{session['id']}/sync/").json()["status"] == "paid"


def test_card_declined_changes_nothing_and_can_retry(use_sandbox: Sandbox, api: APIClient, book: Any) -> None:
    appointment = book()
    session = started(api, appointment, "stripe")
    complete(use_sandbox, session, "declined")
    assert status_of(appointment) == "pending_payment"
    again = start_payment(api, appointment["id"], "stripe")
    assert again.status_code == 200
    assert again.json()["id"] == session["id"]
    complete(use_sandbox, session, "paid")
    assert status_of(appointment) == "confirmed"


def test_card_expired_then_new_attempt(use_sandbox: Sandbox, api: APIClient, book: Any) -> None:
    appointment = book()
    session = started(api, appointment, "stripe")
    complete(use_sandbox, session, "expired")
    assert PaymentSession.objects.get(pk=session["id"]).status == "expired"
    assert status_of(appointment) == "pending_payment"
    second = started(api, appointment, "stripe")
    assert second["id"] != session["id"]
    assert second["provider_session_id"] != session["provider_session_id"]


def test_hsa_processing_then_captured(use_sandbox: Sandbox, api: APIClient, book: Any) -> None:
    appointment = book()
    session = started(api, appointment, "truemed")
    complete(use_sandbox, session, "processing")
    assert status_of(appointment) == "payment_processing"
    assert PaymentSession.objects.get(pk=session["id"]).status == "processing"
    complete(use_sandbox, session, "captured")
    assert status_of(appointment) == "confirmed"
    assert WebhookEvent.objects.filter(provider="truemed", outcome="applied").count() >= 2


def test_hsa_captured_sends_processing_then_captured(use_sandbox: Sandbox, api: APIClient, book: Any) -> None:
    appointment = book()
    session = started(api, appointment, "truemed")
    complete(use_sandbox, session, "captured")
    assert status_of(appointment) == "confirmed"
    delivered = [
        (d["status"], d["status_code"])
        for d in use_sandbox.webhooks()["deliveries"]
        if d["provider"] == "truemed" and d["session_id"] == session["provider_session_id"]
    ]
    assert delivered == [("processing", 204), ("captured", 204)]
    events = WebhookEvent.objects.filter(provider="truemed").order_by("received_at")
    assert [(e.signature_valid, e.outcome) for e in events] == [(True, "applied"), (True, "applied")]
    assert PaymentSession.objects.get(pk=session["id"]).status == "paid"


def test_hsa_rejected_then_card(use_sandbox: Sandbox, api: APIClient, book: Any) -> None:
    appointment = book()
    session = started(api, appointment, "truemed")
    complete(use_sandbox, session, "rejected")
    assert PaymentSession.objects.get(pk=session["id"]).status == "failed"
    assert status_of(appointment) == "pending_payment"
    card = started(api, appointment, "stripe")
    complete(use_sandbox, card, "paid")
    assert status_of(appointment) == "confirmed"


def test_hsa_cancelled(use_sandbox: Sandbox, api: APIClient, book: Any) -> None:
    appointment = book()
    session = started(api, appointment, "truemed")
    complete(use_sandbox, session, "canceled")
    assert PaymentSession.objects.get(pk=session["id"]).status == "canceled"
    assert status_of(appointment) == "pending_payment"


def test_duplicate_delivery_applies_once(use_sandbox: Sandbox, api: APIClient, book: Any) -> None:
    appointment = book()
    session = started(api, appointment, "stripe")
    complete(use_sandbox, session, "paid")
    use_sandbox.control("POST", f"/stripe/sessions/{session['provider_session_id']}/replay")
    event = WebhookEvent.objects.get(provider="stripe")
    assert event.deliveries == 2
    assert status_of(appointment) == "confirmed"


def test_reversed_delivery_ends_paid(use_sandbox: Sandbox, api: APIClient, book: Any) -> None:
    appointment = book()
    session = started(api, appointment, "truemed")
    complete(use_sandbox, session, "captured", delivery="reversed")
    assert PaymentSession.objects.get(pk=session["id"]).status == "paid"
    assert status_of(appointment) == "confirmed"


def test_missed_webhook_is_caught_by_return_sync(use_sandbox: Sandbox, api: APIClient, book: Any) -> None:
    appointment = book()
    session = started(api, appointment, "stripe")
    complete(use_sandbox, session, "paid", delivery="none")
    assert status_of(appointment) == "pending_payment"
    assert api.post(f"/api/payment-sessions/{session['id']}/sync/").json()["status"] == "paid"
    assert status_of(appointment) == "confirmed"


def sandbox_creates(sandbox: Sandbox) -> dict[str, int]:
    listing = sandbox.sessions()
    counts = listing["creates_per_idempotency_key"] if isinstance(listing, dict) else {}
    return {k: int(v) for k, v in counts.items()}


@pytest.mark.parametrize("provider", ["stripe", "truemed"])
def test_50_parallel_creates_make_one_provider_session(
    use_sandbox: Sandbox, book: Any, provider: str
) -> None:
    appointment = book()
    responses = in_parallel(50, lambda i: start_payment(PatientClient(), appointment["id"], provider))
    codes = Counter(r.status_code for r in responses)
    assert codes == {201: 1, 200: 49}, codes
    assert len({r.json()["provider_session_id"] for r in responses}) == 1
    creates = sandbox_creates(use_sandbox)
    assert creates == {f"sofia-{appointment['id']}-{provider}-1": 1}


def test_provider_down_then_retry_creates_one(use_sandbox: Sandbox, api: APIClient, book: Any) -> None:
    appointment = book()
    use_sandbox.configure(error_rate=1)
    failed = start_payment(api, appointment["id"], "stripe")
    assert failed.status_code == 503
    assert failed.json()["code"] == "provider_unavailable"
    use_sandbox.configure(error_rate=0)
    assert start_payment(api, appointment["id"], "stripe").status_code == 201
    assert sum(sandbox_creates(use_sandbox).values()) == 1


def test_provider_slow_beyond_timeout(use_sandbox: Sandbox, api: APIClient, book: Any, settings: Any) -> None:
    settings.PROVIDER_TIMEOUT_SECONDS = 1
    appointment = book()
    use_sandbox.configure(timeout_rate=1)
    began = time.monotonic()
    response = start_payment(api, appointment["id"], "truemed")
    elapsed = time.monotonic() - began
    assert response.status_code == 503
    assert elapsed < 5
    use_sandbox.configure(timeout_rate=0)
    retried = start_payment(api, appointment["id"], "truemed")
    assert retried.status_code == 201
    assert sum(sandbox_creates(use_sandbox).values()) == 1


def test_truemed_signed_webhooks(
    live_server: Any, api: APIClient, book: Any, settings: Any, tmp_path: Any, use_sandbox: Sandbox
) -> None:
    signed = start_sandbox(tmp_path, webhook_base=live_server.url, mode="signed")
    try:
        settings.TRUEMED_API_BASE = f"{signed.url}/truemed"
        settings.TRUEMED_WEBHOOK_MODE = "signed"
        appointment = book()
        session = started(api, appointment, "truemed")
        complete(signed, session, "captured")
        assert status_of(appointment) == "confirmed"
        assert all(
            e.dedupe_key and not e.dedupe_key.startswith("sha256:") for e in WebhookEvent.objects.all()
        )
    finally:
        stop_sandbox(signed)


def test_a_paid_booking_emails_the_patient_through_the_sandboxs_mail_sink(
    use_sandbox: Sandbox, api: APIClient, book: Any, settings: Any
) -> None:
    """As in `make run`: the backend speaks SMTP to the sandbox process, the demo reads /_sandbox/emails."""
    point_django_at(settings, use_sandbox.smtp_port)
    appointment = book()
    complete(use_sandbox, started(api, appointment, "stripe"), "paid")
    assert status_of(appointment) == "confirmed"

    emails = use_sandbox.control("GET", "/emails.json")["emails"]
    assert [(e["to"], e["subject"].split(":")[0]) for e in emails] == [
        ([appointment["client_email"]], "Your appointment is confirmed")
    ]
    link = f"/appointments/{appointment['id']}/manage#token={appointment['access_token']}"
    assert link in emails[0]["text"]
    assert [a["filename"] for a in emails[0]["attachments"]] == ["appointment.ics"]
    assert use_sandbox.control("DELETE", "/emails.json") == {"emails": []}
