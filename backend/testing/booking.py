"""Booking bodies as the SPA sends them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone


def slot(hours: int = 48, minute: int = 0) -> str:
    """A bookable time `hours` from now, ISO 8601 with offset, whole minutes."""
    when = (timezone.now() + timedelta(hours=hours)).replace(minute=minute, second=0, microsecond=0)
    return when.isoformat()


def booking(**overrides: Any) -> dict[str, Any]:
    """A valid POST /api/appointments/ body; `overrides` replace or add fields."""
    body = {
        "practitioner": "Dr. Ana Reyes",
        "service": "initial_consultation",
        "appointment_time": slot(),
        "client_name": "Jane Doe",
        "client_email": "Jane.Doe@Example.com",
        "client_state": "CA",
    }
    body.update(overrides)
    return body
