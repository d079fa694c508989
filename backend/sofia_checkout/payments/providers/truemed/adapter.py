"""Truemed payment sessions over one pooled httpx.Client. https://developers.truemed.com"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import httpx
from tenacity import (
    retry,
    retry_if_exception_type,
    retry_if_not_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from sofia_checkout.core.logging import request_id_var
from sofia_checkout.payments.providers.backoff import (
    ProviderLimitedError,
    retry_after_header,
    retry_when_limited,
)
from sofia_checkout.payments.providers.base import (
    CreateSessionRequest,
    ProviderBusyError,
    ProviderError,
    ProviderRejectedError,
    ProviderSession,
    ProviderUnavailableError,
    RefundOutcome,
    RefundRequest,
    RefundResult,
    RequestGate,
    WebhookNotice,
    endpoint_name,
    is_offline_sandbox,
    no_gate,
)
from sofia_checkout.payments.providers.truemed import assumptions
from sofia_checkout.payments.providers.truemed.mapping import truemed_status
from sofia_checkout.payments.providers.truemed.webhook_auth import verify_legacy, verify_signed
from sofia_checkout.payments.statuses import PaymentStatus

logger = logging.getLogger(__name__)

_EVENT_TYPE = "payment_session_complete"


def _metadata_session_id(metadata: Any) -> str | None:
    """Our payment session id from the metadata string we sent (JSON), tolerating anything else."""
    if not isinstance(metadata, str) or not metadata:
        return None
    try:
        parsed = json.loads(metadata)
    except ValueError:
        return None
    value = parsed.get("payment_session_id") if isinstance(parsed, dict) else None
    return str(value) if value else None


def _cents(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


_SESSION_ID = re.compile(assumptions.SESSION_ID_PATTERN)


def _webhook_session_id(data: dict[str, Any]) -> str | None:
    """The session id a delivery names (first known field present), or None if it has none of our shape."""
    value = next((data[f] for f in assumptions.WEBHOOK_SESSION_ID_FIELDS if data.get(f)), None)
    return value if isinstance(value, str) and _SESSION_ID.fullmatch(value) else None


def _session_path(template: str, session_id: str) -> str:
    """A session URL; an id that is not of Truemed's shape never reaches a request path."""
    if not _SESSION_ID.fullmatch(session_id):
        raise ProviderRejectedError("Truemed: not a payment session id")
    return template.format(id=quote(session_id, safe=""))


class TruemedProvider:
    """Adapter for Truemed's merchant API (`/payments/v1`)."""

    name = "truemed"
    display_name = "HSA/FSA"
    # [docs] every exact `{{payment_session_id}}` in success_url is replaced by the session id.
    success_url_suffix = "truemed_session_id={{payment_session_id}}"
    # Truemed documents no session lifetime: ours is our own hold. A never-answered attempt is resent with
    # the same margin as for cards, so both methods behave alike for the shopper.
    min_resend_lifetime = timedelta(minutes=31)
    session_ttl_bounds = (timedelta(minutes=5), timedelta(days=7))
    # [docs] the webhook must be answered 204; failed deliveries are retried for 7 days.
    webhook_ok_status = 204
    webhook_auth_failed_status = 401

    def __init__(
        self,
        *,
        api_key: str,
        api_base: str,
        webhook_secret: str,
        webhook_mode: str,
        timeout: float,
        max_retries: int,
        session_ttl_minutes: int = 60,
        transport: httpx.BaseTransport | None = None,
        gate: RequestGate = no_gate,
        busy_retry_seconds: float = 0.0,
    ) -> None:
        self.session_ttl = timedelta(minutes=session_ttl_minutes)
        self.uses_sandbox = is_offline_sandbox(api_base)
        self._gate = gate
        self._busy_retry_seconds = busy_retry_seconds
        self._webhook_secret = webhook_secret
        self._webhook_mode = webhook_mode
        self._max_attempts = max_retries + 1
        self._http = httpx.Client(
            base_url=api_base.rstrip("/"),
            headers={assumptions.LEGACY_KEY_HEADER: api_key, "Accept": "application/json"},
            timeout=httpx.Timeout(timeout),
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, *, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """One HTTP call through the request gate; a 429 is retried with backoff (Retry-After honoured)
        while the time budget allows, then raised as ProviderBusyError."""
        action = f"Truemed {method} {path.rsplit('/', maxsplit=1)[-1] or path}"
        return retry_when_limited(
            lambda: self._send(action, method, path, body=body),
            budget_seconds=self._busy_retry_seconds,
            action=action,
        )

    def _send(
        self, action: str, method: str, path: str, *, body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """One HTTP request; transport failures, 5xx and non-JSON answers are ProviderUnavailableError, a
        429 ProviderLimitedError."""
        self._gate(endpoint_name(method, path))
        try:
            response = self._http.request(
                method, path, json=body, headers={"X-Request-ID": request_id_var.get()}
            )
        except httpx.TimeoutException as exc:
            raise ProviderUnavailableError(f"{action}: timed out") from exc
        except httpx.HTTPError as exc:  # transport failures, undecodable bodies, redirect loops
            raise ProviderUnavailableError(f"{action}: {type(exc).__name__}") from exc
        try:
            payload = response.json()
        except (ValueError, RecursionError):
            payload = None
        if response.status_code == 429:
            raise ProviderLimitedError(
                f"{action}: HTTP 429",
                retry_after=retry_after_header(response.headers),
                request_id=response.headers.get("x-request-id", ""),
            )
        if response.status_code >= 500:
            raise ProviderUnavailableError(
                f"{action}: HTTP {response.status_code}", http_status=response.status_code
            )
        if response.status_code >= 400:
            code = str(payload.get("error", "")) if isinstance(payload, dict) else ""
            raise ProviderRejectedError(
                f"{action}: HTTP {response.status_code} {code}".strip(),
                http_status=response.status_code,
                provider_code=code,
            )
        if payload is None and not response.content:
            return {}  # e.g. 204 No Content: what it did is read back by the caller where it matters
        if not isinstance(payload, dict):
            raise ProviderUnavailableError(f"{action}: malformed answer", http_status=response.status_code)
        return payload

    def create_session(self, request: CreateSessionRequest) -> ProviderSession:
        body: dict[str, Any] = {
            "total_amount": request.amount_cents,
            "order_items": [
                {
                    "sku": request.sku,
                    "name": request.description,
                    "price": request.amount_cents,
                    "quantity": 1,
                }
            ],
            "success_url": request.success_url,
            "failure_url": request.cancel_url,
            "idempotency_key": request.idempotency_key,
            "customer_email": request.customer_email,
            "customer_name": request.customer_name,
            "customer_state": request.customer_state,
            "metadata": json.dumps(
                {"payment_session_id": request.payment_session_id, "appointment_id": request.appointment_id},
                separators=(",", ":"),
            ),
        }
        if assumptions.SEND_ZERO_AMOUNT_DETAILS:
            body["amount_details"] = {"total_additional_charges": 0, "total_discounts": 0}
        payload = self._call("POST", assumptions.CREATE_PATH, body=body)
        session_id, redirect_url = payload.get("id"), payload.get("redirect_url")
        if not isinstance(session_id, str) or not isinstance(redirect_url, str) or not session_id:
            raise ProviderUnavailableError("Truemed create: answer without id/redirect_url")
        return ProviderSession(
            provider_session_id=session_id,
            status=PaymentStatus.OPEN,
            provider_status="pending",
            redirect_url=redirect_url,
            payment_reference=session_id,
            our_payment_session_id=request.payment_session_id,
        )

    def retrieve_session(self, provider_session_id: str) -> ProviderSession:
        # A read is safe to repeat: retried with backoff when Truemed is briefly unavailable.
        # A busy provider is not retried here: _call already waited as long as the budget allows.
        reader = retry(
            retry=retry_if_exception_type(ProviderUnavailableError)
            & retry_if_not_exception_type(ProviderBusyError),
            stop=stop_after_attempt(self._max_attempts),
            wait=wait_exponential(multiplier=0.2, max=2),
            reraise=True,
        )(self._call)
        payload = reader("GET", _session_path(assumptions.SESSION_PATH, provider_session_id))
        status = str(payload.get("status") or "")
        if not status:
            raise ProviderUnavailableError("Truemed retrieve: answer without status")
        amount = _cents(payload.get("total_amount"))
        if status == "captured":
            # What was actually taken: a partial capture is a mismatch, and a capture that is missing or not
            # an integer (0, "100", 100.0) is money of unknown value: flagged, never confirmed.
            amount = _cents(payload.get("capture_amount"))
        return ProviderSession(
            provider_session_id=str(payload.get("id") or provider_session_id),
            status=truemed_status(status),
            provider_status=status,
            amount_cents=amount,
            currency="usd",  # Truemed has no currency parameter: US cents only
            payment_reference=str(payload.get("id") or provider_session_id),
            our_payment_session_id=_metadata_session_id(payload.get("metadata")),
        )

    def cancel_session(self, provider_session_id: str) -> ProviderSession:
        # Only pending sessions can be cancelled: on a refusal the re-read below tells what it is now.
        with contextlib.suppress(ProviderRejectedError):
            self._call("POST", _session_path(assumptions.CANCEL_PATH, provider_session_id), body={})
        return self.retrieve_session(provider_session_id)

    def refund(self, request: RefundRequest) -> RefundResult:
        if request.amount_cents is None:
            # Truemed's refund needs an amount, and we do not know what was taken: a person decides.
            raise ProviderRejectedError("Truemed refund: the amount taken is unknown; refund by hand")
        payload = self._call(
            "POST",
            assumptions.REFUND_PATH,
            body={
                "amount": request.amount_cents,
                "idempotency_key": request.idempotency_key,
                "payment_id": request.provider_session_id,
                "reason": assumptions.REFUND_REASON,
            },
        )
        refund_id = payload.get("refund_id")
        if not refund_id:
            # Retrying with the same key would get the same answer: a person must look (flagged upstream).
            raise ProviderRejectedError("Truemed refund: answer without refund_id")
        return RefundResult(str(refund_id), RefundOutcome.PENDING, "accepted")

    def refund_status(self, *, provider_refund_id: str, provider_session_id: str) -> RefundResult:
        payload = self._call("GET", _session_path(assumptions.SESSION_PATH, provider_session_id))
        summary = str(payload.get("status_summary") or "")
        outcome = (
            RefundOutcome.SUCCEEDED if summary in assumptions.REFUNDED_SUMMARIES else RefundOutcome.PENDING
        )
        return RefundResult(provider_refund_id, outcome, summary or "unknown")

    def parse_webhook(self, *, body: bytes, headers: Mapping[str, str]) -> WebhookNotice:
        if self._webhook_mode == "signed":
            verify_signed(headers, body, self._webhook_secret)
        else:
            verify_legacy(headers, self._webhook_secret)
        try:
            payload = json.loads(body)
        except RecursionError as exc:
            raise ValueError("webhook body nested too deeply") from exc
        if not isinstance(payload, dict):
            raise ValueError("webhook body is not an object")  # noqa: TRY004 - the contract: ValueError
        if self._webhook_mode == "signed":
            delivery_id = payload.get("webhook_delivery_id")
            event_type = str(payload.get("event_type") or _EVENT_TYPE)
            data = payload.get("data")
            if not isinstance(delivery_id, str) or not delivery_id:
                raise ValueError("signed webhook without webhook_delivery_id")
            dedupe_key = delivery_id
        else:
            # The legacy body has no delivery id: the same delivery re-sent is the same bytes.
            data, event_type = payload, _EVENT_TYPE
            dedupe_key = "sha256:" + hashlib.sha256(body).hexdigest()
        if not isinstance(data, dict):
            data = {}
        session_id = _webhook_session_id(data)
        if not event_type.startswith(assumptions.PAYMENT_EVENT_PREFIX) or session_id is None:
            # Authentic, but nothing we act on (another event type, or no usable session id): acknowledged
            # and recorded, since a refused delivery is retried for days.
            return WebhookNotice(dedupe_key, event_type, None, None, state=None, handled=False)
        # The body is only a trigger: the status applied is the one re-fetched from Truemed.
        return WebhookNotice(
            dedupe_key=dedupe_key,
            event_type=event_type,
            provider_session_id=session_id,
            our_payment_session_id=_metadata_session_id(data.get("metadata")),
            state=None,
        )


__all__ = ["ProviderError", "TruemedProvider"]
