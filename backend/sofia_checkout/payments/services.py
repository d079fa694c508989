"""Payment sessions: start one, re-sync it, cancel it. Status changes themselves happen in `state`.

Lock order everywhere: the appointment row first, then the payment session row (no deadlocks between the
create call, webhooks and the return-page sync).
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from sofia_checkout.appointments.models import RELEASED_APPOINTMENT_STATUSES, Appointment, AppointmentStatus
from sofia_checkout.appointments.selectors import appointment_lock
from sofia_checkout.core.errors import Conflict, NotFound, ProviderFailed, ProviderUnavailable
from sofia_checkout.payments.models import PaymentSession
from sofia_checkout.payments.providers.base import (
    CreateSessionRequest,
    PaymentProvider,
    ProviderRejectedError,
    ProviderSession,
    ProviderUnavailableError,
)
from sofia_checkout.payments.providers.registry import get_provider
from sofia_checkout.payments.refunds import payment_session_refund_if_owed
from sofia_checkout.payments.state import (
    ABANDONED_BEFORE_CREATION,
    payment_session_apply_provider_state,
    session_log_extra,
)
from sofia_checkout.payments.statuses import LIVE_PAYMENT_STATUSES, PaymentStatus

logger = logging.getLogger(__name__)


def _return_urls(session: PaymentSession, adapter: PaymentProvider) -> tuple[str, str]:
    base = settings.FRONTEND_BASE_URL
    query = urlencode(
        {
            "appointment_id": str(session.appointment_id),
            "payment_session_id": str(session.id),
            "provider": session.provider,
        }
    )
    # The provider puts its own session id in the URL; we never trust it, the return page re-syncs.
    success = f"{base}/checkout/return?{query}&{adapter.success_url_suffix}"
    return success, f"{base}/checkout/cancelled?{query}"


class AttemptsExhausted(Conflict):
    code = "payment_attempts_exhausted"


class HoldEnding(Conflict):
    code = "hold_ending"


def _ensure_payable(appointment: Appointment, now: datetime) -> None:
    if appointment.cancel_requested_at is not None:
        raise Conflict("This appointment is being cancelled.", errors={"status": ["cancelling"]})
    if appointment.status == AppointmentStatus.CONFIRMED:
        raise Conflict("This appointment is already paid.", errors={"status": ["confirmed"]})
    if appointment.status == AppointmentStatus.PAYMENT_PROCESSING:
        raise Conflict(
            "A payment for this appointment is under review.", errors={"status": ["payment_processing"]}
        )
    if appointment.status in RELEASED_APPOINTMENT_STATUSES:
        raise Conflict(
            f"This appointment is {appointment.status}; please book again.",
            errors={"status": [appointment.status]},
        )
    if appointment.hold_expires_at <= now:
        raise Conflict(
            "The hold on this slot has expired; please book again.", errors={"status": ["expired"]}
        )


# An open page about to expire is not handed out again: the shopper could not finish paying on it.
_OPEN_REUSE_MARGIN = timedelta(minutes=1)


def _reusable(session: PaymentSession, provider: str, now: datetime) -> bool:
    """A live session the shopper can still use for `provider`: open and not about to expire, or an attempt
    whose provider never answered and whose stored parameters the provider would still accept."""
    if session.provider != provider:
        return False
    if session.status == PaymentStatus.OPEN:
        return session.expires_at > now + _OPEN_REUSE_MARGIN
    if session.status == PaymentStatus.CREATING:
        return session.expires_at > now + get_provider(provider).min_resend_lifetime
    return False


def _cancel_unusable_live_session(appointment_id: uuid.UUID, provider: str, now: datetime) -> None:
    """Cancel at the provider a live session that will not be reused (the other method, or one about to
    expire) before a new one is made, so one appointment can never be paid twice. A new attempt that would
    be refused anyway (attempt limit, hold cap) is refused first: the refusal must not also take away the
    page the shopper can still pay on."""
    session = PaymentSession.objects.filter(
        appointment_id=appointment_id, status__in=LIVE_PAYMENT_STATUSES
    ).first()
    if session is None or session.status == PaymentStatus.PROCESSING or _reusable(session, provider, now):
        return
    appointment = Appointment.objects.get(pk=appointment_id)
    attempts = PaymentSession.objects.filter(appointment_id=appointment_id).count()
    _new_attempt_expiry(appointment, provider, attempts, now)
    payment_session_cancel(payment_session=session)
    session.refresh_from_db()
    if session.status in {PaymentStatus.PAID, PaymentStatus.PROCESSING}:
        raise Conflict(
            "A payment for this appointment has already been made.", errors={"provider": [session.provider]}
        )


def _abandon_if_never_created(payment_session: PaymentSession) -> PaymentSession | None:
    """Under the locks, cancel locally an attempt whose provider never answered; None if it has a provider
    session by now (a create call in flight held the lock and stored it), which must be stopped there."""
    with transaction.atomic():
        appointment_lock(appointment_id=payment_session.appointment_id)
        session = PaymentSession.objects.select_for_update().get(pk=payment_session.pk)
        if session.provider_session_id and session.status in LIVE_PAYMENT_STATUSES:
            return None
        if session.status not in LIVE_PAYMENT_STATUSES:
            return session
        return payment_session_apply_provider_state(
            payment_session_id=session.id,
            state=ABANDONED_BEFORE_CREATION,
            source="cancel",
        )


def payment_session_cancel(*, payment_session: PaymentSession) -> PaymentSession:
    """Stop an unpaid session at the provider and record the outcome.

    A session whose provider never answered its create call is abandoned locally (nobody holds a link to
    it, and a provider that took the call lets it expire at expires_at). Raises ProviderUnavailable when
    the provider cannot be reached, ProviderFailed when it refuses or still reports the session payable:
    the session then stays live and nothing else changes.
    """
    if payment_session.status not in LIVE_PAYMENT_STATUSES:
        return payment_session
    if not payment_session.provider_session_id:
        abandoned = _abandon_if_never_created(payment_session)
        if abandoned is not None:
            return abandoned
        payment_session.refresh_from_db()
    adapter = get_provider(payment_session.provider)
    try:
        state = adapter.cancel_session(payment_session.provider_session_id or "")
    except ProviderUnavailableError as exc:
        logger.warning(
            "cancel failed: provider unavailable", extra=session_log_extra(payment_session, error=exc.message)
        )
        raise ProviderUnavailable() from exc
    except ProviderRejectedError as exc:
        logger.error(
            "cancel refused by provider", extra=session_log_extra(payment_session, error=exc.message)
        )
        raise ProviderFailed() from exc
    if state.status in {PaymentStatus.OPEN, PaymentStatus.CREATING}:
        # Still payable at the provider: recording it as cancelled would let the shopper pay twice.
        logger.error(
            "cancel not taken by provider",
            extra=session_log_extra(payment_session, reported=state.provider_status),
        )
        raise ProviderFailed("We could not stop the earlier payment attempt. Please try again shortly.")
    return payment_session_apply_provider_state(
        payment_session_id=payment_session.id, state=state, source="cancel"
    )


def _new_attempt_expiry(appointment: Appointment, provider: str, attempts: int, now: datetime) -> datetime:
    """When a new attempt with `provider` would expire; refuses (409) one over the attempt limit, or one
    the hold cap would leave too short a life for the provider."""
    if attempts >= settings.PAYMENT_ATTEMPTS_MAX:
        raise AttemptsExhausted(
            "Too many payment attempts for this booking; please book again.",
            errors={"provider": [f"At most {settings.PAYMENT_ATTEMPTS_MAX} attempts per booking."]},
        )
    adapter = get_provider(provider)
    # Switching methods moves the hold to the new page's expiry, but never past this absolute cap.
    cap = appointment.created_at + timedelta(minutes=settings.APPOINTMENT_HOLD_MAX_MINUTES)
    expires_at = min(now + adapter.session_ttl, cap)
    if expires_at - now < adapter.session_ttl_bounds[0]:
        raise HoldEnding(
            "The hold on this slot ends too soon to start a new payment; please book again.",
            errors={"status": ["hold_ending"]},
        )
    return expires_at


def _reserve_attempt(
    *, appointment_id: uuid.UUID | str, provider: str, now: datetime
) -> tuple[PaymentSession, bool]:
    """Phase 1: under the appointment lock, reuse the live attempt or store a new one (key + parameters).

    Returns (session, ready): ready means the provider session already exists and is still open.
    """
    with transaction.atomic():
        appointment = appointment_lock(appointment_id=appointment_id)
        _ensure_payable(appointment, now)
        live = PaymentSession.objects.filter(
            appointment=appointment, status__in=LIVE_PAYMENT_STATUSES
        ).first()
        if live is not None:
            if not _reusable(live, provider, now):
                # Cancelled before we got here unless a parallel request started another method meanwhile.
                raise Conflict("Another payment attempt is still open.", errors={"provider": [live.provider]})
            # OPEN: ready to use. CREATING: a previous try never got an answer; resend its key and parameters.
            return live, live.status == PaymentStatus.OPEN
        earlier = list(
            PaymentSession.objects.filter(appointment=appointment).values_list("provider", flat=True)
        )
        expires_at = _new_attempt_expiry(appointment, provider, len(earlier), now)
        attempt = earlier.count(provider) + 1
        session = PaymentSession.objects.create(
            appointment=appointment,
            provider=provider,
            attempt=attempt,
            idempotency_key=f"sofia-{appointment.id}-{provider}-{attempt}",
            amount_cents=appointment.amount_cents,
            currency=appointment.currency,
            expires_at=expires_at,
        )
        return session, False


def payment_session_start(
    *, appointment_id: uuid.UUID | str, provider: str, now: datetime | None = None
) -> tuple[PaymentSession, bool]:
    """Start (or reuse) the payment session for an appointment with `provider`. Returns (session, created).

    Idempotent: double clicks, retries and parallel requests share one stored attempt and therefore one
    idempotency key, so the provider creates exactly one session. A live session of the other method is
    cancelled first. Raises Conflict (not payable), ProviderUnavailable (503) or ProviderFailed (502); on
    provider failure the stored attempt stays, and a retry resends the same key and parameters.
    """
    adapter = get_provider(provider)
    now = now or timezone.now()
    try:
        uuid.UUID(str(appointment_id))
    except ValueError:
        raise NotFound("No appointment with this id.") from None
    _cancel_unusable_live_session(uuid.UUID(str(appointment_id)), provider, now)
    try:
        session, ready = _reserve_attempt(appointment_id=appointment_id, provider=provider, now=now)
    except IntegrityError:
        # A parallel request stored the attempt between our read and write: take theirs.
        session, ready = _reserve_attempt(appointment_id=appointment_id, provider=provider, now=now)
    if ready:
        return session, False

    # Phase 2: one caller at a time talks to the provider for this attempt; the others then find it done.
    with transaction.atomic():
        appointment = appointment_lock(appointment_id=session.appointment_id)
        session = PaymentSession.objects.select_for_update().get(pk=session.pk)
        if session.status == PaymentStatus.OPEN:
            return session, False  # a parallel caller created it while we waited for the lock
        if session.status != PaymentStatus.CREATING:
            # Closed between the phases (another method chosen, appointment cancelled, hold expired): a
            # provider session made now would be a second way to pay.
            raise Conflict(
                "This payment attempt was closed meanwhile; please choose how to pay again.",
                errors={"provider": [session.provider]},
            )
        _ensure_payable(appointment, timezone.now())
        success_url, cancel_url = _return_urls(session, adapter)
        request = CreateSessionRequest(
            payment_session_id=str(session.id),
            appointment_id=str(appointment.id),
            idempotency_key=session.idempotency_key,
            amount_cents=session.amount_cents,
            currency=session.currency,
            sku=appointment.service,
            description=f"{appointment.service_name} with {appointment.practitioner}",
            customer_email=appointment.client_email,
            customer_name=appointment.client_name,
            customer_state=appointment.client_state,
            success_url=success_url,
            cancel_url=cancel_url,
            expires_at=session.expires_at,
        )
        refused: ProviderRejectedError | None = None
        try:
            state = adapter.create_session(request)
        except ProviderUnavailableError as exc:
            logger.warning(
                "create failed: provider unavailable", extra=session_log_extra(session, error=exc.message)
            )
            raise ProviderUnavailable() from exc
        except ProviderRejectedError as exc:
            # A refusal created nothing: close this attempt so a retry starts a fresh one (new key).
            logger.error("create refused by provider", extra=session_log_extra(session, error=exc.message))
            refused = exc
            state = ProviderSession("", PaymentStatus.FAILED, "create_refused")
        if refused is None and appointment.hold_expires_at < session.expires_at:
            # The hold lasts as long as the payment page can be used.
            appointment.hold_expires_at = session.expires_at
            appointment.save(update_fields=["hold_expires_at", "updated_at"])
        session = payment_session_apply_provider_state(
            payment_session_id=session.id, state=state, source="create"
        )
    if refused is not None:
        raise ProviderFailed() from refused
    logger.info("payment session created", extra=session_log_extra(session))
    return session, True


def payment_session_sync(*, payment_session: PaymentSession) -> PaymentSession:
    """Re-fetch the session from its provider and apply it (the return page's call).

    Raises ProviderUnavailable / ProviderFailed; the stored state is left as it was.
    """
    if not payment_session.provider_session_id:
        return payment_session
    adapter = get_provider(payment_session.provider)
    try:
        state = adapter.retrieve_session(payment_session.provider_session_id)
    except ProviderUnavailableError as exc:
        raise ProviderUnavailable(
            "We could not check the payment right now. Please try again shortly."
        ) from exc
    except ProviderRejectedError as exc:
        raise ProviderFailed("The payment provider could not find this payment.") from exc
    session = payment_session_apply_provider_state(
        payment_session_id=payment_session.id, state=state, source="sync"
    )
    if payment_session_refund_if_owed(payment_session=session) is not None:
        session.refresh_from_db()
    return session
