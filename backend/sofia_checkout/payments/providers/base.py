"""The boundary every payment provider adapter implements. Only our vocabulary crosses it.

Adapters never touch models or settings: the registry passes configuration in, so respx alone tests them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import ClassVar, Protocol
from urllib.parse import urlsplit

from sofia_checkout.payments.statuses import PaymentStatus


@dataclass(frozen=True)
class CreateSessionRequest:
    payment_session_id: str
    appointment_id: str
    idempotency_key: str
    amount_cents: int
    currency: str
    sku: str
    description: str
    customer_email: str
    customer_name: str
    customer_state: str
    success_url: str
    cancel_url: str
    expires_at: datetime


@dataclass(frozen=True)
class ProviderSession:
    """What a provider says about one of its sessions, in our words."""

    provider_session_id: str
    status: PaymentStatus
    provider_status: str
    amount_cents: int | None = None  # None: the provider did not say (e.g. Truemed's create answer)
    currency: str | None = None
    redirect_url: str | None = None
    payment_reference: str = ""
    our_payment_session_id: str | None = None  # what we sent as client_reference_id / metadata


@dataclass(frozen=True)
class WebhookNotice:
    """An authenticated webhook delivery, parsed."""

    dedupe_key: str
    event_type: str
    provider_session_id: str | None
    our_payment_session_id: str | None
    # The state the event itself proves (Stripe events are signed over the whole body); None when the
    # delivery is only a trigger and the session must be re-fetched (Truemed).
    state: ProviderSession | None
    handled: bool = True
    refund: RefundNotice | None = None  # a refund event: applied to our refund, not to a session
    livemode: bool | None = None  # whether the provider says the event is from live mode (None: unknown)


@dataclass(frozen=True)
class RefundRequest:
    payment_reference: str
    provider_session_id: str
    amount_cents: int | None  # None: everything that was taken (the amount taken is not known to us)
    idempotency_key: str
    reason: str = "customer_request"


class RefundOutcome(StrEnum):
    SUCCEEDED = "succeeded"  # the money is on its way back
    PENDING = "pending"  # accepted, not final yet: it may still fail
    FAILED = "failed"  # nothing was returned


@dataclass(frozen=True)
class RefundResult:
    provider_refund_id: str
    outcome: RefundOutcome
    provider_status: str


@dataclass(frozen=True)
class RefundNotice:
    """What a refund event says about one of our refunds (found by the provider's refund id)."""

    provider_refund_id: str
    outcome: RefundOutcome
    provider_status: str


class ProviderError(Exception):
    """A provider call did not give a usable answer."""

    def __init__(self, message: str, *, http_status: int | None = None, provider_code: str = "") -> None:
        self.message = message
        self.http_status = http_status
        self.provider_code = provider_code
        super().__init__(message)


class ProviderUnavailableError(ProviderError):
    """Timeout, refused connection, 5xx, 429 or a malformed answer: trying again later may work."""


class ProviderBusyError(ProviderUnavailableError):
    """The provider's request limit is reached (ours, kept under the provider's, or its own 429 that did
    not clear within the time budget). Nothing was sent over the limit; retry after `retry_after` seconds."""

    def __init__(self, message: str, *, retry_after: int, http_status: int | None = None) -> None:
        super().__init__(message, http_status=http_status)
        self.retry_after = max(1, retry_after)


class ProviderRejectedError(ProviderError):
    """The provider refused the request (4xx): the same request will fail again."""


class WebhookAuthError(Exception):
    """A webhook delivery failed authentication (bad, missing or stale signature/key)."""


# Called by an adapter before every HTTP request it sends, with the provider's endpoint name
# ("POST /v1/checkout/sessions", "GET /v1/checkout/sessions/{id}": ids count as one endpoint). It may wait
# briefly for the request limit and raises ProviderBusyError when there is no room. Built by the registry
# from settings (payments/provider_limits.py), so adapters stay free of Django.
RequestGate = Callable[[str], None]


def no_gate(endpoint: str) -> None:
    """No request limit (unit tests that build an adapter by hand)."""


_ID_SEGMENT = re.compile(r"[A-Za-z0-9_-]*\d[A-Za-z0-9_-]*")


def endpoint_name(method: str, path: str) -> str:
    """A provider endpoint as providers count them: the method and the path, object ids as `{id}`."""
    segments = ["{id}" if len(seg) >= 8 and _ID_SEGMENT.fullmatch(seg) else seg for seg in path.split("/")]
    return f"{method.upper()} {'/'.join(segments)}"


_OFFLINE_SANDBOX_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "sandbox"})


def is_offline_sandbox(api_base: str) -> bool:
    """Whether an API base points at the bundled offline sandbox (loopback or the compose service)."""
    return (urlsplit(api_base).hostname or "") in _OFFLINE_SANDBOX_HOSTS


class PaymentProvider(Protocol):
    """One payment provider. The class attributes are what the rest of the code may know about it."""

    name: ClassVar[str]
    display_name: ClassVar[str]
    # Appended to our success URL's query; the provider replaces its placeholder with its session id
    # (only a hint for the return page, which re-syncs from the server and never trusts it).
    success_url_suffix: ClassVar[str]
    # The session lifetime settings may choose, and how much life a stored, never-answered attempt must
    # have left to be resent with its original parameters (otherwise a fresh attempt is made).
    session_ttl_bounds: ClassVar[tuple[timedelta, timedelta]]
    min_resend_lifetime: ClassVar[timedelta]
    # What our webhook endpoint answers: on success, and when authentication fails.
    webhook_ok_status: ClassVar[int]
    webhook_auth_failed_status: ClassVar[int]

    # Per instance, from the registry: the configured lifetime of a new session, and whether the API base
    # is the offline sandbox (the SPA then shows test-mode hints).
    session_ttl: timedelta
    uses_sandbox: bool

    def create_session(self, request: CreateSessionRequest) -> ProviderSession:
        """Create the provider session with request.idempotency_key. Raises ProviderError."""
        ...

    def retrieve_session(self, provider_session_id: str) -> ProviderSession:
        """Read the session's current state from the provider. Raises ProviderError."""
        ...

    def cancel_session(self, provider_session_id: str) -> ProviderSession:
        """Stop an unpaid session (Stripe expire, Truemed cancel) and return its state afterwards.

        If the session can no longer be cancelled (paid, in review), returns that state instead of raising.
        """
        ...

    def refund(self, request: RefundRequest) -> RefundResult:
        """Refund a paid session, idempotent on request.idempotency_key. Raises ProviderError."""
        ...

    def refund_status(self, *, provider_refund_id: str, provider_session_id: str) -> RefundResult:
        """Re-read a refund that was still pending. Raises ProviderError."""
        ...

    def parse_webhook(self, *, body: bytes, headers: Mapping[str, str]) -> WebhookNotice:
        """Authenticate and parse one delivery. Raises WebhookAuthError, or ValueError on a malformed body."""
        ...

    def close(self) -> None:
        """Release pooled connections."""
        ...
