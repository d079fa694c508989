"""What a patient may still do to an appointment on their own: the cancellation and reschedule policy.

A paid (confirmed) appointment may be cancelled with a full refund, or moved, until
CANCELLATION_REFUND_CUTOFF_HOURS before it starts; after that, and always once it has started, only the clinic
can act (staff cancel and refund in the admin). An unpaid one may be cancelled until it starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from sofia_checkout.appointments.models import Appointment, AppointmentStatus
from sofia_checkout.core.errors import DomainError


@dataclass(frozen=True)
class CancellationTerms:
    allowed: bool
    code: str  # stable, for clients: full_refund, no_charge, cancellation_window_closed, ...
    message: str
    refund_amount_cents: int  # what a cancel now would refund
    refund_cutoff_at: datetime | None  # until when a paid appointment is refunded in full


class PolicyRefused(DomainError):
    """The patient may not do this any more; the code says why (409)."""

    http_status = 409

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, errors={"status": [code]})
        self.code = code


def refund_cutoff_at(appointment: Appointment) -> datetime:
    return appointment.appointment_time - timedelta(hours=settings.CANCELLATION_REFUND_CUTOFF_HOURS)


def _closed_message() -> str:
    hours = settings.CANCELLATION_REFUND_CUTOFF_HOURS
    return (
        f"A paid appointment can be cancelled online until {hours} hours before it starts. "
        "Please contact the clinic."
    )


_NOT_CANCELLABLE: dict[str, tuple[str, str]] = {
    AppointmentStatus.CANCELLED: ("already_cancelled", "This appointment is cancelled."),
    AppointmentStatus.EXPIRED: ("expired", "This booking expired before it was paid."),
    AppointmentStatus.PAYMENT_PROCESSING: (
        "payment_in_review",
        "A payment is under review; cancel once it is decided.",
    ),
}
_FULL_REFUND = "Cancel now and the full amount is refunded to the card or HSA/FSA account that paid."
_NO_CHARGE = "Nothing has been charged; cancelling frees the time."
_STARTED = "This appointment has already started. Please contact the clinic."


def cancellation_terms(appointment: Appointment, *, now: datetime) -> CancellationTerms:
    """Whether the patient may cancel now, and what that would refund."""
    cutoff = refund_cutoff_at(appointment)
    started = appointment.appointment_time <= now
    if appointment.status in _NOT_CANCELLABLE:
        code, message = _NOT_CANCELLABLE[appointment.status]
        in_review = appointment.status == AppointmentStatus.PAYMENT_PROCESSING
        return CancellationTerms(False, code, message, 0, cutoff if in_review else None)
    if appointment.status == AppointmentStatus.CONFIRMED:
        if started or now >= cutoff:
            return CancellationTerms(False, "cancellation_window_closed", _closed_message(), 0, cutoff)
        return CancellationTerms(True, "full_refund", _FULL_REFUND, appointment.amount_cents, cutoff)
    if started:
        return CancellationTerms(False, "appointment_started", _STARTED, 0, None)
    return CancellationTerms(True, "no_charge", _NO_CHARGE, 0, None)


def cancellation_check(appointment: Appointment, *, now: datetime) -> None:
    """Raise PolicyRefused unless the patient may cancel (an already released appointment is not refused:
    cancelling it again is a no-op, and money that reached it late is refunded anyway)."""
    terms = cancellation_terms(appointment, now=now)
    if not terms.allowed and appointment.status not in _NOT_CANCELLABLE:
        raise PolicyRefused(terms.code, terms.message)


def reschedule_check(appointment: Appointment, *, now: datetime) -> None:
    """A paid appointment is moved by the patient only while it could still be cancelled with a refund."""
    if appointment.status == AppointmentStatus.CONFIRMED and now >= refund_cutoff_at(appointment):
        hours = settings.CANCELLATION_REFUND_CUTOFF_HOURS
        raise PolicyRefused(
            "reschedule_window_closed",
            f"A paid appointment can be moved online until {hours} hours before it starts. "
            "Please contact the clinic.",
        )
