"""The transactional outbox: a message is stored with the change it tells about and sent after the commit.

- `outbox_enqueue` runs inside the caller's transaction (the status change): the row commits or rolls back
  with it, so a change is never without its message and a rolled-back change never sends one. The unique
  (appointment, event, occurrence) makes a second enqueue of the same message a no-op.
- `outbox_send` runs after the commit (`transaction.on_commit`) and from the reconcile job, never inside a
  transaction: a short UPDATE claims the row with a lease, SMTP is spoken with no transaction or lock open,
  another short UPDATE records the outcome. Two senders never both hold a row, so a message is sent once
  (at least once if a sender dies between SMTP's answer and the record: the lease then runs out and it is
  sent again, with the same Message-ID so mail clients can fold the copies).
- A failure never reaches the caller: the row waits with a doubling delay (EMAIL_RETRY_FIRST_SECONDS up to
  EMAIL_RETRY_MAX_SECONDS) and is marked failed after EMAIL_MAX_ATTEMPTS or a permanent refusal (5xx).
"""

from __future__ import annotations

import functools
import logging
import smtplib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from sofia_checkout.appointments.models import Appointment
from sofia_checkout.notifications.messages import email_message
from sofia_checkout.notifications.models import SENDABLE_STATUSES, EmailEvent, OutboxEmail, OutboxStatus
from sofia_checkout.payments.models import PaymentSession

logger = logging.getLogger(__name__)

# Long past any SMTP conversation (EMAIL_TIMEOUT_SECONDS per socket operation): a live sender never loses
# its claim; a dead one's row is taken again after this.
CLAIM_LEASE = timedelta(minutes=5)
# SMTP codes that say "your credentials or TLS", not "this message": fixed by an operator, then retried.
_RETRYABLE_5XX = frozenset({530, 534, 535})


def outbox_enqueue(
    *,
    appointment: Appointment,
    event: EmailEvent,
    occurrence: str = "",
    payment_session: PaymentSession | None = None,
    facts: dict[str, Any] | None = None,
) -> OutboxEmail | None:
    """Store one message in the current transaction and send it once that commits. None: queued before."""
    try:
        with transaction.atomic():  # a savepoint: a duplicate leaves the caller's transaction usable
            email = OutboxEmail.objects.create(
                appointment=appointment,
                event=event,
                occurrence=occurrence,
                payment_session=payment_session,
                facts=facts or {},
            )
    except IntegrityError:
        logger.info(
            "email already queued", extra={"appointment_id": str(appointment.pk), "email_event": str(event)}
        )
        return None
    transaction.on_commit(functools.partial(outbox_send, email_id=email.pk), robust=True)
    return email


def _claim(email_id: int, now: datetime) -> uuid.UUID | None:
    token = uuid.uuid4()
    claimed = (
        OutboxEmail.objects.filter(pk=email_id, status__in=SENDABLE_STATUSES, next_attempt_at__lte=now)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))
        .update(claimed_until=now + CLAIM_LEASE, claim_token=token, updated_at=now)
    )
    return token if claimed else None


def describe_failure(exc: BaseException) -> tuple[str, bool]:
    """(what to record, whether retrying is pointless). Only the error's kind and SMTP codes: a server's
    text may echo the recipient's address or the login."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _ in exc.recipients.values()})
        permanent = bool(codes) and all(500 <= code < 600 for code in codes)
        return f"SMTPRecipientsRefused {','.join(map(str, codes))}".strip(), permanent
    if isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
        return f"{type(exc).__name__} {code}", 500 <= code < 600 and code not in _RETRYABLE_5XX
    return type(exc).__name__, False


def retry_delay(attempts: int) -> timedelta:
    """The wait after the n-th failed attempt: doubling from EMAIL_RETRY_FIRST_SECONDS, capped."""
    seconds = settings.EMAIL_RETRY_FIRST_SECONDS * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, settings.EMAIL_RETRY_MAX_SECONDS))


def _record_failure(email: OutboxEmail, token: uuid.UUID, exc: Exception) -> OutboxStatus:
    now = timezone.now()
    description, permanent = describe_failure(exc)
    attempts = email.attempts + 1
    status = (
        OutboxStatus.FAILED if permanent or attempts >= settings.EMAIL_MAX_ATTEMPTS else OutboxStatus.RETRYING
    )
    OutboxEmail.objects.filter(pk=email.pk, claim_token=token).update(
        status=status,
        attempts=attempts,
        last_error=description[:200],
        next_attempt_at=now + retry_delay(attempts),
        claimed_until=None,
        claim_token=None,
        updated_at=now,
    )
    log = logger.error if status == OutboxStatus.FAILED else logger.warning
    log(
        "email not sent",
        extra={
            "appointment_id": str(email.appointment_id),
            "email_id": email.pk,
            "email_event": email.event,
            "attempts": attempts,
            "error": description,
            "status": status,
        },
    )
    return status


def outbox_send(*, email_id: int, now: datetime | None = None) -> OutboxStatus | None:
    """Send one due message if this caller can claim it; its status afterwards (None: not ours to send).

    Never raises for a mail problem (the caller may be a webhook or a payment); database errors propagate.
    """
    now = now or timezone.now()
    if transaction.get_connection().in_atomic_block:
        # Talking to SMTP inside a transaction would hold its locks for the length of a network call.
        logger.warning("email send deferred: called inside a transaction", extra={"email_id": email_id})
    token = _claim(email_id, now)
    if token is None:
        return None
    email = OutboxEmail.objects.select_related("appointment__practitioner", "payment_session").get(
        pk=email_id
    )
    try:
        email_message(email, now=now).send()
    except Exception as exc:  # noqa: BLE001 - any mail failure (network, SMTP, template) waits for a retry
        return _record_failure(email, token, exc)
    recorded = OutboxEmail.objects.filter(pk=email.pk, claim_token=token).update(
        status=OutboxStatus.SENT,
        attempts=F("attempts") + 1,
        sent_at=timezone.now(),
        last_error="",
        claimed_until=None,
        claim_token=None,
        updated_at=timezone.now(),
    )
    if not recorded:
        logger.error("email sent after its claim ran out", extra={"email_id": email.pk})
    logger.info(
        "email sent",
        extra={"appointment_id": str(email.appointment_id), "email_id": email.pk, "email_event": email.event},
    )
    return OutboxStatus.SENT


@dataclass
class OutboxReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0

    def as_counts(self) -> dict[str, int]:
        return {"emails_sent": self.sent, "emails_retrying": self.retrying, "emails_failed": self.failed}


def outbox_send_due(*, now: datetime | None = None, limit: int = 100) -> OutboxReport:
    """Send every message whose time has come (new ones whose after-commit send failed, and retries)."""
    now = now or timezone.now()
    report = OutboxReport()
    due = list(
        OutboxEmail.objects.filter(status__in=SENDABLE_STATUSES, next_attempt_at__lte=now)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for email_id in due:
        try:
            outcome = outbox_send(email_id=email_id, now=now)
        except DatabaseError:
            logger.warning("email send: database error", extra={"email_id": email_id})
            continue
        if outcome == OutboxStatus.SENT:
            report.sent += 1
        elif outcome == OutboxStatus.RETRYING:
            report.retrying += 1
        elif outcome == OutboxStatus.FAILED:
            report.failed += 1
    return report
