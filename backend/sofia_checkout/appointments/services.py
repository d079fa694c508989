"""Writes of appointments: booking an open slot, moving it to another."""

from __future__ import annotations

import logging
import uuid
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from sofia_checkout.appointments.access import access_token_for, access_token_hash
from sofia_checkout.appointments.models import LIVE_APPOINTMENT_STATUSES, Appointment, Offering
from sofia_checkout.appointments.policy import reschedule_check
from sofia_checkout.appointments.scheduling import Visit, start_problem
from sofia_checkout.appointments.selectors import (
    appointment_lock,
    booking_rules,
    busy_intervals,
    offering_find,
    offering_lookup,
    practitioner_schedule,
)
from sofia_checkout.appointments.signals import appointment_rescheduled
from sofia_checkout.appointments.us_states import US_STATE_CODES
from sofia_checkout.core.errors import Conflict, ValidationFailed

logger = logging.getLogger(__name__)

_OVERLAP = {
    "appointment_time": ["This time overlaps another visit with this practitioner. Please pick another."]
}


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _visit(offering: Offering) -> Visit:
    service = offering.service
    return Visit(timedelta(minutes=service.duration_minutes), timedelta(minutes=service.buffer_minutes))


def _time_problem(offering: Offering, start: datetime, now: datetime) -> str | None:
    if timezone.is_naive(start):
        return "Include a UTC offset, e.g. 2026-12-01T15:00:00-05:00."
    local_day = start.astimezone(ZoneInfo(offering.practitioner.time_zone)).date()
    schedule = practitioner_schedule(
        practitioner=offering.practitioner, first_day=local_day, last_day=local_day
    )
    return start_problem(schedule, start, visit=_visit(offering), rules=booking_rules(), now=now)


def appointment_booking_errors(
    *,
    practitioner: str | None = None,
    service: str | None = None,
    appointment_time: datetime | None = None,
    client_state: str | None = None,
    now: datetime | None = None,
) -> tuple[Offering | None, dict[str, list[str]]]:
    """Check what a booking names (any field may be missing: it is then not checked here).

    Returns the offering (practitioner + service + price) when both are valid, and every problem by field,
    so a form can show them all at once.
    """
    now = now or timezone.now()
    offering, errors = offering_lookup(practitioner=practitioner, service=service)
    if client_state is not None and client_state.strip().upper() not in US_STATE_CODES:
        errors["client_state"] = ["Use a two-letter US state code, e.g. CA."]
    if appointment_time is not None:
        if offering is not None:
            problem = _time_problem(offering, appointment_time, now)
        elif appointment_time < now + timedelta(minutes=settings.BOOKING_MIN_LEAD_MINUTES):
            problem = f"Book at least {settings.BOOKING_MIN_LEAD_MINUTES} minutes ahead."
        else:
            problem = None
        if problem:
            errors["appointment_time"] = [problem]
    return offering, errors


def _overlaps(offering: Offering, start: datetime, exclude: uuid.UUID | None = None) -> bool:
    visit = _visit(offering)
    busy = busy_intervals(
        practitioner=offering.practitioner, start=start, end=start + visit.blocks, exclude=exclude
    )
    return busy.overlaps(start, start + visit.blocks)


def _checked_in_python() -> bool:
    """Whether our own check must refuse overlapping visits: no exclusion constraint (not PostgreSQL)."""
    return connection.vendor != "postgresql"


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
    """Book an open slot, priced from the server's table, held unpaid for APPOINTMENT_HOLD_MINUTES.

    Raises ValidationFailed (every field at fault) or Conflict when the visit would overlap another live
    one. The database decides races: on PostgreSQL an exclusion constraint over the blocked time range, on
    SQLite the overlap check inside the (immediate, hence serialized) write transaction.
    """
    now = now or timezone.now()
    offering, errors = appointment_booking_errors(
        practitioner=practitioner,
        service=service,
        appointment_time=appointment_time,
        client_state=client_state,
        now=now,
    )
    if errors or offering is None:
        raise ValidationFailed(errors=errors)
    start = appointment_time.astimezone(UTC)
    visit = _visit(offering)
    try:
        # On PostgreSQL the exclusion constraint alone decides: one INSERT, atomic by itself (a savepoint only
        # inside a caller's transaction, so a refusal does not break it). SQLite has no such constraint:
        # the check runs inside the immediate (serialized) transaction.
        alone = not _checked_in_python() and not connection.in_atomic_block
        with nullcontext() if alone else transaction.atomic():
            if _checked_in_python() and _overlaps(offering, start):
                raise Conflict("This time is already booked.", errors=_OVERLAP)
            appointment = Appointment(
                practitioner=offering.practitioner,
                service=offering.service.slug,
                service_name=offering.service.name,
                appointment_time=start,
                ends_at=start + visit.duration,
                blocked_until=start + visit.blocks,
                client_name=client_name.strip(),
                client_email=normalise_email(client_email),
                client_state=client_state.strip().upper(),
                amount_cents=offering.amount_cents,
                currency=settings.CURRENCY,
                hold_expires_at=now + timedelta(minutes=settings.APPOINTMENT_HOLD_MINUTES),
            )
            appointment.access_token_hash = access_token_hash(access_token_for(appointment))
            appointment.save(force_insert=True)
    except IntegrityError:
        raise Conflict("This time is already booked.", errors=_OVERLAP) from None
    logger.info(
        "appointment booked",
        extra={"appointment_id": str(appointment.id), "amount_cents": appointment.amount_cents},
    )
    return appointment


def appointment_reschedule(
    *, appointment_id: uuid.UUID | str, appointment_time: datetime, now: datetime | None = None
) -> Appointment:
    """Move a live, future appointment to another open slot of the same practitioner and service, at the
    same price. The new slot is taken and the old one released in one transaction (the exclusion
    constraint / serialized check sees both). Raises NotFound, Conflict (not movable, or the slot overlaps
    another visit) or ValidationFailed (not an offered slot)."""
    now = now or timezone.now()
    with transaction.atomic():
        appointment = appointment_lock(appointment_id=appointment_id)
        if appointment.status not in LIVE_APPOINTMENT_STATUSES or appointment.cancel_requested_at:
            raise Conflict(
                f"A {appointment.status} appointment cannot be moved.",
                errors={"status": [appointment.status]},
            )
        if appointment.appointment_time <= now:
            raise Conflict("This appointment has already started.", errors={"appointment_time": ["past"]})
        reschedule_check(appointment, now=now)
        offering = offering_find(practitioner=appointment.practitioner, service=appointment.service)
        if offering is None:
            raise Conflict("This service is no longer offered; please contact the clinic.")
        problem = _time_problem(offering, appointment_time, now)
        if problem:
            raise ValidationFailed(errors={"appointment_time": [problem]})
        start = appointment_time.astimezone(UTC)
        if _overlaps(offering, start, exclude=appointment.pk):
            raise Conflict("This time is already booked.", errors=_OVERLAP)
        visit = _visit(offering)
        previous_time = appointment.appointment_time
        appointment.appointment_time = start
        appointment.ends_at = start + visit.duration
        appointment.blocked_until = start + visit.blocks
        try:
            with transaction.atomic():
                appointment.save(update_fields=["appointment_time", "ends_at", "blocked_until", "updated_at"])
        except IntegrityError:
            raise Conflict("This time is already booked.", errors=_OVERLAP) from None
        if start != previous_time:
            appointment_rescheduled.send(
                sender=Appointment, appointment=appointment, previous_time=previous_time
            )
    logger.info("appointment rescheduled", extra={"appointment_id": str(appointment.id)})
    return appointment
