"""Payment sessions: start one, re-sync it, cancel it. Status changes themselves happen in `state`.

No transaction is open and no row locked while a provider is called: a caller claims the attempt in a
short transaction (a lease, payments/leases.py), calls the provider, then applies the answer in another.
Lock order inside those transactions: the appointment row first, then the payment session row (no
deadlocks between the create call, webhooks and the return-page sync).
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Literal, NoReturn
from urllib.parse import urlencode

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from sofia_checkout.appointments.access import APPOINTMENT_NOT_FOUND, appointment_get_authorized
from sofia_checkout.appointments.models import RELEASED_APPOINTMENT_STATUSES, Appointment, AppointmentStatus
from sofia_checkout.appointments.selectors import appointment_lock
from sofia_checkout.core.db import release_connection_while_waiting
from sofia_checkout.core.errors import Conflict, NotFound, ProviderFailed, ProviderUnavailable
from sofia_checkout.payments.leases import lease_held, provider_call_lease, wait_for_release
from sofia_checkout.payments.models import PaymentSession
from sofia_checkout.payments.providers.base import (
    CreateSessionRequest,
    PaymentProvider,
    ProviderError,
    ProviderRejectedError,
    ProviderSession,
    ProviderUnavailableError,
)
from sofia_checkout.payments.providers.registry import get_provider
from sofia_checkout.payments.refunds import payment_session_refund_if_owed
from sofia_checkout.payments.state import (
    ABANDONED_BEFORE_CREATION,
    payment_session_apply_provider_state,
    payment_session_record_created,
    session_log_extra,
)
from sofia_checkout.payments.statuses import LIVE_PAYMENT_STATUSES, UNPAID_FINAL_STATUSES, PaymentStatus

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


def _lease_of(payment_session_id: uuid.UUID) -> datetime | None:
    return (
        PaymentSession.objects.filter(pk=payment_session_id)
        .values_list("provider_call_until", flat=True)
        .first()
    )


def _take_lease(session: PaymentSession, now: datetime) -> datetime:
    """Store that this caller is talking to the provider about `session` (inside the caller's short
    transaction). A plain UPDATE: the lease is bookkeeping, not a change the reconcile job should see."""
    until = now + provider_call_lease()
    PaymentSession.objects.filter(pk=session.pk).update(provider_call_until=until)
    session.provider_call_until = until
    return until


def _release_lease(payment_session_id: uuid.UUID, lease: datetime) -> None:
    PaymentSession.objects.filter(pk=payment_session_id, provider_call_until=lease).update(
        provider_call_until=None
    )


@dataclass(frozen=True)
class _StopClaim:
    session: PaymentSession
    lease: datetime | None = None  # set: this caller stops it at the provider
    wait: bool = False  # another caller is at the provider about it


def _claim_stop(payment_session_id: uuid.UUID) -> _StopClaim:
    """One short transaction under the appointment and session locks: nothing to do (closed already), an
    attempt nobody is creating and that never got an answer (closed here), another caller at the provider
    (wait for it), or the lease to stop it at the provider."""
    with transaction.atomic():
        appointment_id = PaymentSession.objects.values_list("appointment_id", flat=True).get(
            pk=payment_session_id
        )
        appointment_lock(appointment_id=appointment_id)
        session = PaymentSession.objects.select_for_update().get(pk=payment_session_id)
        now = timezone.now()
        if session.status not in LIVE_PAYMENT_STATUSES:
            return _StopClaim(session)
        if lease_held(session.provider_call_until, now):
            return _StopClaim(session, wait=True)
        if not session.provider_session_id:
            # No create call is in flight (no lease) and none got an answer: nobody holds a link to pay
            # it, and a provider that took a call lets it expire at expires_at.
            closed = payment_session_apply_provider_state(
                payment_session_id=session.id, state=ABANDONED_BEFORE_CREATION, source="cancel"
            )
            return _StopClaim(closed)
        return _StopClaim(session, lease=_take_lease(session, now))


def payment_session_cancel(*, payment_session: PaymentSession) -> PaymentSession:
    """Stop an unpaid session at the provider and record the outcome; no transaction is open meanwhile.

    A create call in flight for it is waited for (its lease), then its answer is stopped. A session whose
    provider never answered its create call is abandoned locally. Raises ProviderUnavailable when the
    provider cannot be reached (or a caller at the provider does not finish in time), ProviderFailed when
    it refuses or still reports the session payable: the session then stays live and nothing else changes.
    """
    if payment_session.status not in LIVE_PAYMENT_STATUSES:
        return payment_session
    deadline = time.monotonic() + provider_call_lease().total_seconds()
    claim = _claim_stop(payment_session.id)
    while claim.wait:
        released = wait_for_release(partial(_lease_of, payment_session.id), deadline=deadline)
        if not released or time.monotonic() >= deadline:
            raise ProviderUnavailable("This payment is still being set up; please try again shortly.")
        claim = _claim_stop(payment_session.id)
    session, lease = claim.session, claim.lease
    if lease is None:
        return session
    adapter = get_provider(session.provider)
    release_connection_while_waiting()
    try:
        state = adapter.cancel_session(session.provider_session_id or "")
    except ProviderUnavailableError as exc:
        _release_lease(session.id, lease)
        logger.warning(
            "cancel failed: provider unavailable", extra=session_log_extra(session, error=exc.message)
        )
        raise ProviderUnavailable() from exc
    except ProviderRejectedError as exc:
        _release_lease(session.id, lease)
        logger.error("cancel refused by provider", extra=session_log_extra(session, error=exc.message))
        raise ProviderFailed() from exc
    if state.status in {PaymentStatus.OPEN, PaymentStatus.CREATING}:
        # Still payable at the provider: recording it as cancelled would let the shopper pay twice.
        _release_lease(session.id, lease)
        logger.error(
            "cancel not taken by provider", extra=session_log_extra(session, reported=state.provider_status)
        )
        raise ProviderFailed("We could not stop the earlier payment attempt. Please try again shortly.")
    return payment_session_apply_provider_state(
        payment_session_id=session.id, state=state, source="cancel", release_lease=lease
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


@dataclass(frozen=True)
class _Attempt:
    """What the claim decided for a caller that does not create anything itself."""

    session: PaymentSession
    # ready: the open page to hand out; wait: another caller is at the provider about it; stop_first: the
    # live page of another method (or one about to expire) is stopped at its provider before a new attempt.
    action: Literal["ready", "wait", "stop_first"]


@dataclass(frozen=True)
class _Send:
    """This caller holds the attempt's lease and creates it at the provider with exactly `request`."""

    session: PaymentSession
    lease: datetime
    request: CreateSessionRequest


def _create_request(
    session: PaymentSession, appointment: Appointment, adapter: PaymentProvider
) -> CreateSessionRequest:
    """Exactly the stored parameters, so a resend with the same key is the same request."""
    success_url, cancel_url = _return_urls(session, adapter)
    return CreateSessionRequest(
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


def _extend_hold(appointment: Appointment, until: datetime) -> None:
    """The hold lasts as long as the attempt's page can be used (set before the call: a page the provider
    made for a call that then timed out is covered too). The appointment row is locked by the caller."""
    if appointment.hold_expires_at is None or appointment.hold_expires_at < until:
        Appointment.objects.filter(pk=appointment.pk).update(hold_expires_at=until, updated_at=timezone.now())
        appointment.hold_expires_at = until


def _claim_attempt(
    *,
    appointment_id: uuid.UUID | str,
    provider: str,
    adapter: PaymentProvider,
    now: datetime,
    presented_token: str | None,
) -> _Attempt | _Send:
    """Phase 1, one short transaction under the appointment lock: hand out the open page, or claim the
    attempt to create at the provider (the live one whose provider never answered, resent with its key and
    parameters, or a new one stored with a deterministic key and frozen parameters) with a lease.
    `presented_token`, when given, is checked against the locked row (no query of its own)."""
    with transaction.atomic():
        if presented_token is None:
            appointment = appointment_lock(appointment_id=appointment_id, with_practitioner=True)
        else:
            appointment = appointment_get_authorized(
                appointment_id=appointment_id, presented=presented_token, lock=True
            )
        _ensure_payable(appointment, now)
        sessions = list(PaymentSession.objects.filter(appointment=appointment))
        live = next((s for s in sessions if s.status in LIVE_PAYMENT_STATUSES), None)
        clock = timezone.now()
        if live is not None:
            if lease_held(live.provider_call_until, clock):
                return _Attempt(live, "wait")
            if _reusable(live, provider, now):
                if live.status == PaymentStatus.OPEN:
                    return _Attempt(live, "ready")
                lease = _take_lease(live, clock)
                _extend_hold(appointment, live.expires_at)
                return _Send(live, lease, _create_request(live, appointment, adapter))
            if live.status == PaymentStatus.PROCESSING:
                raise Conflict("Another payment attempt is still open.", errors={"provider": [live.provider]})
            # Refused first if the new attempt would be refused anyway (attempt limit, hold cap): the
            # refusal must not also take away the page the shopper can still pay on.
            _new_attempt_expiry(appointment, provider, len(sessions), now)
            return _Attempt(live, "stop_first")
        expires_at = _new_attempt_expiry(appointment, provider, len(sessions), now)
        attempt = sum(1 for s in sessions if s.provider == provider) + 1
        session = PaymentSession.objects.create(
            appointment=appointment,
            provider=provider,
            attempt=attempt,
            idempotency_key=f"sofia-{appointment.id}-{provider}-{attempt}",
            amount_cents=appointment.amount_cents,
            currency=appointment.currency,
            expires_at=expires_at,
            provider_call_until=(lease := clock + provider_call_lease()),
        )
        _extend_hold(appointment, expires_at)
        return _Send(session, lease, _create_request(session, appointment, adapter))


def payment_session_start(
    *,
    appointment_id: uuid.UUID | str,
    provider: str,
    now: datetime | None = None,
    presented_token: str | None = None,
) -> tuple[PaymentSession, bool]:
    """Start (or reuse) the payment session for an appointment with `provider`. Returns (session, created).

    Idempotent: double clicks, retries and parallel requests share one stored attempt and therefore one
    idempotency key; one caller at a time holds the attempt's lease and talks to the provider (with no
    transaction open), the others wait for its outcome, so the provider creates exactly one session. A
    live session of the other method is stopped at its provider first. Raises Conflict (not payable),
    ProviderUnavailable (503) or ProviderFailed (502); on provider failure the stored attempt stays, and a
    retry resends the same key and parameters. With `presented_token`, the appointment's access token is
    checked under the same lock (NotFound, like an unknown id, when it does not match).
    """
    adapter = get_provider(provider)
    try:
        uuid.UUID(str(appointment_id))
    except ValueError:
        raise NotFound(APPOINTMENT_NOT_FOUND) from None
    deadline = time.monotonic() + provider_call_lease().total_seconds()
    while True:
        try:
            attempt = _claim_attempt(
                appointment_id=appointment_id,
                provider=provider,
                adapter=adapter,
                now=now or timezone.now(),
                presented_token=presented_token,
            )
        except IntegrityError:
            # A parallel request stored an attempt between our read and write: look again.
            if time.monotonic() >= deadline:
                raise
            continue
        if isinstance(attempt, _Send):
            return _create_at_provider(attempt, adapter), True
        if attempt.action == "ready":
            return attempt.session, False
        if time.monotonic() >= deadline:
            raise ProviderUnavailable("This payment is still being set up; please try again shortly.")
        if attempt.action == "wait":
            wait_for_release(partial(_lease_of, attempt.session.id), deadline=deadline)
            continue
        stopped = payment_session_cancel(payment_session=attempt.session)
        if stopped.status in {PaymentStatus.PAID, PaymentStatus.PROCESSING}:
            raise Conflict(
                "A payment for this appointment has already been made.",
                errors={"provider": [stopped.provider]},
            )


def _create_at_provider(attempt: _Send, adapter: PaymentProvider) -> PaymentSession:
    """Phase 2: the provider call, with no transaction open and no row locked; then its answer applied."""
    session, lease, request = attempt.session, attempt.lease, attempt.request
    release_connection_while_waiting()
    try:
        state = adapter.create_session(request)
    except ProviderUnavailableError as exc:
        _release_lease(session.id, lease)  # a retry, or a caller waiting, resends the same key at once
        logger.warning(
            "create failed: provider unavailable", extra=session_log_extra(session, error=exc.message)
        )
        raise ProviderUnavailable() from exc
    except ProviderRejectedError as exc:
        # A refusal created nothing: close this attempt so a retry starts a fresh one (new key).
        logger.error("create refused by provider", extra=session_log_extra(session, error=exc.message))
        payment_session_apply_provider_state(
            payment_session_id=session.id,
            state=ProviderSession("", PaymentStatus.FAILED, "create_refused"),
            source="create",
            release_lease=lease,
        )
        raise ProviderFailed() from exc
    if not payment_session_record_created(payment_session=session, state=state):
        # Moved meanwhile (a webhook was faster, or the attempt was closed after its lease ran out): the
        # full, monotonic apply under the locks decides.
        session = payment_session_apply_provider_state(
            payment_session_id=session.id, state=state, source="create", release_lease=lease
        )
        if state.status == PaymentStatus.OPEN and session.status in UNPAID_FINAL_STATUSES:
            _stop_orphan_page(adapter, session, state.provider_session_id)
    logger.info("payment session created", extra=session_log_extra(session))
    return session


def _stop_orphan_page(
    adapter: PaymentProvider, session: PaymentSession, provider_session_id: str
) -> NoReturn:
    """The attempt was closed while its create call ran past its lease: the page the provider just made
    must not stay payable. Stopped here (best effort; the appointment is flagged if that fails)."""
    try:
        adapter.cancel_session(provider_session_id)
    except ProviderError as exc:
        logger.error("orphan provider page not stopped", extra=session_log_extra(session, error=exc.message))
        PaymentSession.objects.filter(pk=session.pk).update(
            attention=f"Provider page {provider_session_id} made after this attempt closed: stop it by hand."
        )
    raise Conflict(
        "This payment attempt was closed meanwhile; please choose how to pay again.",
        errors={"provider": [session.provider]},
    )


def payment_session_sync(*, payment_session: PaymentSession) -> PaymentSession:
    """Re-fetch the session from its provider and apply it (the return page's call).

    Raises ProviderUnavailable / ProviderFailed; the stored state is left as it was.
    """
    if not payment_session.provider_session_id:
        return payment_session
    adapter = get_provider(payment_session.provider)
    release_connection_while_waiting()
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
