"""Truemed's records as the sandbox keeps them: data only (objects.py builds API shapes and changes them).

Statuses (developers.truemed.com): pending -> processing (details entered, under review) -> captured or
rejected; pending -> canceled through the cancel API (a shopper who leaves the hosted page changes nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from provider_sandbox.events import WebhookEvent
from provider_sandbox.idempotency import IdempotencyKeys
from provider_sandbox.store import SandboxState

# status_summary, Truemed's display roll-up. Documented values: Incomplete, Authorized, Captured, Partially
# Captured, Refunded, Partially Refunded, ... Which one each status shows is our reading (docs/sandbox.md);
# "Rejected" and "Canceled" are not among the documented values we know of (guesses). Partially Captured
# needs manual capture (kind=authorization), which the sandbox account does not have.
SUMMARY = {
    "pending": "Incomplete",
    "processing": "Authorized",
    "captured": "Captured",
    "rejected": "Rejected",
    "canceled": "Canceled",
}
# Observed in Truemed's sandbox: a $38.00 fee on a $600.00 order (19/300 of the total).
FEE_NUMERATOR, FEE_DENOMINATOR = 19, 300


@dataclass
class TruemedRefund:
    refund_id: str
    amount: int
    reason: str
    created_at: float
    # succeeded at once, or pending until the control API ends it (assumption refund_summary=pending);
    # a failed refund never shows in status_summary (Truemed documents no failure signal).
    status: str = "succeeded"


@dataclass
class TruemedSession:
    id: str
    created_at: float
    total_amount: int
    order_items: list[dict[str, Any]]
    amount_details: dict[str, int]
    success_url: str
    failure_url: str | None
    idempotency_key: str | None
    customer_email: str | None
    customer_name: str | None
    customer_state: str | None
    metadata: str | None
    kind: str = "one_time_payment"
    status: str = "pending"
    authorize_amount: int = 0
    capture_amount: int = 0
    authorized_on: float | None = None
    captured_on: float | None = None
    survey_done: bool = False
    # Times the shopper left the hosted page through Cancel (the session stays pending).
    shopper_cancels: int = 0
    refunds: list[TruemedRefund] = field(default_factory=list)
    events: list[WebhookEvent] = field(default_factory=list)

    @property
    def refunded_amount(self) -> int:
        """What was given back (refunds that went through)."""
        return sum(r.amount for r in self.refunds if r.status == "succeeded")

    @property
    def refundable_amount(self) -> int:
        """What a new refund may still take: pending refunds hold their amount."""
        held = sum(r.amount for r in self.refunds if r.status in {"succeeded", "pending"})
        return self.capture_amount - held

    @property
    def status_summary(self) -> str:
        refunded = self.refunded_amount
        if self.status == "captured" and refunded > 0:
            return "Refunded" if refunded >= self.capture_amount else "Partially Refunded"
        return SUMMARY.get(self.status, self.status.title())

    @property
    def truemed_fee(self) -> int:
        return (self.total_amount * FEE_NUMERATOR + FEE_DENOMINATOR // 2) // FEE_DENOMINATOR


@dataclass
class TruemedStore:
    """Everything the emulated Truemed merchant account holds. Idempotency keys answer with an id."""

    sessions: dict[str, TruemedSession] = field(default_factory=dict)
    create_keys: IdempotencyKeys[str] = field(default_factory=IdempotencyKeys)
    refund_keys: IdempotencyKeys[str] = field(default_factory=IdempotencyKeys)
    # Notifications that name no payment session (qualification, ...), sent through the control API.
    other_events: list[WebhookEvent] = field(default_factory=list)

    def clear(self) -> None:
        self.sessions.clear()
        self.create_keys.clear()
        self.refund_keys.clear()
        self.other_events.clear()

    def refund(self, refund_id: str) -> tuple[TruemedSession, TruemedRefund] | None:
        for session in self.sessions.values():
            for refund in session.refunds:
                if refund.refund_id == refund_id:
                    return session, refund
        return None


def truemed_store(state: SandboxState) -> TruemedStore:
    return state.store(TruemedStore)
