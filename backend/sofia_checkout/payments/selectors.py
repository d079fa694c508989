"""Reads of payment sessions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from sofia_checkout.appointments.access import access_token_matches, access_token_matches_nothing
from sofia_checkout.core.errors import NotFound
from sofia_checkout.payments.models import PaymentSession
from sofia_checkout.payments.providers.registry import enabled_providers, get_provider


@dataclass(frozen=True)
class PaymentMethod:
    provider: str
    display_name: str
    sandbox: bool  # the offline sandbox stands in for the provider


def payment_methods() -> list[PaymentMethod]:
    """The enabled payment methods, in the configured order."""
    methods = []
    for name in enabled_providers():
        adapter = get_provider(name)
        methods.append(PaymentMethod(name, adapter.display_name, adapter.uses_sandbox))
    return methods


def payment_session_get(*, payment_session_id: uuid.UUID | str) -> PaymentSession:
    try:
        return PaymentSession.objects.get(pk=payment_session_id)
    except (PaymentSession.DoesNotExist, ValidationError, ValueError):
        raise NotFound("No payment session with this id.") from None


PAYMENT_SESSION_NOT_FOUND = "No payment session with this id."


def payment_session_get_authorized(*, payment_session_id: uuid.UUID | str, presented: str) -> PaymentSession:
    """The payment session if `presented` is its appointment's access token; else NotFound, the same answer
    as for an unknown id."""
    if not presented:
        raise NotFound(PAYMENT_SESSION_NOT_FOUND)
    try:
        session = PaymentSession.objects.select_related("appointment").get(pk=payment_session_id)
    except (PaymentSession.DoesNotExist, ValidationError, ValueError):
        access_token_matches_nothing(presented)
        raise NotFound(PAYMENT_SESSION_NOT_FOUND) from None
    if not access_token_matches(session.appointment, presented):
        raise NotFound(PAYMENT_SESSION_NOT_FOUND)
    return session


def payment_session_latest(*, appointment_id: uuid.UUID | str) -> PaymentSession | None:
    return PaymentSession.objects.filter(appointment_id=appointment_id).order_by("-created_at").first()


def payment_session_find_for_webhook(
    *, provider: str, provider_session_id: str | None, our_payment_session_id: str | None
) -> PaymentSession | None:
    """By the provider's id; else by our id echoed back (a webhook may beat the create call's answer)."""
    if provider_session_id:
        found = PaymentSession.objects.filter(
            provider=provider, provider_session_id=provider_session_id
        ).first()
        if found is not None:
            return found
    if our_payment_session_id:
        try:
            return PaymentSession.objects.filter(
                provider=provider, pk=uuid.UUID(our_payment_session_id)
            ).first()
        except ValueError:
            return None
    return None
