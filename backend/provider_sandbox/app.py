"""The sandbox's ASGI app: provider APIs, hosted pages and the control API in one Starlette process."""

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

from provider_sandbox import control, hosted_pages, stripe_api, truemed_api
from provider_sandbox.config import SandboxConfig
from provider_sandbox.faults import FaultInjection
from provider_sandbox.store import SandboxState
from provider_sandbox.stripe_objects import expire_due
from provider_sandbox.webhooks import deliver_later

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024


async def _expiry_sweeper(state: SandboxState) -> None:
    """Stripe expires open sessions at expires_at on its own and sends checkout.session.expired."""
    while True:
        await asyncio.sleep(state.config.expiry_sweep_seconds)
        try:
            async with state.lock:
                events = expire_due(state)
            deliver_later(state, events)
        except Exception:
            # One bad pass must not stop expiry for good: log it and sweep again next time.
            logger.exception("expiry sweep failed")


async def _index(request: Request) -> Response:
    return RedirectResponse("/_sandbox/sessions", status_code=307)


async def _not_found(request: Request, exc: Exception) -> Response:
    return JSONResponse(
        {"error": "not_found", "message": f"No route for {request.url.path}"}, status_code=404
    )


def create_app(config: SandboxConfig | None = None) -> Starlette:
    """Build the sandbox; state lives on `app.state.sandbox` (tests may reach in, e.g. to move the clock)."""
    state = SandboxState(config or SandboxConfig.from_env())

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        sweeper = asyncio.create_task(_expiry_sweeper(state), name="stripe-expiry-sweeper")
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
            *control.routes(),
            *hosted_pages.routes(),
            Mount("/stripe", app=stripe_api.router()),
            Mount("/truemed", app=truemed_api.router()),
        ],
        middleware=[Middleware(FaultInjection, state=state)],
        exception_handlers={404: _not_found},
        lifespan=lifespan,
        max_body_size=MAX_BODY_BYTES,
    )
    app.state.sandbox = state
    return app
