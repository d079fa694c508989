from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from django.test import Client
from rest_framework.test import APIClient

from conftest import (
    TRUEMED_WHSEC,
    StripeMock,
    TruemedMock,
    stripe_event,
    stripe_session,
    stripe_signature,
    truemed_signature,
)
from sofia_checkout.appointments.models import Appointment
from sofia_checkout.payments.models import PaymentSession, WebhookEvent, WebhookOutcome

pytestmark = pytest.mark.django_db


@pytest.fixture
def csrf_client() -> Client:
    # Webhooks come without CSRF tokens: prove the views do not need them.
    return Client(enforce_csrf_checks=True)


def started(api: APIClient, appointment: dict[str, Any], provider: str) -> dict[str, Any]:
    response = api.post(
        f"/api/appointments/{appointment['id']}/payment-sessions/", {"provider": provider}, format="json"
    )
    assert response.status_code == 201, response.json()
    return dict(response.json())


def send_stripe(client: Client, body: bytes, signature: str | None = None) -> Any:
    headers = {"HTTP_STRIPE_SIGNATURE": signature if signature is not None else stripe_signature(body)}
    return client.post("/api/webhooks/stripe/", data=body, content_type="application/json", **headers)


def paid_session(session: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "session_id": session["provider_session_id"],
        "status": "complete",
        "payment_status": "paid",
        "client_reference_id": session["id"],
        "payment_intent": "pi_123",
    }
    fields.update(overrides)
    return stripe_session(**fields)


def appointment_status(appointment: dict[str, Any]) -> str:
    return Appointment.objects.get(pk=appointment["id"]).status


def test_stripe_completed_confirms(
    api: APIClient, book: Any, stripe_mock: StripeMock, csrf_client: Client
) -> None:
    appointment = book()
    stripe_mock.answer_create()
    session = started(api, appointment, "stripe")
    response = send_stripe(csrf_client, stripe_event("checkout.session.completed", paid_session(session)))
    assert response.status_code == 200
    assert response.json()["outcome"] == "applied"
    assert appointment_status(appointment) == "confirmed"
    stored = PaymentSession.objects.get(pk=session["id"])
    assert stored.status == "paid"
    assert stored.payment_reference == "pi_123"
    event = WebhookEvent.objects.get()
    assert event.signature_valid
    assert event.outcome == WebhookOutcome.APPLIED
    assert event.payment_session_id == stored.id


@pytest.mark.parametrize(
    "signature",
    [
        "",
        "t=1,v1=deadbeef",
        "garbage",
        stripe_signature(b"other body"),
        stripe_signature(b"x", secret="whsec_wrong"),
    ],
)
def test_stripe_bad_signatures_change_nothing(
    api: APIClient, book: Any, stripe_mock: StripeMock, csrf_client: Client, signature: str
) -> None:
    appointment = book()
    stripe_mock.answer_create()
    session = started(api, appointment, "stripe")
    body = stripe_event("checkout.session.completed", paid_session(session))
    if signature.startswith("t=") and "v1=" in signature and "deadbeef" not in signature:
        signature = stripe_signature(body, secret="whsec_wrong")
    response = send_stripe(csrf_client, body, signature)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"
    assert appointment_status(appointment) == "pending_payment"
    assert WebhookEvent.objects.get().outcome == WebhookOutcome.REJECTED


def test_stripe_stale_signature_is_rejected(api: APIClient, book: Any, stripe_mock: StripeMock) -> None:
    appointment = book()
    stripe_mock.answer_create()
    session = started(api, appointment, "stripe")
    body = stripe_event("checkout.session.completed", paid_session(session))
    response = send_stripe(Client(), body, stripe_signature(body, timestamp=int(time.time()) - 3600))
    assert response.status_code == 400
    assert appointment_status(appointment) == "pending_payment"


def test_stripe_duplicates_apply_once(api: APIClient, book: Any, stripe_mock: StripeMock) -> None:
    appointment = book()
    stripe_mock.answer_create()
    session = started(api, appointment, "stripe")
    body = stripe_event("checkout.session.completed", paid_session(session), event_id="evt_same")
    outcomes = [send_stripe(Client(), body).json() for _ in range(10)]
    assert outcomes[0]["duplicate"] is False
    assert all(o["duplicate"] for o in outcomes[1:])
    event = WebhookEvent.objects.get()
    assert event.deliveries == 10
    assert appointment_status(appointment) == "confirmed"


def test_stripe_out_of_order_never_moves_back(api: APIClient, book: Any, stripe_mock: StripeMock) -> None:
    appointment = book()
    stripe_mock.answer_create()
    session = started(api, appointment, "stripe")
    send_stripe(Client(), stripe_event("checkout.session.completed", paid_session(session)))
    late_expired = stripe_event(
        "checkout.session.expired", paid_session(session, status="expired", payment_status="unpaid")
    )
    assert send_stripe(Client(), late_expired).status_code == 200
    assert PaymentSession.objects.get(pk=session["id"]).status == "paid"
    assert appointment_status(appointment) == "confirmed"


def test_stripe_async_payment_flow(api: APIClient, book: Any, stripe_mock: StripeMock) -> None:
    appointment = book()
    stripe_mock.answer_create()
    session = started(api, appointment, "stripe")
    unpaid = paid_session(session, payment_status="unpaid")
    send_stripe(Client(), stripe_event("checkout.session.completed", unpaid))
    assert appointment_status(appointment) == "payment_processing"
    send_stripe(Client(), stripe_event("checkout.session.async_payment_failed", unpaid))
    assert PaymentSession.objects.get(pk=session["id"]).status == "failed"
    assert appointment_status(appointment) == "pending_payment"


def test_stripe_amount_mismatch_is_flagged_not_confirmed(
    api: APIClient, book: Any, stripe_mock: StripeMock
) -> None:
    appointment = book()
    stripe_mock.answer_create()
    session = started(api, appointment, "stripe")
    send_stripe(Client(), stripe_event("checkout.session.completed", paid_session(session, amount_total=100)))
    stored = PaymentSession.objects.get(pk=session["id"])
    assert stored.amount_mismatch
    assert stored.status == "open"
    assert appointment_status(appointment) == "pending_payment"
    send_stripe(Client(), stripe_event("checkout.session.completed", paid_session(session, currency="eur")))
    assert appointment_status(appointment) == "pending_payment"


def test_stripe_unknown_session_and_other_events(book: Any) -> None:
    unknown = stripe_event(
        "checkout.session.completed", stripe_session(session_id="cs_unknown", status="complete")
    )
    response = send_stripe(Client(), unknown)
    assert response.status_code == 200
    assert response.json()["outcome"] == "unknown_session"
    other = json.dumps(
        {"id": "evt_other", "object": "event", "type": "customer.created", "data": {"object": {}}}
    )
    assert send_stripe(Client(), other.encode()).json()["outcome"] == "ignored"
    assert WebhookEvent.objects.count() == 2


def test_stripe_webhook_before_create_returned(api: APIClient, book: Any, stripe_mock: StripeMock) -> None:
    """The event names our session only by client_reference_id: still applied, and create never undoes it."""
    appointment = book()

    def create_and_deliver_first(request: httpx.Request) -> httpx.Response:
        session_id = dict(httpx.QueryParams(request.content.decode()))["client_reference_id"]
        session = stripe_session(session_id="cs_race", client_reference_id=session_id)
        # The provider's webhook arrives while our create call is still waiting for its answer. On SQLite the
        # whole database is locked by our transaction, so here we only record it; the real race runs on
        # PostgreSQL in tests/concurrency.
        create_and_deliver_first.pending = session  # type: ignore[attr-defined]
        return httpx.Response(200, json=session)

    stripe_mock.create.mock(side_effect=create_and_deliver_first)
    session = started(api, appointment, "stripe")
    body = stripe_event(
        "checkout.session.completed", paid_session({"provider_session_id": "cs_race", "id": session["id"]})
    )
    assert send_stripe(Client(), body).json()["outcome"] == "applied"
    assert appointment_status(appointment) == "confirmed"


def test_apply_by_our_id_when_provider_id_not_yet_stored(
    api: APIClient, book: Any, stripe_mock: StripeMock
) -> None:
    appointment = book()
    stripe_mock.create.mock(side_effect=[httpx.ConnectError("lost answer")])
    started_response = api.post(
        f"/api/appointments/{appointment['id']}/payment-sessions/", {"provider": "stripe"}, format="json"
    )
    assert started_response.status_code == 503
    ours = PaymentSession.objects.get(appointment_id=appointment["id"])
    body = stripe_event(
        "checkout.session.completed", paid_session({"provider_session_id": "cs_lost", "id": str(ours.id)})
    )
    assert send_stripe(Client(), body).json()["outcome"] == "applied"
    ours.refresh_from_db()
    assert ours.provider_session_id == "cs_lost"
    assert ours.status == "paid"
    assert appointment_status(appointment) == "confirmed"


# --- Truemed -------------------------------------------------------------------------------------


def send_truemed(client: Client, body: dict[str, Any] | bytes, **headers: str) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    meta = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    return client.post("/api/webhooks/truemed/", data=raw, content_type="application/json", **meta)


def legacy(session_id: str, status: str) -> dict[str, Any]:
    return {"payment_id": session_id, "status": status, "created_at": "2026-11-23T10:00:00Z", "metadata": ""}


def test_truemed_refetches_and_applies(
    api: APIClient, book: Any, truemed_mock: TruemedMock, csrf_client: Client
) -> None:
    appointment = book()
    tm_id = truemed_mock.answer_create()
    started(api, appointment, "truemed")
    route = truemed_mock.retrieve(tm_id, "processing")
    # The body claims captured; Truemed, asked directly, says processing: the re-fetch wins.
    response = send_truemed(csrf_client, legacy(tm_id, "captured"), **{"x-truemed-api-key": TRUEMED_WHSEC})
    assert response.status_code == 204
    assert route.call_count == 1
    assert appointment_status(appointment) == "payment_processing"
    truemed_mock.retrieve(tm_id, "captured")
    send_truemed(csrf_client, legacy(tm_id, "captured") | {"n": 2}, **{"x-truemed-api-key": TRUEMED_WHSEC})
    assert appointment_status(appointment) == "confirmed"


@pytest.mark.parametrize("headers", [{}, {"x-truemed-api-key": "wrong"}, {"x-truemed-api-key": ""}])
def test_truemed_bad_key_rejected(
    api: APIClient, book: Any, truemed_mock: TruemedMock, headers: dict[str, str]
) -> None:
    appointment = book()
    tm_id = truemed_mock.answer_create()
    started(api, appointment, "truemed")
    route = truemed_mock.retrieve(tm_id, "captured")
    response = send_truemed(Client(), legacy(tm_id, "captured"), **headers)
    assert response.status_code == 401
    assert route.call_count == 0
    assert appointment_status(appointment) == "pending_payment"


def test_truemed_captured_before_processing_ends_paid(
    api: APIClient, book: Any, truemed_mock: TruemedMock
) -> None:
    appointment = book()
    tm_id = truemed_mock.answer_create()
    started(api, appointment, "truemed")
    truemed_mock.retrieve(tm_id, "captured")
    send_truemed(Client(), legacy(tm_id, "captured"), **{"x-truemed-api-key": TRUEMED_WHSEC})
    truemed_mock.retrieve(tm_id, "processing")  # a lagging read replica, or a late processing delivery
    send_truemed(Client(), legacy(tm_id, "processing"), **{"x-truemed-api-key": TRUEMED_WHSEC})
    assert PaymentSession.objects.get(provider_session_id=tm_id).status == "paid"
    assert appointment_status(appointment) == "confirmed"


def test_truemed_rejected_lets_the_shopper_pay_by_card(
    api: APIClient, book: Any, truemed_mock: TruemedMock, stripe_mock: StripeMock
) -> None:
    appointment = book()
    tm_id = truemed_mock.answer_create()
    started(api, appointment, "truemed")
    truemed_mock.retrieve(tm_id, "processing")
    send_truemed(Client(), legacy(tm_id, "processing"), **{"x-truemed-api-key": TRUEMED_WHSEC})
    truemed_mock.retrieve(tm_id, "rejected")
    send_truemed(Client(), legacy(tm_id, "rejected"), **{"x-truemed-api-key": TRUEMED_WHSEC})
    assert appointment_status(appointment) == "pending_payment"
    stripe_mock.answer_create()
    assert started(api, appointment, "stripe")["status"] == "open"


def test_truemed_refetch_failure_asks_for_a_retry(
    api: APIClient, book: Any, truemed_mock: TruemedMock
) -> None:
    appointment = book()
    tm_id = truemed_mock.answer_create()
    started(api, appointment, "truemed")
    truemed_mock.router.get(f"https://truemed.test/payments/v1/payment_session/{tm_id}").mock(
        side_effect=[
            httpx.ConnectError("down"),
            httpx.Response(200, json={"id": tm_id, "status": "captured", "total_amount": 15000}),
        ]
    )
    body = legacy(tm_id, "captured")
    first = send_truemed(Client(), body, **{"x-truemed-api-key": TRUEMED_WHSEC})
    assert first.status_code == 503
    assert WebhookEvent.objects.get().outcome == WebhookOutcome.FAILED
    second = send_truemed(Client(), body, **{"x-truemed-api-key": TRUEMED_WHSEC})
    assert second.status_code == 204
    assert appointment_status(appointment) == "confirmed"
    assert WebhookEvent.objects.get().deliveries == 2


def test_truemed_unknown_session_and_malformed(book: Any) -> None:
    assert (
        send_truemed(Client(), legacy("nope", "captured"), **{"x-truemed-api-key": TRUEMED_WHSEC}).status_code
        == 204
    )
    assert WebhookEvent.objects.get().outcome == WebhookOutcome.UNKNOWN_SESSION
    bad = send_truemed(Client(), b"{not json", **{"x-truemed-api-key": TRUEMED_WHSEC})
    assert bad.status_code == 400
    no_id = send_truemed(Client(), {"status": "captured"}, **{"x-truemed-api-key": TRUEMED_WHSEC})
    assert no_id.status_code == 400


def test_truemed_signed_mode(api: APIClient, book: Any, truemed_mock: TruemedMock, settings: Any) -> None:
    settings.TRUEMED_WEBHOOK_MODE = "signed"
    appointment = book()
    tm_id = truemed_mock.answer_create()
    started(api, appointment, "truemed")
    truemed_mock.retrieve(tm_id, "captured")
    body = json.dumps(
        {
            "webhook_delivery_id": "wd_1",
            "event_type": "payment_session_complete",
            "data": legacy(tm_id, "captured"),
        }
    ).encode()
    # The legacy header alone is not enough in signed mode.
    assert send_truemed(Client(), body, **{"x-truemed-api-key": TRUEMED_WHSEC}).status_code == 401
    stale = truemed_signature(body, timestamp=int(time.time()) - 3600)
    assert send_truemed(Client(), body, **{"x-truemed-signature": stale}).status_code == 401
    forged = truemed_signature(body, secret="wrong")
    assert send_truemed(Client(), body, **{"x-truemed-signature": forged}).status_code == 401
    assert appointment_status(appointment) == "pending_payment"
    for _ in range(3):
        ok = send_truemed(Client(), body, **{"x-truemed-signature": truemed_signature(body)})
        assert ok.status_code == 204
    assert appointment_status(appointment) == "confirmed"
    event = WebhookEvent.objects.get(dedupe_key="wd_1")
    assert event.deliveries == 3


def test_webhooks_are_not_in_the_public_api_output(
    api: APIClient, book: Any, stripe_mock: StripeMock
) -> None:
    appointment = book()
    stripe_mock.answer_create()
    session = started(api, appointment, "stripe")
    send_stripe(Client(), stripe_event("checkout.session.completed", paid_session(session)))
    detail = json.dumps(api.get(f"/api/appointments/{appointment['id']}/").json())
    assert "pi_123" not in detail
    assert "evt_" not in detail
    assert "idempotency" not in detail


def test_nul_bytes_and_invalid_utf8_are_stored_not_crashing() -> None:
    # PostgreSQL text cannot hold NUL: schemathesis found this as a 500 there.
    body = b'\x00{"id": "evt_\x00", \xff\xfe}'
    assert send_stripe(Client(), body, "garbage").status_code == 400
    assert send_truemed(Client(), body, **{"x-truemed-api-key": "wrong"}).status_code == 401
    payloads = list(WebhookEvent.objects.values_list("payload", flat=True))
    assert len(payloads) == 2
    assert all("\x00" not in p and p.startswith("\ufffd{") for p in payloads)


@pytest.mark.parametrize(
    "reported",
    [
        {"total_amount": None},
        {"total_amount": "15000"},
        {"total_amount": 100},
        {"total_amount": 15000, "capture_amount": 100},
    ],
    ids=["amount-missing", "amount-not-an-integer", "amount-differs", "partial-capture"],
)
def test_truemed_captured_without_our_exact_amount_is_flagged_not_confirmed(
    api: APIClient, book: Any, truemed_mock: TruemedMock, reported: dict[str, Any]
) -> None:
    appointment = book()
    tm_id = truemed_mock.answer_create()
    session = started(api, appointment, "truemed")
    body = {"id": tm_id, "status": "captured", "metadata": ""} | {
        k: v for k, v in reported.items() if v is not None
    }
    truemed_mock.router.get(f"https://truemed.test/payments/v1/payment_session/{tm_id}").mock(
        return_value=httpx.Response(200, json=body)
    )
    response = send_truemed(Client(), legacy(tm_id, "captured"), **{"x-truemed-api-key": TRUEMED_WHSEC})
    assert response.status_code == 204
    stored = PaymentSession.objects.get(pk=session["id"])
    assert stored.amount_mismatch
    assert stored.status == "open"
    assert appointment_status(appointment) == "pending_payment"


def test_truemed_full_capture_confirms(api: APIClient, book: Any, truemed_mock: TruemedMock) -> None:
    appointment = book()
    tm_id = truemed_mock.answer_create()
    started(api, appointment, "truemed")
    truemed_mock.router.get(f"https://truemed.test/payments/v1/payment_session/{tm_id}").mock(
        return_value=httpx.Response(
            200, json={"id": tm_id, "status": "captured", "total_amount": 15000, "capture_amount": 15000}
        )
    )
    send_truemed(Client(), legacy(tm_id, "captured"), **{"x-truemed-api-key": TRUEMED_WHSEC})
    assert appointment_status(appointment) == "confirmed"


def test_a_second_payment_for_a_confirmed_appointment_is_flagged(
    api: APIClient, book: Any, stripe_mock: StripeMock, truemed_mock: TruemedMock
) -> None:
    appointment = book()
    tm_id = truemed_mock.answer_create()
    truemed = started(api, appointment, "truemed")
    PaymentSession.objects.filter(pk=truemed["id"]).update(status="failed")  # e.g. believed rejected
    stripe_mock.answer_create()
    card = started(api, appointment, "stripe")
    send_stripe(Client(), stripe_event("checkout.session.completed", paid_session(card)))
    assert appointment_status(appointment) == "confirmed"
    # Truemed, asked again, says it captured the money after all: money outranks, and someone must refund.
    truemed_mock.retrieve(tm_id, "captured")
    send_truemed(Client(), legacy(tm_id, "captured"), **{"x-truemed-api-key": TRUEMED_WHSEC})
    assert PaymentSession.objects.get(pk=truemed["id"]).status == "paid"
    assert "Paid twice" in Appointment.objects.get(pk=appointment["id"]).attention


@pytest.mark.parametrize(
    "body",
    [b"[" * 30_000 + b"]" * 30_000, b"[1, 2]", b'"text"', b"not json"],
    ids=["deep", "list", "str", "text"],
)
def test_authenticated_but_unreadable_webhooks_are_400_not_500(body: bytes) -> None:
    stripe = send_stripe(Client(), body)  # correctly signed
    assert stripe.status_code == 400
    truemed = send_truemed(Client(), body, **{"x-truemed-api-key": TRUEMED_WHSEC})
    assert truemed.status_code == 400
    assert stripe.json()["code"] == truemed.json()["code"] == "malformed_request"


def test_a_retried_delivery_that_was_for_an_unknown_session_is_applied_once_we_know_it(
    api: APIClient, book: Any, stripe_mock: StripeMock
) -> None:
    appointment = book()
    early = stripe_event(
        "checkout.session.completed",
        stripe_session(status="complete", payment_status="paid", payment_intent="pi_1"),
        event_id="evt_early",
    )
    # It raced ahead of everything: no session of ours has this id yet, and it carries none of our ids.
    assert send_stripe(Client(), early).json()["outcome"] == "unknown_session"
    stripe_mock.answer_create()
    started(api, appointment, "stripe")
    retried = send_stripe(Client(), early)  # Stripe retries a delivery until it is handled
    assert retried.json()["outcome"] == "applied"
    assert appointment_status(appointment) == "confirmed"
    assert WebhookEvent.objects.get().deliveries == 2
    assert send_stripe(Client(), early).json() == {"received": True, "outcome": "applied", "duplicate": True}
