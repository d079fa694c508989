"""The one module that changes a payment session's or an appointment's status.

Every writer (webhooks, the return-page sync, the create call, cancel and refund, the reconcile job) goes
through here: provider-reported states through `payment_session_apply_provider_state`, our own decisions
(cancel, hold expired) through `appointment_set_status`. Both check the transition tables below.
"""

from __future__ import annotations

import logging
import uuid

from django.db import transaction
from django.utils import timezone

from sofia_checkout.appointments.models import LIVE_APPOINTMENT_STATUSES, Appointment, AppointmentStatus
from sofia_checkout.appointments.selectors import appointment_lock
from sofia_checkout.payments.models import PaymentSession
from sofia_checkout.payments.providers.base import ProviderSession
from sofia_checkout.payments.statuses import PaymentStatus, can_transition

logger = logging.getLogger(__name__)

_A = AppointmentStatus

# Every move an appointment's status may make. Money outranks our own bookkeeping: a payment that arrives
# for a cancelled or expired appointment may revive it (see _on_paid).
APPOINTMENT_TRANSITIONS: dict[AppointmentStatus, frozenset[AppointmentStatus]] = {
    _A.PENDING_PAYMENT: frozenset({_A.PAYMENT_PROCESSING, _A.CONFIRMED, _A.CANCELLED, _A.EXPIRED}),
    _A.PAYMENT_PROCESSING: frozenset({_A.PENDING_PAYMENT, _A.CONFIRMED}),
    _A.CONFIRMED: frozenset({_A.CANCELLED}),
    _A.CANCELLED: frozenset({_A.CONFIRMED}),
    _A.EXPIRED: frozenset({_A.CONFIRMED, _A.CANCELLED}),
}

# What a payment session reaching a status does to its appointment, by the appointment's status now.
# PAID is not listed: it needs more than a lookup (see _on_paid).
_FOLLOWS_PAYMENT: dict[PaymentStatus, dict[AppointmentStatus, AppointmentStatus]] = {
    PaymentStatus.PROCESSING: {_A.PENDING_PAYMENT: _A.PAYMENT_PROCESSING},
    # e.g. an HSA/FSA review rejected: the shopper may still pay another way while the hold lasts.
    PaymentStatus.FAILED: {_A.PAYMENT_PROCESSING: _A.PENDING_PAYMENT},
    PaymentStatus.CANCELED: {_A.PAYMENT_PROCESSING: _A.PENDING_PAYMENT},
    PaymentStatus.EXPIRED: {_A.PAYMENT_PROCESSING: _A.PENDING_PAYMENT},
    PaymentStatus.REFUNDED: {_A.CONFIRMED: _A.CANCELLED},
}

# An attempt whose provider never answered its create call: nobody holds a link to pay it; closed locally.
ABANDONED_BEFORE_CREATION = ProviderSession("", PaymentStatus.CANCELED, "abandoned_before_creation")


class IllegalTransitionError(Exception):
    """A status change the tables do not allow: a bug in the caller, never the shopper's fault."""


def session_log_extra(session: PaymentSession, **more: object) -> dict[str, object]:
    return {
        "appointment_id": str(session.appointment_id),
        "payment_session_id": str(session.id),
        "provider": session.provider,
        **more,
    }


def appointment_set_status(appointment: Appointment, new: AppointmentStatus, *, reason: str) -> None:
    """Move a locked appointment to `new` and save it; IllegalTransitionError if the table forbids it."""
    current = AppointmentStatus(appointment.status)
    if new == current:
        return
    if new not in APPOINTMENT_TRANSITIONS[current]:
        raise IllegalTransitionError(f"appointment {appointment.id}: {current} -> {new} ({reason})")
    appointment.status = new
    appointment.save(update_fields=["status", "attention", "updated_at"])
    logger.info(
        "appointment status changed",
        extra={"appointment_id": str(appointment.id), "previous": current, "status": new, "reason": reason},
    )


def _slot_taken_by_another(appointment: Appointment) -> bool:
    return (
        Appointment.objects.filter(
            practitioner=appointment.practitioner,
            appointment_time=appointment.appointment_time,
            status__in=LIVE_APPOINTMENT_STATUSES,
        )
        .exclude(pk=appointment.pk)
        .exists()
    )


def _on_paid(appointment: Appointment, session: PaymentSession) -> AppointmentStatus | None:
    """The appointment's next status once `session` is paid; flags what needs a person."""
    current = AppointmentStatus(appointment.status)
    if current in {_A.PENDING_PAYMENT, _A.PAYMENT_PROCESSING}:
        return _A.CONFIRMED
    if current == _A.CONFIRMED:
        # Another session already paid for it: never silently keep two payments for one appointment.
        appointment.attention = "Paid twice (two payment sessions): refund one."
        logger.error("second payment for a confirmed appointment", extra=session_log_extra(session))
        return None
    # Paid after the slot was released: money is the truth; revive the booking if the slot is free.
    if _slot_taken_by_another(appointment):
        appointment.attention = "Paid after the slot was released and rebooked: refund or reschedule."
        logger.error("paid for a released slot", extra=session_log_extra(session))
        return None
    return _A.CONFIRMED


def _follow_payment(appointment: Appointment, session: PaymentSession, status: PaymentStatus) -> None:
    """Derive the appointment's status from one of its sessions' new status (both rows locked)."""
    if status == PaymentStatus.PAID:
        new = _on_paid(appointment, session)
    else:
        new = _FOLLOWS_PAYMENT.get(status, {}).get(AppointmentStatus(appointment.status))
    if new is None:
        appointment.save(update_fields=["attention", "updated_at"])
    else:
        appointment_set_status(appointment, new, reason=f"payment {status}")


def _amount_differs(session: PaymentSession, state: ProviderSession) -> bool:
    """What the provider reports must be what we asked for; money we cannot check is never taken as paid."""
    if state.status == PaymentStatus.PAID and (state.amount_cents is None or state.currency is None):
        return True
    return (state.amount_cents is not None and state.amount_cents != session.amount_cents) or (
        state.currency is not None and state.currency.lower() != session.currency
    )


def payment_session_apply_provider_state(
    *, payment_session_id: uuid.UUID | str, state: ProviderSession, source: str
) -> PaymentSession:
    """Apply a provider-reported state to our session and its appointment, once, under row locks.

    Used by webhooks, the return-page sync, the create call, cancel, refunds and the reconcile job.
    Monotonic: a status that would move backwards is recorded as the provider's raw status only. A paid
    state whose amount or currency differs from what we asked for is flagged and never confirms the
    appointment.
    """
    with transaction.atomic():
        appointment_id = PaymentSession.objects.values_list("appointment_id", flat=True).get(
            pk=payment_session_id
        )
        appointment = appointment_lock(appointment_id=appointment_id)
        session = PaymentSession.objects.select_for_update().get(pk=payment_session_id)
        if state.provider_session_id and not session.provider_session_id:
            session.provider_session_id = state.provider_session_id
        if state.redirect_url and not session.redirect_url:
            session.redirect_url = state.redirect_url
        if state.payment_reference:
            session.payment_reference = state.payment_reference
        session.provider_status = state.provider_status[:50]
        session.last_synced_at = timezone.now()
        if _amount_differs(session, state):
            session.amount_mismatch = True
            session.attention = (
                f"Provider reported {state.status} with {state.amount_cents} {state.currency}; "
                f"we asked for {session.amount_cents} {session.currency}."
            )
            logger.error(
                "provider amount mismatch: not applied", extra=session_log_extra(session, source=source)
            )
        elif can_transition(session.status, state.status):
            previous = session.status
            session.status = state.status
            _follow_payment(appointment, session, state.status)
            logger.info(
                "payment status changed",
                extra=session_log_extra(session, source=source, previous=previous, status=state.status),
            )
        elif session.status != state.status:
            logger.info(
                "stale payment status ignored",
                extra=session_log_extra(
                    session, source=source, current=session.status, reported=state.status
                ),
            )
        session.save()
        return session
