"""The hosted Stripe Checkout page (`url` of an open session): field "Card number", buttons "Pay" and
"Cancel" (names the end-to-end tests find by role and label)."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from provider_sandbox.pages import Pages, dollars, see_other
from provider_sandbox.store import SandboxState, state_of
from provider_sandbox.stripe.expiry import expire_overdue
from provider_sandbox.stripe.models import StripeSession, stripe_store
from provider_sandbox.stripe.objects import mark_paid, record_decline
from provider_sandbox.webhooks import deliver_later

logger = logging.getLogger(__name__)

PAGES = Pages(Path(__file__).parent / "templates")
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


def _luhn_ok(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _closed(request: Request, session: StripeSession) -> Response:
    if session.status == "complete":
        return PAGES.notice(
            request,
            title="Payment complete",
            message="This checkout session is already paid.",
            link=session.success_redirect(),
        )
    return PAGES.notice(
        request,
        title="This checkout session timed out",
        message="The checkout session has expired. Go back to the merchant to start again.",
        link=session.cancel_url,
    )


def _open_session(request: Request, state: SandboxState) -> StripeSession | Response:
    """The open session the page is for, or the page to show instead (unknown, paid, expired)."""
    expire_overdue(state)
    session = stripe_store(state).sessions.get(request.path_params["session_id"])
    if session is None:
        return PAGES.not_found(request)
    if session.status != "open":
        return _closed(request, session)
    return session


def _form(request: Request, session: StripeSession, *, error: str | None = None) -> Response:
    return PAGES.render(
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


def _decline(number: str) -> tuple[str, str]:
    """Stripe's decline code and message for a card number other than the success card."""
    if not number.isdigit() or not 12 <= len(number) <= 19 or not _luhn_ok(number):
        return "invalid_number", "Your card number is invalid."
    if number in DECLINES:
        return DECLINES[number]
    return (
        "test_mode_live_card",
        "Your card was declined. Your request was in test mode, but used a non test card.",
    )


async def page(request: Request) -> Response:
    state = state_of(request)
    async with state.lock:
        found = _open_session(request, state)
    if isinstance(found, Response):
        return found
    return _form(request, found)


async def pay(request: Request) -> Response:
    state = state_of(request)
    form = await request.form()
    number = re.sub(r"[\s-]", "", str(form.get("card_number", "")))
    async with state.lock:
        found = _open_session(request, state)
        if isinstance(found, Response):
            return found
        if number == SUCCESS_CARD:
            deliver_later(state, [mark_paid(state, found)])
            logger.info("stripe session %s paid on the hosted page", found.id)
            return see_other(found.success_redirect())
        code, message = _decline(number)
        # A decline leaves the session open (the shopper can retry or cancel); Stripe sends no event.
        record_decline(state, found, card_last4=number[-4:], reason=code)
    return _form(request, found, error=message)


async def cancel(request: Request) -> Response:
    state = state_of(request)
    async with state.lock:
        found = _open_session(request, state)
        if isinstance(found, Response):
            return found
        # Stripe changes nothing when the shopper leaves through the cancel link: the session stays open.
        found.shopper_cancels += 1
    if found.cancel_url:
        return see_other(found.cancel_url)
    return PAGES.notice(
        request, title="Checkout canceled", message="You left the checkout.", link=None, link_text=""
    )


def routes() -> list[Route]:
    return [
        Route("/pay/stripe/{session_id}", page, methods=["GET"]),
        Route("/pay/stripe/{session_id}/pay", pay, methods=["POST"]),
        Route("/pay/stripe/{session_id}/cancel", cancel, methods=["POST"]),
    ]
