"""Reads of appointments, practitioners and open slots."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import DateField, IntegerField, Q, Value

from sofia_checkout.appointments.models import (
    LIVE_APPOINTMENT_STATUSES,
    Appointment,
    DateOverride,
    Offering,
    Practitioner,
    WorkingHours,
)
from sofia_checkout.appointments.scheduling import Busy, Interval, Rules, Schedule, Visit, open_slots
from sofia_checkout.core.errors import NotFound


def appointment_get(*, appointment_id: uuid.UUID | str) -> Appointment:
    """The appointment, or NotFound (also for ids that are not UUIDs)."""
    try:
        return Appointment.objects.select_related("practitioner").get(pk=appointment_id)
    except (Appointment.DoesNotExist, ValidationError, ValueError):
        raise NotFound("No appointment with this id.") from None


def appointment_lock(*, appointment_id: uuid.UUID | str, with_practitioner: bool = False) -> Appointment:
    """The appointment row, locked for the current transaction (SELECT ... FOR UPDATE), or NotFound.

    Lock order everywhere: the appointment first, then its payment sessions. `with_practitioner` reads its
    practitioner in the same query (not locked: FOR UPDATE OF the appointment only).
    """
    rows = Appointment.objects.all()
    if with_practitioner:
        rows = rows.select_related("practitioner").select_for_update(of=("self",))
    else:
        rows = rows.select_for_update()
    try:
        return rows.get(pk=appointment_id)
    except (Appointment.DoesNotExist, ValidationError, ValueError):
        raise NotFound("No appointment with this id.") from None


def booking_rules() -> Rules:
    return Rules(
        step=timedelta(minutes=settings.BOOKING_SLOT_STEP_MINUTES),
        lead=timedelta(minutes=settings.BOOKING_MIN_LEAD_MINUTES),
        horizon=timedelta(days=settings.BOOKING_HORIZON_DAYS),
    )


def practitioner_find(*, identifier: str) -> Practitioner | None:
    """An active practitioner by id (what /api/practitioners/ lists) or, for older clients, exact name."""
    return Practitioner.objects.filter(Q(id=identifier) | Q(name=identifier), active=True).first()


def offering_find(*, practitioner: Practitioner, service: str) -> Offering | None:
    return (
        Offering.objects.select_related("service")
        .filter(practitioner=practitioner, service_id=service)
        .first()
    )


def offering_lookup(
    *, practitioner: str | None, service: str | None
) -> tuple[Offering | None, dict[str, list[str]]]:
    """The offering a practitioner identifier and a service slug name, and the problem with each by field
    (a field given as None is not checked). Used by booking and by availability queries alike."""
    errors: dict[str, list[str]] = {}
    if practitioner is not None and service is not None:
        # The usual case in one query (a booking is on the hot path); the field at fault only when it fails.
        offering = (
            Offering.objects.select_related("service", "practitioner")
            .filter(Q(practitioner_id=practitioner) | Q(practitioner__name=practitioner), service_id=service)
            .filter(practitioner__active=True)
            .first()
        )
        if offering is not None:
            return offering, errors
    found = practitioner_find(identifier=practitioner) if practitioner is not None else None
    if practitioner is not None and found is None:
        errors["practitioner"] = ["Unknown practitioner."]
    offering = offering_find(practitioner=found, service=service) if found and service is not None else None
    if found is not None and service is not None and offering is None:
        errors["service"] = [f"{found.name} does not offer this service."]
    return offering, errors


def practitioner_list() -> list[Practitioner]:
    """Active practitioners with their offerings (and services) prefetched, by name."""
    return list(
        Practitioner.objects.filter(active=True).prefetch_related("offerings__service").order_by("name")
    )


def practitioner_schedule(*, practitioner: Practitioner, first_day: date, last_day: date) -> Schedule:
    """Weekly hours and the date overrides of first_day..last_day, read in one query (UNION ALL): a weekly
    row has a weekday and no date, an override a date (and no times for a day off)."""
    # (no ORDER BY inside a compound statement: SQLite refuses it, and the order does not matter here)
    weekly_rows = (
        WorkingHours.objects.filter(practitioner=practitioner)
        .order_by()
        .values_list("weekday", "start_time", "end_time", Value(None, output_field=DateField()))
    )
    override_rows = (
        DateOverride.objects.filter(practitioner=practitioner, date__gte=first_day, date__lte=last_day)
        .order_by()
        .values_list(Value(None, output_field=IntegerField()), "start_time", "end_time", "date")
    )
    weekly: dict[int, list[Interval]] = {}
    overrides: dict[date, list[Interval]] = {}
    for weekday, start, end, day in weekly_rows.union(override_rows, all=True):
        if day is None:
            weekly.setdefault(weekday, []).append((start, end))
            continue
        intervals = overrides.setdefault(day, [])
        if start is not None and end is not None:
            intervals.append((start, end))
    return Schedule(zone=ZoneInfo(practitioner.time_zone), weekly=weekly, overrides=overrides)


def busy_intervals(
    *, practitioner: Practitioner, start: datetime, end: datetime, exclude: uuid.UUID | None = None
) -> Busy:
    """The practitioner's live appointments (with their buffers) that overlap [start, end)."""
    rows = Appointment.objects.filter(
        practitioner=practitioner,
        status__in=LIVE_APPOINTMENT_STATUSES,
        appointment_time__lt=end,
        blocked_until__gt=start,
    )
    if exclude is not None:
        rows = rows.exclude(pk=exclude)
    return Busy(list(rows.values_list("appointment_time", "blocked_until")))


@dataclass(frozen=True)
class Availability:
    zone: ZoneInfo  # the zone the days are counted in (the patient's)
    days: dict[date, list[datetime]]


def availability_get(
    *, offering: Offering, first_day: date, last_day: date, zone: ZoneInfo, now: datetime
) -> Availability:
    """Open starts per date in `zone` for first_day..last_day (inclusive), each in `zone`."""
    practitioner, service = offering.practitioner, offering.service
    # The patient's dates may straddle two of the practitioner's: look one day further on both sides.
    local_first, local_last = first_day - timedelta(days=1), last_day + timedelta(days=1)
    schedule = practitioner_schedule(practitioner=practitioner, first_day=local_first, last_day=local_last)
    visit = Visit(timedelta(minutes=service.duration_minutes), timedelta(minutes=service.buffer_minutes))
    window_start = datetime.combine(local_first, datetime.min.time(), tzinfo=schedule.zone)
    window_end = datetime.combine(local_last + timedelta(days=2), datetime.min.time(), tzinfo=schedule.zone)
    busy = busy_intervals(practitioner=practitioner, start=window_start - visit.blocks, end=window_end)
    days: dict[date, list[datetime]] = {
        first_day + timedelta(days=n): [] for n in range((last_day - first_day).days + 1)
    }
    for start in open_slots(
        schedule,
        visit=visit,
        busy=busy,
        rules=booking_rules(),
        now=now,
        first_day=local_first,
        last_day=local_last,
    ):
        local = start.astimezone(zone)
        if local.date() in days:
            days[local.date()].append(local)
    return Availability(zone=zone, days=days)
