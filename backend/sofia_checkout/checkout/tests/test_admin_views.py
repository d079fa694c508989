"""What staff see in the admin: status never editable, an "attention needed" column and filter, each
appointment's payment and webhook timeline, and a day/week schedule per practitioner (behind permissions)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from sofia_checkout.appointments.models import Appointment
from sofia_checkout.payments.models import PaymentSession, Refund, WebhookEvent

pytestmark = pytest.mark.django_db


def session_for(appointment: dict[str, Any], n: int = 1, **fields: Any) -> PaymentSession:
    return PaymentSession.objects.create(
        appointment_id=appointment["id"],
        provider="stripe",
        attempt=n,
        idempotency_key=f"key-{appointment['id']}-{n}",
        provider_session_id=f"cs_admin_{appointment['id'][:8]}_{n}",
        amount_cents=15000,
        currency="usd",
        expires_at=timezone.now() + timedelta(hours=1),
        **fields,
    )


def staff(django_user_model: Any, *codenames: str) -> Client:
    user = django_user_model.objects.create_user(
        username=f"staff-{'-'.join(codenames) or 'none'}", password="pw-long-enough-1", is_staff=True
    )
    for codename in codenames:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    client = Client()
    client.force_login(user)
    return client


def test_status_is_read_only_in_the_admin(admin_client: Client, book: Any) -> None:
    appointment = book()
    url = f"/admin/appointments/appointment/{appointment['id']}/change/"
    page = admin_client.get(url)
    assert page.status_code == 200
    assert b'name="status"' not in page.content
    admin_client.post(url, {"status": "confirmed", "client_name": "Jane Doe", "client_email": "a@b.co"})
    assert Appointment.objects.get(pk=appointment["id"]).status == "pending_payment"
    assert admin_client.get("/admin/appointments/appointment/add/").status_code == 403
    session = session_for(appointment)
    session_page = admin_client.get(f"/admin/payments/paymentsession/{session.pk}/change/")
    assert b'name="status"' not in session_page.content


def test_the_attention_column_and_filter_find_what_needs_a_person(admin_client: Client, book: Any) -> None:
    calm, mismatch, failed, late = book(), book(), book(), book()
    session_for(calm, status="open")
    session_for(mismatch, status="paid_unverified", amount_mismatch=True, reported_amount_cents=100)
    refunded = session_for(failed, status="paid")
    Refund.objects.create(
        payment_session=refunded, idempotency_key="r-1", status="failed", amount_cents=15000
    )
    session_for(late, status="paid")
    Appointment.objects.filter(pk=late["id"]).update(status="cancelled")

    def listed(query: str) -> set[str]:
        page = admin_client.get(f"/admin/appointments/appointment/?{query}")
        assert page.status_code == 200
        ids = {a["id"] for a in (calm, mismatch, failed, late)}
        return {i for i in ids if i in page.content.decode()}

    assert listed("attention=amount_mismatch") == {mismatch["id"]}
    assert listed("attention=refund_failed") == {failed["id"]}
    assert listed("attention=late_payment") == {late["id"]}
    assert listed("attention=any") == {mismatch["id"], failed["id"], late["id"]}
    everything = admin_client.get("/admin/appointments/appointment/").content.decode()
    for label in ("amount mismatch", "refund failed", "late payment"):
        assert label in everything


def test_the_change_page_shows_the_payment_and_webhook_timeline(admin_client: Client, book: Any) -> None:
    appointment = book()
    session = session_for(appointment, status="paid", payment_reference="pi_timeline")
    Refund.objects.create(
        payment_session=session, idempotency_key="r-t", status="failed", error="card expired"
    )
    WebhookEvent.objects.create(
        provider="stripe",
        dedupe_key="evt_timeline",
        event_type="checkout.session.completed",
        payload="{}",
        signature_valid=True,
        outcome="applied",
        payment_session=session,
    )
    page = (
        admin_client.get(f"/admin/appointments/appointment/{appointment['id']}/change/")
        .content.decode()
        .lower()
    )
    for shown in (
        "payments and webhooks",
        "pi_timeline",
        "checkout.session.completed",
        "card expired",
        "booked",
    ):
        assert shown in page


def test_the_schedule_lists_a_practitioners_appointments_by_day_and_week(
    django_user_model: Any, book: Any
) -> None:
    appointment = book()
    stored = Appointment.objects.get(pk=appointment["id"])
    day = stored.appointment_time.astimezone(ZoneInfo(stored.practitioner.time_zone)).date()
    url = f"/admin/appointments/practitioner/{stored.practitioner_id}/schedule/"
    client = staff(django_user_model, "view_appointment", "view_practitioner")
    listing = client.get("/admin/appointments/practitioner/").content.decode()
    assert url in listing  # linked from the practitioner admin
    page = client.get(f"{url}?date={day.isoformat()}")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Jane Doe" in text
    assert "Pending payment" in text
    assert text.count('class="schedule-day"') == 1
    week = client.get(f"{url}?span=week&date={(day - timedelta(days=3)).isoformat()}").content.decode()
    assert week.count('class="schedule-day"') == 7
    assert "Jane Doe" in week
    other_day = client.get(f"{url}?date={(day + timedelta(days=1)).isoformat()}").content.decode()
    assert "Jane Doe" not in other_day


def test_the_schedule_needs_the_permission_to_view_appointments(django_user_model: Any, book: Any) -> None:
    appointment = book()
    practitioner = Appointment.objects.get(pk=appointment["id"]).practitioner_id
    url = f"/admin/appointments/practitioner/{practitioner}/schedule/"
    assert staff(django_user_model, "view_practitioner").get(url).status_code == 403
    anonymous = Client().get(url)
    assert anonymous.status_code == 302
    assert "/admin/login/" in anonymous["Location"]
