"""The one module that changes a payment session's or an appointment's status.

Every writer (webhooks, the return-page sync, the create call, cancel and refund, the reconcile job) goes
through here: provider-reported states through `payment_session_apply_provider_state`, our own decisions
(cancel, hold expired) through `appointment_set_status`. Both check the transition tables below.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from sofia_checkout.appointments.models import Appointment, AppointmentStatus
from sofia_checkout.appointments.selectors import appointment_lock
from sofia_checkout.appointments.signals import appointment_status_changed
from sofia_checkout.payments.models import PaymentSession
from sofia_checkout.payments.providers.base import ProviderSession
from sofia_checkout.payments.statuses import PaymentStatus, can_transition

logger = logging.getLogger(__name__)

_A = AppointmentStatus

# Every move an appointment's status may make. Cancelled and expired are final: money that arrives for
# them never revives the booking (the slot may be someone else's, the time may be past); it is refunded.
APPOINTMENT_TRANSITIONS: dict[AppointmentStatus, frozenset[AppointmentStatus]] = {
    _A.PENDING_PAYMENT: frozenset({_A.PAYMENT_PROCESSING, _A.CONFIRMED, _A.CANCELLED, _A.EXPIRED}),
    _A.PAYMENT_PROCESSING: frozenset({_A.PENDING_PAYMENT, _A.CONFIRMED}),
    _A.CONFIRMED: frozenset({_A.CANCELLED}),
    _A.CANCELLED: frozenset(),
    _A.EXPIRED: frozenset(),
}

# What a payment session reaching a status does to its appointment, by the appointment's status now.
# PAID is not listed: it needs more than a lookup (see _on_paid).
_FOLLOWS_PAYMENT: dict[PaymentStatus, dict[AppointmentStatus, AppointmentStatus]] = {
    PaymentStatus.PROCESSING: {_A.PENDING_PAYMENT: _A.PAYMENT_PROCESSING},
    # e.g. an HSA/FSA review rejected: the shopper may still pay another way while the hold lasts.
    PaymentStatus.FAILED: {_A.PAYMENT_PROCESSING: _A.PENDING_PAYMENT},
    PaymentStatus.CANCELED: {_A.PAYMENT_PROCESSING: _A.PENDING_PAYMENT},
    PaymentStatus.EXPIRED: {_A.PAYMENT_PROCESSING: _A.PENDING_PAYMENT},
    # Money of the wrong amount confirms nothing; it is refunded and the shopper may pay again.
    PaymentStatus.PAID_UNVERIFIED: {_A.PAYMENT_PROCESSING: _A.PENDING_PAYMENT},
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


def appointment_set_status(
    appointment: Appointment,
    new: AppointmentStatus,
    *,
    reason: str,
    payment_session: PaymentSession | None = None,
) -> None:
    """Move a locked appointment to `new` and save it; IllegalTransitionError if the table forbids it.

    Announces the change (appointments.signals) inside the same transaction: the notifications outbox
    stores its message with it. `payment_session`: the session whose new status caused the change.
    """
    current = AppointmentStatus(appointment.status)
    if new == current:
        return
    if new not in APPOINTMENT_TRANSITIONS[current]:
        raise IllegalTransitionError(f"appointment {appointment.id}: {current} -> {new} ({reason})")
    appointment.status = new
    fields = ["status", "attention", "updated_at"]
    if new == AppointmentStatus.CONFIRMED:
        appointment.confirmed_at = timezone.now()
        fields.append("confirmed_at")
    appointment.save(update_fields=fields)
    logger.info(
        "appointment status changed",
        extra={"appointment_id": str(appointment.id), "previous": current, "status": new, "reason": reason},
    )
    appointment_status_changed.send(
        sender=Appointment,
        appointment=appointment,
        previous=current,
        status=new,
        reason=reason,
        payment_session=payment_session,
    )


def _on_paid(appointment: Appointment, session: PaymentSession) -> AppointmentStatus | None:
    """The appointment's next status once `session` is paid; flags what needs a refund or a person."""
    current = AppointmentStatus(appointment.status)
    if current in {_A.PENDING_PAYMENT, _A.PAYMENT_PROCESSING}:
        return _A.CONFIRMED
    if current == _A.CONFIRMED:
        # Another session already paid for it: never silently keep two payments for one appointment.
        appointment.attention = "Paid twice (two payment sessions): refund one."
        logger.error("second payment for a confirmed appointment", extra=session_log_extra(session))
        return None
    # Paid after the appointment was cancelled or its hold expired: never revived; refunded by the caller
    # (refunds.payment_session_refund_if_owed) or, if that fails, by staff.
    appointment.attention = f"Paid after the appointment was {current}: refund owed."
    logger.error("payment for a released appointment", extra=session_log_extra(session))
    return None


def _follow_payment(appointment: Appointment, session: PaymentSession, status: PaymentStatus) -> None:
    """Derive the appointment's status from one of its sessions' new status (both rows locked)."""
    if status == PaymentStatus.PAID:
        new = _on_paid(appointment, session)
    else:
        new = _FOLLOWS_PAYMENT.get(status, {}).get(AppointmentStatus(appointment.status))
    if new is None:
        appointment.save(update_fields=["attention", "updated_at"])
    else:
        appointment_set_status(appointment, new, reason=f"payment {status}", payment_session=session)


def _amount_differs(session: PaymentSession, state: ProviderSession) -> bool:
    """What the provider reports must be what we asked for; money we cannot check is never taken as paid."""
    if state.status == PaymentStatus.PAID and (state.amount_cents is None or state.currency is None):
        return True
    return (state.amount_cents is not None and state.amount_cents != session.amount_cents) or (
        state.currency is not None and state.currency.lower() != session.currency
    )


def payment_session_record_created(
    *, payment_session: PaymentSession, state: ProviderSession, now: datetime | None = None
) -> bool:
    """The create call's usual answer (an open page, for the amount we asked) recorded in one conditional
    UPDATE with no lock held: `creating` -> `open`, the provider's id and page, the lease cleared.

    False when it does not apply as such (the session moved meanwhile, e.g. a webhook was faster or the
    attempt was closed, or the answer needs the full checks): the caller then uses
    `payment_session_apply_provider_state`. An open page changes nothing on the appointment.
    """
    if (
        state.status != PaymentStatus.OPEN
        or not state.provider_session_id
        or state.our_payment_session_id not in {None, str(payment_session.id)}
        or _amount_differs(payment_session, state)
    ):
        return False
    now = now or timezone.now()
    changes = {
        "status": PaymentStatus.OPEN,
        "provider_session_id": state.provider_session_id,
        "redirect_url": state.redirect_url or payment_session.redirect_url,
        "payment_reference": state.payment_reference or payment_session.payment_reference,
        "provider_status": state.provider_status[:50],
        "last_synced_at": now,
        "provider_call_until": None,
        "updated_at": now,
    }
    updated = PaymentSession.objects.filter(
        pk=payment_session.pk, status=PaymentStatus.CREATING, provider_session_id=None
    ).update(**changes)
    if updated:
        for name, value in changes.items():
            setattr(payment_session, name, value)
        logger.info(
            "payment status changed",
            extra=session_log_extra(
                payment_session, source="create", previous=PaymentStatus.CREATING, status=PaymentStatus.OPEN
            ),
        )
    return bool(updated)


def payment_session_apply_provider_state(
    *,
    payment_session_id: uuid.UUID | str,
    state: ProviderSession,
    source: str,
    release_lease: datetime | None = None,
) -> PaymentSession:
    """Apply a provider-reported state to our session and its appointment, once, under row locks.

    Used by webhooks, the return-page sync, the create call, cancel, refunds and the reconcile job.
    Monotonic: a status that would move backwards is recorded as the provider's raw status only. A paid
    state whose amount or currency differs from what we asked for is flagged and never confirms the
    appointment. `release_lease`: the provider-call lease the caller took (payments/leases.py), cleared in
    the same write if it is still that one.
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
        if state.status == PaymentStatus.PAID:
            session.reported_amount_cents = state.amount_cents
        if state.our_payment_session_id is not None and state.our_payment_session_id != str(session.id):
            # The provider's session names another of our sessions: never apply it to this one.
            session.attention = f"Provider session names payment session {state.our_payment_session_id}."
            logger.error("provider session names another: not applied", extra=session_log_extra(session))
        elif _amount_differs(session, state):
            session.amount_mismatch = True
            session.attention = (
                f"Provider reported {state.status} with {state.amount_cents} {state.currency}; "
                f"we asked for {session.amount_cents} {session.currency}."
            )
            logger.error("provider amount mismatch", extra=session_log_extra(session, source=source))
            unverified = PaymentStatus.PAID_UNVERIFIED
            if state.status == PaymentStatus.PAID and can_transition(session.status, unverified):
                # Money of unknown or wrong value: terminal, never confirms, refunded by cancel/reconcile.
                session.status = unverified
                appointment.attention = f"Payment amount not verified: {session.attention} Refund owed."
                _follow_payment(appointment, session, unverified)
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
        if release_lease is not None and session.provider_call_until == release_lease:
            session.provider_call_until = None
        session.save()
        return session
