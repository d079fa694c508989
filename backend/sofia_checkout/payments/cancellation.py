"""Cancelling an appointment: stop an unpaid session, or refund a paid one. Idempotent."""

from __future__ import annotations

import logging
import uuid

from django.db import transaction

from sofia_checkout.appointments.models import Appointment, AppointmentStatus
from sofia_checkout.core.errors import Conflict, NotFound, ProviderFailed, ProviderUnavailable
from sofia_checkout.payments.models import PaymentSession, Refund, RefundStatus
from sofia_checkout.payments.providers.base import (
    ProviderRejectedError,
    ProviderSession,
    ProviderUnavailableError,
    RefundRequest,
)
from sofia_checkout.payments.providers.registry import get_provider
from sofia_checkout.payments.services import payment_session_cancel
from sofia_checkout.payments.state import appointment_set_status, payment_session_apply_provider_state
from sofia_checkout.payments.statuses import LIVE_PAYMENT_STATUSES, PaymentStatus

logger = logging.getLogger(__name__)


def _get(appointment_id: uuid.UUID | str) -> Appointment:
    try:
        return Appointment.objects.get(pk=appointment_id)
    except (Appointment.DoesNotExist, ValueError):
        raise NotFound("No appointment with this id.") from None


def _refund_attempt(payment_session: PaymentSession) -> Refund:
    """The refund to send: the pending one again (same key: its outcome is unknown, so it must not be made
    twice), or a new attempt with a new key after one that ended failed (nothing moved; a provider would
    only replay the failure for the old key)."""
    earlier = list(Refund.objects.filter(payment_session=payment_session).order_by("-created_at"))
    if earlier and earlier[0].status != RefundStatus.FAILED:
        return earlier[0]
    attempt = len(earlier) + 1
    suffix = "" if attempt == 1 else f"-{attempt}"
    return Refund.objects.create(
        payment_session=payment_session,
        idempotency_key=f"sofia-refund-{payment_session.id}{suffix}",
        amount_cents=payment_session.amount_cents,
    )


def _mark_refunded(payment_session: PaymentSession, provider_status: str) -> None:
    payment_session_apply_provider_state(
        payment_session_id=payment_session.id,
        state=ProviderSession(
            payment_session.provider_session_id or "", PaymentStatus.REFUNDED, f"refund:{provider_status}"
        ),
        source="refund",
    )


def payment_session_refund(*, payment_session: PaymentSession) -> Refund:
    """Refund a paid session in full, once: the Refund row (with its key) is stored before the provider call.

    Raises ProviderUnavailable / ProviderFailed; the pending Refund row stays and a retry resends its key.
    """
    refund = _refund_attempt(payment_session)
    if refund.status == RefundStatus.SUCCEEDED:
        # Made before, but recording it may not have finished: applying it again is harmless.
        _mark_refunded(payment_session, "succeeded")
        return refund
    adapter = get_provider(payment_session.provider)
    try:
        result = adapter.refund(
            RefundRequest(
                payment_reference=payment_session.payment_reference,
                provider_session_id=payment_session.provider_session_id or "",
                amount_cents=refund.amount_cents,
                idempotency_key=refund.idempotency_key,
            )
        )
    except ProviderUnavailableError as exc:
        raise ProviderUnavailable("The refund could not be made right now; please try again.") from exc
    except ProviderRejectedError as exc:
        Refund.objects.filter(pk=refund.pk).update(error=exc.message[:2000])
        logger.error(
            "refund refused", extra={"payment_session_id": str(payment_session.id), "error": exc.message}
        )
        raise ProviderFailed("The payment provider refused the refund; our team will follow up.") from exc
    refund.provider_refund_id = result.provider_refund_id
    refund.status = RefundStatus.SUCCEEDED if result.succeeded else RefundStatus.FAILED
    refund.save(update_fields=["provider_refund_id", "status", "updated_at"])
    if not result.succeeded:
        # The money is still taken: the appointment is not cancelled, and a person must look at it.
        Appointment.objects.filter(pk=payment_session.appointment_id).update(
            attention=f"Refund {result.provider_refund_id} ended {result.provider_status}: refund by hand."
        )
        logger.error(
            "refund did not go through",
            extra={"payment_session_id": str(payment_session.id), "refund_status": result.provider_status},
        )
        raise ProviderFailed("The refund did not go through; our team will follow up.")
    _mark_refunded(payment_session, result.provider_status)
    logger.info(
        "refund recorded",
        extra={"payment_session_id": str(payment_session.id), "refund_status": refund.status},
    )
    return refund


def appointment_cancel(*, appointment_id: uuid.UUID | str) -> Appointment:
    """Cancel an appointment: unpaid -> cancel its provider session; paid -> refund through the provider.

    Idempotent (a cancelled appointment is returned as it is; a refund is made once). Raises Conflict while
    a payment is under review, ProviderUnavailable / ProviderFailed when the provider cannot act.
    """
    appointment = _get(appointment_id)
    has_paid = PaymentSession.objects.filter(appointment=appointment, status=PaymentStatus.PAID).exists()
    if appointment.status in {AppointmentStatus.CANCELLED, AppointmentStatus.EXPIRED} and not has_paid:
        return appointment  # (money that came after the slot was released is still refunded below)
    live = PaymentSession.objects.filter(appointment=appointment, status__in=LIVE_PAYMENT_STATUSES).first()
    if live is not None:
        if live.status == PaymentStatus.PROCESSING:
            raise Conflict(
                "A payment is under review; cancel once it is decided.",
                errors={"status": ["payment_processing"]},
            )
        payment_session_cancel(payment_session=live)
    for paid in PaymentSession.objects.filter(appointment=appointment, status=PaymentStatus.PAID):
        payment_session_refund(payment_session=paid)
    with transaction.atomic():
        appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
        if appointment.status == AppointmentStatus.PAYMENT_PROCESSING:
            raise Conflict("A payment is under review; cancel once it is decided.")
        if appointment.status not in {AppointmentStatus.CANCELLED, AppointmentStatus.EXPIRED}:
            appointment_set_status(appointment, AppointmentStatus.CANCELLED, reason="cancelled")
    return appointment
