"""Refunds: made once per attempt, never twice in parallel, followed until the provider says they are final.

A refund is claimed in a short transaction (a stored row with its idempotency key and a lease), sent with
no transaction open, and its outcome recorded in another short transaction. A parallel caller that finds a
live lease waits for the outcome instead of calling the provider again.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from sofia_checkout.appointments.models import RELEASED_APPOINTMENT_STATUSES, Appointment
from sofia_checkout.appointments.selectors import appointment_lock
from sofia_checkout.core.db import release_connection_while_waiting
from sofia_checkout.core.errors import DomainError, ProviderFailed, ProviderUnavailable
from sofia_checkout.payments.leases import provider_call_lease
from sofia_checkout.payments.models import PaymentSession, Refund, RefundStatus
from sofia_checkout.payments.providers.base import (
    ProviderRejectedError,
    ProviderSession,
    ProviderUnavailableError,
    RefundNotice,
    RefundOutcome,
    RefundRequest,
    RefundResult,
)
from sofia_checkout.payments.providers.registry import get_provider
from sofia_checkout.payments.state import payment_session_apply_provider_state
from sofia_checkout.payments.statuses import MONEY_TAKEN_STATUSES, PaymentStatus

logger = logging.getLogger(__name__)


def _lease() -> timedelta:
    """How long one caller may take to send a refund: the provider's whole budget, with a margin."""
    return provider_call_lease()


def _refund_amount(session: PaymentSession) -> int | None:
    if session.status == PaymentStatus.PAID_UNVERIFIED:
        return session.reported_amount_cents  # what was taken, if the provider said; else all of it
    return session.amount_cents


def _current_attempt(session: PaymentSession) -> Refund:
    """The refund to send: the latest one unless it failed (nothing moved; a provider would only replay
    the failure for its key), in which case a new attempt with a new key. Called under the locks."""
    earlier = list(Refund.objects.filter(payment_session=session).order_by("-created_at"))
    if earlier and earlier[0].status != RefundStatus.FAILED:
        return earlier[0]
    attempt = len(earlier) + 1
    suffix = "" if attempt == 1 else f"-{attempt}"
    return Refund.objects.create(
        payment_session=session,
        idempotency_key=f"sofia-refund-{session.id}{suffix}",
        amount_cents=_refund_amount(session),
    )


def _claim(payment_session_id: uuid.UUID) -> tuple[Refund, bool]:
    """(the refund, whether this caller must send it) under the appointment and session locks."""
    with transaction.atomic():
        appointment_id = PaymentSession.objects.values_list("appointment_id", flat=True).get(
            pk=payment_session_id
        )
        appointment_lock(appointment_id=appointment_id)
        session = PaymentSession.objects.select_for_update().get(pk=payment_session_id)
        refund = _current_attempt(session)
        now = timezone.now()
        if refund.status != RefundStatus.PENDING or (refund.sending_until and refund.sending_until > now):
            return refund, False
        refund.sending_until = now + _lease()
        refund.save(update_fields=["sending_until", "updated_at"])
        return refund, True


def _wait_for_outcome(refund: Refund) -> Refund:
    """Another caller holds the lease: wait (bounded by the lease) until it records an outcome."""
    deadline = time.monotonic() + _lease().total_seconds()
    while time.monotonic() < deadline:
        refund.refresh_from_db()
        if refund.status != RefundStatus.PENDING or refund.sending_until is None:
            return refund
        release_connection_while_waiting()
        time.sleep(0.05)
    raise ProviderUnavailable("A refund for this payment is still being made; please try again shortly.")


def _mark_refunded(session_id: uuid.UUID, provider_status: str) -> None:
    session = PaymentSession.objects.get(pk=session_id)
    payment_session_apply_provider_state(
        payment_session_id=session_id,
        state=ProviderSession(
            session.provider_session_id or "", PaymentStatus.REFUNDED, f"refund:{provider_status}"
        ),
        source="refund",
    )


def _flag_failed(refund: Refund, provider_status: str) -> None:
    """The money is still taken: nothing is cancelled by this, and a person must look at it."""
    appointment_id = PaymentSession.objects.values_list("appointment_id", flat=True).get(
        pk=refund.payment_session_id
    )
    Appointment.objects.filter(pk=appointment_id).update(
        attention=f"Refund {refund.provider_refund_id} ended {provider_status}: refund by hand."
    )
    logger.error(
        "refund did not go through",
        extra={"payment_session_id": str(refund.payment_session_id), "refund_status": provider_status},
    )


def _settle_owed_flag(refund: Refund) -> None:
    """A "refund owed" flag is answered once the money is back: staff must not refund it a second time."""
    appointment = Appointment.objects.filter(payment_sessions__refunds=refund).first()
    if appointment is not None and "refund owed" in appointment.attention.lower():
        settled = re.sub(
            "refund owed", f"refunded ({refund.provider_refund_id})", appointment.attention, flags=re.I
        )
        Appointment.objects.filter(pk=appointment.pk).update(attention=settled)


def _record(refund: Refund, result: RefundResult) -> Refund:
    """Store a provider's answer about `refund` and apply what it means. Idempotent; never moves back."""
    with transaction.atomic():
        refund = Refund.objects.select_for_update().get(pk=refund.pk)
        if refund.status in {RefundStatus.SUCCEEDED, RefundStatus.FAILED}:
            return refund  # final already (a late or repeated answer)
        refund.provider_refund_id = result.provider_refund_id or refund.provider_refund_id
        refund.status = {
            RefundOutcome.SUCCEEDED: RefundStatus.SUCCEEDED,
            RefundOutcome.PENDING: RefundStatus.PROCESSING,
            RefundOutcome.FAILED: RefundStatus.FAILED,
        }[result.outcome]
        refund.sending_until = None
        refund.save(update_fields=["provider_refund_id", "status", "sending_until", "updated_at"])
    if refund.status == RefundStatus.SUCCEEDED:
        _mark_refunded(refund.payment_session_id, result.provider_status)
        _settle_owed_flag(refund)
    elif refund.status == RefundStatus.FAILED:
        _flag_failed(refund, result.provider_status)
    logger.info(
        "refund recorded",
        extra={"payment_session_id": str(refund.payment_session_id), "refund_status": refund.status},
    )
    return refund


def _send(refund: Refund) -> Refund:
    session = PaymentSession.objects.get(pk=refund.payment_session_id)
    adapter = get_provider(session.provider)
    release_connection_while_waiting()
    try:
        result = adapter.refund(
            RefundRequest(
                payment_reference=session.payment_reference,
                provider_session_id=session.provider_session_id or "",
                amount_cents=refund.amount_cents,
                idempotency_key=refund.idempotency_key,
            )
        )
    except ProviderUnavailableError as exc:
        Refund.objects.filter(pk=refund.pk).update(sending_until=None)  # a retry resends the same key
        raise ProviderUnavailable("The refund could not be made right now; please try again.") from exc
    except ProviderRejectedError as exc:
        # Refused: nothing moved, and the same request would be refused again. Failed and flagged; a person
        # (or a new cancel) starts a new attempt with a new key.
        Refund.objects.filter(pk=refund.pk).update(
            status=RefundStatus.FAILED, error=exc.message[:2000], sending_until=None
        )
        refund.refresh_from_db()
        _flag_failed(refund, f"refused: {exc.message}")
        logger.error("refund refused", extra={"payment_session_id": str(session.id), "error": exc.message})
        raise ProviderFailed("The payment provider refused the refund; our team will follow up.") from exc
    return _record(refund, result)


def payment_session_refund(*, payment_session_id: uuid.UUID) -> Refund:
    """Refund a session whose money was taken, in full, once.

    Parallel callers share one Refund row and one provider call (the others wait for its outcome). Returns
    the refund, succeeded or still processing at the provider. Raises ProviderUnavailable (the pending row
    stays and a retry resends its key) or ProviderFailed (refused, or the refund failed: flagged for staff).
    """
    refund, must_send = _claim(payment_session_id)
    if must_send:
        refund = _send(refund)
    elif refund.status == RefundStatus.PENDING:
        refund = _wait_for_outcome(refund)
    if refund.status == RefundStatus.SUCCEEDED:
        # Made before, but recording it may not have finished: applying it again is harmless.
        _mark_refunded(payment_session_id, "succeeded")
    elif refund.status == RefundStatus.FAILED:
        raise ProviderFailed("The refund did not go through; our team will follow up.")
    elif refund.status == RefundStatus.PENDING:
        raise ProviderUnavailable("The refund could not be made right now; please try again.")
    return refund


def payment_session_refund_if_owed(*, payment_session: PaymentSession) -> Refund | None:
    """Refund at once money that arrived for a cancelled or expired appointment (unverified amounts are
    left to cancel and the reconcile job). Never raises a provider failure: the appointment stays flagged
    and the reconcile job tries again."""
    status = Appointment.objects.values_list("status", flat=True).get(pk=payment_session.appointment_id)
    if payment_session.status not in MONEY_TAKEN_STATUSES or status not in RELEASED_APPOINTMENT_STATUSES:
        return None
    try:
        return payment_session_refund(payment_session_id=payment_session.id)
    except DomainError as exc:
        logger.warning(
            "owed refund not made yet",
            extra={"payment_session_id": str(payment_session.id), "error": exc.message},
        )
        return None


def refund_apply_notice(*, provider: str, notice: RefundNotice) -> bool:
    """Apply a refund event (e.g. a refund that failed after it was accepted). False if it is not ours."""
    refund = Refund.objects.filter(
        provider_refund_id=notice.provider_refund_id, payment_session__provider=provider
    ).first()
    if refund is None:
        return False
    _record(refund, RefundResult(notice.provider_refund_id, notice.outcome, notice.provider_status))
    return True


def refund_recheck(*, refund: Refund) -> Refund:
    """Ask the provider again about a refund it accepted but had not finished. Raises ProviderError."""
    session = PaymentSession.objects.get(pk=refund.payment_session_id)
    result = get_provider(session.provider).refund_status(
        provider_refund_id=refund.provider_refund_id, provider_session_id=session.provider_session_id or ""
    )
    return _record(refund, result)
