"""Truemed's statuses -> our PaymentStatus. `processing` is received-under-review, never paid."""

from __future__ import annotations

from sofia_checkout.payments.statuses import PaymentStatus

_STATUS = {
    "pending": PaymentStatus.OPEN,
    "processing": PaymentStatus.PROCESSING,
    "authorized": PaymentStatus.PROCESSING,
    "captured": PaymentStatus.PAID,
    "rejected": PaymentStatus.FAILED,
    "canceled": PaymentStatus.CANCELED,
    "cancelled": PaymentStatus.CANCELED,
    "authorization_voided": PaymentStatus.CANCELED,
    "authorization_expired": PaymentStatus.EXPIRED,
}


def truemed_status(status: str) -> PaymentStatus:
    """Map a Truemed status; an unknown one is treated as still open (never as paid)."""
    return _STATUS.get(status.strip().lower(), PaymentStatus.OPEN)
