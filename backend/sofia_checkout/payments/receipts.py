"""The itemized receipt of a paid appointment: what an HSA/FSA administrator asks to substantiate a claim
(who was seen by whom, for what, on which date, how much, paid how, the provider's reference).

`receipt_for` is a plain function so the API and the confirmation email build the very same receipt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

from sofia_checkout.appointments.models import Appointment, AppointmentStatus
from sofia_checkout.core.errors import DomainError, ValidationFailed
from sofia_checkout.payments.models import PaymentSession
from sofia_checkout.payments.providers.registry import get_provider
from sofia_checkout.payments.statuses import PaymentStatus


class NotPaid(DomainError):
    code = "not_paid"
    http_status = 409
    default_message = "There is no receipt: this appointment is not paid."


@dataclass(frozen=True)
class ReceiptItem:
    description: str
    quantity: int
    amount_cents: int


@dataclass(frozen=True)
class Receipt:
    receipt_number: str
    clinic_name: str
    appointment_id: str
    patient_name: str
    patient_email: str
    practitioner_name: str
    service_name: str
    date_of_service: datetime  # when the visit starts
    items: tuple[ReceiptItem, ...]
    amount_cents: int
    currency: str
    payment_method: str  # the method's display name: "Card", "HSA/FSA"
    provider: str
    provider_reference: str  # the provider's payment id (else its session id)
    paid_at: datetime


def _method_name(provider: str) -> str:
    try:
        return get_provider(provider).display_name
    except ValidationFailed:  # a provider since disabled: its receipts stay readable
        return provider


def receipt_for(appointment: Appointment, *, payment_session: PaymentSession | None = None) -> Receipt:
    """The receipt of a confirmed appointment and the session that paid it; NotPaid otherwise.

    Pass the paid `payment_session` when it is at hand (saves a query)."""
    session = payment_session
    if session is None and appointment.status == AppointmentStatus.CONFIRMED:
        session = (
            PaymentSession.objects.filter(appointment=appointment, status=PaymentStatus.PAID)
            .order_by("created_at")
            .first()
        )
    confirmed = appointment.status == AppointmentStatus.CONFIRMED
    if not confirmed or session is None or session.status != PaymentStatus.PAID:
        raise NotPaid
    paid_at = appointment.confirmed_at or session.updated_at
    description = f"{appointment.service_name} with {appointment.practitioner.name}"
    return Receipt(
        receipt_number=f"R-{paid_at:%Y%m%d}-{session.pk.hex[:10].upper()}",
        clinic_name=settings.CLINIC_NAME,
        appointment_id=str(appointment.pk),
        patient_name=appointment.client_name,
        patient_email=appointment.client_email,
        practitioner_name=appointment.practitioner.name,
        service_name=appointment.service_name,
        date_of_service=appointment.appointment_time,
        items=(ReceiptItem(description=description, quantity=1, amount_cents=session.amount_cents),),
        amount_cents=session.amount_cents,
        currency=session.currency,
        payment_method=_method_name(session.provider),
        provider=session.provider,
        provider_reference=session.payment_reference or session.provider_session_id or "",
        paid_at=paid_at,
    )
