"""Benchmark: a 31-day availability query for a practitioner with 200 booked visits in range.

The worst case for the slot computation: the practitioner works around the clock (every 15-minute start of
31 days is a candidate, about 3,000) and 200 live visits are spread over the range. Measured through the API
(Django test client: routing, query parsing, database reads, slot computation, serialization), so the
figure is the server's time without the network. Prints figures; asserts nothing. Run: `make bench`.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "backend"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")
if not os.environ.get("DATABASE_URL"):
    os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402
from timing import summary  # noqa: E402  (bench/ is on sys.path: the script's own folder)

from sofia_checkout.appointments.models import Appointment  # noqa: E402
from testing.schedule import bookable_around_the_clock  # noqa: E402

RUNS = int(os.environ.get("BENCH_AVAILABILITY_RUNS", "50"))
BOOKED = 200
DAYS = 31


def main() -> None:
    call_command("migrate", verbosity=0)
    bookable_around_the_clock()
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    first = timezone.now().date() + timedelta(days=1)
    start = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    step = timedelta(days=DAYS) / BOOKED  # about 3.7 hours apart: never overlapping
    Appointment.objects.bulk_create(
        Appointment(
            practitioner_id="ana-reyes",
            service="initial_consultation",
            service_name="Initial consultation (60 min)",
            appointment_time=start + i * step,
            ends_at=start + i * step + timedelta(hours=1),
            blocked_until=start + i * step + timedelta(hours=1),
            client_name="Bench",
            client_email=f"bench{i}@example.com",
            client_state="CA",
            amount_cents=15000,
            currency="usd",
            hold_expires_at=timezone.now() + timedelta(hours=1),
            status="confirmed",
        )
        for i in range(BOOKED)
    )
    params = {
        "practitioner": "ana-reyes",
        "service": "initial_consultation",
        "from": first.isoformat(),
        "to": (first + timedelta(days=DAYS - 1)).isoformat(),
        "tz": "America/Los_Angeles",
    }
    client = Client()
    settings.DEBUG = True  # count queries
    latencies: list[float] = []
    slots = queries = 0
    began = time.perf_counter()
    for _ in range(RUNS):
        reset_queries()
        t0 = time.perf_counter()
        response = client.get("/api/availability/", params)
        latencies.append((time.perf_counter() - t0) * 1000)
        queries = len(connection.queries)
        slots = sum(len(day["slots"]) for day in response.json()["days"])
    total = time.perf_counter() - began
    # The same run's cheapest request, as a yardstick: the machine is shared, so ratios travel, ms do not.
    health: list[float] = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        client.get("/api/health/")
        health.append((time.perf_counter() - t0) * 1000)
    print(f"database: {connection.vendor}; {BOOKED} booked visits in {DAYS} days; {slots} open slots")  # noqa: T201
    print(summary("GET /api/availability/ (31 days)", latencies, total, f"queries/op {queries}"))  # noqa: T201
    ratio = statistics.median(latencies) / statistics.median(health)
    print(f"availability p50 = {ratio:.1f} x /api/health/ p50 in the same run")  # noqa: T201


if __name__ == "__main__":
    main()
