"""Shared fixtures: an API client, a booking step, and respx-mocked providers on hosts no test can reach.

The helpers behind them live in `testing/` (tests import them from there, never from a conftest).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import respx
from rest_framework.test import APIClient

from testing.booking import booking, slot
from testing.flows import started
from testing.patient import PatientClient
from testing.provider_mocks import (
    STRIPE_BASE,
    STRIPE_SECRET_KEY,
    STRIPE_WHSEC,
    TRUEMED_BASE,
    TRUEMED_KEY,
    TRUEMED_WHSEC,
    StripeMock,
    TruemedMock,
    stripe_event,
    stripe_session,
    stripe_signature,
)
from testing.schedule import bookable_around_the_clock

# Re-exported for older callers; new code imports them from testing/.
__all__ = ["STRIPE_BASE", "STRIPE_WHSEC", "stripe_event", "stripe_session", "stripe_signature"]


@pytest.fixture
def api() -> APIClient:
    """A client that holds the access token of every appointment it books, as the SPA does."""
    return PatientClient()


@pytest.fixture(autouse=True)
def _provider_settings(settings: Any) -> None:
    settings.STRIPE_API_BASE = STRIPE_BASE
    settings.STRIPE_SECRET_KEY = STRIPE_SECRET_KEY
    settings.STRIPE_WEBHOOK_SECRET = STRIPE_WHSEC
    settings.TRUEMED_API_BASE = TRUEMED_BASE
    settings.TRUEMED_API_KEY = TRUEMED_KEY
    settings.TRUEMED_WEBHOOK_SECRET = TRUEMED_WHSEC
    settings.TRUEMED_WEBHOOK_MODE = "legacy"
    settings.PROVIDER_MAX_RETRIES = 0


@pytest.fixture(autouse=True)
def _bookable_around_the_clock(request: pytest.FixtureRequest) -> None:
    """Tests that use the database can book any whole hour with the demo practitioners (no buffers);
    scheduling tests mark themselves `real_schedule` and set hours of their own."""
    marker = request.node.get_closest_marker("django_db")
    names = set(request.fixturenames)
    if request.node.get_closest_marker("real_schedule") or (
        marker is None and not names & {"db", "transactional_db", "live_server"}
    ):
        return
    transactional = bool(marker and marker.kwargs.get("transaction")) or bool(
        names & {"transactional_db", "live_server"}
    )
    request.getfixturevalue("transactional_db" if transactional else "db")
    bookable_around_the_clock()


@pytest.fixture
def book(api: APIClient) -> Callable[..., dict[str, Any]]:
    """Book an appointment (201 asserted); each call takes the next free hour from tomorrow on."""
    counter = iter(range(1, 10_000))

    def _book(**overrides: Any) -> dict[str, Any]:
        overrides.setdefault("appointment_time", slot(hours=24 + next(counter)))
        response = api.post("/api/appointments/", booking(**overrides), format="json")
        assert response.status_code == 201, response.json()
        return dict(response.json())

    return _book


@pytest.fixture
def stripe_mock() -> Iterator[StripeMock]:
    with respx.mock(assert_all_called=False) as router:
        yield StripeMock(router)


@pytest.fixture
def truemed_mock() -> Iterator[TruemedMock]:
    with respx.mock(assert_all_called=False) as router:
        yield TruemedMock(router)


Json = dict[str, Any]


@pytest.fixture
def card_checkout(api: APIClient, book: Any, stripe_mock: StripeMock) -> Callable[[], tuple[Json, Json]]:
    """Book an appointment and start paying it by card (Stripe answers the create): the appointment and our
    payment session, as the API returned them."""

    def checkout() -> tuple[Json, Json]:
        appointment = book()
        stripe_mock.answer_create()
        return appointment, started(api, appointment, "stripe")

    return checkout


@pytest.fixture
def hsa_checkout(
    api: APIClient, book: Any, truemed_mock: TruemedMock
) -> Callable[[], tuple[Json, Json, str]]:
    """Book an appointment and start paying it by HSA/FSA: the appointment, our payment session and Truemed's
    session id."""

    def checkout() -> tuple[Json, Json, str]:
        appointment = book()
        truemed_id = truemed_mock.answer_create()
        return appointment, started(api, appointment, "truemed"), truemed_id

    return checkout
