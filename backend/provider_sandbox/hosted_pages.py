"""The providers' hosted pages (what a shopper sees at `url` / `redirect_url`). Plain HTML forms, no JS.

Button names are part of the contract with the end-to-end tests (role/label locators): Stripe "Pay" and
"Cancel" with a "Card number" field; Truemed "Continue", "Pay with HSA/FSA card", "Simulate rejection",
"Cancel".
"""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from provider_sandbox.store import SandboxState, WebhookEvent
from provider_sandbox.stripe_objects import StripeSession, expire_due, mark_paid, record_decline
from provider_sandbox.truemed_objects import (
    TruemedSession,
    to_canceled,
    to_captured,
    to_processing,
    to_rejected,
)
from provider_sandbox.webhooks import deliver, deliver_later

logger = logging.getLogger(__name__)

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))

SUCCESS_CARD = "4242424242424242"
# Stripe's documented test cards (https://docs.stripe.com/testing#declined-payments).
DECLINES: dict[str, tuple[str, str]] = {
    "4000000000000002": ("generic_decline", "Your card was declined."),
    "4000000000009995": ("insufficient_funds", "Your card has insufficient funds."),
    "4000000000009987": ("lost_card", "Your card was declined."),
    "4000000000000069": ("expired_card", "Your card has expired."),
    "4000000000000127": ("incorrect_cvc", "Your card's security code is incorrect."),
    "4000000000000119": (
        "processing_error",
        "An error occurred while processing your card. Try again in a little bit.",
    ),
}
SURVEY_REASONS = (
    "Stress, sleep or mental well-being",
    "Weight, nutrition or metabolic health",
    "Pain, mobility or injury recovery",
    "Another condition a clinician is treating",
)


def dollars(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}${cents // 100:,}.{cents % 100:02d}"


def _luhn_ok(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _state(request: Request) -> SandboxState:
    state: SandboxState = request.app.state.sandbox
    return state


def _page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    response = templates.TemplateResponse(request, name, context, status_code=status)
    # A payment page is never cached: the back button must show the current state.
    response.headers["Cache-Control"] = "no-store"
    return response


def _notice(
    request: Request, *, title: str, message: str, link: str | None, link_text: str, status: int = 200
) -> Response:
    return _page(
        request,
        "notice.html",
        {"title": title, "message": message, "link": link, "link_text": link_text},
        status,
    )


def _missing(request: Request) -> Response:
    return _notice(
        request,
        title="Checkout not found",
        message="This checkout link is not valid.",
        link=None,
        link_text="",
        status=404,
    )


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# --- Stripe ----------------------------------------------------------------------------------


async def _stripe_session(request: Request) -> StripeSession | None:
    state = _state(request)
    async with state.lock:
        deliver_later(state, expire_due(state))
        return state.stripe_sessions.get(request.path_params["session_id"])


def _stripe_closed(request: Request, session: StripeSession) -> Response:
    if session.status == "complete":
        return _notice(
            request,
            title="Payment complete",
            message="This checkout session is already paid.",
            link=session.success_redirect(),
            link_text="Return to the merchant",
        )
    return _notice(
        request,
        title="This checkout session timed out",
        message="The checkout session has expired. Go back to the merchant to start again.",
        link=session.cancel_url,
        link_text="Return to the merchant",
    )


def _stripe_form(request: Request, session: StripeSession, *, error: str | None = None) -> Response:
    return _page(
        request,
        "stripe_checkout.html",
        {
            "session": session,
            "amount": dollars(session.amount_total),
            "items": [
                {
                    "name": item["price_data"]["product_data"]["name"],
                    "quantity": item["quantity"],
                    "amount": dollars(item["quantity"] * item["price_data"]["unit_amount"]),
                }
                for item in session.line_items
            ],
            "error": error,
        },
    )


async def stripe_page(request: Request) -> Response:
    session = await _stripe_session(request)
    if session is None:
        return _missing(request)
    if session.status != "open":
        return _stripe_closed(request, session)
    return _stripe_form(request, session)


async def stripe_pay(request: Request) -> Response:
    state = _state(request)
    form = await request.form()
    number = re.sub(r"[\s-]", "", str(form.get("card_number", "")))
    async with state.lock:
        deliver_later(state, expire_due(state))
        session = state.stripe_sessions.get(request.path_params["session_id"])
        if session is None:
            return _missing(request)
        if session.status != "open":
            return _stripe_closed(request, session)
        if number == SUCCESS_CARD:
            event = mark_paid(state, session)
            deliver_later(state, [event])
            logger.info("stripe session %s paid on the hosted page", session.id)
            return _see_other(session.success_redirect())
        if not number.isdigit() or not 12 <= len(number) <= 19 or not _luhn_ok(number):
            code, message = "invalid_number", "Your card number is invalid."
        elif number in DECLINES:
            code, message = DECLINES[number]
        else:
            code = "test_mode_live_card"
            message = "Your card was declined. Your request was in test mode, but used a non test card."
        # A decline leaves the session open (the shopper can retry or cancel); Stripe sends no event.
        record_decline(state, session, card_last4=number[-4:], reason=code)
    return _stripe_form(request, session, error=message)


async def stripe_cancel(request: Request) -> Response:
    session = await _stripe_session(request)
    if session is None:
        return _missing(request)
    if session.status != "open":
        return _stripe_closed(request, session)
    # Stripe changes nothing when the shopper leaves through the cancel link: the session stays open.
    session.shopper_cancels += 1
    if session.cancel_url:
        return _see_other(session.cancel_url)
    return _notice(
        request, title="Checkout canceled", message="You left the checkout.", link=None, link_text=""
    )


# --- Truemed ---------------------------------------------------------------------------------


def _truemed_session(request: Request) -> TruemedSession | None:
    return _state(request).truemed_sessions.get(request.path_params["session_id"])


def _truemed_closed(request: Request, session: TruemedSession) -> Response:
    if session.status == "canceled":
        # Documented: an old link to a canceled session shows a "timed out" page linking to failure_url.
        return _notice(
            request,
            title="This payment session timed out",
            message="This payment session is no longer available. Return to the merchant to try again.",
            link=session.failure_url,
            link_text="Return to the merchant",
        )
    title, message = _TRUEMED_CLOSED_TEXT.get(session.status, _TRUEMED_CLOSED_TEXT["processing"])
    return _notice(
        request, title=title, message=message, link=session.success_url, link_text="Return to the merchant"
    )


_TRUEMED_CLOSED_TEXT = {
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


def _truemed_context(session: TruemedSession) -> dict[str, Any]:
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


async def truemed_page(request: Request) -> Response:
    session = _truemed_session(request)
    if session is None:
        return _missing(request)
    if session.status != "pending":
        return _truemed_closed(request, session)
    step = "pay" if session.survey_done and request.query_params.get("step") == "pay" else "survey"
    return _page(request, f"truemed_{step}.html", _truemed_context(session))


async def truemed_survey(request: Request) -> Response:
    session = _truemed_session(request)
    if session is None:
        return _missing(request)
    if session.status != "pending":
        return _truemed_closed(request, session)
    await (
        request.form()
    )  # answers are not judged: every survey in the sandbox is approved or rejected on demand
    session.survey_done = True
    return _see_other(f"{request.url.path.removesuffix('/survey')}?step=pay")


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


async def truemed_pay(request: Request) -> Response:
    state = _state(request)
    form = await request.form()
    approve = form.get("action", "pay") != "reject"
    async with state.lock:
        session = _truemed_session(request)
        if session is None:
            return _missing(request)
        if session.status != "pending":
            return _truemed_closed(request, session)
        first = to_processing(state, session)
    state.spawn(_review(state, session, first, approve=approve), name=f"truemed-review-{session.id}")
    logger.info(
        "truemed session %s processing (will be %s)", session.id, "captured" if approve else "rejected"
    )
    return _see_other(session.success_url)


async def truemed_cancel(request: Request) -> Response:
    state = _state(request)
    async with state.lock:
        session = _truemed_session(request)
        if session is None:
            return _missing(request)
        if session.status != "pending":
            return _truemed_closed(request, session)
        event = to_canceled(state, session)
    deliver_later(state, [event])
    if session.failure_url:
        return _see_other(session.failure_url)
    return _truemed_closed(request, session)


def routes() -> list[Route]:
    return [
        Route("/pay/stripe/{session_id}", stripe_page, methods=["GET"]),
        Route("/pay/stripe/{session_id}/pay", stripe_pay, methods=["POST"]),
        Route("/pay/stripe/{session_id}/cancel", stripe_cancel, methods=["POST"]),
        Route("/pay/truemed/{session_id}", truemed_page, methods=["GET"]),
        Route("/pay/truemed/{session_id}/survey", truemed_survey, methods=["POST"]),
        Route("/pay/truemed/{session_id}/pay", truemed_pay, methods=["POST"]),
        Route("/pay/truemed/{session_id}/cancel", truemed_cancel, methods=["POST"]),
    ]
