"""The appointment admin (checkout/admin.py): behind the login and the model permissions, with a
cancel-and-refund action that needs the CSRF token."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from sofia_checkout.appointments.models import Appointment
from sofia_checkout.checkout.admin import CANCEL_ACTION
from sofia_checkout.payments.models import Refund
from testing.flows import started
from testing.provider_mocks import StripeMock, stripe_refund

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
    """A logged-in-able user: staff (or not) with these appointment permissions ("view", "change", "refund":
    the dedicated can_refund)."""
    user = django_user_model.objects.create_user(
        username=f"u-{'-'.join(permissions) or 'none'}-{staff}", password="pw-long-enough-1", is_staff=staff
    )
    for action in permissions:
        codename = "can_refund" if action == "refund" else f"{action}_appointment"
        user.user_permissions.add(
            Permission.objects.get(codename=codename, content_type__app_label="appointments")
        )
    return user


def paid(api: APIClient, book: Any, stripe_mock: StripeMock) -> dict[str, Any]:
    """A booked appointment confirmed by a paid card session (payment_intent pi_9)."""
    appointment = book()
    stripe_mock.answer_create()
    session = started(api, appointment, "stripe")
    stripe_mock.retrieve(
        session["provider_session_id"], status="complete", payment_status="paid", payment_intent="pi_9"
    )
    assert api.post(f"/api/payment-sessions/{session['id']}/sync/").json()["status"] == "paid"
    return appointment


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


@pytest.mark.parametrize("permissions", [("view",), ("view", "change")], ids=["view-only", "view+change"])
def test_staff_without_can_refund_cannot_cancel_and_refund(
    django_user_model: Any, api: APIClient, book: Any, stripe_mock: StripeMock, permissions: tuple[str, ...]
) -> None:
    appointment = paid(api, book, stripe_mock)
    refund_route = stripe_mock.refunds(httpx.Response(200, json=stripe_refund()))
    client = Client()
    client.force_login(staff_user(django_user_model, *permissions))
    assert client.get("/admin/appointments/appointment/").status_code == 200  # may look
    assert CANCEL_ACTION.encode() not in client.get("/admin/appointments/appointment/").content
    assert cancel_action(client, appointment).status_code == 403  # may not act
    assert Appointment.objects.get(pk=appointment["id"]).status == "confirmed"
    assert refund_route.call_count == 0
    assert not Refund.objects.exists()


def test_staff_with_can_refund_cancel_and_refund_even_inside_the_patients_window(
    django_user_model: Any, api: APIClient, book: Any, stripe_mock: StripeMock
) -> None:
    appointment = paid(api, book, stripe_mock)
    stored = Appointment.objects.get(pk=appointment["id"])
    soon = timezone.now() + timedelta(hours=2) - stored.appointment_time  # inside the 24 h cutoff
    Appointment.objects.filter(pk=stored.pk).update(
        appointment_time=stored.appointment_time + soon,
        ends_at=stored.ends_at + soon,
        blocked_until=stored.blocked_until + soon,
    )
    assert (
        api.post(f"/api/appointments/{appointment['id']}/cancel/").status_code == 409
    )  # the patient may not
    refund_route = stripe_mock.refunds(httpx.Response(200, json=stripe_refund()))
    client = Client()
    client.force_login(staff_user(django_user_model, "view", "refund"))
    assert CANCEL_ACTION.encode() in client.get("/admin/appointments/appointment/").content
    assert cancel_action(client, appointment).status_code == 302
    assert Appointment.objects.get(pk=appointment["id"]).status == "cancelled"
    assert refund_route.call_count == 1
