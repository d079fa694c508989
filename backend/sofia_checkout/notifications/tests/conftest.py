"""Emails go over real SMTP to the sandbox's mail sink, started on a free port for each test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from testing.flows import started
from testing.mail import Sink, point_django_at, smtp_sink
from testing.provider_mocks import StripeMock, TruemedMock


@pytest.fixture
def mail_sink(settings: Any) -> Iterator[Sink]:
    with smtp_sink() as sink:
        point_django_at(settings, sink.port)
        yield sink


Json = dict[str, Any]


@pytest.fixture
def card_checkout(api: APIClient, book: Any, stripe_mock: StripeMock) -> Callable[[], tuple[Json, Json]]:
    """Book and start paying by card (Stripe answers the create): the appointment and our payment session."""

    def checkout() -> tuple[Json, Json]:
        appointment = book()
        stripe_mock.answer_create()
        return appointment, started(api, appointment, "stripe")

    return checkout


@pytest.fixture
def hsa_checkout(
    api: APIClient, book: Any, truemed_mock: TruemedMock
) -> Callable[[], tuple[Json, Json, str]]:
    """Book and start paying by HSA/FSA: the appointment, our payment session and Truemed's session id."""

    def checkout() -> tuple[Json, Json, str]:
        appointment = book()
        truemed_id = truemed_mock.answer_create()
        return appointment, started(api, appointment, "truemed"), truemed_id

    return checkout
