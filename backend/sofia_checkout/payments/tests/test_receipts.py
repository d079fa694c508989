"""The itemized receipt (payments/receipts.py, GET /api/appointments/{id}/receipt/): only for a paid
appointment, with what an HSA/FSA claim needs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest
from rest_framework.test import APIClient

from sofia_checkout.appointments.models import Appointment
from sofia_checkout.payments.models import PaymentSession
from sofia_checkout.payments.receipts import NotPaid, receipt_for
from sofia_checkout.payments.tests.test_cancellation import paid_by_card, synced_truemed
from testing.provider_mocks import StripeMock, TruemedMock, stripe_refund

pytestmark = pytest.mark.django_db


def receipt(api: APIClient, appointment: dict[str, Any]) -> Any:
    return api.get(f"/api/appointments/{appointment['id']}/receipt/")


def test_a_card_payment_has_an_itemized_receipt(
    api: APIClient, card_checkout: Any, stripe_mock: StripeMock, settings: Any
) -> None:
    settings.CLINIC_NAME = "Sofia Health Clinic"
    appointment, session = paid_by_card(api, card_checkout, stripe_mock)
    answer = receipt(api, appointment)
    assert answer.status_code == 200, answer.json()
    assert answer["Cache-Control"] == "no-store"
    body = answer.json()
    stored = Appointment.objects.get(pk=appointment["id"])
    assert stored.confirmed_at is not None
    assert body == {
        "receipt_number": f"R-{stored.confirmed_at:%Y%m%d}-{session['id'].replace('-', '')[:10].upper()}",
        "clinic_name": "Sofia Health Clinic",
        "appointment_id": appointment["id"],
        "patient_name": "Jane Doe",
        "patient_email": "jane.doe@example.com",
        "practitioner_name": "Dr. Ana Reyes",
        "service_name": appointment["service_name"],
        "date_of_service": body["date_of_service"],
        "items": [
            {
                "description": f"{appointment['service_name']} with Dr. Ana Reyes",
                "quantity": 1,
                "amount_cents": 15000,
            }
        ],
        "amount_cents": 15000,
        "currency": "usd",
        "payment_method": "Card",
        "provider": "stripe",
        "provider_reference": "pi_9",
        "paid_at": body["paid_at"],
    }
    assert datetime.fromisoformat(body["date_of_service"]) == stored.appointment_time
    assert datetime.fromisoformat(body["paid_at"]) == stored.confirmed_at
    assert receipt_for(stored).receipt_number == body["receipt_number"]  # the same for the email


def test_an_hsa_fsa_payment_names_its_method(
    api: APIClient, hsa_checkout: Any, truemed_mock: TruemedMock
) -> None:
    appointment, session, _ = synced_truemed(api, hsa_checkout, truemed_mock, "captured")
    body = receipt(api, appointment).json()
    assert (body["payment_method"], body["provider"]) == ("HSA/FSA", "truemed")
    stored = PaymentSession.objects.get(pk=session["id"])
    assert body["provider_reference"] == (stored.payment_reference or stored.provider_session_id)
    assert body["provider_reference"]


def test_no_receipt_before_payment_during_review_or_after_a_refund(
    api: APIClient,
    book: Any,
    hsa_checkout: Any,
    truemed_mock: TruemedMock,
    card_checkout: Any,
    stripe_mock: StripeMock,
) -> None:
    unpaid = book()
    in_review, _, _ = synced_truemed(api, hsa_checkout, truemed_mock, "processing")
    refunded, _ = paid_by_card(api, card_checkout, stripe_mock)
    stripe_mock.refunds(httpx.Response(200, json=stripe_refund()))
    assert api.post(f"/api/appointments/{refunded['id']}/cancel/").json()["status"] == "cancelled"
    for appointment in (unpaid, in_review, refunded):
        answer = receipt(api, appointment)
        assert answer.status_code == 409
        assert answer.json()["code"] == "not_paid"
    with pytest.raises(NotPaid):
        receipt_for(Appointment.objects.get(pk=unpaid["id"]))
