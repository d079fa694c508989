"""Our payment status vocabulary and the one rule for moving between statuses.

A status never moves backwards: a late `open`, `processing` or `expired` never undoes `paid`.
"""

from __future__ import annotations

from django.db import models


class PaymentStatus(models.TextChoices):
    CREATING = "creating", "Creating"  # our row exists; the provider has not answered yet
    OPEN = "open", "Open"
    PROCESSING = "processing", "Processing"  # received, under review (e.g. HSA/FSA) or async method pending
    PAID = "paid", "Paid"
    # Money arrived, but not the amount or currency we asked for (or one we cannot check): never confirms
    # anything; refunded by cancel and the reconcile job, flagged for staff.
    PAID_UNVERIFIED = "paid_unverified", "Paid, amount unverified"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"
    EXPIRED = "expired", "Expired"
    REFUNDED = "refunded", "Refunded"


LIVE_PAYMENT_STATUSES = (PaymentStatus.CREATING, PaymentStatus.OPEN, PaymentStatus.PROCESSING)
UNPAID_FINAL_STATUSES = (PaymentStatus.FAILED, PaymentStatus.CANCELED, PaymentStatus.EXPIRED)
# Money was taken: a refund is owed if the appointment does not keep it.
MONEY_TAKEN_STATUSES = (PaymentStatus.PAID, PaymentStatus.PAID_UNVERIFIED)

_RANK = {
    PaymentStatus.CREATING: 0,
    PaymentStatus.OPEN: 1,
    PaymentStatus.PROCESSING: 2,
    PaymentStatus.FAILED: 3,
    PaymentStatus.CANCELED: 3,
    PaymentStatus.EXPIRED: 3,
    PaymentStatus.PAID: 4,
    PaymentStatus.PAID_UNVERIFIED: 4,
    PaymentStatus.REFUNDED: 5,
}


def can_transition(current: PaymentStatus | str, new: PaymentStatus | str) -> bool:
    """Whether `current` may become `new`: only forwards in rank.

    Money outranks everything else: a session we believed failed/canceled/expired that the provider reports
    as paid becomes paid (the shopper was charged; the record must say so). Among the unpaid final statuses
    the first one stands.
    """
    return _RANK[PaymentStatus(new)] > _RANK[PaymentStatus(current)]
