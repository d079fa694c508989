"""Benchmark: booking, payment-session creation and webhook intake, in process, providers mocked by respx.

Prints figures (throughput, p50/p95 latency, queries per request); it asserts nothing. Run: `make bench`.
Uses a throwaway SQLite file (or DATABASE_URL if set).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "backend"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")
if not os.environ.get("DATABASE_URL"):
    os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"

import django

django.setup()

import httpx  # noqa: E402
import respx  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402
from timing import summary  # noqa: E402  (bench/ is on sys.path: the script's own folder)

from testing import provider_mocks as conftest  # noqa: E402
from testing.schedule import bookable_around_the_clock  # noqa: E402

N = int(os.environ.get("BENCH_N", "300"))


def measure(name: str, count: int, fn: Callable[[int], None]) -> None:
    latencies = []
    settings.DEBUG = True  # count queries
    queries = []
    start = time.perf_counter()
    for i in range(count):
        reset_queries()
        t0 = time.perf_counter()
        fn(i)
        latencies.append((time.perf_counter() - t0) * 1000)
        queries.append(len(connection.queries))
    total = time.perf_counter() - start
    print(summary(name, latencies, total, f"queries/op {statistics.mean(queries):.1f}"))  # noqa: T201


def main() -> None:
    call_command("migrate", verbosity=0)
    bookable_around_the_clock()  # every 30-minute slot bookable: the bench measures the write path
    settings.STRIPE_API_BASE = conftest.STRIPE_BASE
    settings.STRIPE_WEBHOOK_SECRET = conftest.STRIPE_WHSEC
    settings.PROVIDER_MAX_RETRIES = 0
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client()
    base = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=2)
    ids: list[str] = []
    tokens: list[str] = []  # each appointment's access token, sent as Authorization: Bearer
    sessions: list[dict[str, str]] = []

    def book(i: int) -> None:
        body = {
            "practitioner": "Dr. Ana Reyes",
            "service": "follow_up",
            "appointment_time": (base + timedelta(minutes=30 * i)).isoformat(),
            "client_name": "Bench",
            "client_email": f"bench{i}@example.com",
            "client_state": "CA",
        }
        response = client.post("/api/appointments/", body, content_type="application/json")
        ids.append(response.json()["id"])
        tokens.append(response.json()["access_token"])

    with respx.mock(assert_all_called=False) as router:

        def create(request: httpx.Request) -> httpx.Response:
            form = dict(httpx.QueryParams(request.content.decode()))
            return httpx.Response(
                200,
                json=conftest.stripe_session(
                    session_id=f"cs_test_{uuid.uuid4().hex}",
                    client_reference_id=form["client_reference_id"],
                    amount_total=int(form["line_items[0][price_data][unit_amount]"]),
                ),
            )

        router.post(f"{conftest.STRIPE_BASE}/v1/checkout/sessions").mock(side_effect=create)

        def start(i: int) -> None:
            sessions.append(
                client.post(
                    f"/api/appointments/{ids[i]}/payment-sessions/",
                    {"provider": "stripe"},
                    content_type="application/json",
                    HTTP_AUTHORIZATION=f"Bearer {tokens[i]}",
                ).json()
            )

        def repeat(i: int) -> None:
            client.post(
                f"/api/appointments/{ids[i]}/payment-sessions/",
                {"provider": "stripe"},
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {tokens[i]}",
            )

        def webhook(i: int) -> None:
            s = sessions[i]
            paid = conftest.stripe_session(
                session_id=s["provider_session_id"],
                status="complete",
                payment_status="paid",
                client_reference_id=s["id"],
                amount_total=int(s["amount_cents"]),
            )
            body = conftest.stripe_event("checkout.session.completed", paid)
            client.post(
                "/api/webhooks/stripe/",
                data=body,
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=conftest.stripe_signature(body),
            )

        def get(i: int) -> None:
            client.get(f"/api/appointments/{ids[i]}/", HTTP_AUTHORIZATION=f"Bearer {tokens[i]}")

        print(f"database: {connection.vendor}; provider: respx mock (no network)")  # noqa: T201
        measure("POST /api/appointments/", N, book)
        measure("POST payment-sessions (new)", N, start)
        measure("POST payment-sessions (repeat)", N, repeat)
        measure("POST /api/webhooks/stripe/ (paid)", N, webhook)
        measure("GET /api/appointments/{id}/", N, get)


if __name__ == "__main__":
    main()
