"""Query counts per endpoint do not grow with the data (no N+1)."""

# ruff: noqa: B023 - each lambda runs inside its own loop iteration

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from sofia_checkout.payments.models import PaymentSession
from testing.flows import send_stripe_webhook
from testing.provider_mocks import StripeMock, stripe_event, stripe_session

pytestmark = pytest.mark.django_db


def count(fn: Any) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx)


def test_endpoint_query_counts_are_constant(api: APIClient, book: Any, stripe_mock: StripeMock) -> None:
    measured: dict[str, list[int]] = {
        "book": [],
        "start": [],
        "repeat": [],
        "get": [],
        "webhook": [],
        "sync": [],
    }
    stripe_mock.answer_create()
    for round_ in range(4):
        measured["book"].append(count(book))
        appointment = book()
        url = f"/api/appointments/{appointment['id']}/payment-sessions/"
        measured["start"].append(count(lambda: api.post(url, {"provider": "stripe"}, format="json")))
        measured["repeat"].append(count(lambda: api.post(url, {"provider": "stripe"}, format="json")))
        measured["get"].append(count(lambda: api.get(f"/api/appointments/{appointment['id']}/")))
        session = PaymentSession.objects.get(appointment_id=appointment["id"])
        PaymentSession.objects.filter(pk=session.pk).update(provider_session_id=f"cs_round_{round_}")
        stripe_mock.retrieve(f"cs_round_{round_}", status="open")
        measured["sync"].append(count(lambda: api.post(f"/api/payment-sessions/{session.id}/sync/")))
        paid = stripe_session(
            session_id=f"cs_round_{round_}",
            status="complete",
            payment_status="paid",
            client_reference_id=str(session.id),
        )
        body = stripe_event("checkout.session.completed", paid)
        measured["webhook"].append(count(lambda: send_stripe_webhook(Client(), body)))
    for name, counts in measured.items():
        assert len(set(counts)) == 1, (name, counts)
    assert measured["get"][0] <= 2
    assert measured["repeat"][0] <= 6
