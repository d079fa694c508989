"""Stripe's words -> our PaymentStatus. The one table for Stripe.

https://docs.stripe.com/checkout/fulfillment : fulfil on `checkout.session.completed` only when
`payment_status == "paid"`; delayed methods complete unpaid, then send async_payment_succeeded/failed.
"""

from __future__ import annotations

from sofia_checkout.payments.providers.base import RefundOutcome
from sofia_checkout.payments.statuses import PaymentStatus

HANDLED_EVENTS = frozenset(
    {
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.async_payment_failed",
        "checkout.session.expired",
    }
)


# https://docs.stripe.com/refunds#failed-refunds : a refund can fail after it was created as pending.
REFUND_EVENTS = frozenset({"refund.updated", "refund.failed"})

_REFUND_OUTCOME = {
    "succeeded": RefundOutcome.SUCCEEDED,
    "pending": RefundOutcome.PENDING,
    "requires_action": RefundOutcome.PENDING,
    "failed": RefundOutcome.FAILED,
    "canceled": RefundOutcome.FAILED,
}


def refund_outcome(status: str) -> RefundOutcome:
    """A Refund object's status; an unknown one is not final (never taken as succeeded)."""
    return _REFUND_OUTCOME.get(status, RefundOutcome.PENDING)


def session_status(*, status: str, payment_status: str) -> PaymentStatus:
    """Status of a retrieved Checkout Session."""
    if status == "complete":
        if payment_status in {"paid", "no_payment_required"}:
            return PaymentStatus.PAID
        return PaymentStatus.PROCESSING
    if status == "expired":
        return PaymentStatus.EXPIRED
    return PaymentStatus.OPEN


def event_status(*, event_type: str, status: str, payment_status: str) -> PaymentStatus:
    """Status proven by a signed event. A failed async payment is only visible as an event."""
    if event_type == "checkout.session.async_payment_failed":
        return PaymentStatus.FAILED
    if event_type == "checkout.session.async_payment_succeeded":
        return PaymentStatus.PAID
    if event_type == "checkout.session.expired":
        return PaymentStatus.EXPIRED
    return session_status(status=status, payment_status=payment_status)
