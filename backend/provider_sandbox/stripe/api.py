"""Stripe API emulation under `/stripe`: Checkout Sessions (create, retrieve, expire) and refunds.

Parameter rules are in params.py, the request protocol (auth, idempotency) in protocol.py; this module
holds the endpoints and what each one does to the emulated account.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, Router

from provider_sandbox.ids import stripe_id
from provider_sandbox.store import SandboxState, state_of
from provider_sandbox.stripe import params as rules
from provider_sandbox.stripe.errors import StripeApiError, missing, no_such
from provider_sandbox.stripe.expiry import expire_overdue
from provider_sandbox.stripe.models import PaymentIntentRecord, StripeRefund, StripeSession, stripe_store
from provider_sandbox.stripe.objects import (
    mark_expired,
    refund_failed,
    refund_object,
    session_object,
    settle_refund,
)
from provider_sandbox.stripe.protocol import Outcome, answer, authenticate, idempotent_post, refusal
from provider_sandbox.webhooks import deliver_all

logger = logging.getLogger(__name__)


def _create_session(state: SandboxState, params: dict[str, Any], request: Request) -> Outcome:
    now = state.now()
    new = rules.new_session(params, now=now)
    key = request.headers.get("idempotency-key")
    session = StripeSession(
        id=stripe_id("cs_test_", 58),
        created=now,
        expires_at=new.expires_at,
        amount_subtotal=new.total,
        amount_total=new.total,
        currency=new.currency,
        line_items=new.line_items,
        success_url=new.success_url,
        cancel_url=new.cancel_url,
        client_reference_id=new.client_reference_id,
        customer_email=new.customer_email,
        metadata=new.metadata,
        idempotency_key=key,
        payment_method_types=new.payment_method_types,
    )
    stripe_store(state).sessions[session.id] = session
    if key is not None:
        state.creates_per_idempotency_key[key] += 1
    logger.info("stripe session %s created (%s %d)", session.id, new.currency, new.total)
    return Outcome(200, session_object(state, session))


def _find_session(state: SandboxState, session_id: str) -> StripeSession:
    session = stripe_store(state).sessions.get(session_id)
    if session is None:
        raise no_such("checkout.session", session_id, "session", status=404)
    return session


def _expire_session(state: SandboxState, params: dict[str, Any], request: Request) -> Outcome:
    session = _find_session(state, request.path_params["session_id"])
    if session.status != "open":
        raise StripeApiError(
            400,
            'Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has a '
            f'status of "{session.status}".',
            param="session",
        )
    event = mark_expired(
        state,
        session,
        request_id=stripe_id("req_", 14),
        idempotency_key=request.headers.get("idempotency-key"),
    )
    return Outcome(200, session_object(state, session), [event])


def _refunded_intent(state: SandboxState, params: dict[str, Any]) -> PaymentIntentRecord:
    """The payment intent a refund names (directly or through its charge); it must have money to refund."""
    store = stripe_store(state)
    intent_id = params.get("payment_intent")
    if intent_id is None:
        if "charge" not in params:
            raise missing("payment_intent")
        intent_id = next(
            (i.id for i in store.payment_intents.values() if i.charge_id == params["charge"]), None
        )
        if intent_id is None:
            raise no_such("charge", params["charge"], "charge")
    intent = store.payment_intents.get(str(intent_id))
    if intent is None:
        raise no_such("payment_intent", intent_id, "payment_intent")
    session = store.sessions.get(intent.session_id)
    if session is not None and session.payment_status != "paid":
        raise StripeApiError(
            400,
            f"This PaymentIntent ({intent.id}) does not have a successful charge to refund.",
            code="charge_not_refundable",
            param="payment_intent",
        )
    if intent.amount - intent.amount_refunded <= 0:
        raise StripeApiError(
            400, f"Charge {intent.charge_id} has already been refunded.", code="charge_already_refunded"
        )
    return intent


async def _settle_later(state: SandboxState, refund: StripeRefund, *, succeeded: bool) -> None:
    """stripe_refund_outcome pending_then_*: the refund stays pending a while, then ends and is announced."""
    await asyncio.sleep(state.config.refund_settle_seconds)
    async with state.lock:
        if refund.status != "pending":
            return  # the control API already settled it
        events = [settle_refund(state, refund, succeeded=succeeded)]
        if not succeeded:
            events.append(refund_failed(state, refund))
    await deliver_all(state, events)


def _create_refund(state: SandboxState, params: dict[str, Any], request: Request) -> Outcome:
    intent = _refunded_intent(state, params)
    amount = rules.refund_amount(params, intent.amount - intent.amount_refunded)
    outcome = state.switches.stripe_refund_outcome
    refund = StripeRefund(
        id=stripe_id("re_"),
        amount=amount,
        currency=intent.currency,
        charge=intent.charge_id,
        payment_intent=intent.id,
        session_id=intent.session_id,
        reason=rules.refund_reason(params.get("reason")),
        metadata=rules.metadata(params.get("metadata")),
        created=state.now(),
        status="succeeded" if outcome == "succeeded" else "pending",
    )
    # A pending refund holds its amount: only a failure makes it refundable again.
    intent.amount_refunded += amount
    stripe_store(state).refunds[refund.id] = refund
    if outcome.startswith("pending_then_"):
        state.spawn(
            _settle_later(state, refund, succeeded=outcome == "pending_then_succeeded"),
            name=f"stripe-refund-{refund.id}",
        )
    logger.info("stripe refund %s of %d on %s: %s", refund.id, amount, intent.id, refund.status)
    return Outcome(200, refund_object(refund))


async def create_session(request: Request) -> Response:
    return await idempotent_post(request, _create_session)


async def expire_session(request: Request) -> Response:
    return await idempotent_post(request, _expire_session)


async def create_refund(request: Request) -> Response:
    return await idempotent_post(request, _create_refund)


async def retrieve_session(request: Request) -> Response:
    state = state_of(request)
    try:
        authenticate(request)
        async with state.lock:
            expire_overdue(state)
            session = _find_session(state, request.path_params["session_id"])
            return answer(200, session_object(state, session))
    except StripeApiError as err:
        return refusal(err)


async def retrieve_refund(request: Request) -> Response:
    try:
        authenticate(request)
        refund_id = request.path_params["refund_id"]
        refund = stripe_store(state_of(request)).refunds.get(refund_id)
        if refund is None:
            raise no_such("refund", refund_id, "id", status=404)
    except StripeApiError as err:
        return refusal(err)
    return answer(200, refund_object(refund))


async def unrecognized(request: Request) -> Response:
    try:
        authenticate(request)
    except StripeApiError as err:
        return refusal(err)
    path = request.url.path.removeprefix("/stripe")
    return refusal(
        StripeApiError(
            404,
            f"Unrecognized request URL ({request.method}: {path}). The provider sandbox emulates "
            "/v1/checkout/sessions and /v1/refunds only.",
        )
    )


def router() -> Router:
    methods = ["GET", "POST", "DELETE", "PUT", "PATCH"]
    return Router(
        routes=[
            Route("/v1/checkout/sessions", create_session, methods=["POST"]),
            Route("/v1/checkout/sessions/{session_id}", retrieve_session, methods=["GET"]),
            Route("/v1/checkout/sessions/{session_id}/expire", expire_session, methods=["POST"]),
            Route("/v1/refunds", create_refund, methods=["POST"]),
            Route("/v1/refunds/{refund_id}", retrieve_refund, methods=["GET"]),
            Route("/{path:path}", unrecognized, methods=methods),
        ]
    )
