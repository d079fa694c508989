"""Stripe's records as the sandbox keeps them: data only (objects.py builds API shapes and changes them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from provider_sandbox.events import WebhookEvent
from provider_sandbox.idempotency import IdempotencyKeys
from provider_sandbox.ids import stripe_id
from provider_sandbox.store import SandboxState

SESSION_PLACEHOLDER = "{CHECKOUT_SESSION_ID}"


@dataclass
class StripeSession:
    id: str
    created: int
    expires_at: int
    amount_subtotal: int
    amount_total: int
    currency: str
    line_items: list[dict[str, Any]]
    success_url: str
    cancel_url: str | None
    client_reference_id: str | None
    customer_email: str | None
    metadata: dict[str, str]
    idempotency_key: str | None
    payment_method_types: list[str] = field(default_factory=lambda: ["card"])
    mode: str = "payment"
    status: str = "open"
    payment_status: str = "unpaid"
    payment_intent: str | None = None
    declines: list[dict[str, Any]] = field(default_factory=list)
    shopper_cancels: int = 0
    events: list[WebhookEvent] = field(default_factory=list)

    def success_redirect(self) -> str:
        return self.success_url.replace(SESSION_PLACEHOLDER, self.id)


@dataclass
class PaymentIntentRecord:
    id: str
    charge_id: str
    session_id: str
    amount: int
    currency: str
    amount_refunded: int = 0


@dataclass
class StripeRefund:
    id: str
    amount: int
    currency: str
    charge: str
    payment_intent: str
    session_id: str
    reason: str | None
    metadata: dict[str, str]
    created: int
    # pending -> succeeded | failed (https://docs.stripe.com/refunds#failed-refunds)
    status: str = "succeeded"
    failure_reason: str | None = None
    balance_transaction: str = field(default_factory=lambda: stripe_id("txn_"))
    failure_balance_transaction: str | None = None
    events: list[WebhookEvent] = field(default_factory=list)


@dataclass(frozen=True)
class SavedAnswer:
    """The first answer to an idempotent request (errors raised while executing included)."""

    status_code: int
    body: dict[str, Any]


@dataclass
class StripeStore:
    """Everything the emulated Stripe account holds."""

    sessions: dict[str, StripeSession] = field(default_factory=dict)
    payment_intents: dict[str, PaymentIntentRecord] = field(default_factory=dict)
    refunds: dict[str, StripeRefund] = field(default_factory=dict)
    idempotency: IdempotencyKeys[SavedAnswer] = field(default_factory=IdempotencyKeys)

    def clear(self) -> None:
        self.sessions.clear()
        self.payment_intents.clear()
        self.refunds.clear()
        self.idempotency.clear()


def stripe_store(state: SandboxState) -> StripeStore:
    return state.store(StripeStore)
