"""50 parallel bookings of overlapping, not identical, times for one practitioner: exactly one wins.

The database decides, not a read-then-write in Python: on PostgreSQL the exclusion constraint over
[appointment_time, blocked_until), on SQLite the overlap check inside the immediate (serialized) transaction.
"""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from sofia_checkout.appointments.models import Appointment
from testing.booking import booking
from testing.parallel import in_parallel
from testing.patient import PatientClient

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

N = 50


def test_50_parallel_overlapping_bookings_one_wins(settings: Any) -> None:
    settings.BOOKING_SLOT_STEP_MINUTES = 1  # 50 distinct starts, one minute apart, all inside one visit
    start = (timezone.now() + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)

    def book(i: int) -> Any:
        when = (start + timedelta(minutes=i)).isoformat()
        body = booking(practitioner="ana-reyes", appointment_time=when, client_email=f"p{i}@example.com")
        return PatientClient().post("/api/appointments/", body, format="json")

    responses = in_parallel(N, book)
    codes = Counter(r.status_code for r in responses)
    assert codes == {201: 1, 409: N - 1}, codes
    assert all(r.json()["code"] == "conflict" for r in responses if r.status_code == 409)
    assert Appointment.objects.count() == 1


def test_a_reschedule_racing_bookings_never_overlaps(settings: Any) -> None:
    settings.BOOKING_SLOT_STEP_MINUTES = 1
    start = (timezone.now() + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    moving = (
        PatientClient()
        .post(
            "/api/appointments/",
            booking(practitioner="ana-reyes", appointment_time=(start - timedelta(hours=3)).isoformat()),
            format="json",
        )
        .json()
    )

    def act(i: int) -> Any:
        when = (start + timedelta(minutes=i)).isoformat()
        if i == 0:
            return PatientClient().post(
                f"/api/appointments/{moving['id']}/reschedule/", {"appointment_time": when}, format="json"
            )
        body = booking(practitioner="ana-reyes", appointment_time=when, client_email=f"p{i}@example.com")
        return PatientClient().post("/api/appointments/", body, format="json")

    responses = in_parallel(20, act)
    winners = [r for r in responses if r.status_code in {200, 201}]
    assert len(winners) == 1, Counter(r.status_code for r in responses)
    live = list(
        Appointment.objects.order_by("appointment_time").values_list("appointment_time", "blocked_until")
    )
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in itertools.pairwise(live))
