"""Builds the provider adapters from settings: the real hosts or the offline sandbox, no code change."""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from sofia_checkout.core.errors import ValidationFailed
from sofia_checkout.payments.providers.base import PaymentProvider
from sofia_checkout.payments.providers.stripe_checkout.adapter import StripeCheckoutProvider
from sofia_checkout.payments.providers.truemed.adapter import TruemedProvider

_adapters: dict[str, PaymentProvider] = {}
_lock = threading.Lock()


def _build(name: str) -> PaymentProvider:
    if name == "stripe":
        return StripeCheckoutProvider(
            secret_key=settings.STRIPE_SECRET_KEY,
            webhook_secret=settings.STRIPE_WEBHOOK_SECRET,
            api_base=settings.STRIPE_API_BASE,
            timeout=settings.PROVIDER_TIMEOUT_SECONDS,
            max_retries=settings.PROVIDER_MAX_RETRIES,
        )
    return TruemedProvider(
        api_key=settings.TRUEMED_API_KEY,
        api_base=settings.TRUEMED_API_BASE,
        webhook_secret=settings.TRUEMED_WEBHOOK_SECRET,
        webhook_mode=settings.TRUEMED_WEBHOOK_MODE,
        timeout=settings.PROVIDER_TIMEOUT_SECONDS,
        max_retries=settings.PROVIDER_MAX_RETRIES,
    )


def enabled_providers() -> list[str]:
    return [name for name in settings.PAYMENT_PROVIDERS if name in {"stripe", "truemed"}]


def get_provider(name: str) -> PaymentProvider:
    """The adapter for an enabled provider (one per process, pooled); ValidationFailed otherwise."""
    if name not in enabled_providers():
        raise ValidationFailed(errors={"provider": [f"Choose one of: {', '.join(enabled_providers())}."]})
    with _lock:
        if name not in _adapters:
            _adapters[name] = _build(name)
        return _adapters[name]


def close_providers() -> None:
    """Close the adapters' connection pools and forget them (settings changed, or shutting down)."""
    with _lock:
        for adapter in _adapters.values():
            adapter.close()
        _adapters.clear()


@receiver(setting_changed)
def _reset_on_settings_change(**kwargs: Any) -> None:
    close_providers()
