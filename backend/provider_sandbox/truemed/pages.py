"""Truemed's hosted pages (`redirect_url`): a survey step (select "Main reason for your visit", radio group
"Has a clinician recommended this care?", button "Continue"), then the payment step (buttons "Pay with HSA/FSA
card", "Simulate rejection", "Cancel"). Names are what the end-to-end tests find by role and label.

"Cancel" is the shopper leaving: back to failure_url, and the session stays `pending` with no webhook.
Truemed's `canceled` means cancelled through the cancel API (developers.truemed.com), nothing a shopper does.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from provider_sandbox.events import WebhookEvent
from provider_sandbox.pages import Pages, dollars, see_other
from provider_sandbox.store import SandboxState, state_of
from provider_sandbox.truemed.models import TruemedSession, truemed_store
from provider_sandbox.truemed.objects import to_captured, to_processing, to_rejected
from provider_sandbox.webhooks import deliver

logger = logging.getLogger(__name__)

PAGES = Pages(Path(__file__).parent / "templates")
SURVEY_REASONS = (
    "Stress, sleep or mental well-being",
    "Weight, nutrition or metabolic health",
    "Pain, mobility or injury recovery",
    "Another condition a clinician is treating",
)
_CLOSED_TEXT = {
    "processing": (
        "Payment received",
        "Your HSA/FSA payment details were received. A practitioner reviews your health survey; "
        "the merchant will let you know the result.",
    ),
    "captured": ("Payment complete", "Your HSA/FSA payment was approved and taken."),
    "rejected": (
        "HSA/FSA payment not approved",
        "The review did not approve HSA/FSA use for this purchase; nothing was taken. "
        "Return to the merchant to pay another way.",
    ),
}


def _closed(request: Request, session: TruemedSession) -> Response:
    if session.status == "canceled":
        # Documented: an old link to a canceled session shows a "timed out" page linking to failure_url.
        return PAGES.notice(
            request,
            title="This payment session timed out",
            message="This payment session is no longer available. Return to the merchant to try again.",
            link=session.failure_url,
        )
    title, message = _CLOSED_TEXT.get(session.status, _CLOSED_TEXT["processing"])
    return PAGES.notice(request, title=title, message=message, link=session.success_url)


def _pending_session(request: Request, state: SandboxState) -> TruemedSession | Response:
    """The pending session the page is for, or the page to show instead (unknown, paid, canceled)."""
    session = truemed_store(state).sessions.get(request.path_params["session_id"])
    if session is None:
        return PAGES.not_found(request)
    if session.status != "pending":
        return _closed(request, session)
    return session


def _context(session: TruemedSession) -> dict[str, Any]:
    return {
        "session": session,
        "amount": dollars(session.total_amount),
        "items": [
            {
                "name": item["name"],
                "quantity": item["quantity"],
                "amount": dollars(int(item["price"]) * int(item["quantity"])),
            }
            for item in session.order_items
        ],
        "reasons": SURVEY_REASONS,
    }


async def page(request: Request) -> Response:
    found = _pending_session(request, state_of(request))
    if isinstance(found, Response):
        return found
    step = "pay" if found.survey_done and request.query_params.get("step") == "pay" else "survey"
    return PAGES.render(request, f"truemed_{step}.html", _context(found))


async def survey(request: Request) -> Response:
    found = _pending_session(request, state_of(request))
    if isinstance(found, Response):
        return found
    # The answers are not judged: every survey in the sandbox is approved or rejected on demand.
    await request.form()
    found.survey_done = True
    return see_other(f"{request.url.path.removesuffix('/survey')}?step=pay")


async def _review(
    state: SandboxState, session: TruemedSession, first: WebhookEvent, *, approve: bool
) -> None:
    """After payment details: announce processing, then after the review delay captured or rejected."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    await deliver(state, first)
    await asyncio.sleep(max(0.0, state.config.truemed_capture_delay_seconds - (loop.time() - started)))
    async with state.lock:
        if session.status != "processing":
            return  # something else (the control API) already decided
        event = to_captured(state, session) if approve else to_rejected(state, session)
    await deliver(state, event)


async def pay(request: Request) -> Response:
    state = state_of(request)
    form = await request.form()
    approve = form.get("action", "pay") != "reject"
    async with state.lock:
        found = _pending_session(request, state)
        if isinstance(found, Response):
            return found
        first = to_processing(state, found)
    state.spawn(_review(state, found, first, approve=approve), name=f"truemed-review-{found.id}")
    logger.info("truemed session %s processing (will be %s)", found.id, "captured" if approve else "rejected")
    return see_other(found.success_url)


async def cancel(request: Request) -> Response:
    """The shopper leaves: nothing changes at Truemed (the link still works until the merchant cancels)."""
    state = state_of(request)
    async with state.lock:
        found = _pending_session(request, state)
        if isinstance(found, Response):
            return found
        found.shopper_cancels += 1
    logger.info("truemed session %s: the shopper left the hosted page (still pending)", found.id)
    if found.failure_url:
        return see_other(found.failure_url)
    return PAGES.notice(
        request,
        title="Payment not completed",
        message="You left the HSA/FSA payment. Return to the merchant to choose how to pay.",
        link=None,
        link_text="",
    )


def routes() -> list[Route]:
    return [
        Route("/pay/truemed/{session_id}", page, methods=["GET"]),
        Route("/pay/truemed/{session_id}/survey", survey, methods=["POST"]),
        Route("/pay/truemed/{session_id}/pay", pay, methods=["POST"]),
        Route("/pay/truemed/{session_id}/cancel", cancel, methods=["POST"]),
    ]
