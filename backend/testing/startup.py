"""Settings dicts for `config.startup_checks.check_provider_settings`: the demo against the sandbox."""

from __future__ import annotations

from typing import Any

REAL_SECRET_KEY = "k3J9-xQ2v_L8pW4zR7tY1uN6bM0cF5hD2sA9gE3jK8qP4wZ7-mX5nB"  # noqa: S105 - a test value


def sandbox_settings(**overrides: Any) -> dict[str, Any]:
    """The compose demo's provider settings (sandbox hosts, placeholder secrets); `overrides` replace."""
    settings: dict[str, Any] = {
        "DEBUG": False,
        "PAYMENTS_LIVE_MODE": False,
        "TRUEMED_WEBHOOK_MODE": "legacy",
        "STRIPE_SECRET_KEY": "sk_test_sandbox",
        "STRIPE_WEBHOOK_SECRET": "whsec_sandbox_not_a_secret",
        "STRIPE_API_BASE": "http://sandbox:8100/stripe",
        "TRUEMED_API_KEY": "tm_sandbox_api_key",
        "TRUEMED_WEBHOOK_SECRET": "tm_sandbox_webhook_secret",
        "TRUEMED_API_BASE": "http://sandbox:8100/truemed",
        "STRIPE_SESSION_TTL_MINUTES": 60,
        "TRUEMED_SESSION_TTL_MINUTES": 60,
        "SECRET_KEY": REAL_SECRET_KEY,
        "DATABASES": {"default": {"PASSWORD": "a-real-password"}},
    }
    settings.update(overrides)
    return settings
