"""Rendering: each event's plain text and HTML, the itemized receipt, the calendar file; no secret but the
patient's own manage link. The outbox's retry rules and the staff action."""

from __future__ import annotations

import smtplib
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.admin.sites import site
from django.contrib.auth.models import User
from django.test import Client, RequestFactory

from sofia_checkout.appointments.access import access_token_for, manage_url
from sofia_checkout.appointments.models import Appointment
from sofia_checkout.notifications.ics import CalendarEvent, calendar_ics, escape_text, fold
from sofia_checkout.notifications.messages import email_message, money
from sofia_checkout.notifications.models import EmailEvent, OutboxEmail, OutboxStatus
from sofia_checkout.notifications.outbox import describe_failure, outbox_send, retry_delay
from sofia_checkout.payments.models import PaymentSession
from sofia_checkout.payments.receipts import receipt_for

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


@pytest.fixture
def paid(card_checkout: Any) -> tuple[Appointment, PaymentSession]:
    """A confirmed appointment and its paid card session (set directly: rendering is what is tested)."""
    appointment_json, session_json = card_checkout()
    appointment = Appointment.objects.select_related("practitioner").get(pk=appointment_json["id"])
    # A name that HTML must escape and plain text must show as typed.
    appointment.client_name = "Zoë O'Brien <Jo> & Co"
    appointment.status = "confirmed"
    appointment.save()
    session = PaymentSession.objects.get(pk=session_json["id"])
    session.status, session.payment_reference = "paid", "pi_3Q9xyz"
    session.save()
    return appointment, session


def outbox_row(appointment: Appointment, event: EmailEvent, **fields: Any) -> OutboxEmail:
    facts = {
        "appointment_time": appointment.appointment_time.isoformat(),
        "ends_at": appointment.ends_at.isoformat(),
        "sequence": 0,
    }
    facts.update(fields.pop("facts", {}))
    return OutboxEmail.objects.create(appointment=appointment, event=event, facts=facts, **fields)


def test_the_confirmation_itemizes_the_receipt_in_text_and_html(
    paid: tuple[Appointment, PaymentSession],
) -> None:
    appointment, session = paid
    message = email_message(
        outbox_row(appointment, EmailEvent.BOOKING_CONFIRMED, payment_session=session), now=NOW
    )
    html = message.alternatives[0].content
    assert message.alternatives[0].mimetype == "text/html"
    zone = ZoneInfo(appointment.practitioner.time_zone)
    date_of_service = appointment.appointment_time.astimezone(zone).strftime("%B %-d, %Y")
    items = {
        "Patient": "Zoë O'Brien <Jo> & Co",
        "Practitioner": appointment.practitioner.name,
        "Service": appointment.service_name,
        "Date of service": date_of_service,
        "Amount paid": "$150.00",
        "Payment method": "Card",
        "Payment reference": "pi_3Q9xyz",
    }
    for label, value in items.items():
        assert f"{label}:" in message.body
        assert value in message.body.split(f"{label}:", 1)[1].splitlines()[0]
        assert f">{label}</th><td>" in html
    # The very receipt the API serves (GET .../receipt/): the same number.
    number = receipt_for(appointment, payment_session=session).receipt_number
    assert f"Receipt number:     {number}" in message.body
    assert f"<td>{number}</td>" in html
    # HTML escapes what the patient typed; plain text shows it as typed (no entities).
    assert "Zoë O&#x27;Brien &lt;Jo&gt; &amp; Co" in html
    assert "<Jo>" not in html
    assert "&amp;" not in message.body
    assert "&#x27;" not in message.body
    assert message.to == [appointment.client_email]
    assert (
        message.extra_headers["Message-ID"]
        == f"<outbox-{OutboxEmail.objects.get().pk}-{appointment.pk}@sofia-checkout>"
    )


def test_a_confirmation_sent_after_a_refund_goes_without_a_receipt(
    paid: tuple[Appointment, PaymentSession],
) -> None:
    appointment, session = paid
    PaymentSession.objects.filter(pk=session.pk).update(status="refunded")
    appointment.status = "cancelled"
    appointment.save()
    session.refresh_from_db()
    row = outbox_row(appointment, EmailEvent.BOOKING_CONFIRMED, payment_session=session)
    message = email_message(row, now=NOW)
    assert "RECEIPT" not in message.body
    assert "Receipt" not in message.alternatives[0].content


def test_the_only_secret_is_the_patients_own_manage_link(paid: tuple[Appointment, PaymentSession]) -> None:
    appointment, session = paid
    token = access_token_for(appointment)
    for event in EmailEvent:
        message = email_message(
            outbox_row(appointment, event, occurrence=event, payment_session=session), now=NOW
        )
        parts = [message.body, message.alternatives[0].content]
        parts += [str(attachment[1]) for attachment in message.attachments]
        for part in parts:
            # Every place the token appears is the manage link (never alone, never in the calendar file).
            assert part.count(token) == part.count(manage_url(appointment)), event
        assert token not in "".join(str(a[1]) for a in message.attachments)
        assert "sk_test" not in "".join(parts)
    stored = list(OutboxEmail.objects.values_list("facts", "last_error", "occurrence"))
    assert token not in repr(stored)  # nothing secret is stored in the outbox


@pytest.mark.parametrize(
    ("event", "subject", "phrase"),
    [
        (EmailEvent.BOOKING_CONFIRMED, "Your appointment is confirmed: ", "your visit is booked"),
        (EmailEvent.PAYMENT_UNDER_REVIEW, "Payment received, under review: ", "being reviewed"),
        (EmailEvent.PAYMENT_NOT_APPROVED, "Payment not approved", "pay by card"),
        (EmailEvent.CANCELLED, "Your appointment is cancelled: ", "nothing to refund"),
        (EmailEvent.RESCHEDULED, "Your appointment has moved: ", "Your visit is now on"),
        (EmailEvent.HOLD_EXPIRED, "Your appointment time was released", "Nothing was charged"),
    ],
)
def test_every_event_has_its_subject_text_and_html(
    paid: tuple[Appointment, PaymentSession], event: EmailEvent, subject: str, phrase: str
) -> None:
    appointment, session = paid
    review = {EmailEvent.PAYMENT_UNDER_REVIEW, EmailEvent.PAYMENT_NOT_APPROVED}
    row = outbox_row(
        appointment,
        event,
        payment_session=session if event in review | {EmailEvent.BOOKING_CONFIRMED} else None,
        facts={"previous_time": (appointment.appointment_time - timedelta(days=1)).isoformat()},
    )
    message = email_message(row, now=NOW)
    assert message.subject.startswith(subject)
    assert phrase in message.body
    assert phrase in message.alternatives[0].content
    assert appointment.practitioner.name in message.body
    assert "{{" not in message.body + message.alternatives[0].content
    with_calendar = event in {EmailEvent.BOOKING_CONFIRMED, EmailEvent.RESCHEDULED, EmailEvent.CANCELLED}
    assert [a[0] for a in message.attachments] == (["appointment.ics"] if with_calendar else [])


def test_the_calendar_file_has_a_stable_uid_the_events_sequence_and_times(
    paid: tuple[Appointment, PaymentSession],
) -> None:
    appointment, _ = paid
    message = email_message(
        outbox_row(appointment, EmailEvent.RESCHEDULED, occurrence="3", facts={"sequence": 3}), now=NOW
    )
    [(filename, ics, mimetype)] = message.attachments
    assert (filename, mimetype) == ("appointment.ics", "text/calendar")
    lines = ics.split("\r\n")
    assert lines[0] == "BEGIN:VCALENDAR"
    assert ics.endswith("END:VCALENDAR\r\n")
    assert "METHOD:PUBLISH" in lines
    assert f"UID:appointment-{appointment.pk}@sofia-checkout" in lines
    assert "SEQUENCE:3" in lines
    assert f"DTSTART:{appointment.appointment_time.astimezone(UTC):%Y%m%dT%H%M%SZ}" in lines
    assert f"DTEND:{appointment.ends_at.astimezone(UTC):%Y%m%dT%H%M%SZ}" in lines
    assert "DTSTAMP:20261129T120000Z" in lines
    assert "STATUS:CONFIRMED" in lines
    assert "ORGANIZER:mailto:appointments@sofia-health.example" in lines


def test_ics_text_is_escaped_and_long_lines_fold_at_75_octets() -> None:
    assert escape_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    folded = fold("DESCRIPTION:" + "é" * 80)
    first, *rest = folded.split("\r\n")
    assert len(first.encode()) <= 75
    assert all(line.startswith(" ") and len(line.encode()) <= 75 for line in rest)
    assert "".join([first, *(line[1:] for line in rest)]) == "DESCRIPTION:" + "é" * 80
    cancelled = calendar_ics(
        CalendarEvent(
            uid="u@x",
            sequence=2,
            start=NOW,
            end=NOW + timedelta(hours=1),
            summary="Visit, with; care",
            description="d",
            organizer_email="a@b",
            cancelled=True,
        ),
        now=NOW,
    )
    assert "METHOD:CANCEL\r\n" in cancelled
    assert "STATUS:CANCELLED\r\n" in cancelled
    assert "SUMMARY:Visit\\, with\\; care\r\n" in cancelled


def test_money_reads_as_dollars() -> None:
    assert money(15000, "usd") == "$150.00"
    assert money(123456789, "usd") == "$1,234,567.89"
    assert money(5, "eur") == "0.05 EUR"


def test_failures_record_the_kind_and_code_never_the_servers_text() -> None:
    refused = smtplib.SMTPRecipientsRefused({"jane@example.com": (550, b"no such user jane@example.com")})
    assert describe_failure(refused) == ("SMTPRecipientsRefused 550", True)
    assert describe_failure(smtplib.SMTPDataError(451, b"try later")) == ("SMTPDataError 451", False)
    assert describe_failure(smtplib.SMTPAuthenticationError(535, b"bad password for user x")) == (
        "SMTPAuthenticationError 535",
        False,  # credentials: an operator fixes them, then it goes out
    )
    assert describe_failure(ConnectionRefusedError("x")) == ("ConnectionRefusedError", False)


def test_retries_wait_longer_each_time_up_to_the_cap(settings: Any) -> None:
    settings.EMAIL_RETRY_FIRST_SECONDS, settings.EMAIL_RETRY_MAX_SECONDS = 60, 3600
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 6, 7, 20)] == [60, 120, 240, 1920, 3600, 3600]


def test_a_permanent_refusal_or_the_last_attempt_marks_the_email_failed(
    paid: tuple[Appointment, PaymentSession], settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    appointment, _ = paid
    refusal = smtplib.SMTPRecipientsRefused({appointment.client_email: (550, b"unknown")})
    monkeypatch.setattr(
        "django.core.mail.EmailMultiAlternatives.send", lambda self: (_ for _ in ()).throw(refusal)
    )
    refused = outbox_row(appointment, EmailEvent.BOOKING_CONFIRMED)
    assert outbox_send(email_id=refused.pk) == OutboxStatus.FAILED

    settings.EMAIL_MAX_ATTEMPTS = 2
    down = ConnectionRefusedError()
    monkeypatch.setattr(
        "django.core.mail.EmailMultiAlternatives.send", lambda self: (_ for _ in ()).throw(down)
    )
    flaky = outbox_row(appointment, EmailEvent.HOLD_EXPIRED)
    assert outbox_send(email_id=flaky.pk) == OutboxStatus.RETRYING
    assert outbox_send(email_id=flaky.pk) is None  # not due yet
    assert outbox_send(email_id=flaky.pk, now=NOW + timedelta(days=400)) == OutboxStatus.FAILED
    assert list(OutboxEmail.objects.order_by("pk").values_list("status", "attempts", "last_error")) == [
        ("failed", 1, "SMTPRecipientsRefused 550"),
        ("failed", 2, "ConnectionRefusedError"),
    ]


def test_staff_with_change_permission_queue_a_failed_email_again(
    paid: tuple[Appointment, PaymentSession],
) -> None:
    appointment, _ = paid
    failed = outbox_row(appointment, EmailEvent.BOOKING_CONFIRMED, status=OutboxStatus.FAILED, attempts=30)
    sent = outbox_row(appointment, EmailEvent.HOLD_EXPIRED, status=OutboxStatus.SENT, attempts=1)
    admin = User.objects.create_superuser("boss", "boss@example.com", "pw")
    client = Client()
    client.force_login(admin)
    response = client.post(
        "/admin/notifications/outboxemail/",
        {"action": "send_again", "_selected_action": [failed.pk, sent.pk]},
    )
    assert response.status_code == 302
    failed.refresh_from_db()
    sent.refresh_from_db()
    assert failed.status == OutboxStatus.RETRYING
    assert sent.status == OutboxStatus.SENT  # never sent twice
    model_admin = site._registry[OutboxEmail]
    request = RequestFactory().get("/")
    request.user = admin
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_delete_permission(request)
