"""Reads of appointments."""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError

from sofia_checkout.appointments.models import Appointment
from sofia_checkout.core.errors import NotFound


def appointment_get(*, appointment_id: uuid.UUID | str) -> Appointment:
    """The appointment, or NotFound (also for ids that are not UUIDs)."""
    try:
        return Appointment.objects.get(pk=appointment_id)
    except (Appointment.DoesNotExist, ValidationError, ValueError):
        raise NotFound("No appointment with this id.") from None


def appointment_lock(*, appointment_id: uuid.UUID | str) -> Appointment:
    """The appointment row, locked for the current transaction (SELECT ... FOR UPDATE), or NotFound.

    Lock order everywhere: the appointment first, then its payment sessions.
    """
    try:
        return Appointment.objects.select_for_update().get(pk=appointment_id)
    except (Appointment.DoesNotExist, ValidationError, ValueError):
        raise NotFound("No appointment with this id.") from None
