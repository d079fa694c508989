"""Writes of appointments: booking a slot."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from sofia_checkout.appointments import pricing
from sofia_checkout.appointments.models import LIVE_APPOINTMENT_STATUSES, Appointment
from sofia_checkout.appointments.us_states import US_STATE_CODES
from sofia_checkout.core.errors import Conflict, ValidationFailed

logger = logging.getLogger(__name__)

_SLOT_TAKEN = {
    "appointment_time": ["This time is already booked with this practitioner. Please pick another."]
}


def _validate_time(appointment_time: datetime, now: datetime) -> None:
    if timezone.is_naive(appointment_time):
        raise ValidationFailed(
            errors={"appointment_time": ["Include a UTC offset, e.g. 2026-12-01T15:00:00-05:00."]}
        )
    if appointment_time.second or appointment_time.microsecond:
        raise ValidationFailed(errors={"appointment_time": ["Use whole minutes."]})
    earliest = now + timedelta(minutes=settings.BOOKING_MIN_LEAD_MINUTES)
    latest = now + timedelta(days=settings.BOOKING_HORIZON_DAYS)
    if appointment_time < earliest:
        raise ValidationFailed(
            errors={"appointment_time": [f"Book at least {settings.BOOKING_MIN_LEAD_MINUTES} minutes ahead."]}
        )
    if appointment_time > latest:
        raise ValidationFailed(
            errors={"appointment_time": [f"Book no more than {settings.BOOKING_HORIZON_DAYS} days ahead."]}
        )


def normalise_email(email: str) -> str:
    return email.strip().lower()


def appointment_create(
    *,
    practitioner: str,
    service: str,
    appointment_time: datetime,
    client_name: str,
    client_email: str,
    client_state: str,
    now: datetime | None = None,
) -> Appointment:
    """Book a slot, priced from the server's table, held unpaid for APPOINTMENT_HOLD_MINUTES.

    Raises ValidationFailed (field named) or Conflict when the practitioner is already booked at that time;
    the unique constraint decides races between parallel bookings.
    """
    now = now or timezone.now()
    quote = pricing.quote(practitioner=practitioner, service=service)
    _validate_time(appointment_time, now)
    state = client_state.strip().upper()
    if state not in US_STATE_CODES:
        raise ValidationFailed(errors={"client_state": ["Use a two-letter US state code, e.g. CA."]})
    appointment_time = appointment_time.astimezone(UTC)
    taken = Appointment.objects.filter(
        practitioner=practitioner, appointment_time=appointment_time, status__in=LIVE_APPOINTMENT_STATUSES
    )
    if taken.exists():
        raise Conflict("This time is already booked.", errors=_SLOT_TAKEN)
    try:
        with transaction.atomic():
            appointment = Appointment.objects.create(
                practitioner=practitioner,
                service=quote.slug,
                service_name=quote.name,
                appointment_time=appointment_time,
                client_name=client_name.strip(),
                client_email=normalise_email(client_email),
                client_state=state,
                amount_cents=quote.amount_cents,
                currency=settings.CURRENCY,
                hold_expires_at=now + timedelta(minutes=settings.APPOINTMENT_HOLD_MINUTES),
            )
    except IntegrityError:
        raise Conflict("This time is already booked.", errors=_SLOT_TAKEN) from None
    logger.info(
        "appointment booked",
        extra={"appointment_id": str(appointment.id), "amount_cents": appointment.amount_cents},
    )
    return appointment
