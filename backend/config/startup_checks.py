"""Start-up refuses configurations that would take money wrongly or leak test secrets into production."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

_SANDBOX_SECRETS = {
    "sk_test_sandbox",
    "whsec_sandbox_not_a_secret",
    "tm_sandbox_api_key",
    "tm_sandbox_webhook_secret",
}
_LOCAL_HOSTS = {"127.0.0.1", "localhost", "sandbox", "::1"}


def _is_local(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host in _LOCAL_HOSTS


def _check_session_ttls(settings: dict[str, Any]) -> None:
    # Stripe accepts expires_at 30 min to 24 h ahead; a stored attempt is resent only while it is over 31 min
    # from expiry, so a shorter TTL would make every retry (and double click) a new attempt.
    if not 32 <= settings["STRIPE_SESSION_TTL_MINUTES"] <= 24 * 60:
        raise ImproperlyConfigured("STRIPE_SESSION_TTL_MINUTES must be between 32 and 1440.")
    if settings["TRUEMED_SESSION_TTL_MINUTES"] < 5:
        raise ImproperlyConfigured("TRUEMED_SESSION_TTL_MINUTES must be at least 5.")


_PLACEHOLDER_PREFIXES = ("demo-only-", "dev-only-")


def _check_secrets_for_real_money(settings: dict[str, Any], live: bool) -> None:
    """Once real providers are involved, the demo's public placeholders must be gone."""
    real_hosts = not (_is_local(settings["STRIPE_API_BASE"]) and _is_local(settings["TRUEMED_API_BASE"]))
    if settings["DEBUG"] or not (live or real_hosts):
        return
    key: str = settings["SECRET_KEY"]
    if key.startswith(_PLACEHOLDER_PREFIXES) or len(key) < 50 or len(set(key)) < 10:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be a real secret (50+ random characters) with real payment providers."
        )
    password = str(settings["DATABASES"]["default"].get("PASSWORD") or "")
    if live and password.startswith(_PLACEHOLDER_PREFIXES):
        raise ImproperlyConfigured("PAYMENTS_LIVE_MODE=1 cannot use the demo database password.")


def check_provider_settings(settings: dict[str, Any]) -> None:
    """Raise ImproperlyConfigured on a dangerous mix of mode, keys and provider addresses.

    - live mode needs live Stripe keys, real provider hosts and non-sandbox secrets;
    - test mode must never carry a live Stripe key (real cards would be charged from a test setup);
    - outside DEBUG, talking to a real provider with a sandbox placeholder secret is refused.
    """
    _check_session_ttls(settings)
    live: bool = settings["PAYMENTS_LIVE_MODE"]
    real_hosts = not (_is_local(settings["STRIPE_API_BASE"]) and _is_local(settings["TRUEMED_API_BASE"]))
    if settings["DEBUG"] and (live or real_hosts):
        # DEBUG relaxes every secret check below and shows tracebacks: never with real money or real hosts.
        raise ImproperlyConfigured(
            "DJANGO_DEBUG=1 is only for the offline sandbox: turn it off with PAYMENTS_LIVE_MODE=1 "
            "or real provider hosts."
        )
    _check_secrets_for_real_money(settings, live)
    stripe_key: str = settings["STRIPE_SECRET_KEY"]
    if settings["TRUEMED_WEBHOOK_MODE"] not in {"legacy", "signed"}:
        raise ImproperlyConfigured("TRUEMED_WEBHOOK_MODE must be 'legacy' or 'signed'.")
    if live:
        if not stripe_key.startswith(("sk_live_", "rk_live_")):
            raise ImproperlyConfigured("PAYMENTS_LIVE_MODE=1 needs a live STRIPE_SECRET_KEY (sk_live_...).")
        for name in ("STRIPE_API_BASE", "TRUEMED_API_BASE"):
            if _is_local(settings[name]):
                raise ImproperlyConfigured(f"PAYMENTS_LIVE_MODE=1 cannot use the local sandbox ({name}).")
    elif stripe_key.startswith(("sk_live_", "rk_live_")):
        raise ImproperlyConfigured(
            "A live Stripe key is set but PAYMENTS_LIVE_MODE is off; refusing to start."
        )

    if settings["DEBUG"]:
        return
    for base_name, secret_names in (
        ("STRIPE_API_BASE", ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET")),
        ("TRUEMED_API_BASE", ("TRUEMED_API_KEY", "TRUEMED_WEBHOOK_SECRET")),
    ):
        if _is_local(settings[base_name]):
            continue  # the offline sandbox: its placeholder secrets are expected
        for name in secret_names:
            if settings[name] in _SANDBOX_SECRETS:
                raise ImproperlyConfigured(
                    f"{name} must be set to a real value when {base_name} is a real host."
                )


_PER_PROCESS_CACHES = {"django.core.cache.backends.locmem.LocMemCache"}


def per_process_cache_warning(caches: dict[str, Any], processes: int) -> str | None:
    """The start-up warning for several server processes each counting rate limits in their own memory."""
    backend = caches["default"]["BACKEND"]
    if processes <= 1 or backend not in _PER_PROCESS_CACHES:
        return None
    return (
        f"{processes} worker processes each keep their own cache ({backend.rsplit('.', 1)[-1]}): rate limits "
        f"count per process, {processes} times looser than configured. Set CACHE_URL (or REDIS_URL) to a "
        "shared Redis, e.g. redis://127.0.0.1:6379/0, or run one worker (WEB_CONCURRENCY=1)."
    )
