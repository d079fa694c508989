"""Control API under `/_sandbox/` for tests and demos: inspect, faults, reset, replay, forced outcomes.

This module holds what both providers share; each provider adds its forced outcomes (its `complete` routes)
and its rows in the listing through a `ProviderControl` (stripe/control.py, truemed/control.py), which
app.py passes to `routes()`. Complete/replay calls return only after their webhooks were delivered (or
failed every attempt) and report the delivery results, so a test can assert on the backend right after.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from provider_sandbox.config import ConfigError, ProviderLimits, Switches, check_event_type, check_faults
from provider_sandbox.events import WebhookEvent
from provider_sandbox.store import SandboxState, state_of
from provider_sandbox.validation import json_object
from provider_sandbox.webhooks import deliver, deliver_all

logger = logging.getLogger(__name__)

DELIVERY_MODES = ("in_order", "reversed", "none")
FAULT_SETTINGS = frozenset({"latency_ms", "error_rate", "timeout_rate", "timeout_seconds"})
SWITCH_SETTINGS = frozenset({"stripe_refund_outcome", "truemed_event_type", "truemed_assumptions"})
LIMIT_SETTINGS = frozenset({"rate_limits"})


class ControlError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


Endpoint = Callable[[Request], Awaitable[Response]]
# The webhooks a provider's session has sent so far (None: no such session).
SentEvents = Callable[[SandboxState, str], list[WebhookEvent] | None]


@dataclass(frozen=True)
class ProviderControl:
    """What one provider adds to the control API."""

    name: str
    routes: Sequence[Route]
    listing: Callable[[SandboxState], list[dict[str, Any]]]
    sent_events: SentEvents


def handled(endpoint: Endpoint) -> Endpoint:
    """Turn a ControlError raised anywhere in a control endpoint into its JSON answer."""

    async def wrapped(request: Request) -> Response:
        try:
            return await endpoint(request)
        except ControlError as err:
            return JSONResponse({"error": err.code, "message": err.message}, status_code=err.status)

    return wrapped


async def read_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    body = json_object(raw)
    if body is None:
        raise ControlError(400, "malformed_request", "The body must be a JSON object")
    return body


def delivery_mode(body: dict[str, Any]) -> str:
    mode = body.get("delivery", "in_order")
    if mode not in DELIVERY_MODES:
        raise ControlError(400, "validation_error", f"delivery must be one of {', '.join(DELIVERY_MODES)}")
    return str(mode)


# One step of a forced outcome: a guard (is the session still where this step starts?) and the change.
Step = tuple[Callable[[], bool], Callable[[], WebhookEvent | None]]


async def run_steps(
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


def event_summary(event: WebhookEvent) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "event_type": event.event_type,
        "status": event.status,
        "created": event.created,
    }


# A forced outcome, prepared under the lock: its steps, and how to show the session once they ran.
Prepared = tuple[list[Step], Callable[[], dict[str, Any]]]
Prepare = Callable[[SandboxState, str, str], Prepared]


def _outcome(body: dict[str, Any]) -> object:
    return body.get("outcome")


def complete_endpoint(
    provider: str,
    outcomes: Sequence[str],
    prepare: Prepare,
    *,
    read_outcome: Callable[[dict[str, Any]], object] = _outcome,
    id_param: str = "session_id",
    object_key: str = "session",
) -> Endpoint:
    """`POST .../{session_id}/complete {"outcome", "delivery"}`: force an outcome and answer with what
    changed and how its webhooks went. `prepare(state, object_id, outcome)` raises 404/409 ControlErrors.
    The same shape completes other objects (a refund: `id_param="refund_id"`, `object_key="refund"`)."""

    async def endpoint(request: Request) -> Response:
        state = state_of(request)
        body = await read_body(request)
        outcome = read_outcome(body)
        if outcome not in outcomes:
            raise ControlError(400, "validation_error", f"outcome must be one of {', '.join(outcomes)}")
        mode = delivery_mode(body)
        object_id = request.path_params[id_param]
        async with state.lock:
            steps, shown = prepare(state, object_id, str(outcome))
        events, results = await run_steps(state, steps, mode)
        logger.info("control: %s %s -> %s (%d webhooks, %s)", provider, object_id, outcome, len(events), mode)
        return JSONResponse(
            {
                "provider": provider,
                "outcome": outcome,
                "delivery": mode,
                object_key: shown(),
                "events": [event_summary(e) for e in events],
                "deliveries": results,
            }
        )

    return handled(endpoint)


def replay_endpoint(provider: str, sent_events: SentEvents) -> Endpoint:
    """Send a session's last webhook again: same event id, same body (a duplicate delivery)."""

    async def replay(request: Request) -> Response:
        state = state_of(request)
        events = sent_events(state, request.path_params["session_id"])
        if events is None:
            raise ControlError(404, "not_found", f"No such {provider} session")
        if not events:
            raise ControlError(409, "conflict", "This session has sent no webhook yet")
        result = await deliver(state, events[-1], replay=True)
        return JSONResponse(
            {"provider": provider, "event": event_summary(events[-1]), "deliveries": [result]}
        )

    return handled(replay)


async def webhooks(request: Request) -> Response:
    return JSONResponse({"deliveries": state_of(request).deliveries})


async def get_config(request: Request) -> Response:
    state = state_of(request)
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
            **state.switches.as_dict(),
            "rate_limits": {name: limits.as_dict() for name, limits in state.rate_limiter.limits.items()},
        }
    )


def _rate_limits(body: dict[str, Any], current: dict[str, ProviderLimits]) -> dict[str, ProviderLimits]:
    """The limits after a config call: `{"rate_limits": {"stripe": {"global_per_second": 5}}}` changes
    only what it names."""
    changes = body.get("rate_limits", {})
    if not isinstance(changes, dict):
        raise ControlError(400, "validation_error", "rate_limits must be an object of provider: limits")
    unknown = sorted(set(changes) - set(current))
    if unknown:
        raise ControlError(400, "validation_error", f"No such provider: {unknown[0]}")
    try:
        return {
            name: limits.changed(changes[name]) if name in changes else limits
            for name, limits in current.items()
        }
    except ConfigError as exc:
        raise ControlError(400, "validation_error", str(exc)) from exc


def _switches(body: dict[str, Any], current: Switches) -> Switches:
    """The behaviours after a config call: named ones changed, Truemed assumptions merged name by name."""
    changes = body.get("truemed_assumptions", {})
    if not isinstance(changes, dict):
        raise ControlError(400, "validation_error", "truemed_assumptions must be an object of name: value")
    try:
        truemed = current.truemed.changed(changes)
        return Switches(
            stripe_refund_outcome=body.get("stripe_refund_outcome", current.stripe_refund_outcome),
            truemed_event_type=check_event_type(body.get("truemed_event_type", current.truemed_event_type)),
            truemed=truemed,
        )
    except ConfigError as exc:
        raise ControlError(400, "validation_error", str(exc)) from exc


def _number(body: dict[str, Any], name: str, current: float) -> float:
    if name not in body:
        return current
    value = body[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ControlError(400, "validation_error", f"{name} must be a number")
    return float(value)


async def set_config(request: Request) -> Response:
    state = state_of(request)
    body = await read_body(request)
    unknown = sorted(set(body) - FAULT_SETTINGS - SWITCH_SETTINGS - LIMIT_SETTINGS)
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
    # Validate everything before changing anything: a refused call changes nothing.
    switches = _switches(body, state.switches)
    limits = _rate_limits(body, state.rate_limiter.limits)
    state.switches = switches
    state.rate_limiter.limits = limits
    faults = state.faults
    faults.latency_ms, faults.error_rate, faults.timeout_rate = int(latency), error_rate, timeout_rate
    faults.timeout_seconds = timeout_seconds
    logger.info("control: faults now %s, behaviours %s", faults.as_dict(), switches.as_dict())
    return await get_config(request)


async def stats(request: Request) -> Response:
    """What each provider API accepted and refused: totals, per second, and the most accepted within any one
    second, per endpoint and per provider (`global`). DELETE clears the counts (not the limits)."""
    limiter = state_of(request).rate_limiter
    if request.method == "DELETE":
        limiter.clear()
    return JSONResponse(limiter.stats())


async def reset(request: Request) -> Response:
    await state_of(request).reset()
    logger.info("control: reset")
    return JSONResponse({"status": "reset"})


async def settle(request: Request) -> Response:
    """Tests call this before they end, so no webhook reaches a backend that has moved on."""
    body = await read_body(request)
    timeout = _number(body, "timeout_seconds", 10.0)
    if not 0 < timeout <= 60:
        raise ControlError(400, "validation_error", "timeout_seconds must be in (0, 60]")
    pending = await state_of(request).settle(timeout)
    return JSONResponse({"pending": pending}, status_code=200 if pending == 0 else 504)


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def routes(providers: Sequence[ProviderControl]) -> list[Route]:
    """The whole control API: the shared routes, each provider's own, and replay for every provider."""

    async def sessions(request: Request) -> Response:
        state = state_of(request)
        listing = [row for provider in providers for row in provider.listing(state)]
        listing.sort(key=lambda item: item["created"])
        return JSONResponse(
            {"sessions": listing, "creates_per_idempotency_key": dict(state.creates_per_idempotency_key)}
        )

    replays = {provider.name: replay_endpoint(provider.name, provider.sent_events) for provider in providers}

    async def replay(request: Request) -> Response:
        name = request.path_params["provider"]
        endpoint = replays.get(name)
        if endpoint is None:
            raise ControlError(404, "not_found", f"No such {name} session")
        return await endpoint(request)

    return [
        Route("/_sandbox/health", handled(health), methods=["GET"]),
        Route("/_sandbox/reset", handled(reset), methods=["POST"]),
        Route("/_sandbox/settle", handled(settle), methods=["POST"]),
        Route("/_sandbox/config", handled(get_config), methods=["GET"]),
        Route("/_sandbox/config", handled(set_config), methods=["POST"]),
        Route("/_sandbox/sessions", handled(sessions), methods=["GET"]),
        Route("/_sandbox/webhooks", handled(webhooks), methods=["GET"]),
        Route("/_sandbox/stats.json", handled(stats), methods=["GET", "DELETE"]),
        *(route for provider in providers for route in provider.routes),
        Route("/_sandbox/{provider:str}/sessions/{session_id}/replay", handled(replay), methods=["POST"]),
    ]
