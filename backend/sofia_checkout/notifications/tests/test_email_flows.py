"""Each flow sends its email over real SMTP to the sandbox's sink (a free port), after the commit; an outage
delays but never loses, duplicates or blocks anything (providers respx-mocked, webhooks through the API)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from sofia_checkout.appointments.models import Appointment, AppointmentStatus
from sofia_checkout.appointments.services import appointment_reschedule
from sofia_checkout.notifications.models import EmailEvent, OutboxEmail, OutboxStatus
from sofia_checkout.notifications.outbox import outbox_send
from sofia_checkout.payments.cancellation import appointment_cancel
from sofia_checkout.payments.lifecycle import payments_reconcile
from sofia_checkout.payments.state import appointment_set_status
from testing.booking import slot
from testing.flows import send_stripe_webhook, send_truemed_webhook
from testing.mail import Sink, point_django_at, smtp_sink
from testing.net import free_port
from testing.parallel import in_parallel
from testing.provider_mocks import (
    TRUEMED_LEGACY_AUTH,
    StripeMock,
    TruemedMock,
    stripe_event,
    stripe_paid_session,
    truemed_legacy_body,
)

pytestmark = pytest.mark.django_db(transaction=True)

Json = dict[str, Any]


def later(minutes: int) -> datetime:
    return timezone.now() + timedelta(minutes=minutes)


def pay_by_card(card_checkout: Callable[[], tuple[Json, Json]]) -> tuple[Json, Json, bytes]:
    """Book, start a card payment and deliver Stripe's signed `completed` webhook (asserted 200)."""
    appointment, session = card_checkout()
    body = stripe_event("checkout.session.completed", stripe_paid_session(session))
    response = send_stripe_webhook(Client(), body)
    assert response.status_code == 200, response.content
    return appointment, session, body


def truemed_notify(tm_id: str, status: str, n: int) -> None:
    body = truemed_legacy_body(tm_id, status) | {"n": n}  # a distinct delivery each time
    assert send_truemed_webhook(Client(), body, **TRUEMED_LEGACY_AUTH).status_code == 204


def rows(appointment: Json) -> list[tuple[str, str, int]]:
    return list(
        OutboxEmail.objects.filter(appointment_id=appointment["id"])
        .order_by("created_at")
        .values_list("event", "status", "attempts")
    )


def test_a_card_payment_sends_one_confirmation_with_receipt_calendar_and_manage_link(
    mail_sink: Sink, card_checkout: Any
) -> None:
    appointment, _, _ = pay_by_card(card_checkout)

    # Sent during the webhook, after its transaction committed: no pass of the job needed.
    [message] = mail_sink.wait_for(1)
    assert message.to == [appointment["client_email"]]
    assert message.subject.startswith("Your appointment is confirmed: ")
    assert "Sofia Health" in message.sender
    for part in (message.text, message.html):
        assert "Dr. Ana Reyes" in part
        assert appointment["service_name"] in part
        assert "$150.00" in part
        assert "Card" in part
        assert "pi_123" in part  # the provider's payment reference, for an HSA/FSA claim
        assert f"/appointments/{appointment['id']}/manage#token={appointment['access_token']}" in part
    [invite] = message.attachments
    assert (invite.filename, invite.content_type) == ("appointment.ics", "text/calendar")
    assert f"UID:appointment-{appointment['id']}@sofia-checkout" in invite.content.decode()
    assert rows(appointment) == [("booking_confirmed", "sent", 1)]


def test_a_duplicate_or_later_webhook_sends_no_second_email(mail_sink: Sink, card_checkout: Any) -> None:
    appointment, session, body = pay_by_card(card_checkout)
    mail_sink.wait_for(1)
    # The same delivery again, and another event saying the same thing: the status does not change again.
    assert send_stripe_webhook(Client(), body).status_code == 200
    again = stripe_event("checkout.session.async_payment_succeeded", stripe_paid_session(session))
    assert send_stripe_webhook(Client(), again).status_code == 200
    payments_reconcile(now=later(24 * 60))

    assert len(mail_sink.messages()) == 1
    assert rows(appointment) == [("booking_confirmed", "sent", 1)]


def test_a_mail_outage_delays_the_email_but_never_fails_the_payment_loses_or_doubles_it(
    settings: Any, card_checkout: Any
) -> None:
    port = free_port()  # nothing listens here: the mail server is down
    point_django_at(settings, port)

    appointment, _, _ = pay_by_card(card_checkout)  # the webhook still answers 200

    assert Appointment.objects.get(pk=appointment["id"]).status == AppointmentStatus.CONFIRMED
    email = OutboxEmail.objects.get(appointment_id=appointment["id"])
    assert (email.status, email.attempts, email.last_error) == (
        OutboxStatus.RETRYING,
        1,
        "ConnectionRefusedError",
    )
    assert email.next_attempt_at > timezone.now() + timedelta(seconds=50)  # EMAIL_RETRY_FIRST_SECONDS

    with smtp_sink(port) as sink:
        # The mail server is back; a pass before the retry is due sends nothing yet.
        assert payments_reconcile().others["emails_sent"] == 0
        first = payments_reconcile(now=later(2))
        assert first.others == {"emails_sent": 1, "emails_retrying": 0, "emails_failed": 0}
        [resent] = sink.wait_for(1)
        assert resent.subject.startswith("Your appointment is confirmed")
        second = payments_reconcile(now=later(60))
        assert second.others["emails_sent"] == 0
        assert len(sink.messages()) == 1
    assert rows(appointment) == [("booking_confirmed", "sent", 2)]


def test_the_reconcile_command_resends_and_reports_emails(
    settings: Any, card_checkout: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    point_django_at(settings, port)
    settings.EMAIL_RETRY_FIRST_SECONDS = 0
    pay_by_card(card_checkout)
    with smtp_sink(port) as sink:
        call_command("payments_reconcile")
        assert '"emails_sent": 1' in capsys.readouterr().out
        assert len(sink.wait_for(1)) == 1


def test_two_senders_at_once_send_a_message_once(settings: Any, card_checkout: Any) -> None:
    port = free_port()
    point_django_at(settings, port)
    appointment, _, _ = pay_by_card(card_checkout)
    email = OutboxEmail.objects.get(appointment_id=appointment["id"])
    with smtp_sink(port) as sink:
        outcomes = in_parallel(4, lambda i: outbox_send(email_id=email.pk, now=later(5)))
        assert sorted(map(str, outcomes)) == ["None", "None", "None", "sent"]
        assert len(sink.wait_for(1)) == 1
    email.refresh_from_db()
    assert (email.status, email.claim_token, email.claimed_until) == (OutboxStatus.SENT, None, None)


def test_a_rolled_back_status_change_sends_nothing(mail_sink: Sink, card_checkout: Any) -> None:
    appointment, _ = card_checkout()
    queued_inside: list[int] = []

    def cancel_then_fail() -> None:
        with transaction.atomic():
            locked = Appointment.objects.select_for_update().get(pk=appointment["id"])
            appointment_set_status(locked, AppointmentStatus.CANCELLED, reason="test")
            queued_inside.append(OutboxEmail.objects.count())
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        cancel_then_fail()
    assert queued_inside == [1]  # queued in the same transaction...
    assert OutboxEmail.objects.count() == 0  # ...and gone with it
    assert mail_sink.messages() == []


def test_hsa_review_then_rejection_then_card_payment_send_their_emails(
    mail_sink: Sink, hsa_checkout: Any, truemed_mock: TruemedMock, stripe_mock: StripeMock, api: APIClient
) -> None:
    appointment, _, tm_id = hsa_checkout()
    truemed_mock.retrieve(tm_id, "processing")
    truemed_notify(tm_id, "processing", 1)
    [review] = mail_sink.wait_for(1)
    assert review.subject.startswith("Payment received, under review")
    assert "HSA/FSA payment of $150.00" in review.text
    assert "for HSA/FSA eligibility" in review.text
    assert review.attachments == []

    truemed_mock.retrieve(tm_id, "rejected")
    truemed_notify(tm_id, "rejected", 2)
    rejected = mail_sink.wait_for(2)[0]
    assert rejected.subject.startswith("Payment not approved")
    assert "was not approved" in rejected.text
    assert "pay by card" in rejected.text
    assert f"/appointments/{appointment['id']}/manage#token=" in rejected.text

    stripe_mock.answer_create()
    response = api.post(
        f"/api/appointments/{appointment['id']}/payment-sessions/", {"provider": "stripe"}, format="json"
    )
    assert response.status_code == 201, response.json()
    paid = stripe_paid_session(response.json())
    assert send_stripe_webhook(Client(), stripe_event("checkout.session.completed", paid)).status_code == 200
    assert mail_sink.wait_for(3)[0].subject.startswith("Your appointment is confirmed")
    assert [event for event, _, _ in rows(appointment)] == [
        EmailEvent.PAYMENT_UNDER_REVIEW,
        EmailEvent.PAYMENT_NOT_APPROVED,
        EmailEvent.BOOKING_CONFIRMED,
    ]


def test_a_cancelled_paid_appointment_says_the_refund_and_removes_the_calendar_entry(
    mail_sink: Sink, card_checkout: Any, stripe_mock: StripeMock
) -> None:
    appointment, _, _ = pay_by_card(card_checkout)
    stripe_mock.refunds(
        httpx.Response(200, json={"id": "re_1", "object": "refund", "status": "succeeded", "amount": 15000})
    )
    appointment_cancel(appointment_id=appointment["id"])

    cancelled = mail_sink.wait_for(2)[0]
    assert cancelled.subject.startswith("Your appointment is cancelled")
    assert "A refund of $150.00 is on its way" in cancelled.text
    [ics] = cancelled.attachments
    body = ics.content.decode()
    assert "METHOD:CANCEL" in body
    assert "STATUS:CANCELLED" in body
    assert "SEQUENCE:1" in body
    assert f"UID:appointment-{appointment['id']}@sofia-checkout" in body


def test_an_unpaid_cancel_says_nothing_was_charged(
    mail_sink: Sink, card_checkout: Any, stripe_mock: StripeMock
) -> None:
    appointment, _ = card_checkout()
    stripe_mock.expire("cs_test_fixture")
    appointment_cancel(appointment_id=appointment["id"])
    [cancelled] = mail_sink.wait_for(1)
    assert "nothing to refund" in cancelled.text
    assert cancelled.attachments == []  # no calendar entry was ever sent


def test_a_reschedule_sends_the_new_time_and_an_updated_invite(mail_sink: Sink, card_checkout: Any) -> None:
    appointment, _, _ = pay_by_card(card_checkout)
    confirmation = mail_sink.wait_for(1)[0]
    for number, hours in ((1, 24 * 5), (2, 24 * 6)):
        appointment_reschedule(
            appointment_id=appointment["id"], appointment_time=datetime.fromisoformat(slot(hours=hours))
        )
        moved = mail_sink.wait_for(1 + number)[0]
        assert moved.subject.startswith("Your appointment has moved")
        assert "(was " in moved.text
        body = moved.attachments[0].content.decode()
        assert f"SEQUENCE:{number}" in body
        uid = f"UID:appointment-{appointment['id']}@sofia-checkout"
        assert uid in body
        assert uid in confirmation.attachments[0].content.decode()
    assert "SEQUENCE:0" in confirmation.attachments[0].content.decode()
    assert [(e, s) for e, s, _ in rows(appointment)] == [
        ("booking_confirmed", "sent"),
        ("rescheduled", "sent"),
        ("rescheduled", "sent"),
    ]


def test_an_unpaid_reschedule_sends_nothing(mail_sink: Sink, book: Any) -> None:
    appointment = book()
    appointment_reschedule(
        appointment_id=appointment["id"], appointment_time=datetime.fromisoformat(slot(hours=24 * 7))
    )
    assert OutboxEmail.objects.count() == 0


def test_an_expired_hold_says_the_time_was_released(
    mail_sink: Sink, card_checkout: Any, stripe_mock: StripeMock
) -> None:
    appointment, _ = card_checkout()
    stripe_mock.retrieve("cs_test_fixture", status="open")
    stripe_mock.expire("cs_test_fixture")
    assert payments_reconcile(now=later(120)).expired_appointments == 1
    [released] = mail_sink.wait_for(1)
    assert released.subject == "Your appointment time was released"
    assert "Nothing was charged" in released.text
    assert "#token=" not in released.text + released.html  # nothing left to manage
    assert rows(appointment) == [("hold_expired", "sent", 1)]
