"""The periodic reconcile job: expire abandoned holds, re-poll stuck sessions.

Safe with several copies running at once: each row is claimed with SELECT ... FOR UPDATE SKIP LOCKED (on
PostgreSQL), so a copy skips what another is working on; SQLite's immediate transactions serialise them, and
each claim re-checks the row's state, so nothing is acted on twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils import timezone

from sofia_checkout.appointments.models import RELEASED_APPOINTMENT_STATUSES, Appointment, AppointmentStatus
from sofia_checkout.core.errors import DomainError
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


@dataclass
class ReconcileReport:
    expired_appointments: int = 0
    kept_because_paid: int = 0
    sessions_polled: int = 0
    sessions_changed: int = 0
    refunds_made: int = 0
    refunds_rechecked: int = 0
    rejected_webhooks_purged: int = 0
    errors: list[str] = field(default_factory=list)


def _refresh_live_sessions(appointment: Appointment, report: ReconcileReport) -> bool:
    """Ask the provider about each live session; stop unpaid ones. True if money arrived or is in review."""
    for session in PaymentSession.objects.filter(appointment=appointment, status__in=LIVE_PAYMENT_STATUSES):
        if not session.provider_session_id:
            # The appointment row is locked, so no create call for it is in flight (one not started yet
            # finds its attempt closed and stops): it never got an answer.
            state = ABANDONED_BEFORE_CREATION
        else:
            adapter = get_provider(session.provider)
            state = adapter.retrieve_session(session.provider_session_id)
            if state.status in {PaymentStatus.OPEN, PaymentStatus.CREATING}:
                state = adapter.cancel_session(session.provider_session_id)
                if state.status in {PaymentStatus.OPEN, PaymentStatus.CREATING}:
                    # The hold is over either way; a late payment is caught ("paid after release").
                    logger.error(
                        "reconcile: provider still reports the session open after cancel",
                        extra={"appointment_id": str(appointment.id), "payment_session_id": str(session.id)},
                    )
                    PaymentSession.objects.filter(pk=session.pk).update(
                        attention="Still open at the provider after its hold expired: watch for late payment."
                    )
                    state = ProviderSession(
                        state.provider_session_id, PaymentStatus.EXPIRED, state.provider_status
                    )
        updated = payment_session_apply_provider_state(
            payment_session_id=session.id, state=state, source="reconcile"
        )
        if updated.status in {PaymentStatus.PAID, PaymentStatus.PROCESSING}:
            return True
    return False


def expire_abandoned(*, now: datetime, report: ReconcileReport, limit: int = 100) -> None:
    candidates = list(
        Appointment.objects.filter(status=AppointmentStatus.PENDING_PAYMENT, hold_expires_at__lte=now)
        .order_by("hold_expires_at")
        .values_list("pk", flat=True)[:limit]
    )
    for appointment_id in candidates:
        try:
            with transaction.atomic():
                appointment = (
                    Appointment.objects.select_for_update(skip_locked=True)
                    .filter(
                        pk=appointment_id, status=AppointmentStatus.PENDING_PAYMENT, hold_expires_at__lte=now
                    )
                    .first()
                )
                if appointment is None:
                    continue  # another copy holds it, or it changed meanwhile
                if _refresh_live_sessions(appointment, report):
                    report.kept_because_paid += 1
                    continue
                appointment.refresh_from_db()
                if appointment.status == AppointmentStatus.PENDING_PAYMENT:
                    appointment_set_status(appointment, AppointmentStatus.EXPIRED, reason="hold expired")
                    report.expired_appointments += 1
        except (ProviderError, DomainError, DatabaseError) as exc:
            # One row's trouble (provider down, a lock timeout) is reported; the pass goes on.
            report.errors.append(f"{appointment_id}: {exc}")
            logger.warning("reconcile: could not expire", extra={"appointment_id": str(appointment_id)})


def repoll_stuck(*, now: datetime, report: ReconcileReport, limit: int = 100) -> None:
    """Sessions open/processing for longer than RECONCILE_STALE_MINUTES: a missed webhook still ends right."""
    stale_before = now - timedelta(minutes=settings.RECONCILE_STALE_MINUTES)
    candidates = list(
        PaymentSession.objects.filter(
            status__in=(PaymentStatus.OPEN, PaymentStatus.PROCESSING), updated_at__lte=stale_before
        )
        .filter(Q(last_synced_at__isnull=True) | Q(last_synced_at__lte=stale_before))
        .exclude(provider_session_id=None)
        .values_list("pk", "appointment_id")[:limit]
    )
    for session_id, appointment_id in candidates:
        try:
            with transaction.atomic():
                # Lock order as everywhere: the appointment, then the session (no deadlock with webhooks
                # or the expiry pass); SKIP LOCKED leaves rows another copy is working on.
                appointment = (
                    Appointment.objects.select_for_update(skip_locked=True).filter(pk=appointment_id).first()
                )
                session = (
                    PaymentSession.objects.select_for_update(skip_locked=True)
                    .filter(pk=session_id, status__in=(PaymentStatus.OPEN, PaymentStatus.PROCESSING))
                    .filter(Q(last_synced_at__isnull=True) | Q(last_synced_at__lte=stale_before))
                    .first()
                    if appointment is not None
                    else None
                )
                if session is None:
                    continue
                state = get_provider(session.provider).retrieve_session(session.provider_session_id or "")
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
    return report
