from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from sofia_checkout.appointments.models import Appointment, AppointmentStatus
from testing.booking import booking, slot

pytestmark = pytest.mark.django_db


def post(api: APIClient, body: Any, **kwargs: Any) -> Any:
    return api.post("/api/appointments/", body, format="json", **kwargs)


def test_booking_is_priced_by_the_server(api: APIClient) -> None:
    response = post(api, booking(amount_cents=1, currency="eur"))
    assert response.status_code == 201
    data = response.json()
    assert data["amount_cents"] == 15000
    assert data["currency"] == "usd"
    assert data["status"] == "pending_payment"
    assert data["client_email"] == "jane.doe@example.com"
    assert data["service_name"] == "Initial consultation (60 min)"
    assert data["latest_payment_session"] is None
    assert Appointment.objects.get(pk=data["id"]).amount_cents == 15000


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"practitioner": "Dr. Nobody"}, "practitioner"),
        ({"service": "surgery"}, "service"),
        ({"client_email": "not-an-email"}, "client_email"),
        ({"client_state": "ZZ"}, "client_state"),
        ({"client_state": "California"}, "client_state"),
        ({"client_name": ""}, "client_name"),
        ({"appointment_time": "2030-01-01T10:00:00"}, "appointment_time"),  # no offset
        ({"appointment_time": "tomorrow"}, "appointment_time"),
        ({"appointment_time": 12345}, "appointment_time"),
        ({"client_name": ["a"]}, "client_name"),
    ],
)
def test_field_errors_name_the_field(api: APIClient, overrides: dict[str, Any], field: str) -> None:
    response = post(api, booking(**overrides))
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert field in body["errors"]
    assert Appointment.objects.count() == 0


def test_time_rules(api: APIClient) -> None:
    now = timezone.now().replace(second=0, microsecond=0)
    cases = {
        "past": (now - timedelta(hours=1)).isoformat(),
        "too soon": (now + timedelta(minutes=5)).isoformat(),
        "beyond horizon": (now + timedelta(days=400)).isoformat(),
        "seconds": (now + timedelta(days=2)).replace(second=30).isoformat(),
    }
    for name, value in cases.items():
        response = post(api, booking(appointment_time=value))
        assert response.status_code == 400, name
        assert "appointment_time" in response.json()["errors"], name


def test_missing_fields_are_all_reported(api: APIClient) -> None:
    response = post(api, {})
    assert response.status_code == 400
    assert set(response.json()["errors"]) >= {
        "practitioner",
        "service",
        "appointment_time",
        "client_name",
        "client_email",
        "client_state",
    }


def test_malformed_json_wrong_media_and_huge_bodies(api: APIClient) -> None:
    bad = api.post("/api/appointments/", data="{not json", content_type="application/json")
    assert bad.status_code == 400
    assert bad.json()["code"] == "malformed_request"
    form = api.post("/api/appointments/", data="a=b", content_type="application/x-www-form-urlencoded")
    assert form.status_code == 415
    assert form.json()["code"] == "unsupported_media_type"
    listing = post(api, [1, 2, 3])
    assert listing.status_code == 400
    assert listing.json()["code"] == "validation_error"
    huge = api.post(
        "/api/appointments/", data='{"client_name": "' + "x" * 200_000 + '"}', content_type="application/json"
    )
    assert huge.status_code == 413
    assert huge.json()["code"] == "payload_too_large"


def test_deeply_nested_json_is_a_400_not_a_500(api: APIClient, book: Any) -> None:
    deep = "[" * 30_000 + "]" * 30_000  # under the 64 kB body limit, far beyond the decoder's recursion
    appointment = book()
    for path in ("/api/appointments/", f"/api/appointments/{appointment['id']}/payment-sessions/"):
        response = api.post(path, data=deep, content_type="application/json")
        assert response.status_code == 400, path
        assert response.json()["code"] == "malformed_request"


def test_double_booking_conflicts_until_the_slot_is_released(api: APIClient) -> None:
    when = slot(hours=72)
    first = post(api, booking(appointment_time=when))
    assert first.status_code == 201
    # Same instant written with another offset is the same slot.
    other_offset = (
        timezone.datetime.fromisoformat(when).astimezone(timezone.get_fixed_timezone(-300)).isoformat()
    )
    second = post(api, booking(appointment_time=other_offset, client_email="other@example.com"))
    assert second.status_code == 409
    assert second.json()["code"] == "conflict"
    assert "appointment_time" in second.json()["errors"]
    # Another practitioner at the same time is fine.
    assert post(api, booking(appointment_time=when, practitioner="Dr. Sam Okafor")).status_code == 201
    Appointment.objects.filter(pk=first.json()["id"]).update(status=AppointmentStatus.EXPIRED)
    assert post(api, booking(appointment_time=when)).status_code == 201


def test_database_refuses_a_double_booking_even_without_the_python_check() -> None:
    from django.db import IntegrityError

    when = timezone.now() + timedelta(days=3)
    fields = {
        "practitioner_id": "ana-reyes",
        "service": "follow_up",
        "service_name": "x",
        "appointment_time": when,
        "ends_at": when + timedelta(minutes=30),
        "blocked_until": when + timedelta(minutes=30),
        "client_name": "A",
        "client_email": "a@example.com",
        "client_state": "CA",
        "amount_cents": 100,
        "currency": "usd",
        "hold_expires_at": when,
    }
    Appointment.objects.create(**fields)
    with pytest.raises(IntegrityError):
        Appointment.objects.create(**fields)


def test_get_appointment_and_not_found(api: APIClient, book: Any) -> None:
    created = book()
    with CaptureQueriesContext(connection) as queries:
        response = api.get(f"/api/appointments/{created['id']}/")
    assert response.status_code == 200
    assert response.json()["id"] == created["id"]
    assert len(queries) <= 2
    missing = api.get("/api/appointments/00000000-0000-0000-0000-000000000000/")
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
    not_uuid = api.get("/api/appointments/123/")
    assert not_uuid.status_code == 404
    assert not_uuid.json()["code"] == "not_found"


def test_ids_are_random_uuids(book: Any) -> None:
    ids = {book()["id"] for _ in range(3)}
    assert all(len(i) == 36 and i[14] == "4" for i in ids)


def test_config_lists_prices_and_providers(api: APIClient) -> None:
    data = api.get("/api/config/").json()
    assert data["currency"] == "usd"
    assert data["payment_providers"] == ["stripe", "truemed"]
    ana = next(p for p in data["practitioners"] if p["name"] == "Dr. Ana Reyes")
    assert (ana["id"], ana["time_zone"]) == ("ana-reyes", "America/New_York")
    consultation = next(s for s in ana["services"] if s["slug"] == "initial_consultation")
    assert {k: consultation[k] for k in ("name", "amount_cents", "duration_minutes")} == {
        "name": "Initial consultation (60 min)",
        "amount_cents": 15000,
        "duration_minutes": 60,
    }


def test_method_not_allowed_uses_the_envelope(api: APIClient) -> None:
    response = api.delete("/api/appointments/")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_unknown_route_is_json(api: APIClient) -> None:
    response = api.get("/api/nothing-here/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_health_and_ready(api: APIClient) -> None:
    assert api.get("/api/health/").json() == {"status": "ok"}
    assert api.get("/api/ready/").json() == {"status": "ok", "database": "ok"}
    assert api.get("/api/health/").headers["X-Request-ID"]


def test_unknown_host_gets_json_not_html() -> None:
    from django.test import Client

    response = Client(HTTP_HOST="evil.example").get("/api/config/")
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"


def test_no_listing_of_other_patients(api: APIClient, book: Any) -> None:
    book()
    assert api.get("/api/appointments/").status_code == 405
    assert api.get("/api/payment-sessions/").status_code == 404


def test_provider_name_is_still_accepted_for_one_release(api: APIClient) -> None:
    body = booking()
    body["provider_name"] = body.pop("practitioner")
    response = post(api, body)
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["practitioner_name"] == data["provider_name"] == "Dr. Ana Reyes"
    assert data["practitioner"] == "ana-reyes"
    unknown = post(api, {**body, "provider_name": "Dr. Nobody", "appointment_time": slot(hours=72)})
    assert unknown.status_code == 400
    assert "practitioner" in unknown.json()["errors"]
