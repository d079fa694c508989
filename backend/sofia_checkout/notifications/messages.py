"""Rendering one outbox row into the email the patient gets: subject, plain text, HTML, calendar file.

Rendered when sent, from committed data, so nothing secret is ever stored: the manage link (the patient's
own access token in the URL fragment) is derived again here. Templates: templates/notifications/.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Sum
from django.template.loader import render_to_string
from django.utils.dateparse import parse_datetime

from sofia_checkout.appointments.access import manage_url
from sofia_checkout.appointments.models import Appointment
from sofia_checkout.notifications.ics import CalendarEvent, calendar_ics
from sofia_checkout.notifications.models import EmailEvent, OutboxEmail
from sofia_checkout.payments.models import PaymentSession, Refund, RefundStatus
from sofia_checkout.payments.receipts import NotPaid, receipt_for
from sofia_checkout.payments.selectors import payment_methods
from sofia_checkout.payments.statuses import PaymentStatus

SUBJECTS: dict[str, str] = {
    EmailEvent.BOOKING_CONFIRMED: "Your appointment is confirmed: {when}",
    EmailEvent.PAYMENT_UNDER_REVIEW: "Payment received, under review: {when}",
    EmailEvent.PAYMENT_NOT_APPROVED: "Payment not approved: your appointment is not confirmed yet",
    EmailEvent.CANCELLED: "Your appointment is cancelled: {when}",
    EmailEvent.RESCHEDULED: "Your appointment has moved: {when}",
    EmailEvent.HOLD_EXPIRED: "Your appointment time was released",
}
# Events whose message carries the calendar file (to add, update or remove the visit).
_WITH_CALENDAR = {EmailEvent.BOOKING_CONFIRMED, EmailEvent.RESCHEDULED, EmailEvent.CANCELLED}


def money(cents: int, currency: str) -> str:
    """Integer cents as the patient reads them: $150.00 (other currencies: 150.00 EUR)."""
    amount = f"{cents // 100:,}.{cents % 100:02d}"
    return f"${amount}" if currency.lower() == "usd" else f"{amount} {currency.upper()}"


def local_time(value: datetime, time_zone: str) -> str:
    """Where the practitioner is (the visit's own zone), e.g. "Tuesday, December 1, 2026, 10:00 AM EST"."""
    local = value.astimezone(ZoneInfo(time_zone))
    return local.strftime("%A, %B %-d, %Y, %-I:%M %p %Z")


@dataclass(frozen=True)
class ReceiptLines:
    """The payments receipt (payments.receipts.receipt_for, the same as GET .../receipt/) as the email
    shows it: what an HSA/FSA claim needs, in words."""

    number: str
    patient: str
    practitioner: str
    service: str
    date_of_service: str
    amount: str
    method: str
    reference: str


def _method_name(provider: str) -> str:
    names = {method.provider: method.display_name for method in payment_methods()}
    return names.get(provider, provider)


def receipt_lines(appointment: Appointment, session: PaymentSession) -> ReceiptLines | None:
    """None when the appointment is no longer paid (e.g. a confirmation resent after a refund)."""
    try:
        receipt = receipt_for(appointment, payment_session=session)
    except NotPaid:
        return None
    zone = ZoneInfo(appointment.practitioner.time_zone)
    return ReceiptLines(
        number=receipt.receipt_number,
        patient=receipt.patient_name,
        practitioner=receipt.practitioner_name,
        service=receipt.service_name,
        date_of_service=receipt.date_of_service.astimezone(zone).strftime("%B %-d, %Y"),
        amount=money(receipt.amount_cents, receipt.currency),
        method=receipt.payment_method,
        reference=receipt.provider_reference,
    )


def refunded_cents(appointment: Appointment) -> int:
    """Money on its way back (refunds made or under way), or refunded at the provider without our call."""
    refunds = Refund.objects.filter(payment_session__appointment=appointment).exclude(
        status=RefundStatus.FAILED
    )
    total = 0
    for refund in refunds.select_related("payment_session"):
        total += (
            refund.amount_cents if refund.amount_cents is not None else refund.payment_session.amount_cents
        )
    if total:
        return total
    outside: int | None = PaymentSession.objects.filter(
        appointment=appointment, status=PaymentStatus.REFUNDED
    ).aggregate(total=Sum("amount_cents"))["total"]
    return outside or 0


def _when(email: OutboxEmail, key: str, fallback: datetime) -> datetime:
    raw = email.facts.get(key)
    parsed = parse_datetime(raw) if isinstance(raw, str) else None
    return parsed or fallback


def _calendar(email: OutboxEmail, start: datetime, end: datetime, *, now: datetime) -> str:
    appointment = email.appointment
    _, organizer = parseaddr(settings.DEFAULT_FROM_EMAIL)
    visit = f"{appointment.service_name} with {appointment.practitioner.name}"
    return calendar_ics(
        CalendarEvent(
            uid=f"appointment-{appointment.pk}@sofia-checkout",
            sequence=int(email.facts.get("sequence", 0)),
            start=start,
            end=end,
            summary=f"{appointment.service_name} with {appointment.practitioner.name}",
            description=f"{settings.CLINIC_NAME}: {visit}.",
            organizer_email=organizer or "appointments@sofia-checkout",
            cancelled=email.event == EmailEvent.CANCELLED,
        ),
        now=now,
    )


def message_context(email: OutboxEmail) -> dict[str, Any]:
    """Everything the templates show (facts as of the event; payment details from committed rows)."""
    appointment = email.appointment
    zone = appointment.practitioner.time_zone
    start = _when(email, "appointment_time", appointment.appointment_time)
    context: dict[str, Any] = {
        "clinic": settings.CLINIC_NAME,
        "event": email.event,
        "patient_name": appointment.client_name,
        "practitioner": appointment.practitioner.name,
        "service": appointment.service_name,
        "when": local_time(start, zone),
        "amount": money(appointment.amount_cents, appointment.currency),
        "manage_url": manage_url(appointment),
        "book_url": f"{settings.FRONTEND_BASE_URL}/",
        "hold_until": local_time(appointment.hold_expires_at, zone),
    }
    session = email.payment_session
    if session is not None:
        context["method"] = _method_name(session.provider)
        if email.event == EmailEvent.BOOKING_CONFIRMED:
            context["receipt"] = receipt_lines(appointment, session)
    if email.event == EmailEvent.RESCHEDULED:
        context["previous_when"] = local_time(_when(email, "previous_time", start), zone)
    if email.event == EmailEvent.CANCELLED:
        refund = refunded_cents(appointment)
        context["refund"] = money(refund, appointment.currency) if refund else ""
    return context


def email_message(email: OutboxEmail, *, now: datetime) -> EmailMultiAlternatives:
    """The message for one outbox row: plain text and HTML from the same context, the .ics where it helps."""
    appointment = email.appointment
    context = message_context(email)
    name = f"notifications/{email.event}"
    message = EmailMultiAlternatives(
        subject=SUBJECTS[email.event].format(when=context["when"]),
        body=render_to_string(f"{name}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[appointment.client_email],
        # The same id for every attempt of one row: a resend after a lost acknowledgement is one message.
        headers={"Message-ID": f"<outbox-{email.pk}-{appointment.pk}@sofia-checkout>"},
    )
    message.attach_alternative(render_to_string(f"{name}.html", context), "text/html")
    if email.event in _WITH_CALENDAR and email.facts.get("calendar", True):
        start = _when(email, "appointment_time", appointment.appointment_time)
        end = _when(email, "ends_at", appointment.ends_at)
        message.attach("appointment.ics", _calendar(email, start, end, now=now), "text/calendar")
    return message
