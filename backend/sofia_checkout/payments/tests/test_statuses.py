from __future__ import annotations

import pytest

from sofia_checkout.payments.providers.stripe_checkout.mapping import event_status, session_status
from sofia_checkout.payments.providers.truemed.mapping import truemed_status
from sofia_checkout.payments.statuses import PaymentStatus as S
from sofia_checkout.payments.statuses import can_transition


@pytest.mark.parametrize(
    ("current", "new", "allowed"),
    [
        (S.CREATING, S.OPEN, True),
        (S.OPEN, S.PROCESSING, True),
        (S.PROCESSING, S.PAID, True),
        (S.OPEN, S.PAID, True),
        (S.PAID, S.REFUNDED, True),
        (S.FAILED, S.PAID, True),  # money outranks: a charge we missed must be recorded
        (S.EXPIRED, S.PAID, True),
        (S.PAID, S.PROCESSING, False),
        (S.PAID, S.EXPIRED, False),
        (S.PAID, S.OPEN, False),
        (S.PROCESSING, S.OPEN, False),
        (S.REFUNDED, S.PAID, False),
        (S.FAILED, S.EXPIRED, False),
        (S.CANCELED, S.FAILED, False),
        (S.OPEN, S.OPEN, False),
    ],
)
def test_transitions_only_move_forward(current: S, new: S, allowed: bool) -> None:
    assert can_transition(current, new) is allowed


def test_stripe_mapping() -> None:
    assert session_status(status="open", payment_status="unpaid") == S.OPEN
    assert session_status(status="complete", payment_status="paid") == S.PAID
    assert session_status(status="complete", payment_status="no_payment_required") == S.PAID
    assert session_status(status="complete", payment_status="unpaid") == S.PROCESSING
    assert session_status(status="expired", payment_status="unpaid") == S.EXPIRED
    assert (
        event_status(
            event_type="checkout.session.async_payment_failed", status="complete", payment_status="unpaid"
        )
        == S.FAILED
    )
    assert (
        event_status(
            event_type="checkout.session.async_payment_succeeded", status="complete", payment_status="paid"
        )
        == S.PAID
    )


def test_truemed_mapping_never_treats_processing_or_unknown_as_paid() -> None:
    assert truemed_status("processing") == S.PROCESSING
    assert truemed_status("captured") == S.PAID
    assert truemed_status("rejected") == S.FAILED
    assert truemed_status("canceled") == S.CANCELED
    assert truemed_status("pending") == S.OPEN
    assert truemed_status("something_new") == S.OPEN
