"""The appointment admin (checkout/admin.py): behind the login, with a cancel-and-refund action."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from sofia_checkout.appointments.models import Appointment

pytestmark = pytest.mark.django_db


def test_admin_requires_login(api: APIClient) -> None:
    response = api.get("/admin/appointments/appointment/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_admin_cancel_action(admin_client: Any, book: Any) -> None:
    appointment = book()
    response = admin_client.post(
        "/admin/appointments/appointment/",
        {"action": "cancel_and_refund", "_selected_action": [appointment["id"]]},
    )
    assert response.status_code == 302
    assert Appointment.objects.get(pk=appointment["id"]).status == "cancelled"
