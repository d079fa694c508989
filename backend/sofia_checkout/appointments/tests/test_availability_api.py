"""Practitioners, open slots and booking rules through the API, with the practitioners' real hours."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from sofia_checkout.appointments.models import Appointment, DateOverride
from testing.booking import booking
from testing.schedule import real_hours

pytestmark = [pytest.mark.django_db, pytest.mark.real_schedule]

NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture(autouse=True)
def _hours() -> None:
    real_hours()


def next_monday(min_days: int = 3) -> date:
    day = timezone.now().astimezone(NEW_YORK).date() + timedelta(days=min_days)
    return day + timedelta(days=(7 - day.weekday()) % 7)


def at(day: date, hour: int, minute: int = 0) -> str:
    return datetime.combine(day, time(hour, minute), tzinfo=NEW_YORK).isoformat()


def soon_on_the_grid() -> datetime:
    """A quarter-hour start less than the 60-minute lead time from now."""
    soon = timezone.now() + timedelta(minutes=20)
    return soon.replace(minute=0, second=0, microsecond=0) + timedelta(minutes=15 * (soon.minute // 15 + 1))


def availability(api: APIClient, **params: Any) -> Any:
    query = {"practitioner": "ana-reyes", "service": "initial_consultation", **params}
    return api.get("/api/availability/", query)


def book(api: APIClient, when: str, **overrides: Any) -> Any:
    return api.post(
        "/api/appointments/",
        booking(practitioner="ana-reyes", appointment_time=when, **overrides),
        format="json",
    )


def test_practitioners_list_ids_zones_services_lengths_and_prices(api: APIClient) -> None:
    data = api.get("/api/practitioners/").json()
    ana = next(p for p in data if p["id"] == "ana-reyes")
    assert (ana["name"], ana["time_zone"]) == ("Dr. Ana Reyes", "America/New_York")
    consultation = next(s for s in ana["services"] if s["slug"] == "initial_consultation")
    assert consultation == {
        "slug": "initial_consultation",
        "name": "Initial consultation (60 min)",
        "duration_minutes": 60,
        "buffer_minutes": 15,
        "amount_cents": 15000,
    }


def test_availability_per_day_with_offsets_in_the_patients_zone(api: APIClient) -> None:
    monday = next_monday()
    data = availability(
        api, **{"from": monday.isoformat(), "to": (monday + timedelta(days=6)).isoformat()}
    ).json()
    assert data["time_zone"] == "America/New_York"
    days = {d["date"]: d["slots"] for d in data["days"]}
    assert len(days) == 7
    assert days[monday.isoformat()][0] == at(monday, 9)
    assert days[(monday + timedelta(days=5)).isoformat()] == []  # Saturday
    # 60-minute visits in 9-12 and 13-17: 9:00..11:00 and 13:00..16:00 every 15 minutes.
    assert len(days[monday.isoformat()]) == 9 + 13
    in_la = availability(
        api, tz="America/Los_Angeles", **{"from": monday.isoformat(), "to": monday.isoformat()}
    ).json()
    first = in_la["days"][0]["slots"][0]
    assert first.endswith("-08:00")
    assert "T06:00:00" in first
    assert datetime.fromisoformat(first) == datetime.fromisoformat(at(monday, 9))


def test_booked_visits_and_buffers_remove_overlapping_slots(api: APIClient) -> None:
    monday = next_monday()
    assert book(api, at(monday, 14)).status_code == 201  # busy 14:00-15:15 (60 min + 15 buffer)
    slots = availability(api, **{"from": monday.isoformat(), "to": monday.isoformat()}).json()["days"][0][
        "slots"
    ]
    # 13:00 would end at 14:00, but its own 15-minute buffer runs into the booked visit.
    for taken in ("13:00", "13:15", "13:30", "14:00", "14:45", "15:00"):
        assert at(monday, int(taken[:2]), int(taken[3:])) not in slots, taken
    assert at(monday, 11) in slots
    assert at(monday, 15, 15) in slots


def test_date_overrides_reach_the_api(api: APIClient) -> None:
    monday = next_monday()
    DateOverride.objects.create(practitioner_id="ana-reyes", date=monday)  # day off
    DateOverride.objects.create(
        practitioner_id="ana-reyes", date=monday + timedelta(days=5), start_time=time(10), end_time=time(12)
    )
    days = availability(
        api, **{"from": monday.isoformat(), "to": (monday + timedelta(days=5)).isoformat()}
    ).json()["days"]
    assert days[0]["slots"] == []
    assert days[5]["slots"][0] == at(monday + timedelta(days=5), 10)
    assert book(api, at(monday, 9)).status_code == 400


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2027-01-01", "to": "2027-03-01"}, "to"),  # more than 31 days
        ({"from": "2027-01-05", "to": "2027-01-01"}, "to"),
        ({"from": "yesterday", "to": "2027-01-01"}, "from"),
        ({"from": "2027-01-01", "to": "2027-01-02", "tz": "Mars/Olympus"}, "tz"),
        ({"from": "2027-01-01", "to": "2027-01-02", "practitioner": "dr-nobody"}, "practitioner"),
        ({"from": "2027-01-01", "to": "2027-01-02", "service": "nutrition_plan"}, "service"),
    ],
)
def test_availability_refuses_bad_queries_with_the_field(
    api: APIClient, params: dict[str, str], field: str
) -> None:
    response = availability(api, **params)
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert field in response.json()["errors"]


@pytest.mark.parametrize(
    ("when", "words"),
    [
        (lambda d: at(d, 3), "working hours"),  # at night, on the grid
        (lambda d: at(d, 3, 17), "grid"),
        (lambda d: at(d, 11, 30), "working hours"),  # would run into lunch
        (lambda d: at(d + timedelta(days=5), 10), "working hours"),  # Saturday
        (lambda d: soon_on_the_grid().isoformat(), "ahead"),
    ],
    ids=["night", "off-grid", "into-lunch", "saturday", "too-soon"],
)
def test_only_offered_slots_can_be_booked(api: APIClient, when: Any, words: str) -> None:
    response = book(api, when(next_monday()))
    assert response.status_code == 400
    assert words in response.json()["errors"]["appointment_time"][0]
    assert Appointment.objects.count() == 0


def test_overlap_is_by_duration_and_buffer_not_identical_start(api: APIClient) -> None:
    monday = next_monday()
    assert book(api, at(monday, 15)).status_code == 201  # 15:00-16:00, buffer to 16:15
    # A 30-minute follow-up (10-minute buffer) at 14:30 would be busy until 15:10; at 14:15 it fits.
    for overlapping in (at(monday, 14, 30), at(monday, 15, 15), at(monday, 15, 30), at(monday, 16)):
        response = book(api, overlapping, service="follow_up")
        assert response.status_code == 409, overlapping
        assert response.json()["code"] == "conflict"
        assert "appointment_time" in response.json()["errors"]
    assert book(api, at(monday, 16, 15), service="follow_up").status_code == 201
    assert book(api, at(monday, 14, 15), service="follow_up").status_code == 201
    assert Appointment.objects.count() == 3


def test_every_field_error_in_one_answer(api: APIClient) -> None:
    past = (timezone.now() - timedelta(days=1)).replace(minute=0, second=0, microsecond=0).isoformat()
    response = api.post(
        "/api/appointments/",
        booking(
            practitioner="ana-reyes", appointment_time=past, client_email="not-an-email", client_state="ZZ"
        ),
        format="json",
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) >= {"appointment_time", "client_email", "client_state"}
    unknown = api.post("/api/appointments/", booking(practitioner="dr-nobody", client_name=""), format="json")
    assert set(unknown.json()["errors"]) >= {"practitioner", "client_name"}


def test_reschedule_moves_to_another_open_slot_atomically(api: APIClient) -> None:
    monday = next_monday()
    first = book(api, at(monday, 9)).json()
    other = book(api, at(monday, 13)).json()
    moved = api.post(
        f"/api/appointments/{first['id']}/reschedule/",
        {"appointment_time": at(monday, 10, 15)},
        format="json",
    )
    assert moved.status_code == 200, moved.json()
    assert datetime.fromisoformat(moved.json()["appointment_time"]) == datetime.fromisoformat(
        at(monday, 10, 15)
    )
    assert moved.json()["amount_cents"] == first["amount_cents"]
    # The old slot is free again; the new one is taken.
    slots = availability(api, **{"from": monday.isoformat(), "to": monday.isoformat()}).json()["days"][0][
        "slots"
    ]
    assert at(monday, 9) in slots
    assert at(monday, 10, 15) not in slots
    # Onto another visit: 409; off-hours: 400; nothing changes.
    clash = api.post(
        f"/api/appointments/{first['id']}/reschedule/",
        {"appointment_time": at(monday, 13, 30)},
        format="json",
    )
    assert clash.status_code == 409
    night = api.post(
        f"/api/appointments/{first['id']}/reschedule/", {"appointment_time": at(monday, 3)}, format="json"
    )
    assert night.status_code == 400
    # Moving within its own busy time is fine (it does not overlap itself).
    nudge = api.post(
        f"/api/appointments/{other['id']}/reschedule/",
        {"appointment_time": at(monday, 13, 15)},
        format="json",
    )
    assert nudge.status_code == 200


def test_reschedule_refused_for_cancelled_and_past_appointments(api: APIClient) -> None:
    monday = next_monday()
    appointment = book(api, at(monday, 9)).json()
    Appointment.objects.filter(pk=appointment["id"]).update(status="cancelled")
    response = api.post(
        f"/api/appointments/{appointment['id']}/reschedule/",
        {"appointment_time": at(monday, 10)},
        format="json",
    )
    assert response.status_code == 409
    past = book(api, at(monday, 11)).json()
    Appointment.objects.filter(pk=past["id"]).update(
        appointment_time=timezone.now() - timedelta(hours=2),
        ends_at=timezone.now() - timedelta(hours=1),
        blocked_until=timezone.now() - timedelta(hours=1),
    )
    response = api.post(
        f"/api/appointments/{past['id']}/reschedule/", {"appointment_time": at(monday, 10)}, format="json"
    )
    assert response.status_code == 409
