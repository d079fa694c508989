"""respx doubles of Stripe and Truemed on hosts no test can reach, and the bodies they answer with.

The hosts, keys and webhook secrets here are the ones the root conftest's autouse fixture puts in settings.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import respx

from testing.signatures import timestamped_hmac_header

STRIPE_BASE = "https://stripe.test"
STRIPE_SECRET_KEY = "sk_test_fixture"  # noqa: S105 - a test value, like the ones below
STRIPE_WHSEC = "whsec_test_fixture"
TRUEMED_BASE = "https://truemed.test"
TRUEMED_KEY = "tm_key_fixture"
TRUEMED_WHSEC = "tm_whsec_fixture"
# Truemed's legacy webhook authentication: the shared secret in a header (send_truemed_webhook's headers).
TRUEMED_LEGACY_AUTH = {"x-truemed-api-key": TRUEMED_WHSEC}

# Anything respx may answer a route with: a response, an exception to raise, or a function of the request.
Answer = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


def session_request_fields(**overrides: Any) -> dict[str, Any]:
    """Keyword arguments for the adapters' CreateSessionRequest: Jane Doe's initial consultation, fresh ids
    and idempotency key, an hour to pay. `overrides` replace fields."""
    fields: dict[str, Any] = {
        "payment_session_id": str(uuid.uuid4()),
        "appointment_id": str(uuid.uuid4()),
        "idempotency_key": f"test-{uuid.uuid4()}",
        "amount_cents": 15000,
        "currency": "usd",
        "sku": "initial_consultation",
        "description": "Initial consultation (60 min) with Dr. Ana Reyes",
        "customer_email": "jane@example.com",
        "customer_name": "Jane Doe",
        "customer_state": "CA",
        "success_url": "http://127.0.0.1:5173/checkout/return?x=1&session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://127.0.0.1:5173/checkout/cancelled?x=1",
        "expires_at": datetime.now(UTC) + timedelta(hours=1),
    }
    fields.update(overrides)
    return fields


def stripe_session(
    *,
    session_id: str = "cs_test_fixture",
    status: str = "open",
    payment_status: str = "unpaid",
    amount_total: int = 15000,
    currency: str = "usd",
    client_reference_id: str | None = None,
    payment_intent: str | None = None,
) -> dict[str, Any]:
    """A Checkout Session object as Stripe returns it (one-time payment mode)."""
    return {
        "id": session_id,
        "object": "checkout.session",
        "status": status,
        "payment_status": payment_status,
        "amount_total": amount_total,
        "amount_subtotal": amount_total,
        "currency": currency,
        "client_reference_id": client_reference_id,
        "metadata": {},
        "url": f"https://checkout.stripe.test/pay/{session_id}" if status == "open" else None,
        "payment_intent": payment_intent,
        "expires_at": int(time.time()) + 3600,
        "livemode": False,
        "mode": "payment",
    }


def stripe_paid_session(session: Mapping[str, Any], **overrides: Any) -> dict[str, Any]:
    """The Checkout Session behind one of our payment sessions (an API answer), complete and paid."""
    fields: dict[str, Any] = {
        "session_id": session["provider_session_id"],
        "status": "complete",
        "payment_status": "paid",
        "client_reference_id": session["id"],
        "payment_intent": "pi_123",
    }
    fields.update(overrides)
    return stripe_session(**fields)


def stripe_event(
    event_type: str, session: dict[str, Any], event_id: str | None = None, *, livemode: bool = False
) -> bytes:
    """The raw body of a Stripe event delivery about `session` (or any other object, e.g. a refund)."""
    return json.dumps(
        {
            "id": event_id or f"evt_{uuid.uuid4().hex[:24]}",
            "object": "event",
            "api_version": "2026-10-28.endive",
            "created": int(time.time()),
            "data": {"object": session},
            "livemode": livemode,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": event_type,
        }
    ).encode()


def stripe_refund(
    refund_id: str = "re_1", status: str = "succeeded", amount: int = 15000, payment_intent: str = "pi_9"
) -> dict[str, Any]:
    """A Refund object as Stripe returns it (`pending` and `requires_action` are not final: it may still
    fail, and Stripe then sends `refund.updated` / `refund.failed`)."""
    return {
        "id": refund_id,
        "object": "refund",
        "amount": amount,
        "currency": "usd",
        "payment_intent": payment_intent,
        "reason": "requested_by_customer",
        "status": status,
        "failure_reason": "expired_or_canceled_card" if status == "failed" else None,
        "created": int(time.time()),
    }


def stripe_signature(body: bytes, secret: str = STRIPE_WHSEC, timestamp: int | None = None) -> str:
    """The Stripe-Signature header for `body`, signed with the test webhook secret unless told otherwise."""
    return timestamped_hmac_header(body, secret, timestamp)


def truemed_legacy_body(session_id: str, status: str) -> dict[str, Any]:
    """A Truemed webhook body in the legacy (shared API key) mode."""
    return {"payment_id": session_id, "status": status, "created_at": "2026-11-23T10:00:00Z", "metadata": ""}


def truemed_signed_delivery(
    event_type: str, data: dict[str, Any] | None, delivery_id: str | None = None, secret: str = TRUEMED_WHSEC
) -> tuple[bytes, dict[str, str]]:
    """A Truemed signed-mode delivery (envelope with webhook_delivery_id, event_type and data): the raw body
    and the headers for send_truemed_webhook, signed with the test webhook secret unless told otherwise."""
    body = json.dumps(
        {
            "webhook_delivery_id": delivery_id or f"wd_{uuid.uuid4().hex[:16]}",
            "event_type": event_type,
            "data": data,
        }
    ).encode()
    return body, {"x-truemed-signature": timestamped_hmac_header(body, secret)}


def _answered(route: respx.Route, answer: Answer) -> respx.Route:
    """A response answers every call; an exception or a function is a side effect."""
    if isinstance(answer, httpx.Response):
        return route.mock(return_value=answer)
    return route.mock(side_effect=answer)


class StripeMock:
    """respx routes for the Checkout and Refund endpoints, recording what the SDK sent."""

    def __init__(self, router: respx.MockRouter) -> None:
        self.router = router
        self.create = router.post(f"{STRIPE_BASE}/v1/checkout/sessions")
        self.sessions: dict[str, dict[str, Any]] = {}

    def answer_create(self, *, fresh_ids: bool = False, **session: Any) -> None:
        """Answer every create with a session for the amount and client_reference_id that were sent (with
        `fresh_ids`, each create gets its own session id: cs_test_1, cs_test_2, ...)."""

        def handler(request: httpx.Request) -> httpx.Response:
            form = dict(httpx.QueryParams(request.content.decode()))
            fields = dict(session)
            if fresh_ids:
                fields["session_id"] = f"cs_test_{len(self.sessions) + 1}"
            body = stripe_session(
                client_reference_id=form.get("client_reference_id"),
                amount_total=int(form["line_items[0][price_data][unit_amount]"]),
                **fields,
            )
            self.sessions[body["id"]] = body
            return httpx.Response(200, json=body)

        self.create.mock(side_effect=handler)

    def session_route(self, session_id: str) -> respx.Route:
        """GET of one session, not answered yet (`.mock(...)` it)."""
        return self.router.get(f"{STRIPE_BASE}/v1/checkout/sessions/{session_id}")

    def retrieve(self, session_id: str, **fields: Any) -> respx.Route:
        """GET of one session answers a session with these fields."""
        return self.session_route(session_id).mock(
            return_value=httpx.Response(200, json=stripe_session(session_id=session_id, **fields))
        )

    def expire(self, session_id: str, **fields: Any) -> respx.Route:
        """POST .../expire answers the session, expired (Stripe expires only open sessions)."""
        fields.setdefault("status", "expired")
        return self.router.post(f"{STRIPE_BASE}/v1/checkout/sessions/{session_id}/expire").mock(
            return_value=httpx.Response(200, json=stripe_session(session_id=session_id, **fields))
        )

    def refund_route(self, refund_id: str) -> respx.Route:
        """GET /v1/refunds/<id> (the reconcile job re-reading a refund that was pending), not answered yet."""
        return self.router.get(f"{STRIPE_BASE}/v1/refunds/{refund_id}")

    def refunds(self, *answers: Answer) -> respx.Route:
        """POST /v1/refunds: one answer answers every call, several answer the calls in turn; with none, a
        route for counting calls that must not come."""
        route = self.router.post(f"{STRIPE_BASE}/v1/refunds")
        if len(answers) > 1:
            return route.mock(side_effect=list(answers))
        return _answered(route, answers[0]) if answers else route


class TruemedMock:
    """respx routes for Truemed's payment session API."""

    def __init__(self, router: respx.MockRouter) -> None:
        self.router = router
        self.create = router.post(f"{TRUEMED_BASE}/payments/v1/create_payment_session")
        self.metadata: dict[str, str] = {}

    def answer_create(self, session_id: str | None = None) -> str:
        """Answer creates with this (or a fresh) session id; returns it. Like Truemed, the mock keeps the
        metadata string each create sent and echoes it on reads of that session."""
        session_id = session_id or str(uuid.uuid4())

        def handler(request: httpx.Request) -> httpx.Response:
            self.metadata[session_id] = str(json.loads(request.content).get("metadata") or "")
            return httpx.Response(
                200, json={"id": session_id, "redirect_url": f"https://truemed.test/pay/{session_id}"}
            )

        self.create.mock(side_effect=handler)
        return session_id

    def answer_creates(self) -> list[str]:
        """Answer each create with a new session id (recording its metadata, like answer_create); the list
        of ids handed out so far, in order."""
        handed_out: list[str] = []

        def handler(request: httpx.Request) -> httpx.Response:
            session_id = str(uuid.uuid4())
            handed_out.append(session_id)
            self.metadata[session_id] = str(json.loads(request.content).get("metadata") or "")
            return httpx.Response(
                200, json={"id": session_id, "redirect_url": f"https://truemed.test/pay/{session_id}"}
            )

        self.create.mock(side_effect=handler)
        return handed_out

    def session_route(self, session_id: str) -> respx.Route:
        """GET of one session, not answered yet (`.mock(...)` it)."""
        return self.router.get(f"{TRUEMED_BASE}/payments/v1/payment_session/{session_id}")

    def session_body(
        self, session_id: str, status: str, total_amount: int = 15000, **fields: Any
    ) -> dict[str, Any]:
        """A session as Truemed reads it: for a one-time payment `capture_amount` equals the total from
        `processing` on; the metadata is what our create sent. `fields` override or add fields."""
        body: dict[str, Any] = {
            "id": session_id,
            "status": status,
            "total_amount": total_amount,
            "metadata": self.metadata.get(session_id, ""),
        }
        if status in {"processing", "captured"}:
            body["authorize_amount"] = body["capture_amount"] = total_amount
        body.update(fields)
        return body

    def retrieve(self, session_id: str, status: str, total_amount: int = 15000, **fields: Any) -> respx.Route:
        """GET of one session answers this status and amount (see session_body)."""
        return self.session_route(session_id).mock(
            return_value=httpx.Response(
                200, json=self.session_body(session_id, status, total_amount, **fields)
            )
        )

    def cancel(self, session_id: str, answer: Answer | None = None) -> respx.Route:
        """POST .../cancel answers `answer` (by default: cancelled)."""
        route = self.router.post(f"{TRUEMED_BASE}/payments/v1/payment_session/{session_id}/cancel")
        return _answered(route, answer or httpx.Response(200, json={"id": session_id}))

    def refunds(self, answer: Answer) -> respx.Route:
        """POST /payments/v1/refund answers `answer`."""
        return _answered(self.router.post(f"{TRUEMED_BASE}/payments/v1/refund"), answer)

    def anything_else(self) -> respx.Route:
        """Every other request to Truemed's host, answered 404 and recorded (add it after the routes a test
        expects: respx tries routes in the order they were added)."""
        return self.router.route(host="truemed.test").mock(
            return_value=httpx.Response(404, json={"error": "NotFound", "message": "no such path"})
        )
