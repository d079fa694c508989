"""Webhook intake: authenticate, store, deduplicate, then apply through the one state function.

Every delivery is stored before it is trusted. Unverified deliveries are stored under a hash of their
bytes, so a stranger repeating the same garbage adds one row, not many.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from sofia_checkout.core.errors import NotFound
from sofia_checkout.payments.models import WebhookEvent, WebhookOutcome
from sofia_checkout.payments.providers.base import (
    PaymentProvider,
    ProviderError,
    ProviderSession,
    WebhookAuthError,
    WebhookNotice,
)
from sofia_checkout.payments.providers.registry import enabled_providers, get_provider
from sofia_checkout.payments.refunds import payment_session_refund_if_owed, refund_apply_notice
from sofia_checkout.payments.selectors import payment_session_find_for_webhook
from sofia_checkout.payments.state import payment_session_apply_provider_state

logger = logging.getLogger(__name__)

_MAX_STORED_PAYLOAD = 64 * 1024
# Of a delivery that failed authentication only this much is kept (with its digest): enough to see what
# it was, too little for a stranger to fill the database.
_REJECTED_PREFIX = 256


class WebhookRejected(Exception):
    """Authentication failed (401/400) or the body is not a valid event (400)."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(message)


class WebhookRetryLater(Exception):
    """Stored but not applied (provider unreachable on re-fetch): answer 503, the provider retries."""


@dataclass(frozen=True)
class WebhookResult:
    outcome: str
    duplicate: bool


def _text(body: bytes | str, limit: int = _MAX_STORED_PAYLOAD) -> str:
    """Storable text: PostgreSQL text cannot hold NUL, so it (like invalid UTF-8) becomes U+FFFD."""
    text = body[:limit].decode("utf-8", errors="replace") if isinstance(body, bytes) else body[:limit]
    return text.replace("\x00", "\ufffd")


def _store_rejected(provider: str, body: bytes, error: str) -> None:
    digest = hashlib.sha256(body).hexdigest()
    event, created = WebhookEvent.objects.get_or_create(
        provider=provider,
        dedupe_key=f"unverified:{digest}",
        defaults={
            "payload": _text(body, _REJECTED_PREFIX),
            "signature_valid": False,
            "outcome": WebhookOutcome.REJECTED,
            "error": error,
        },
    )
    if not created:
        WebhookEvent.objects.filter(pk=event.pk).update(deliveries=F("deliveries") + 1)


def _store(provider: str, notice: WebhookNotice, body: bytes) -> tuple[WebhookEvent, bool]:
    """Record the delivery; returns (event, is_duplicate_of_a_finished_one)."""
    defaults = {
        "payload": _text(body),
        "signature_valid": True,
        "event_type": _text(notice.event_type, 100),
        "provider_session_id": _text(notice.provider_session_id or "", 255),
    }
    try:
        with transaction.atomic():
            event, created = WebhookEvent.objects.get_or_create(
                provider=provider, dedupe_key=_text(notice.dedupe_key, 255), defaults=defaults
            )
    except IntegrityError:  # a parallel identical delivery stored it first
        event, created = (
            WebhookEvent.objects.get(provider=provider, dedupe_key=_text(notice.dedupe_key, 255)),
            False,
        )
    if not created:
        WebhookEvent.objects.filter(pk=event.pk).update(deliveries=F("deliveries") + 1)
        # A retry of one that failed, or that came before we knew its session, is worth another try.
        if event.outcome not in {
            WebhookOutcome.FAILED,
            WebhookOutcome.RECEIVED,
            WebhookOutcome.UNKNOWN_SESSION,
        }:
            return event, True
    return event, False


def _finish(event: WebhookEvent, outcome: str, *, error: str = "", session_id: object = None) -> None:
    WebhookEvent.objects.filter(pk=event.pk).update(
        outcome=outcome, error=error[:2000], processed_at=timezone.now(), payment_session_id=session_id
    )


def webhook_answer_codes(*, provider: str) -> tuple[int, int]:
    """(success, authentication failed) HTTP statuses the provider expects; NotFound for an unknown one."""
    if provider not in enabled_providers():
        raise NotFound("No webhook endpoint here.")
    adapter = get_provider(provider)
    return adapter.webhook_ok_status, adapter.webhook_auth_failed_status


def webhook_receive(*, provider: str, body: bytes, headers: Mapping[str, str]) -> WebhookResult:
    """Handle one delivery end to end. Raises WebhookRejected (nothing applied) or WebhookRetryLater."""
    adapter = get_provider(provider)
    try:
        notice = adapter.parse_webhook(body=body, headers=headers)
    except WebhookAuthError as exc:
        _store_rejected(provider, body, str(exc))
        logger.warning("webhook rejected: authentication failed", extra={"provider": provider})
        raise WebhookRejected("invalid_signature", "Webhook authentication failed.") from exc
    except ValueError as exc:
        _store_rejected(provider, body, f"malformed: {exc}")
        raise WebhookRejected("malformed_request", "The webhook body is not a valid event.") from exc

    event, duplicate = _store(provider, notice, body)
    log = {"provider": provider, "dedupe_key": notice.dedupe_key, "event_type": notice.event_type}
    if duplicate:
        logger.info("webhook duplicate ignored", extra=log)
        return WebhookResult(outcome=event.outcome, duplicate=True)
    if notice.livemode is not None and notice.livemode != settings.PAYMENTS_LIVE_MODE:
        # Authentic but from the other mode (a test event on a live endpoint, or the reverse): never applied.
        _finish(event, WebhookOutcome.IGNORED, error=f"livemode={notice.livemode} does not match this site")
        logger.error("webhook from the other mode ignored", extra=log)
        return WebhookResult(outcome=WebhookOutcome.IGNORED, duplicate=False)
    if notice.refund is not None:
        known = refund_apply_notice(provider=provider, notice=notice.refund)
        outcome = WebhookOutcome.APPLIED if known else WebhookOutcome.IGNORED
        _finish(event, outcome)
        return WebhookResult(outcome=outcome, duplicate=False)
    if not notice.handled:
        _finish(event, WebhookOutcome.IGNORED)
        return WebhookResult(outcome=WebhookOutcome.IGNORED, duplicate=False)

    return _apply_session_event(adapter, provider, notice, event)


def _apply_session_event(
    adapter: PaymentProvider, provider: str, notice: WebhookNotice, event: WebhookEvent
) -> WebhookResult:
    """Find our session for a payment-session event and apply the provider's state to it."""
    log = {"provider": provider, "dedupe_key": notice.dedupe_key, "event_type": notice.event_type}
    session = payment_session_find_for_webhook(
        provider=provider,
        provider_session_id=notice.provider_session_id,
        our_payment_session_id=notice.our_payment_session_id,
    )
    if (
        session is not None
        and session.provider_session_id
        and notice.provider_session_id
        not in {
            None,
            session.provider_session_id,
        }
    ):
        session = None  # our id echoed back with another provider session: not ours to apply
    if session is None:
        _finish(event, WebhookOutcome.UNKNOWN_SESSION)
        logger.warning("webhook for an unknown session acknowledged", extra=log)
        return WebhookResult(outcome=WebhookOutcome.UNKNOWN_SESSION, duplicate=False)

    state: ProviderSession | None = notice.state
    if state is None:
        # Trigger-only delivery: the body only names a session; what we apply is the provider's own answer.
        try:
            state = adapter.retrieve_session(notice.provider_session_id or session.provider_session_id or "")
        except ProviderError as exc:
            _finish(event, WebhookOutcome.FAILED, error=exc.message, session_id=session.id)
            logger.warning(
                "webhook re-fetch failed; provider will retry", extra={**log, "error": exc.message}
            )
            raise WebhookRetryLater(exc.message) from exc
        if state.our_payment_session_id != str(session.id):
            # The re-fetched session does not name this payment session of ours: not ours to apply.
            _finish(event, WebhookOutcome.UNKNOWN_SESSION, error="re-fetched session names another payment")
            logger.error("webhook re-fetch names another payment session: not applied", extra=log)
            return WebhookResult(outcome=WebhookOutcome.UNKNOWN_SESSION, duplicate=False)
    applied = payment_session_apply_provider_state(
        payment_session_id=session.id, state=state, source="webhook"
    )
    payment_session_refund_if_owed(payment_session=applied)
    _finish(event, WebhookOutcome.APPLIED, session_id=applied.id)
    return WebhookResult(outcome=WebhookOutcome.APPLIED, duplicate=False)
