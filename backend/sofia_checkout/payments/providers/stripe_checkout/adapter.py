"""Stripe Checkout through the official SDK (`StripeClient`, never the global `stripe.api_key`).

https://docs.stripe.com/checkout/fulfillment , https://docs.stripe.com/api/idempotent_requests
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

import stripe

from sofia_checkout.core.logging import request_id_var
from sofia_checkout.payments.providers.backoff import (
    ProviderLimitedError,
    retry_after_header,
    retry_when_limited,
)
from sofia_checkout.payments.providers.base import (
    CreateSessionRequest,
    ProviderRejectedError,
    ProviderSession,
    ProviderUnavailableError,
    RefundNotice,
    RefundOutcome,
    RefundRequest,
    RefundResult,
    RequestGate,
    WebhookAuthError,
    WebhookNotice,
    endpoint_name,
    is_offline_sandbox,
    no_gate,
)
from sofia_checkout.payments.providers.stripe_checkout.mapping import (
    HANDLED_EVENTS,
    REFUND_EVENTS,
    event_status,
    refund_outcome,
    session_status,
)
from sofia_checkout.payments.statuses import PaymentStatus

logger = logging.getLogger(__name__)
T = TypeVar("T")


def _field(obj: Any, name: str) -> Any:
    """Read a field of a StripeObject defensively: webhook payloads use the endpoint's API version."""
    try:
        return obj[name]
    except (KeyError, TypeError):
        return None


def _id_of(value: Any) -> str:
    """An expandable field is either an id string or an expanded object."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return str(_field(value, "id") or "")


@contextmanager
def _translate_errors(action: str) -> Iterator[None]:
    try:
        yield
    except stripe.RateLimitError as exc:
        raise ProviderLimitedError(
            f"Stripe {action}: rate limited",
            retry_after=retry_after_header(exc.headers),
            request_id=exc.request_id or "",
        ) from exc
    except stripe.APIConnectionError as exc:
        raise ProviderUnavailableError(
            f"Stripe {action}: {type(exc).__name__}", http_status=exc.http_status
        ) from exc
    except stripe.APIError as exc:
        raise ProviderUnavailableError(f"Stripe {action}: server error", http_status=exc.http_status) from exc
    except stripe.StripeError as exc:
        if exc.http_status is not None and exc.http_status >= 500:
            raise ProviderUnavailableError(
                f"Stripe {action}: server error", http_status=exc.http_status
            ) from exc
        raise ProviderRejectedError(
            f"Stripe {action}: {type(exc).__name__}: {exc.user_message or exc.code or ''}",
            http_status=exc.http_status,
            provider_code=str(exc.code or ""),
        ) from exc
    except ValueError as exc:  # the SDK could not decode the answer
        raise ProviderUnavailableError(f"Stripe {action}: malformed answer") from exc


class _GatedHTTPXClient(stripe.HTTPXClient):
    """The SDK's httpx client with our request gate in front of every attempt it sends (its own network
    retries included), so no request goes out over our rate limit."""

    def __init__(self, *, gate: RequestGate, api_path: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._gate = gate
        self._api_path = api_path

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> Any:
        path = urlsplit(url).path.removeprefix(self._api_path)
        self._gate(endpoint_name(method, path))
        return super().request(method, url, headers or {}, post_data)


class StripeCheckoutProvider:
    """Adapter for Stripe Checkout Sessions in `payment` mode with server-side `price_data`."""

    name = "stripe"
    display_name = "Card"
    # https://docs.stripe.com/payments/checkout/custom-success-page : Stripe fills in the session id.
    success_url_suffix = "session_id={CHECKOUT_SESSION_ID}"
    # https://docs.stripe.com/api/checkout/sessions/create#create_checkout_session-expires_at : 30 min to
    # 24 h after creation. A stored attempt is resent only while its expires_at is over 31 min away (Stripe
    # would refuse it otherwise), so a TTL under 32 min would make every retry a new attempt.
    min_resend_lifetime = timedelta(minutes=31)
    session_ttl_bounds = (timedelta(minutes=32), timedelta(hours=24))
    # Stripe retries on any non-2xx; a bad signature is the SDK's documented 400.
    webhook_ok_status = 200
    webhook_auth_failed_status = 400

    def __init__(
        self,
        *,
        secret_key: str,
        webhook_secret: str,
        api_base: str,
        timeout: float,
        max_retries: int,
        session_ttl_minutes: int = 60,
        gate: RequestGate = no_gate,
        busy_retry_seconds: float = 0.0,
    ) -> None:
        self.session_ttl = timedelta(minutes=session_ttl_minutes)
        self.uses_sandbox = is_offline_sandbox(api_base)
        self._webhook_secret = webhook_secret
        self._busy_retry_seconds = busy_retry_seconds
        # respx can intercept httpx, and sync calls need allow_sync_methods.
        self._http_client = _GatedHTTPXClient(
            gate=gate,
            api_path=urlsplit(api_base).path.rstrip("/"),
            timeout=timeout,
            allow_sync_methods=True,
        )
        self._client = stripe.StripeClient(
            secret_key,
            http_client=self._http_client,
            base_addresses={"api": api_base.rstrip("/")},
            # Retries resend the same idempotency key, so they cannot duplicate a session.
            max_network_retries=max_retries,
        )

    def close(self) -> None:
        self._http_client.close()  # type: ignore[no-untyped-call]  # the SDK leaves it unannotated

    def _call(self, action: str, send: Callable[[], T]) -> T:
        """One SDK call with Stripe's errors in our words; a 429 is retried with backoff while the time
        budget allows (the same idempotency key each time), then raised as ProviderBusyError."""

        def attempt() -> T:
            with _translate_errors(action):
                return send()

        return retry_when_limited(attempt, budget_seconds=self._busy_retry_seconds, action=f"Stripe {action}")

    @staticmethod
    def _options(idempotency_key: str | None = None) -> stripe.RequestOptions:
        options: stripe.RequestOptions = {"headers": {"X-Request-ID": request_id_var.get()}}
        if idempotency_key:
            options["idempotency_key"] = idempotency_key
        return options

    @staticmethod
    def _to_state(session: Any) -> ProviderSession:
        status = str(_field(session, "status") or "")
        payment_status = str(_field(session, "payment_status") or "")
        amount = _field(session, "amount_total")
        session_id = _field(session, "id")
        if not isinstance(session_id, str) or not session_id.startswith("cs_"):
            raise ProviderUnavailableError("Stripe: answer without a checkout session id")
        return ProviderSession(
            provider_session_id=session_id,
            status=session_status(status=status, payment_status=payment_status),
            provider_status=f"{status}/{payment_status}",
            amount_cents=amount if isinstance(amount, int) else None,
            currency=(str(_field(session, "currency") or "") or None),
            redirect_url=_field(session, "url"),
            payment_reference=_id_of(_field(session, "payment_intent")),
            our_payment_session_id=_field(session, "client_reference_id"),
        )

    def create_session(self, request: CreateSessionRequest) -> ProviderSession:
        params: dict[str, Any] = {
            "mode": "payment",
            # Cards (wallets included) settle at once: a complete session is a paid one. Delayed methods
            # would complete unpaid and depend on one later webhook to ever resolve. (`payment_method_types`
            # is no longer a create parameter in the pinned API version; this filter replaced it.)
            "allowed_payment_method_types": ["card"],
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": request.currency,
                        "unit_amount": request.amount_cents,
                        "product_data": {"name": request.description},
                    },
                }
            ],
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
            "client_reference_id": request.payment_session_id,
            "customer_email": request.customer_email,
            # Identifiers only: metadata must carry no personal or clinical data.
            "metadata": {
                "appointment_id": request.appointment_id,
                "payment_session_id": request.payment_session_id,
            },
            "expires_at": int(request.expires_at.timestamp()),
        }
        session = self._call(
            "create session",
            lambda: self._client.v1.checkout.sessions.create(
                params,  # type: ignore[arg-type]
                self._options(request.idempotency_key),
            ),
        )
        state = self._to_state(session)
        if state.status == PaymentStatus.OPEN and not state.redirect_url:
            raise ProviderUnavailableError("Stripe create session: open session without a url")
        return state

    def retrieve_session(self, provider_session_id: str) -> ProviderSession:
        session = self._call(
            "retrieve session",
            lambda: self._client.v1.checkout.sessions.retrieve(provider_session_id, options=self._options()),
        )
        return self._to_state(session)

    def cancel_session(self, provider_session_id: str) -> ProviderSession:
        try:
            session = self._call(
                "expire session",
                lambda: self._client.v1.checkout.sessions.expire(
                    provider_session_id, options=self._options()
                ),
            )
            return self._to_state(session)
        except ProviderRejectedError:
            # Only open sessions can be expired; whatever it is now (complete, expired) is the answer.
            return self.retrieve_session(provider_session_id)

    def refund(self, request: RefundRequest) -> RefundResult:
        if not request.payment_reference:
            raise ProviderRejectedError("Stripe refund: the session has no payment_intent")
        params: dict[str, Any] = {"payment_intent": request.payment_reference}
        if request.amount_cents is not None:  # without an amount Stripe refunds everything that was taken
            params["amount"] = request.amount_cents
        params["reason"] = "requested_by_customer"
        refund = self._call(
            "refund",
            lambda: self._client.v1.refunds.create(
                params,  # type: ignore[arg-type]
                self._options(request.idempotency_key),
            ),
        )
        return self._refund_result(refund)

    def refund_status(self, *, provider_refund_id: str, provider_session_id: str) -> RefundResult:
        refund = self._call(
            "retrieve refund",
            lambda: self._client.v1.refunds.retrieve(provider_refund_id, options=self._options()),
        )
        return self._refund_result(refund)

    @staticmethod
    def _refund_result(refund: Any) -> RefundResult:
        status = str(_field(refund, "status") or "")
        return RefundResult(
            provider_refund_id=str(_field(refund, "id")),
            outcome=refund_outcome(status),
            provider_status=status,
        )

    def parse_webhook(self, *, body: bytes, headers: Mapping[str, str]) -> WebhookNotice:
        signature = headers.get("Stripe-Signature") or headers.get("stripe-signature")
        try:
            event = self._client.construct_event(body, signature, self._webhook_secret)
        except stripe.SignatureVerificationError as exc:
            raise WebhookAuthError("Stripe-Signature verification failed") from exc
        except (ValueError, TypeError, AttributeError, RecursionError) as exc:
            # Signed, but not an event object the SDK can read (not JSON, not an object, absurdly nested).
            raise ValueError(f"not a Stripe event: {type(exc).__name__}") from exc
        event_type = str(_field(event, "type") or "")
        event_id = str(_field(event, "id") or "")
        if not event_id:
            raise ValueError("event without id")
        livemode = _field(event, "livemode")
        livemode = livemode if isinstance(livemode, bool) else None
        if event_type in REFUND_EVENTS:
            return self._refund_notice(event, event_id, event_type, livemode)
        if event_type not in HANDLED_EVENTS:
            return WebhookNotice(
                event_id, event_type, None, None, state=None, handled=False, livemode=livemode
            )
        data = _field(event, "data")
        session = _field(data, "object") if data is not None else None
        if session is None or _field(session, "object") != "checkout.session":
            raise ValueError("checkout event without a checkout.session object")
        try:
            state = self._to_state(session)
        except ProviderUnavailableError as exc:
            raise ValueError(exc.message) from exc
        status = event_status(
            event_type=event_type,
            status=str(_field(session, "status") or ""),
            payment_status=str(_field(session, "payment_status") or ""),
        )
        state = ProviderSession(
            provider_session_id=state.provider_session_id,
            status=status,
            provider_status=f"{event_type}:{state.provider_status}",
            amount_cents=state.amount_cents,
            currency=state.currency,
            redirect_url=None,
            payment_reference=state.payment_reference,
            our_payment_session_id=state.our_payment_session_id,
        )
        return WebhookNotice(
            dedupe_key=event_id,
            event_type=event_type,
            provider_session_id=state.provider_session_id,
            our_payment_session_id=state.our_payment_session_id,
            state=state,
            livemode=livemode,
        )

    @staticmethod
    def _refund_notice(event: Any, event_id: str, event_type: str, livemode: bool | None) -> WebhookNotice:
        data = _field(event, "data")
        refund = _field(data, "object") if data is not None else None
        refund_id = _field(refund, "id") if refund is not None else None
        if not isinstance(refund_id, str) or not refund_id:
            raise ValueError("refund event without a refund id")
        status = str(_field(refund, "status") or "")
        outcome = RefundOutcome.FAILED if event_type == "refund.failed" else refund_outcome(status)
        notice = RefundNotice(refund_id, outcome, status)
        return WebhookNotice(event_id, event_type, None, None, state=None, refund=notice, livemode=livemode)
