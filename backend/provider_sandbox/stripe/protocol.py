"""How Stripe's API is spoken: bearer test keys, form bodies, `Request-Id` headers, idempotent POSTs.

Idempotency follows Stripe's contract (https://docs.stripe.com/api/idempotent_requests): the same key with
the same parameters replays the first answer (errors raised while executing included); the same key with
other parameters or on another endpoint is an `idempotency_error`; a request whose parameters failed
validation saves nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from provider_sandbox.config import STRIPE_API_VERSION
from provider_sandbox.events import WebhookEvent
from provider_sandbox.idempotency import MAX_KEY_LENGTH, KeyReused, fingerprint
from provider_sandbox.ids import stripe_id
from provider_sandbox.store import SandboxState, state_of
from provider_sandbox.stripe.errors import StripeApiError, invalid
from provider_sandbox.stripe.expiry import expire_overdue
from provider_sandbox.stripe.forms import FormError, parse_form
from provider_sandbox.stripe.models import SavedAnswer, stripe_store
from provider_sandbox.webhooks import deliver_later


@dataclass
class Outcome:
    """What a POST handler did: the answer, and the webhooks to send once it is given."""

    status: int
    body: dict[str, Any]
    events: list[WebhookEvent] = field(default_factory=list)


Handler = Callable[[SandboxState, dict[str, Any], Request], Outcome]


def authenticate(request: Request) -> None:
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if not header or scheme.lower() != "bearer" or not key.strip():
        raise StripeApiError(
            401,
            "You did not provide an API key. You need to provide your API key in the Authorization header, "
            "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
        )
    key = key.strip()
    # Any test-mode secret key is accepted: the sandbox has one account and no real keys exist offline.
    if not key.startswith(("sk_test_", "rk_test_")) or len(key) <= len("sk_test_"):
        shown = key[:8] + "*" * max(0, len(key) - 12) + key[-4:] if len(key) > 12 else key
        raise StripeApiError(401, f"Invalid API Key provided: {shown}", code="api_key_invalid")


def answer(status: int, body: dict[str, Any], *, replayed: bool = False) -> JSONResponse:
    headers = {"Request-Id": stripe_id("req_", 14), "Stripe-Version": STRIPE_API_VERSION}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(body, status_code=status, headers=headers)


def refusal(err: StripeApiError) -> JSONResponse:
    return answer(err.status, err.body())


async def _form(request: Request) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    raw = (await request.body()).decode("utf-8", errors="replace")
    # Stripe takes the same parameters in the query string as in the body.
    pairs = parse_qsl(request.url.query, keep_blank_values=True) + parse_qsl(raw, keep_blank_values=True)
    return parse_form(pairs), pairs


def _check_key(key: str | None) -> None:
    if key is not None and len(key) > MAX_KEY_LENGTH:
        raise StripeApiError(400, "Idempotency-Key must be at most 255 characters long.")


def _misused(err: KeyReused) -> StripeApiError:
    if err.other_scope:
        message = (
            "Keys for idempotent requests can only be used for the same endpoint they were first used for "
            f"('{err.first_scope}' vs '{err.scope}'). Try using a key other than '{err.key}' if you meant "
            "to execute a different request."
        )
    else:
        message = (
            "Keys for idempotent requests can only be used with the same parameters they were first used "
            f"with. Try using a key other than '{err.key}' if you meant to execute a different request."
        )
    return StripeApiError(400, message, type_="idempotency_error")


async def idempotent_post(request: Request, handler: Handler) -> Response:
    """Authenticate, parse, apply Stripe's idempotency rules, run the handler, send its events later."""
    state = state_of(request)
    keys = stripe_store(state).idempotency
    key = request.headers.get("idempotency-key")
    endpoint = f"POST {request.url.path.removeprefix(request.scope.get('root_path', ''))}"
    try:
        authenticate(request)
        _check_key(key)
        params, pairs = await _form(request)
        digest = fingerprint(sorted(pairs))
        async with state.lock:
            expire_overdue(state)
            try:
                saved = keys.find(key, scope=endpoint, fingerprint=digest) if key is not None else None
            except KeyReused as err:
                raise _misused(err) from err
            if saved is not None:
                return answer(saved.status_code, saved.body, replayed=True)
            store = True
            try:
                outcome = handler(state, params, request)
            except StripeApiError as failure:
                outcome, store = Outcome(failure.status, failure.body()), not failure.validation
            if key is not None and store:
                # Stripe stores the first answer, errors included, and replays it for the same key.
                result = SavedAnswer(outcome.status, outcome.body)
                keys.save(key, scope=endpoint, fingerprint=digest, result=result)
    except StripeApiError as err:
        return refusal(err)
    except FormError as err:
        return refusal(invalid(err.param, str(err), "parameter_unknown"))
    deliver_later(state, outcome.events)
    return answer(outcome.status, outcome.body)
