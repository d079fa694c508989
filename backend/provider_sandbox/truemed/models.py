"""Truemed's records as the sandbox keeps them: data only (objects.py builds API shapes and changes them).

Statuses (developers.truemed.com): pending -> processing (details entered, under review) -> captured or
rejected; pending -> canceled through the cancel API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from provider_sandbox.events import WebhookEvent
from provider_sandbox.idempotency import IdempotencyKeys
from provider_sandbox.store import SandboxState

SUMMARY = {
    "pending": "Incomplete",
    "processing": "Processing",
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
    refunds: list[TruemedRefund] = field(default_factory=list)
    events: list[WebhookEvent] = field(default_factory=list)

    @property
    def refunded_amount(self) -> int:
        return sum(r.amount for r in self.refunds)

    @property
    def status_summary(self) -> str:
        if self.refunds:
            return "Refunded" if self.refunded_amount >= self.capture_amount else "Partially Refunded"
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

    def clear(self) -> None:
        self.sessions.clear()
        self.create_keys.clear()
        self.refund_keys.clear()


def truemed_store(state: SandboxState) -> TruemedStore:
    return state.store(TruemedStore)
