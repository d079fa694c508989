"""Control API under `/_sandbox/` for tests and demos: force outcomes, replay webhooks, inspect, faults.

Complete/replay calls return only after their webhooks were delivered (or failed every attempt) and report
the delivery results, so a test can assert on the backend right after the call.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from provider_sandbox import stripe_objects, truemed_objects
from provider_sandbox.config import ConfigError, check_faults
from provider_sandbox.store import SandboxState, WebhookEvent
from provider_sandbox.webhooks import deliver, deliver_all, deliver_later

logger = logging.getLogger(__name__)

DELIVERY_MODES = ("in_order", "reversed", "none")
STRIPE_OUTCOMES = ("paid", "declined", "canceled", "expired", "async_paid", "async_failed")
TRUEMED_OUTCOMES = ("captured", "processing", "rejected", "canceled")


class ControlError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


Endpoint = Callable[[Request], Awaitable[Response]]


def _handled(endpoint: Endpoint) -> Endpoint:
    """Turn a ControlError raised anywhere in a control endpoint into its JSON answer."""

    async def wrapped(request: Request) -> Response:
        try:
            return await endpoint(request)
        except ControlError as err:
            return JSONResponse({"error": err.code, "message": err.message}, status_code=err.status)

    return wrapped


def _state(request: Request) -> SandboxState:
    state: SandboxState = request.app.state.sandbox
    return state


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise ControlError(400, "malformed_request", "The body must be a JSON object") from exc
    if not isinstance(body, dict):
        raise ControlError(400, "malformed_request", "The body must be a JSON object")
    return body


def _delivery_mode(body: dict[str, Any]) -> str:
    mode = body.get("delivery", "in_order")
    if mode not in DELIVERY_MODES:
        raise ControlError(400, "validation_error", f"delivery must be one of {', '.join(DELIVERY_MODES)}")
    return str(mode)


# One step of a forced outcome: a guard (is the session still where this step starts?) and the change.
Step = tuple[Callable[[], bool], Callable[[], WebhookEvent | None]]


async def _run_steps(
    state: SandboxState, steps: list[Step], mode: str
) -> tuple[list[WebhookEvent], list[Any]]:
    """Apply state changes; in_order delivers each change's webhook before the next change is made.

    The lock is let go while a webhook is delivered, so each step re-checks its guard under the lock: a
    parallel control call, a hosted page or the expiry sweep may have moved the session meanwhile.
    """
    events: list[WebhookEvent] = []
    results: list[Any] = []
    for guard, change in steps:
        async with state.lock:
            if not guard():
                raise ControlError(409, "conflict", "The session changed meanwhile; nothing more was done")
            event = change()
        if event is not None:
            events.append(event)
            if mode == "in_order":
                results.append(await deliver(state, event))
    if mode == "reversed":
        results = await deliver_all(state, list(reversed(events)))
    return events, results


def _stripe_steps(state: SandboxState, s: stripe_objects.StripeSession, outcome: str) -> list[Step]:
    def is_open() -> bool:
        return s.status == "open"

    if outcome == "paid":
        return [(is_open, lambda: stripe_objects.mark_paid(state, s))]
    if outcome in {"async_paid", "async_failed"}:
        return [
            (is_open, lambda: stripe_objects.mark_async_completed(state, s)),
            (
                lambda: (s.status, s.payment_status) == ("complete", "unpaid"),
                lambda: stripe_objects.settle_async(state, s, succeeded=outcome == "async_paid"),
            ),
        ]
    if outcome == "expired":
        return [(is_open, lambda: stripe_objects.mark_expired(state, s))]
    if outcome == "declined":
        return [
            (
                is_open,
                lambda: stripe_objects.record_decline(state, s, card_last4="0002", reason="generic_decline"),
            )
        ]

    def shopper_cancel() -> None:
        # Leaving through cancel_url changes nothing at Stripe: the session stays open until it expires.
        s.shopper_cancels += 1

    return [(is_open, shopper_cancel)]


async def stripe_complete(request: Request) -> Response:
    state = _state(request)
    body = await _body(request)
    outcome = body.get("outcome")
    if body.get("async") is True and outcome in {"paid", "declined", "failed"}:
        outcome = "async_paid" if outcome == "paid" else "async_failed"
    if outcome not in STRIPE_OUTCOMES:
        raise ControlError(400, "validation_error", f"outcome must be one of {', '.join(STRIPE_OUTCOMES)}")
    mode = _delivery_mode(body)
    async with state.lock:
        deliver_later(state, stripe_objects.expire_due(state))
        session = state.stripe_sessions.get(request.path_params["session_id"])
        if session is None:
            raise ControlError(404, "not_found", "No such Stripe checkout session")
        if session.status != "open":
            raise ControlError(409, "conflict", f"The session is {session.status}, not open")
    events, results = await _run_steps(state, _stripe_steps(state, session, str(outcome)), mode)
    logger.info("control: stripe %s -> %s (%d webhooks, %s)", session.id, outcome, len(events), mode)
    return JSONResponse(
        {
            "provider": "stripe",
            "outcome": outcome,
            "delivery": mode,
            "session": stripe_objects.session_object(state, session),
            "events": [_event_summary(e) for e in events],
            "deliveries": results,
        }
    )


def _truemed_steps(state: SandboxState, s: truemed_objects.TruemedSession, outcome: str) -> list[Step]:
    allowed = {
        "processing": {"pending"},
        "captured": {"pending", "processing"},
        "rejected": {"pending", "processing"},
        "canceled": {"pending"},
    }[outcome]
    if s.status not in allowed:
        raise ControlError(409, "conflict", f"Cannot go from {s.status} to {outcome}")

    def status_is(expected: str) -> Callable[[], bool]:
        return lambda: s.status == expected

    if outcome == "canceled":
        return [(status_is("pending"), lambda: truemed_objects.to_canceled(state, s))]
    steps: list[Step] = []
    if s.status == "pending":
        # A real session always passes through review: processing comes first.
        steps.append((status_is("pending"), lambda: truemed_objects.to_processing(state, s)))
    if outcome == "captured":
        steps.append((status_is("processing"), lambda: truemed_objects.to_captured(state, s)))
    elif outcome == "rejected":
        steps.append((status_is("processing"), lambda: truemed_objects.to_rejected(state, s)))
    return steps


async def truemed_complete(request: Request) -> Response:
    state = _state(request)
    body = await _body(request)
    outcome = body.get("outcome")
    if outcome not in TRUEMED_OUTCOMES:
        raise ControlError(400, "validation_error", f"outcome must be one of {', '.join(TRUEMED_OUTCOMES)}")
    mode = _delivery_mode(body)
    async with state.lock:
        session = state.truemed_sessions.get(request.path_params["session_id"])
        if session is None:
            raise ControlError(404, "not_found", "No such Truemed payment session")
        steps = _truemed_steps(state, session, str(outcome))
    events, results = await _run_steps(state, steps, mode)
    logger.info("control: truemed %s -> %s (%d webhooks, %s)", session.id, outcome, len(events), mode)
    return JSONResponse(
        {
            "provider": "truemed",
            "outcome": outcome,
            "delivery": mode,
            "session": truemed_objects.session_object(session),
            "events": [_event_summary(e) for e in events],
            "deliveries": results,
        }
    )


def _event_summary(event: WebhookEvent) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "event_type": event.event_type,
        "status": event.status,
        "created": event.created,
    }


async def replay(request: Request) -> Response:
    return await _replay(request, request.path_params["provider"])


async def replay_truemed(request: Request) -> Response:
    return await _replay(request, "truemed")


async def _replay(request: Request, provider: str) -> Response:
    """Send the session's last webhook again: same event id, same body (a duplicate delivery)."""
    state = _state(request)
    session_id = request.path_params["session_id"]
    events: list[WebhookEvent] | None = None
    if provider == "stripe" and session_id in state.stripe_sessions:
        events = state.stripe_sessions[session_id].events
    elif provider == "truemed" and session_id in state.truemed_sessions:
        events = state.truemed_sessions[session_id].events
    if events is None:
        raise ControlError(404, "not_found", f"No such {provider} session")
    if not events:
        raise ControlError(409, "conflict", "This session has sent no webhook yet")
    result = await deliver(state, events[-1], replay=True)
    return JSONResponse({"provider": provider, "event": _event_summary(events[-1]), "deliveries": [result]})


async def sessions(request: Request) -> Response:
    state = _state(request)
    listing: list[dict[str, Any]] = [
        {
            "provider": "stripe",
            "id": s.id,
            "status": s.status,
            "payment_status": s.payment_status,
            "amount": s.amount_total,
            "currency": s.currency,
            "idempotency_key": s.idempotency_key,
            "created": s.created,
            "declines": len(s.declines),
            "shopper_cancels": s.shopper_cancels,
            "webhooks": len(s.events),
            "url": stripe_objects.hosted_url(state, s.id) if s.status == "open" else None,
        }
        for s in state.stripe_sessions.values()
    ]
    listing += [
        {
            "provider": "truemed",
            "id": s.id,
            "status": s.status,
            "status_summary": s.status_summary,
            "amount": s.total_amount,
            "currency": "usd",
            "idempotency_key": s.idempotency_key,
            "created": int(s.created_at),
            "refunded_amount": s.refunded_amount,
            "webhooks": len(s.events),
            "url": truemed_objects.hosted_url(state, s.id),
        }
        for s in state.truemed_sessions.values()
    ]
    listing.sort(key=lambda item: item["created"])
    return JSONResponse(
        {"sessions": listing, "creates_per_idempotency_key": dict(state.creates_per_idempotency_key)}
    )


async def webhooks(request: Request) -> Response:
    return JSONResponse({"deliveries": _state(request).deliveries})


async def get_config(request: Request) -> Response:
    state = _state(request)
    config = state.config
    return JSONResponse(
        {
            **state.faults.as_dict(),
            "public_url": config.public_base,
            "stripe_webhook_url": config.stripe_webhook_url,
            "truemed_webhook_url": config.truemed_webhook_url,
            "truemed_webhook_mode": config.truemed_webhook_mode,
            "truemed_amount_details": config.truemed_amount_details,
            "truemed_capture_delay_seconds": config.truemed_capture_delay_seconds,
            "webhook_max_attempts": config.webhook_max_attempts,
            "held_requests": state.held_requests,
        }
    )


def _number(body: dict[str, Any], name: str, current: float) -> float:
    if name not in body:
        return current
    value = body[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ControlError(400, "validation_error", f"{name} must be a number")
    return float(value)


async def set_config(request: Request) -> Response:
    state = _state(request)
    body = await _body(request)
    unknown = sorted(set(body) - {"latency_ms", "error_rate", "timeout_rate", "timeout_seconds"})
    if unknown:
        raise ControlError(400, "validation_error", f"Unknown setting: {unknown[0]}")
    latency = _number(body, "latency_ms", state.faults.latency_ms)
    if latency != int(latency):
        raise ControlError(400, "validation_error", "latency_ms must be a whole number")
    error_rate = _number(body, "error_rate", state.faults.error_rate)
    timeout_rate = _number(body, "timeout_rate", state.faults.timeout_rate)
    timeout_seconds = _number(body, "timeout_seconds", state.faults.timeout_seconds)
    if not 0 < timeout_seconds <= 600:
        raise ControlError(400, "validation_error", "timeout_seconds must be in (0, 600]")
    try:
        check_faults(latency_ms=int(latency), error_rate=error_rate, timeout_rate=timeout_rate)
    except ConfigError as exc:
        raise ControlError(400, "validation_error", str(exc)) from exc
    faults = state.faults
    faults.latency_ms, faults.error_rate, faults.timeout_rate = int(latency), error_rate, timeout_rate
    faults.timeout_seconds = timeout_seconds
    logger.info("control: faults now %s", faults.as_dict())
    return await get_config(request)


async def reset(request: Request) -> Response:
    await _state(request).reset()
    logger.info("control: reset")
    return JSONResponse({"status": "reset"})


async def settle(request: Request) -> Response:
    """Tests call this before they end, so no webhook reaches a backend that has moved on."""
    body = await _body(request)
    timeout = _number(body, "timeout_seconds", 10.0)
    if not 0 < timeout <= 60:
        raise ControlError(400, "validation_error", "timeout_seconds must be in (0, 60]")
    pending = await _state(request).settle(timeout)
    return JSONResponse({"pending": pending}, status_code=200 if pending == 0 else 504)


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def routes() -> list[Route]:
    return [
        Route("/_sandbox/health", _handled(health), methods=["GET"]),
        Route("/_sandbox/reset", _handled(reset), methods=["POST"]),
        Route("/_sandbox/settle", _handled(settle), methods=["POST"]),
        Route("/_sandbox/config", _handled(get_config), methods=["GET"]),
        Route("/_sandbox/config", _handled(set_config), methods=["POST"]),
        Route("/_sandbox/sessions", _handled(sessions), methods=["GET"]),
        Route("/_sandbox/webhooks", _handled(webhooks), methods=["GET"]),
        Route("/_sandbox/stripe/sessions/{session_id}/complete", _handled(stripe_complete), methods=["POST"]),
        Route(
            "/_sandbox/truemed/payment_sessions/{session_id}/complete",
            _handled(truemed_complete),
            methods=["POST"],
        ),
        # Aliases so both providers can be driven with the same path shape.
        Route(
            "/_sandbox/truemed/sessions/{session_id}/complete", _handled(truemed_complete), methods=["POST"]
        ),
        Route("/_sandbox/{provider:str}/sessions/{session_id}/replay", _handled(replay), methods=["POST"]),
        Route(
            "/_sandbox/truemed/payment_sessions/{session_id}/replay",
            _handled(replay_truemed),
            methods=["POST"],
        ),
    ]
