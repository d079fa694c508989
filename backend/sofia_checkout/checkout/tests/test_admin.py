"""The appointment admin (checkout/admin.py): behind the login and the model permissions, with a
cancel-and-refund action that needs the CSRF token."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
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


def staff_user(django_user_model: Any, *permissions: str, staff: bool = True) -> Any:
    """A logged-in-able user: staff (or not) with these appointment permissions ("view", "change")."""
    user = django_user_model.objects.create_user(
        username=f"u-{'-'.join(permissions) or 'none'}-{staff}", password="pw-long-enough-1", is_staff=staff
    )
    for action in permissions:
        user.user_permissions.add(
            Permission.objects.get(codename=f"{action}_appointment", content_type__app_label="appointments")
        )
    return user


def cancel_action(client: Client, appointment: dict[str, Any]) -> Any:
    return client.post(
        "/admin/appointments/appointment/",
        {"action": "cancel_and_refund", "_selected_action": [appointment["id"]]},
    )


def test_a_logged_in_user_who_is_not_staff_gets_no_admin(django_user_model: Any, book: Any) -> None:
    appointment = book()
    client = Client()
    client.force_login(staff_user(django_user_model, "view", "change", staff=False))
    for url in (
        "/admin/",
        "/admin/appointments/appointment/",
        f"/admin/appointments/appointment/{appointment['id']}/change/",
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/admin/login/" in response["Location"]
    assert cancel_action(client, appointment).status_code == 302
    assert Appointment.objects.get(pk=appointment["id"]).status == "pending_payment"
    # Nor does a logged-in session open anything in the shopper's API (it authenticates no one).
    detail = client.get(f"/api/appointments/{appointment['id']}/")
    assert detail.status_code == 404
    assert "attention" not in detail.json()


def test_staff_without_permissions_cannot_see_or_cancel_appointments(
    django_user_model: Any, book: Any
) -> None:
    appointment = book()
    client = Client()
    client.force_login(staff_user(django_user_model))
    assert client.get("/admin/appointments/appointment/").status_code == 403
    assert client.get(f"/admin/appointments/appointment/{appointment['id']}/change/").status_code == 403
    assert cancel_action(client, appointment).status_code == 403
    assert Appointment.objects.get(pk=appointment["id"]).status == "pending_payment"


def test_the_admin_cancel_action_needs_the_csrf_token(admin_user: Any, book: Any) -> None:
    appointment = book()
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    assert cancel_action(client, appointment).status_code == 403
    assert Appointment.objects.get(pk=appointment["id"]).status == "pending_payment"


def test_view_only_staff_cannot_cancel_and_refund(django_user_model: Any, book: Any) -> None:
    appointment = book()
    client = Client()
    client.force_login(staff_user(django_user_model, "view"))
    assert client.get("/admin/appointments/appointment/").status_code == 200  # may look
    cancel_action(client, appointment)
    assert Appointment.objects.get(pk=appointment["id"]).status == "pending_payment"  # may not act


def test_staff_with_change_permission_can_cancel(django_user_model: Any, book: Any) -> None:
    appointment = book()
    client = Client()
    client.force_login(staff_user(django_user_model, "view", "change"))
    assert cancel_action(client, appointment).status_code == 302
    assert Appointment.objects.get(pk=appointment["id"]).status == "cancelled"
