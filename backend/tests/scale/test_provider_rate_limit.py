"""Three production servers (scripts/start-backend.sh) on one PostgreSQL and one Redis, with the sandbox
holding Stripe's sandbox limits (25 requests a second per account and per endpoint): 100 shoppers create
payment sessions at once.

- the sandbox, by its own count, never accepts more than 25 creates within one second and refuses none: our
  shared schedule (Redis) keeps all three replicas under the limit together;
- every shopper's answer is a session or a clean 503 provider_busy with Retry-After; shoppers that retry
  after it (as the SPA does) all end with a session;
- no appointment has two provider sessions (one create per stored idempotency key).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from testing.replicas import Site, book_many, stripe_limited_site

REPLICAS = 3
SHOPPERS = 100
PROVIDER_LIMIT = 25
CREATE = "POST /v1/checkout/sessions"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    # Without the shared schedule the six workers would send 90 a second; with it, turns are met on
    # Redis's clock and a call woken late for its turn takes another, so the sandbox never counts more than
    # 25 within a second. The margin is 0.75, not production's 0.92: at 0.92 the slack is 87 ms a second,
    # half of it for late wake-ups and half for the way to the provider (the SDK's send, then the sandbox's
    # event loop, which stamps a request when it reads it). On 2 cores loaded by the whole suite that way
    # sometimes took more than 44 ms (1 refusal in 100 in one CI run), and at 0.85 more than 88 ms (again 1
    # in 100, in one of three CI runs on a noisy day); 0.75 leaves 167 ms. The test proves the shared
    # schedule (without it six workers send 90 a second); 0.92 is shown on a quiet machine by
    # bench/rate_limit_bench.py.
    with stripe_limited_site(
        tmp_path_factory.mktemp("rate-limit"),
        replicas=REPLICAS,
        limit=PROVIDER_LIMIT,
        name="ratelimit",
        safety=0.75,
    ) as running:
        yield running


@dataclass
class Shopper:
    first_status: int = 0
    answers: list[tuple[int, str, str]] | None = None  # (status, code, Retry-After)
    session: dict[str, Any] | None = None


def test_a_hundred_shoppers_at_once_never_push_the_provider_over_its_limit(site: Site) -> None:
    appointments = book_many(site.replicas[0], SHOPPERS)
    assert httpx.delete(f"{site.sandbox}/_sandbox/stats.json", timeout=10).status_code == 200
    barrier = threading.Barrier(SHOPPERS)
    shoppers = [Shopper(answers=[]) for _ in appointments]

    def shop(i: int) -> None:
        appointment, shopper = appointments[i], shoppers[i]
        url = f"{site.replicas[i % REPLICAS]}/api/appointments/{appointment['id']}/payment-sessions/"
        headers = {"Authorization": f"Bearer {appointment['access_token']}"}
        with httpx.Client(timeout=60) as http:
            barrier.wait(timeout=60)
            for _ in range(10):  # the SPA's capped automatic retry
                response = http.post(url, json={"provider": "stripe"}, headers=headers)
                body = response.json()
                assert shopper.answers is not None
                shopper.answers.append(
                    (response.status_code, body.get("code", ""), response.headers.get("Retry-After", ""))
                )
                if response.status_code in {200, 201}:
                    shopper.session = body
                    return
                time.sleep(int(response.headers["Retry-After"]))

    with ThreadPoolExecutor(max_workers=SHOPPERS) as pool:
        list(pool.map(shop, range(SHOPPERS)))

    answers = [answer for shopper in shoppers for answer in shopper.answers or []]
    refusals = [answer for answer in answers if answer[0] not in {200, 201}]
    # Every answer was a session or a clean "busy, retry after N seconds".
    assert all(
        status == 503 and code == "provider_busy" and int(after) >= 1 for status, code, after in refusals
    ), (
        Counter(refusals),
        site.server_logs(),
    )
    assert all(shopper.session is not None for shopper in shoppers), Counter(answers)
    first_try = Counter(shopper.answers[0][0] for shopper in shoppers if shopper.answers)

    stats = httpx.get(f"{site.sandbox}/_sandbox/stats.json", timeout=10).json()["providers"]["stripe"]
    creates = stats["endpoints"][CREATE]
    assert creates["refused"] == 0, creates
    assert stats["global"]["refused"] == 0, stats["global"]
    assert creates["accepted"] == SHOPPERS
    assert creates["max_accepted_in_any_second"] <= PROVIDER_LIMIT, creates
    assert stats["global"]["max_accepted_in_any_second"] <= PROVIDER_LIMIT, stats["global"]

    sessions = httpx.get(f"{site.sandbox}/_sandbox/sessions", timeout=10).json()
    per_key = sessions["creates_per_idempotency_key"]
    assert len(per_key) == SHOPPERS
    assert set(per_key.values()) == {1}
    appointments_with_sessions = Counter(
        s["idempotency_key"].rsplit("-stripe-", 1)[0] for s in sessions["sessions"]
    )
    assert len(appointments_with_sessions) == SHOPPERS
    assert set(appointments_with_sessions.values()) == {1}
    print(  # noqa: T201 - the figures of the run, for the record
        f"\n{SHOPPERS} shoppers over {REPLICAS} replicas: first answers {dict(first_try)}, "
        f"{len(refusals)} busy answers in all, sandbox accepted {creates['accepted']} creates, "
        f"at most {creates['max_accepted_in_any_second']} in one second, refused {creates['refused']}"
    )
