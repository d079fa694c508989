"""Builds the provider adapters from settings: the real hosts or the offline sandbox, no code change.

`PAYMENT_PROVIDER_ADAPTERS` (settings) registers each provider: the adapter class and which setting feeds
each constructor argument. `PAYMENT_PROVIDERS` picks the enabled ones. Nothing here knows a provider by name.
"""

from __future__ import annotations

import threading
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from sofia_checkout.core.errors import ValidationFailed
from sofia_checkout.payments.provider_limits import (
    Priority,
    current_priority,
    provider_priority,
    request_gate,
)
from sofia_checkout.payments.providers.base import (
    PaymentProvider,
    RefundRequest,
    RefundResult,
)

_adapters: dict[str, PaymentProvider] = {}
_lock = threading.Lock()


def _adapter_class(name: str) -> type[PaymentProvider]:
    cls: type[PaymentProvider] = import_string(settings.PAYMENT_PROVIDER_ADAPTERS[name]["class"])
    return cls


class _RefundsInBackground:
    """The adapter, with its refund calls made at background priority: a refund is never urgent enough to
    take a shopper's place under the provider's rate limit (a busy provider leaves it to the reconcile
    job). Everything else is the adapter itself."""

    def __init__(self, adapter: PaymentProvider) -> None:
        self._adapter = adapter

    def __getattr__(self, name: str) -> Any:
        return getattr(self._adapter, name)

    def refund(self, request: RefundRequest) -> RefundResult:
        with provider_priority(_background()):
            return self._adapter.refund(request)

    def refund_status(self, *, provider_refund_id: str, provider_session_id: str) -> RefundResult:
        with provider_priority(_background()):
            return self._adapter.refund_status(
                provider_refund_id=provider_refund_id, provider_session_id=provider_session_id
            )


def _background() -> Priority:
    """Background, unless the call is part of webhook intake (which never waits)."""
    return Priority.WEBHOOK if current_priority() == Priority.WEBHOOK else Priority.BACKGROUND


def _build(name: str) -> PaymentProvider:
    spec = settings.PAYMENT_PROVIDER_ADAPTERS[name]
    kwargs: dict[str, Any] = {arg: getattr(settings, setting) for arg, setting in spec["settings"].items()}
    # Every request the adapter sends passes our rate limit first; a provider's own 429 is retried for
    # at most this long before the caller hears "busy".
    kwargs["gate"] = request_gate(name)
    kwargs["busy_retry_seconds"] = settings.PROVIDER_BUSY_RETRY_SECONDS
    adapter = _adapter_class(name)(**kwargs)
    low, high = adapter.session_ttl_bounds
    if not low <= adapter.session_ttl <= high:
        raise ImproperlyConfigured(f"The {name} session lifetime must be between {low} and {high}.")
    return cast(PaymentProvider, _RefundsInBackground(adapter))


def registered_providers() -> list[str]:
    """Every provider the settings register an adapter for (enabled or not)."""
    return list(settings.PAYMENT_PROVIDER_ADAPTERS)


def enabled_providers() -> list[str]:
    return [name for name in settings.PAYMENT_PROVIDERS if name in settings.PAYMENT_PROVIDER_ADAPTERS]


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
