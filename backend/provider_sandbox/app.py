"""The sandbox's ASGI app: both providers' APIs, hosted pages, the control API and the mail sink's pages
in one Starlette process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route

from provider_sandbox import control
from provider_sandbox.config import SandboxConfig
from provider_sandbox.faults import ErrorBody, FaultInjection
from provider_sandbox.limiting import LimitedApi, RateLimiting
from provider_sandbox.mail import pages as mail_pages
from provider_sandbox.mail.mailbox import Mailbox
from provider_sandbox.store import SandboxState
from provider_sandbox.stripe import api as stripe_api
from provider_sandbox.stripe import control as stripe_control
from provider_sandbox.stripe import errors as stripe_errors
from provider_sandbox.stripe import pages as stripe_pages
from provider_sandbox.stripe.expiry import sweep_forever
from provider_sandbox.truemed import api as truemed_api
from provider_sandbox.truemed import control as truemed_control
from provider_sandbox.truemed import errors as truemed_errors
from provider_sandbox.truemed import pages as truemed_pages

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
# Faults apply to these provider API paths only (never to hosted pages or /_sandbox), each answering a
# 500 in its provider's error shape.
FAULTED_APIS: dict[str, ErrorBody] = {
    "/stripe/v1/": lambda state: stripe_errors.injected_error_body(),
    "/truemed/payments/": lambda state: truemed_errors.injected_error_body(state.switches.truemed.error_body),
}
# Request limits apply to the same paths, counted per endpoint and per provider (docs/sandbox.md).
LIMITED_APIS = (
    LimitedApi("stripe", "/stripe", "/stripe/v1/", stripe_errors.rate_limited),
    LimitedApi("truemed", "/truemed", "/truemed/payments/", truemed_errors.rate_limited),
)


async def _index(request: Request) -> Response:
    return RedirectResponse("/_sandbox/sessions", status_code=307)


async def _not_found(request: Request, exc: Exception) -> Response:
    return JSONResponse(
        {"error": "not_found", "message": f"No route for {request.url.path}"}, status_code=404
    )


def _smtp_address(config: SandboxConfig) -> str:
    return f"{config.host}:{config.smtp_port}" if config.smtp_port else ""


def create_app(config: SandboxConfig | None = None) -> Starlette:
    """Build the sandbox; state lives on `app.state.sandbox` (tests may reach in, e.g. to move the clock)."""
    state = SandboxState(config or SandboxConfig.from_env())

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        sweeper = asyncio.create_task(sweep_forever(state), name="stripe-expiry-sweeper")
        logger.info(
            "provider sandbox ready: public %s, webhooks -> %s | %s (truemed %s)",
            state.config.public_base,
            state.config.stripe_webhook_url,
            state.config.truemed_webhook_url,
            state.config.truemed_webhook_mode,
        )
        try:
            yield
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
            state.release_held()
            await state.close()

    app = Starlette(
        routes=[
            Route("/", _index, methods=["GET"]),
            *control.routes([stripe_control.CONTROL, truemed_control.CONTROL]),
            *stripe_pages.routes(),
            *truemed_pages.routes(),
            # The mail sink's messages (the SMTP server itself is started by __main__, one per process).
            *mail_pages.routes(state.store(Mailbox), smtp_address=_smtp_address(state.config)),
            Mount("/stripe", app=stripe_api.router()),
            Mount("/truemed", app=truemed_api.router()),
        ],
        middleware=[
            Middleware(RateLimiting, state=state, apis=LIMITED_APIS),
            Middleware(FaultInjection, state=state, apis=FAULTED_APIS),
        ],
        exception_handlers={404: _not_found},
        lifespan=lifespan,
        max_body_size=MAX_BODY_BYTES,
    )
    app.state.sandbox = state
    return app
