from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from config.startup_checks import check_provider_settings
from testing.booking import booking
from testing.flows import send_stripe_webhook
from testing.provider_mocks import stripe_event
from testing.startup import sandbox_settings

pytestmark = pytest.mark.django_db


@pytest.fixture
def tight_rates(monkeypatch: pytest.MonkeyPatch) -> None:
    cache.clear()
    monkeypatch.setattr(
        ScopedRateThrottle,
        "THROTTLE_RATES",
        {"booking": "3/min", "payment_session": "3/min", "sync": "3/min"},
    )


def test_booking_is_rate_limited_with_retry_after(api: APIClient, tight_rates: None) -> None:
    statuses = [api.post("/api/appointments/", {}, format="json").status_code for _ in range(4)]
    assert statuses == [400, 400, 400, 429]
    limited = api.post("/api/appointments/", booking(), format="json")
    assert limited.status_code == 429
    assert limited.json()["code"] == "throttled"
    assert int(limited["Retry-After"]) > 0


def test_a_forged_x_forwarded_for_does_not_dodge_the_limit(api: APIClient, tight_rates: None) -> None:
    statuses = [
        api.post("/api/appointments/", {}, format="json", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code
        for n in range(4)
    ]
    assert statuses == [400, 400, 400, 429]


def test_behind_one_proxy_the_address_it_adds_is_the_client(
    api: APIClient, tight_rates: None, settings: Any
) -> None:
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}

    def book_from(client_address: str) -> int:
        # The shopper may send any X-Forwarded-For; our proxy appends the address it saw.
        forwarded = f"10.9.9.9, {client_address}"
        return int(
            api.post("/api/appointments/", {}, format="json", HTTP_X_FORWARDED_FOR=forwarded).status_code
        )

    assert [book_from("203.0.113.7") for _ in range(4)] == [400, 400, 400, 429]
    assert book_from("203.0.113.8") == 400  # another client has its own budget


def test_sync_and_session_creation_are_rate_limited(api: APIClient, tight_rates: None) -> None:
    url = "/api/payment-sessions/00000000-0000-0000-0000-000000000000/sync/"
    assert [api.post(url).status_code for _ in range(4)] == [404, 404, 404, 429]
    start = "/api/appointments/00000000-0000-0000-0000-000000000000/payment-sessions/"
    assert [api.post(start, {"provider": "stripe"}, format="json").status_code for _ in range(4)][-1] == 429


def test_webhooks_are_not_throttled(api: APIClient, tight_rates: None) -> None:
    body = stripe_event("customer.created", {"object": "customer"})
    codes = {send_stripe_webhook(api, body).status_code for _ in range(10)}
    assert codes == {200}


def _settings(**overrides: Any) -> dict[str, Any]:
    return sandbox_settings(**overrides)


def test_startup_checks() -> None:
    check_provider_settings(_settings())  # the demo against the sandbox is fine
    with pytest.raises(ImproperlyConfigured, match="live"):
        check_provider_settings(_settings(PAYMENTS_LIVE_MODE=True))
    with pytest.raises(ImproperlyConfigured, match="PAYMENTS_LIVE_MODE is off"):
        check_provider_settings(_settings(STRIPE_SECRET_KEY="sk_live_abc"))
    with pytest.raises(ImproperlyConfigured, match="STRIPE_SECRET_KEY"):
        check_provider_settings(_settings(STRIPE_API_BASE="https://api.stripe.com"))
    with pytest.raises(ImproperlyConfigured, match="sandbox"):
        check_provider_settings(
            _settings(
                PAYMENTS_LIVE_MODE=True,
                STRIPE_SECRET_KEY="sk_live_abc",
                STRIPE_API_BASE="http://127.0.0.1:8100/stripe",
            )
        )
    live = {
        "PAYMENTS_LIVE_MODE": True,
        "STRIPE_SECRET_KEY": "sk_live_abc",
        "STRIPE_WEBHOOK_SECRET": "whsec_live",
        "TRUEMED_API_KEY": "tm_live",
        "TRUEMED_WEBHOOK_SECRET": "tm_live_whsec",
        "STRIPE_API_BASE": "https://api.stripe.com",
        "TRUEMED_API_BASE": "https://api.truemed.com",
    }
    check_provider_settings(_settings(**live))  # a proper live configuration starts...
    with pytest.raises(ImproperlyConfigured, match="DJANGO_DEBUG"):
        check_provider_settings(_settings(DEBUG=True, **live))  # ...but never with DEBUG on
    with pytest.raises(ImproperlyConfigured, match="DJANGO_DEBUG"):
        check_provider_settings(_settings(DEBUG=True, STRIPE_API_BASE="https://api.stripe.com"))
    check_provider_settings(_settings(DEBUG=True))  # DEBUG against the offline sandbox is fine
    with pytest.raises(ImproperlyConfigured, match="TRUEMED_WEBHOOK_MODE"):
        check_provider_settings(_settings(TRUEMED_WEBHOOK_MODE="maybe"))
    real_stripe = {
        "STRIPE_API_BASE": "https://api.stripe.com",
        "STRIPE_SECRET_KEY": "sk_test_real",
        "STRIPE_WEBHOOK_SECRET": "whsec_real",
    }
    for key in ("demo-only-compose-secret-key-do-not-use-in-production-0123456789abcdef", "short", "a" * 60):
        with pytest.raises(ImproperlyConfigured, match="DJANGO_SECRET_KEY"):
            check_provider_settings(_settings(SECRET_KEY=key, **real_stripe))
    check_provider_settings(_settings(SECRET_KEY="demo-only-key"))  # the demo against the sandbox is fine
    with pytest.raises(ImproperlyConfigured, match="demo database password"):
        check_provider_settings(
            _settings(
                PAYMENTS_LIVE_MODE=True,
                STRIPE_SECRET_KEY="sk_live_abc",
                STRIPE_WEBHOOK_SECRET="whsec_live",
                TRUEMED_API_KEY="tm_live",
                TRUEMED_WEBHOOK_SECRET="tm_live_whsec",
                STRIPE_API_BASE="https://api.stripe.com",
                TRUEMED_API_BASE="https://api.truemed.com",
                DATABASES={"default": {"PASSWORD": "demo-only-db-password"}},
            )
        )
    for ttl in (31, 1441):
        with pytest.raises(ImproperlyConfigured, match="STRIPE_SESSION_TTL_MINUTES"):
            check_provider_settings(_settings(STRIPE_SESSION_TTL_MINUTES=ttl))
    with pytest.raises(ImproperlyConfigured, match="TRUEMED_SESSION_TTL_MINUTES"):
        check_provider_settings(_settings(TRUEMED_SESSION_TTL_MINUTES=1))
    check_provider_settings(
        _settings(
            STRIPE_API_BASE="https://api.stripe.com",
            STRIPE_SECRET_KEY="sk_test_real",
            STRIPE_WEBHOOK_SECRET="whsec_real",
        )
    )
