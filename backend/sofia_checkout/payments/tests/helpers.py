"""Reads the payment tests share (the product's models; the API-level steps are in testing/flows.py)."""

from __future__ import annotations

from typing import Any

from sofia_checkout.appointments.models import Appointment


def appointment_status(appointment: dict[str, Any]) -> str:
    """The stored status of an appointment the API returned."""
    return Appointment.objects.get(pk=appointment["id"]).status
