"""The demo practitioners for tests: the same ids, services and prices the data migration seeds.

`bookable_around_the_clock()` makes every hour bookable with no buffers, so tests about payments can book
any whole hour; scheduling tests opt out (`@pytest.mark.real_schedule`) and set hours themselves.
Transactional tests flush the tables the migration seeded, so this upserts rather than assumes. The models
are imported inside the functions: the root conftest imports this module before Django is set up.
"""

# ruff: noqa: PLC0415

from __future__ import annotations

from datetime import time

DEMO_PRACTITIONERS = {
    "ana-reyes": ("Dr. Ana Reyes", "America/New_York", {"initial_consultation": 15000, "follow_up": 8500}),
    "sam-okafor": (
        "Dr. Sam Okafor",
        "America/Chicago",
        {"initial_consultation": 18000, "nutrition_plan": 12000},
    ),
    "jordan-lee": ("Jordan Lee, RD", "America/Los_Angeles", {"nutrition_plan": 9500, "follow_up": 6000}),
}
DEMO_SERVICES = {
    "initial_consultation": ("Initial consultation (60 min)", 60, 15),
    "follow_up": ("Follow-up visit (30 min)", 30, 10),
    "nutrition_plan": ("Nutrition plan session (45 min)", 45, 15),
}


def seed_demo_practitioners(*, buffers: bool = True) -> None:
    """The seeded practitioners, services and prices (no hours)."""
    from sofia_checkout.appointments.models import Offering, Practitioner, Service

    for slug, (name, duration, buffer) in DEMO_SERVICES.items():
        Service.objects.update_or_create(
            slug=slug,
            defaults={"name": name, "duration_minutes": duration, "buffer_minutes": buffer if buffers else 0},
        )
    for pid, (name, zone, prices) in DEMO_PRACTITIONERS.items():
        practitioner, _ = Practitioner.objects.update_or_create(
            id=pid, defaults={"name": name, "time_zone": zone, "active": True}
        )
        for service, amount in prices.items():
            Offering.objects.update_or_create(
                practitioner=practitioner, service_id=service, defaults={"amount_cents": amount}
            )


def bookable_around_the_clock() -> None:
    """Every demo practitioner works every day, all day; no buffers."""
    from sofia_checkout.appointments.models import DateOverride, Practitioner, WorkingHours

    seed_demo_practitioners(buffers=False)
    WorkingHours.objects.all().delete()
    DateOverride.objects.all().delete()
    WorkingHours.objects.bulk_create(
        WorkingHours(practitioner=practitioner, weekday=day, start_time=time(0), end_time=time(0))
        for practitioner in Practitioner.objects.all()
        for day in range(7)
    )


def real_hours() -> None:
    """The demo practitioners with the seeded weekly hours and buffers (as `make run` has them)."""
    from sofia_checkout.appointments.models import DateOverride, Practitioner, WorkingHours

    seed_demo_practitioners(buffers=True)
    WorkingHours.objects.all().delete()
    DateOverride.objects.all().delete()
    weekly = {
        "ana-reyes": {day: [(time(9), time(12)), (time(13), time(17))] for day in range(5)},
        "sam-okafor": {**{day: [(time(10), time(18))] for day in range(4)}, 5: [(time(9), time(13))]},
        "jordan-lee": {day: [(time(8), time(16))] for day in range(1, 6)},
    }
    WorkingHours.objects.bulk_create(
        WorkingHours(
            practitioner=Practitioner.objects.get(id=pid), weekday=day, start_time=start, end_time=end
        )
        for pid, days in weekly.items()
        for day, intervals in days.items()
        for start, end in intervals
    )
