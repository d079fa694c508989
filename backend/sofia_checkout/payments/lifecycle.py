"""The periodic reconcile job: expire abandoned holds, re-poll stuck sessions.

Safe with several copies running at once, and no transaction is open while a provider is called: each
appointment is claimed in a short transaction (SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL, serialised
immediate transactions on SQLite) that takes the provider-call leases of its live sessions
(payments/leases.py), so a copy skips what another copy, a cancel or a create call is working on; each
claim and each final step re-checks the row's state, so nothing is acted on twice.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.dispatch import Signal
from django.utils import timezone

from sofia_checkout.appointments.models import RELEASED_APPOINTMENT_STATUSES, Appointment, AppointmentStatus
from sofia_checkout.core.errors import DomainError
from sofia_checkout.payments.leases import lease_held, provider_call_lease
from sofia_checkout.payments.models import PaymentSession, Refund, RefundStatus, WebhookEvent, WebhookOutcome
from sofia_checkout.payments.providers.base import ProviderError, ProviderSession
from sofia_checkout.payments.providers.registry import get_provider
from sofia_checkout.payments.refunds import payment_session_refund, refund_recheck
from sofia_checkout.payments.state import (
    ABANDONED_BEFORE_CREATION,
    appointment_set_status,
    payment_session_apply_provider_state,
)
from sofia_checkout.payments.statuses import LIVE_PAYMENT_STATUSES, MONEY_TAKEN_STATUSES, PaymentStatus

logger = logging.getLogger(__name__)

# Sent at the end of every pass (kwargs: now) so other apps do their periodic work in the same job (the
# notifications outbox resends due emails). A receiver answers a dict of counts for the report; one that
# raises is reported and never stops the pass.
reconcile_pass_finished = Signal()


@dataclass
class ReconcileReport:
    expired_appointments: int = 0
    kept_because_paid: int = 0
    sessions_polled: int = 0
    sessions_changed: int = 0
    refunds_made: int = 0
    refunds_rechecked: int = 0
    rejected_webhooks_purged: int = 0
    others: dict[str, int] = field(default_factory=dict)  # counts answered by reconcile_pass_finished
    errors: list[str] = field(default_factory=list)


# Live sessions with the provider-call lease this copy of the job took for them.
_Claimed = list[tuple[PaymentSession, datetime]]


def _claim_for_expiry(appointment_id: uuid.UUID, now: datetime) -> _Claimed | None:
    """One short transaction: the leases of the appointment's live sessions, so this copy alone talks to
    their providers. None when there is nothing to do here now: another copy holds the appointment, it
    changed meanwhile, or a caller is at a provider about one of its sessions (the next pass looks again)."""
    with transaction.atomic():
        appointment = (
            Appointment.objects.select_for_update(skip_locked=True)
            .filter(pk=appointment_id, status=AppointmentStatus.PENDING_PAYMENT, hold_expires_at__lte=now)
            .first()
        )
        if appointment is None:
            return None
        live = list(
            PaymentSession.objects.select_for_update().filter(
                appointment=appointment, status__in=LIVE_PAYMENT_STATUSES
            )
        )
        clock = timezone.now()
        if any(lease_held(session.provider_call_until, clock) for session in live):
            return None
        lease = clock + provider_call_lease()
        PaymentSession.objects.filter(pk__in=[s.pk for s in live]).update(provider_call_until=lease)
        return [(session, lease) for session in live]


def _stopped_state(session: PaymentSession) -> ProviderSession:
    """What to record for a live session of an abandoned hold, after stopping it at its provider."""
    if not session.provider_session_id:
        # Its lease is ours, so no create call for it is in flight: it never got an answer.
        return ABANDONED_BEFORE_CREATION
    adapter = get_provider(session.provider)
    state = adapter.retrieve_session(session.provider_session_id)
    if state.status in {PaymentStatus.OPEN, PaymentStatus.CREATING}:
        state = adapter.cancel_session(session.provider_session_id)
        if state.status in {PaymentStatus.OPEN, PaymentStatus.CREATING}:
            # The hold is over either way; a late payment is caught ("paid after release").
            logger.error(
                "reconcile: provider still reports the session open after cancel",
                extra={"appointment_id": str(session.appointment_id), "payment_session_id": str(session.id)},
            )
            PaymentSession.objects.filter(pk=session.pk).update(
                attention="Still open at the provider after its hold expired: watch for late payment."
            )
            state = ProviderSession(state.provider_session_id, PaymentStatus.EXPIRED, state.provider_status)
    return state


def _stop_live_sessions(claimed: _Claimed) -> bool:
    """Ask the provider about each claimed session and stop unpaid ones, with no transaction open. True if
    money arrived or is in review. The leases not used yet are released when a provider fails."""
    for index, (session, lease) in enumerate(claimed):
        try:
            state = _stopped_state(session)
        except ProviderError:
            for other, other_lease in claimed[index:]:
                PaymentSession.objects.filter(pk=other.pk, provider_call_until=other_lease).update(
                    provider_call_until=None
                )
            raise
        updated = payment_session_apply_provider_state(
            payment_session_id=session.id, state=state, source="reconcile", release_lease=lease
        )
        if updated.status in {PaymentStatus.PAID, PaymentStatus.PROCESSING}:
            for other, other_lease in claimed[index + 1 :]:
                PaymentSession.objects.filter(pk=other.pk, provider_call_until=other_lease).update(
                    provider_call_until=None
                )
            return True
    return False


def _expire_if_still_abandoned(appointment_id: uuid.UUID, now: datetime) -> bool:
    """The appointment's final step, in one short transaction: expired unless it changed meanwhile (paid,
    cancelled, a new page started)."""
    with transaction.atomic():
        appointment = (
            Appointment.objects.select_for_update()
            .filter(pk=appointment_id, status=AppointmentStatus.PENDING_PAYMENT, hold_expires_at__lte=now)
            .first()
        )
        if appointment is None:
            return False
        if PaymentSession.objects.filter(appointment=appointment, status__in=LIVE_PAYMENT_STATUSES).exists():
            return False
        appointment_set_status(appointment, AppointmentStatus.EXPIRED, reason="hold expired")
        return True


def expire_abandoned(*, now: datetime, report: ReconcileReport, limit: int = 100) -> None:
    """Holds that ran out unpaid: their provider sessions are stopped (no transaction open meanwhile), then
    the appointment is expired and its slot freed."""
    candidates = list(
        Appointment.objects.filter(status=AppointmentStatus.PENDING_PAYMENT, hold_expires_at__lte=now)
        .order_by("hold_expires_at")
        .values_list("pk", flat=True)[:limit]
    )
    for appointment_id in candidates:
        try:
            claimed = _claim_for_expiry(appointment_id, now)
            if claimed is None:
                continue  # another copy holds it, it changed meanwhile, or a provider call is in flight
            if _stop_live_sessions(claimed):
                report.kept_because_paid += 1
                continue
            if _expire_if_still_abandoned(appointment_id, now):
                report.expired_appointments += 1
        except (ProviderError, DomainError, DatabaseError) as exc:
            # One row's trouble (provider down, a lock timeout) is reported; the pass goes on.
            report.errors.append(f"{appointment_id}: {exc}")
            logger.warning("reconcile: could not expire", extra={"appointment_id": str(appointment_id)})


def _claim_for_repoll(session_id: uuid.UUID, stale_before: datetime, now: datetime) -> PaymentSession | None:
    """One conditional UPDATE (no lock held after it): marking the session synced now takes it out of every
    other copy's stale filter, so one copy re-polls it. None when another copy or caller got there first."""
    claimed = (
        PaymentSession.objects.filter(
            pk=session_id, status__in=(PaymentStatus.OPEN, PaymentStatus.PROCESSING)
        )
        .filter(Q(last_synced_at__isnull=True) | Q(last_synced_at__lte=stale_before))
        .filter(Q(provider_call_until__isnull=True) | Q(provider_call_until__lte=now))
        .update(last_synced_at=now)
    )
    return PaymentSession.objects.filter(pk=session_id).first() if claimed else None


def repoll_stuck(*, now: datetime, report: ReconcileReport, limit: int = 100) -> None:
    """Sessions open/processing for longer than RECONCILE_STALE_MINUTES: a missed webhook still ends right."""
    stale_before = now - timedelta(minutes=settings.RECONCILE_STALE_MINUTES)
    candidates = list(
        PaymentSession.objects.filter(
            status__in=(PaymentStatus.OPEN, PaymentStatus.PROCESSING), updated_at__lte=stale_before
        )
        .filter(Q(last_synced_at__isnull=True) | Q(last_synced_at__lte=stale_before))
        .exclude(provider_session_id=None)
        .values_list("pk", flat=True)[:limit]
    )
    for session_id in candidates:
        try:
            claimed_at = timezone.now()
            session = _claim_for_repoll(session_id, stale_before, claimed_at)
            if session is None:
                continue
            # Read-only at the provider, with no transaction open; applying it is monotonic.
            try:
                state = get_provider(session.provider).retrieve_session(session.provider_session_id or "")
            except ProviderError:
                # Not synced after all: the next pass tries again.
                PaymentSession.objects.filter(pk=session_id, last_synced_at=claimed_at).update(
                    last_synced_at=None
                )
                raise
            report.sessions_polled += 1
            updated = payment_session_apply_provider_state(
                payment_session_id=session.id, state=state, source="reconcile"
            )
            if updated.status != session.status:
                report.sessions_changed += 1
        except (ProviderError, DomainError, DatabaseError) as exc:
            report.errors.append(f"{session_id}: {exc}")
            logger.warning("reconcile: could not re-poll", extra={"payment_session_id": str(session_id)})


def refund_owed_money(*, report: ReconcileReport, limit: int = 100) -> None:
    """Money an appointment must not keep (unverified amount, or paid after it was released) and that has
    no refund under way: refund it. A failure stays flagged and is tried again next pass."""
    owed = (
        PaymentSession.objects.filter(status__in=MONEY_TAKEN_STATUSES)
        .filter(
            Q(status=PaymentStatus.PAID_UNVERIFIED) | Q(appointment__status__in=RELEASED_APPOINTMENT_STATUSES)
        )
        # A refund that succeeded, is under way, or failed (flagged: a person decides) is not sent again.
        .exclude(refunds__status__in=(RefundStatus.SUCCEEDED, RefundStatus.PROCESSING, RefundStatus.FAILED))
        .values_list("pk", flat=True)[:limit]
    )
    for session_id in list(owed):
        try:
            payment_session_refund(payment_session_id=session_id)
            report.refunds_made += 1
        except (DomainError, DatabaseError) as exc:
            report.errors.append(f"{session_id}: {exc}")
            logger.warning("reconcile: owed refund not made", extra={"payment_session_id": str(session_id)})


def recheck_refunds(*, now: datetime, report: ReconcileReport, limit: int = 100) -> None:
    """Refunds the provider accepted but had not finished: ask again; flag those unconfirmed for too long."""
    stale_before = now - timedelta(minutes=settings.RECONCILE_STALE_MINUTES)
    overdue = now - timedelta(hours=settings.REFUND_CONFIRM_HOURS)
    for pending in list(
        Refund.objects.filter(status=RefundStatus.PROCESSING, updated_at__lte=stale_before)[:limit]
    ):
        try:
            refund = refund_recheck(refund=pending)
            report.refunds_rechecked += 1
        except (ProviderError, DatabaseError) as exc:
            report.errors.append(f"refund {pending.pk}: {exc}")
            continue
        if refund.status == RefundStatus.PROCESSING and refund.created_at < overdue:
            Appointment.objects.filter(payment_sessions__refunds=refund).update(
                attention=f"Refund {refund.provider_refund_id} not confirmed by the provider: check by hand."
            )


def purge_rejected_webhooks(*, now: datetime, report: ReconcileReport) -> None:
    """Unauthenticated deliveries are evidence for a while, not for ever."""
    cutoff = now - timedelta(days=settings.WEBHOOK_REJECTED_RETENTION_DAYS)
    report.rejected_webhooks_purged, _ = WebhookEvent.objects.filter(
        outcome=WebhookOutcome.REJECTED, received_at__lt=cutoff
    ).delete()


def payments_reconcile(*, now: datetime | None = None) -> ReconcileReport:
    """One pass of the job. Provider failures are reported and left for the next pass."""
    now = now or timezone.now()
    report = ReconcileReport()
    repoll_stuck(now=now, report=report)
    expire_abandoned(now=now, report=report)
    refund_owed_money(report=report)
    recheck_refunds(now=now, report=report)
    purge_rejected_webhooks(now=now, report=report)
    for receiver, answer in reconcile_pass_finished.send_robust(sender=ReconcileReport, now=now):
        if isinstance(answer, Exception):
            report.errors.append(f"{getattr(receiver, '__qualname__', receiver)}: {type(answer).__name__}")
        elif isinstance(answer, dict):
            report.others.update(answer)
    return report
