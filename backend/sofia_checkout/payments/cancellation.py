"""Cancelling an appointment: stop an unpaid session, or refund a paid one. Idempotent.

The cancel is claimed first (under the appointment lock, `cancel_requested_at`): from then on no payment
session can be started, so one started just before is seen and stopped here, and none can start after.
"""

from __future__ import annotations

import logging
import uuid

from django.db import transaction
from django.utils import timezone

from sofia_checkout.appointments.models import (
    RELEASED_APPOINTMENT_STATUSES,
    Appointment,
    AppointmentStatus,
)
from sofia_checkout.appointments.policy import cancellation_check
from sofia_checkout.appointments.selectors import appointment_lock
from sofia_checkout.core.errors import Conflict, ProviderFailed
from sofia_checkout.payments.models import PaymentSession
from sofia_checkout.payments.refunds import payment_session_refund
from sofia_checkout.payments.services import payment_session_cancel
from sofia_checkout.payments.state import appointment_set_status
from sofia_checkout.payments.statuses import LIVE_PAYMENT_STATUSES, MONEY_TAKEN_STATUSES, PaymentStatus

logger = logging.getLogger(__name__)

_IN_REVIEW = Conflict(
    "A payment is under review; cancel once it is decided.", errors={"status": ["payment_processing"]}
)


def _claim_cancel(appointment_id: uuid.UUID | str, *, by_staff: bool) -> tuple[Appointment, bool]:
    """Mark the cancel under the lock. (appointment, anything to do)."""
    with transaction.atomic():
        appointment = appointment_lock(appointment_id=appointment_id)
        sessions = PaymentSession.objects.filter(appointment=appointment)
        money = sessions.filter(status__in=MONEY_TAKEN_STATUSES).exists()
        if appointment.status in RELEASED_APPOINTMENT_STATUSES and not money:
            return appointment, False  # (money that came after the slot was released is still refunded)
        if (
            appointment.status == AppointmentStatus.PAYMENT_PROCESSING
            or sessions.filter(status=PaymentStatus.PROCESSING).exists()
        ):
            raise _IN_REVIEW
        if not by_staff and appointment.cancel_requested_at is None:
            # Under the lock: a payment that lands meanwhile is seen (paid inside the cutoff: refused).
            cancellation_check(appointment, now=timezone.now())
        if appointment.cancel_requested_at is None:
            appointment.cancel_requested_at = timezone.now()
            appointment.save(update_fields=["cancel_requested_at", "updated_at"])
        return appointment, True


def appointment_cancel(*, appointment_id: uuid.UUID | str, by_staff: bool = False) -> Appointment:
    """Cancel an appointment: unpaid -> cancel its provider session; paid -> refund through the provider.

    Idempotent and safe in parallel (one refund, one provider call). The patient (the default) is held to
    the cancellation policy (appointments/policy.py: PolicyRefused, nothing refunded); staff are not.
    Raises Conflict while a payment is under review, ProviderUnavailable / ProviderFailed when the provider
    cannot act; a retry continues.
    """
    appointment, todo = _claim_cancel(appointment_id, by_staff=by_staff)
    if not todo:
        return appointment
    for live in PaymentSession.objects.filter(appointment=appointment, status__in=LIVE_PAYMENT_STATUSES):
        payment_session_cancel(payment_session=live)
    for paid in PaymentSession.objects.filter(appointment=appointment, status__in=MONEY_TAKEN_STATUSES):
        payment_session_refund(payment_session_id=paid.id)
    with transaction.atomic():
        appointment = appointment_lock(appointment_id=appointment.pk)
        sessions = PaymentSession.objects.filter(appointment=appointment)
        if (
            appointment.status == AppointmentStatus.PAYMENT_PROCESSING
            or sessions.filter(status=PaymentStatus.PROCESSING).exists()
        ):
            raise _IN_REVIEW
        if sessions.filter(status__in=LIVE_PAYMENT_STATUSES).exists():
            raise ProviderFailed("We could not stop the payment attempt. Please try again shortly.")
        if appointment.status not in RELEASED_APPOINTMENT_STATUSES:
            appointment_set_status(appointment, AppointmentStatus.CANCELLED, reason="cancelled")
    logger.info("appointment cancelled", extra={"appointment_id": str(appointment.id)})
    return appointment
