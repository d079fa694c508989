"""Two production servers (scripts/start-backend.sh: gunicorn, 2 workers each) on one PostgreSQL and one
Redis, with the provider sandbox, as docker-compose runs them: a second replica is safe and useful.

- a rate limit is counted once for the whole site, not per replica or per worker (Redis);
- 50 parallel create-session calls spread over both replicas make exactly one provider session;
- the reconcile job running beside both, during that storm and during the payment, changes nothing wrongly.

The site (its own database and Redis key prefix) comes from testing/replicas.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import redis

from testing.booking import booking
from testing.replicas import Site, replica_site
from tests.deploy.helpers import BACKEND_DIR

BOOKING_LIMIT = 5
PARALLEL_CREATES = 50
PROVIDER_LATENCY_MS = 100


@dataclass
class Cluster(Site):
    cache: redis.Redis

    def clear_rate_limits(self) -> None:
        keys = list(self.cache.scan_iter(match=f"{self.cache_prefix}:*"))
        if keys:
            self.cache.delete(*keys)

    def reconcile(self) -> dict[str, Any]:
        """One pass of the reconcile job, as cron or the compose `reconcile` service runs it."""
        result = subprocess.run(
            [sys.executable, "manage.py", "payments_reconcile"],
            cwd=BACKEND_DIR,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        report: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])["reconcile"]
        assert report["errors"] == [], report
        return report


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    env = {
        "LOG_LEVEL": "INFO",
        "THROTTLE_BOOKING": f"{BOOKING_LIMIT}/min",
        "THROTTLE_PAYMENT_SESSION": "1000/min",
        # The reconcile job looks at every open session at once, so it runs into the creates for real.
        "RECONCILE_STALE_MINUTES": "0",
    }
    sandbox_env = {"SANDBOX_LATENCY_MS": str(PROVIDER_LATENCY_MS)}
    with replica_site(
        tmp_path_factory.mktemp("replicas"), replicas=2, env=env, sandbox_env=sandbox_env
    ) as site:
        cache = redis.Redis.from_url(f"{site.redis_url}/0")
        try:
            yield Cluster(**vars(site), cache=cache)
        finally:
            cache.close()


def _open_slots(api: str, count: int) -> list[str]:
    today = datetime.now(UTC).date()
    days = httpx.get(
        f"{api}/api/availability/",
        params={
            "practitioner": "ana-reyes",
            "service": "initial_consultation",
            "from": today.isoformat(),
            "to": (today + timedelta(days=20)).isoformat(),
        },
        timeout=10,
    ).json()["days"]
    slots: list[str] = []
    for slot in (slot for day in days for slot in day["slots"]):
        begins = datetime.fromisoformat(slot)
        if not slots or begins >= datetime.fromisoformat(slots[-1]) + timedelta(hours=3):
            slots.append(slot)
    assert len(slots) >= count, slots
    return slots[:count]


_taken: set[str] = set()


def _book(api: str, when: str) -> httpx.Response:
    _taken.add(when)
    return httpx.post(
        f"{api}/api/appointments/", json=booking(practitioner="ana-reyes", appointment_time=when), timeout=30
    )


def _fresh_slots(api: str, count: int) -> list[str]:
    return [slot for slot in _open_slots(api, count + len(_taken)) if slot not in _taken][:count]


def _token_headers(appointment: dict[str, Any]) -> dict[str, str]:
    """The appointment's access token (issue 12), when the API hands one out."""
    token = appointment.get("access_token")
    return {"Authorization": f"Bearer {token}"} if token else {}


def test_both_replicas_serve_and_name_themselves(cluster: Cluster) -> None:
    for index, url in enumerate(cluster.replicas):
        response = httpx.get(f"{url}/api/config/", timeout=10)
        assert response.status_code == 200
        assert response.headers["X-Backend-Replica"] == f"replica-{index + 1}"
        assert response.headers["Server"] == "gunicorn"
    logs = cluster.server_logs()
    assert "Applying payments.0001_initial" in cluster.logs[1].read_text()
    assert "Applying" not in cluster.logs[2].read_text()  # MIGRATE_ON_START=0 on the second
    # Two workers each, with Redis: no per-process cache warning.
    assert "each keep their own cache" not in logs


def test_a_rate_limit_is_counted_once_across_both_replicas(cluster: Cluster) -> None:
    cluster.clear_rate_limits()
    first, second = cluster.replicas
    slots = _fresh_slots(first, BOOKING_LIMIT + 2)
    # The limit's worth of bookings, spread over both replicas (and their two workers each).
    statuses = [_book(cluster.replicas[i % 2], slots[i]).status_code for i in range(BOOKING_LIMIT)]
    assert statuses == [201] * BOOKING_LIMIT
    # The next one is refused on either replica: both count in the same place.
    for url, when in ((second, slots[BOOKING_LIMIT]), (first, slots[BOOKING_LIMIT + 1])):
        refused = _book(url, when)
        assert refused.status_code == 429, refused.text
        assert refused.json()["code"] == "throttled"
        assert int(refused.headers["Retry-After"]) > 0
    assert any(key.startswith(f"{cluster.cache_prefix}:".encode()) for key in cluster.cache.scan_iter())


def test_parallel_creates_over_both_replicas_make_one_provider_session_beside_the_reconcile_job(
    cluster: Cluster,
) -> None:
    cluster.clear_rate_limits()
    first, second = cluster.replicas
    assert httpx.post(f"{cluster.sandbox}/_sandbox/reset", timeout=10).status_code == 200
    booked = _book(first, _fresh_slots(first, 1)[0])
    assert booked.status_code == 201, booked.text
    appointment = booked.json()
    headers = _token_headers(appointment)
    barrier = threading.Barrier(PARALLEL_CREATES)
    stop = threading.Event()
    reports: list[dict[str, Any]] = []

    def reconcile_beside() -> None:
        while not stop.is_set():
            reports.append(cluster.reconcile())

    def create(i: int) -> tuple[int, dict[str, Any], str]:
        url = cluster.replicas[i % 2]
        with httpx.Client(timeout=60) as http:
            barrier.wait(timeout=30)
            response = http.post(
                f"{url}/api/appointments/{appointment['id']}/payment-sessions/",
                json={"provider": "stripe"},
                headers=headers,
            )
        return response.status_code, response.json(), response.headers.get("X-Backend-Replica", "")

    reconciler = threading.Thread(target=reconcile_beside)
    reconciler.start()
    try:
        with ThreadPoolExecutor(max_workers=PARALLEL_CREATES) as pool:
            results = list(pool.map(create, range(PARALLEL_CREATES)))
    finally:
        stop.set()
        reconciler.join(timeout=120)
    assert reports, "the reconcile job never ran beside the creates"
    statuses = sorted({status for status, _, _ in results})
    assert set(statuses) <= {200, 201}, [body for status, body, _ in results if status not in {200, 201}]
    assert {replica for _, _, replica in results} == {"replica-1", "replica-2"}
    provider_ids = {body["provider_session_id"] for _, body, _ in results}
    assert len(provider_ids) == 1, provider_ids
    (provider_id,) = provider_ids
    sessions = httpx.get(f"{cluster.sandbox}/_sandbox/sessions", timeout=10).json()["sessions"]
    assert [(s["provider"], s["id"]) for s in sessions] == [("stripe", provider_id)], sessions
    assert sessions[0]["status"] == "open"

    # Nothing changed wrongly: the hold and the one open session stand, whatever the passes saw.
    for report in reports:
        assert report["expired_appointments"] == 0, report
        assert report["refunds_made"] == 0, report
    after = cluster.reconcile()
    assert after["sessions_changed"] == 0, after
    read = httpx.get(f"{second}/api/appointments/{appointment['id']}/", headers=headers, timeout=10).json()
    assert read["status"] == "pending_payment"

    # The shopper pays; the webhook reaches one replica while the reconcile job polls the same session.
    paying = threading.Thread(target=lambda: reports.append(cluster.reconcile()))
    paying.start()
    paid = httpx.post(
        f"{cluster.sandbox}/_sandbox/stripe/sessions/{provider_id}/complete",
        json={"outcome": "paid"},
        timeout=60,
    )
    paying.join(timeout=120)
    assert paid.status_code == 200, paid.text
    assert paid.json()["deliveries"], paid.json()
    assert all(delivery["delivered"] for delivery in paid.json()["deliveries"]), paid.json()
    final = cluster.reconcile()
    assert final["refunds_made"] == 0, final
    for url in cluster.replicas:
        read = httpx.get(f"{url}/api/appointments/{appointment['id']}/", headers=headers, timeout=10).json()
        assert read["status"] == "confirmed", read
    sessions = httpx.get(f"{cluster.sandbox}/_sandbox/sessions", timeout=10).json()["sessions"]
    assert [(s["id"], s["payment_status"], s["refunds"]) for s in sessions] == [(provider_id, "paid", [])]
