"""Fixtures for the payment tests (the shared ones are in the backend's root conftest)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from testing.flows import started
from testing.provider_mocks import StripeMock, TruemedMock

Json = dict[str, Any]


@pytest.fixture
def csrf_client() -> Client:
    # Webhooks come without CSRF tokens: prove the views do not need them.
    return Client(enforce_csrf_checks=True)


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
