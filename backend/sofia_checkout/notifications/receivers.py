"""Which change sends which email: receivers of the appointment's signals and of the reconcile job.

The status signal comes from the one status writer (payments.state.appointment_set_status), inside its
transaction; the messages are queued there and sent after the commit (outbox.py).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sofia_checkout.appointments.models import Appointment, AppointmentStatus
from sofia_checkout.appointments.signals import appointment_rescheduled, appointment_status_changed
from sofia_checkout.notifications.models import EmailEvent, OutboxEmail
from sofia_checkout.notifications.outbox import outbox_enqueue, outbox_send_due
from sofia_checkout.payments.lifecycle import reconcile_pass_finished
from sofia_checkout.payments.models import PaymentSession
from sofia_checkout.payments.statuses import PaymentStatus

logger = logging.getLogger(__name__)

_A = AppointmentStatus


def event_for(
    previous: AppointmentStatus, status: AppointmentStatus, payment_session: PaymentSession | None
) -> EmailEvent | None:
    """The email an appointment's status change sends, if any."""
    if status == _A.CONFIRMED:
        return EmailEvent.BOOKING_CONFIRMED
    if status == _A.PAYMENT_PROCESSING:
        return EmailEvent.PAYMENT_UNDER_REVIEW
    if status == _A.CANCELLED:
        return EmailEvent.CANCELLED
    if status == _A.EXPIRED:
        return EmailEvent.HOLD_EXPIRED
    if (
        previous == _A.PAYMENT_PROCESSING
        and status == _A.PENDING_PAYMENT
        and payment_session is not None
        and payment_session.status == PaymentStatus.FAILED
    ):
        # The review said no (not a cancelled or unverified attempt): the patient may still pay by card.
        return EmailEvent.PAYMENT_NOT_APPROVED
    return None


def _reschedules(appointment: Appointment) -> int:
    return OutboxEmail.objects.filter(appointment=appointment, event=EmailEvent.RESCHEDULED).count()


def _facts(appointment: Appointment, *, sequence: int, **more: Any) -> dict[str, Any]:
    """The visit as of the event (a later reschedule must not change what this message said)."""
    return {
        "appointment_time": appointment.appointment_time.isoformat(),
        "ends_at": appointment.ends_at.isoformat(),
        "sequence": sequence,
        **more,
    }


def on_status_changed(
    sender: object,
    *,
    appointment: Appointment,
    previous: AppointmentStatus,
    status: AppointmentStatus,
    payment_session: PaymentSession | None = None,
    **kwargs: Any,
) -> None:
    event = event_for(previous, status, payment_session)
    if event is None:
        return
    sequence = _reschedules(appointment)
    facts = _facts(appointment, sequence=sequence)
    occurrence = ""
    if event in {EmailEvent.PAYMENT_UNDER_REVIEW, EmailEvent.PAYMENT_NOT_APPROVED}:
        # May happen once per payment attempt (a rejected HSA/FSA review, then another attempt).
        occurrence = str(payment_session.pk) if payment_session is not None else ""
    if event == EmailEvent.CANCELLED:
        # A calendar entry exists only for a visit that was confirmed: the cancel removes it (a higher
        # SEQUENCE than any update before it).
        facts = _facts(appointment, sequence=sequence + 1, calendar=previous == _A.CONFIRMED)
    receipt_session = payment_session if event != EmailEvent.CANCELLED else None
    outbox_enqueue(
        appointment=appointment,
        event=event,
        occurrence=occurrence,
        payment_session=receipt_session,
        facts=facts,
    )


def on_rescheduled(
    sender: object, *, appointment: Appointment, previous_time: datetime, **kwargs: Any
) -> None:
    if appointment.status != _A.CONFIRMED:
        return  # an unpaid booking has no calendar entry yet; its confirmation will carry the new time
    number = _reschedules(appointment) + 1
    outbox_enqueue(
        appointment=appointment,
        event=EmailEvent.RESCHEDULED,
        occurrence=str(number),
        facts=_facts(appointment, sequence=number, previous_time=previous_time.isoformat()),
    )


def on_reconcile_pass(sender: object, *, now: datetime, **kwargs: Any) -> dict[str, int]:
    """The reconcile job's turn: send what is due (after-commit sends that failed, retries)."""
    return outbox_send_due(now=now).as_counts()


def connect() -> None:
    appointment_status_changed.connect(on_status_changed, dispatch_uid="notifications.status_changed")
    appointment_rescheduled.connect(on_rescheduled, dispatch_uid="notifications.rescheduled")
    reconcile_pass_finished.connect(on_reconcile_pass, dispatch_uid="notifications.reconcile_pass")
