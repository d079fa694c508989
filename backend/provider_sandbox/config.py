"""Sandbox settings from the environment. An empty value means "use the default", as in .env.example."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, TypeVar

TruemedWebhookMode = Literal["legacy", "signed"]
AmountDetailsMode = Literal["strict", "lenient"]
Number = TypeVar("Number", int, float)

DEFAULT_STRIPE_WEBHOOK_SECRET = "whsec_sandbox_not_a_secret"  # noqa: S105 - a public sandbox default
DEFAULT_TRUEMED_API_KEY = "tm_sandbox_api_key"
DEFAULT_TRUEMED_WEBHOOK_SECRET = "tm_sandbox_webhook_secret"  # noqa: S105 - a public sandbox default
# The API version the sandbox pretends to be pinned to (stripe 16.1.0's own pin).
STRIPE_API_VERSION = "2026-10-28.endive"


class ConfigError(ValueError):
    """A sandbox environment variable has a value the sandbox cannot use."""


@dataclass(frozen=True)
class SandboxConfig:
    """Everything the sandbox reads at start-up. Faults (latency/error/timeout) can change at runtime."""

    host: str = "127.0.0.1"
    port: int = 8100
    public_url: str = "http://127.0.0.1:8100"
    stripe_webhook_url: str = "http://127.0.0.1:8000/api/webhooks/stripe/"
    truemed_webhook_url: str = "http://127.0.0.1:8000/api/webhooks/truemed/"
    stripe_webhook_secret: str = DEFAULT_STRIPE_WEBHOOK_SECRET
    truemed_api_key: str = DEFAULT_TRUEMED_API_KEY
    truemed_webhook_secret: str = DEFAULT_TRUEMED_WEBHOOK_SECRET
    truemed_webhook_mode: TruemedWebhookMode = "legacy"
    truemed_capture_delay_seconds: float = 3.0
    truemed_amount_details: AmountDetailsMode = "lenient"
    latency_ms: int = 0
    error_rate: float = 0.0
    timeout_rate: float = 0.0
    # How long an injected "timeout" holds the answer back: far beyond any sane client timeout.
    timeout_seconds: float = 30.0
    webhook_max_attempts: int = 5
    # Pause before retry n (the last value repeats): short, so tests that exercise retries stay fast.
    webhook_backoff_seconds: tuple[float, ...] = field(default=(0.2, 0.5, 1.0, 2.0, 4.0))
    webhook_timeout_seconds: float = 5.0
    # How often open Stripe sessions past their expires_at are expired (and announced).
    expiry_sweep_seconds: float = 1.0

    def __post_init__(self) -> None:
        if self.truemed_webhook_mode not in {"legacy", "signed"}:
            raise ConfigError("SANDBOX_TRUEMED_WEBHOOK_MODE must be legacy or signed")
        if self.truemed_amount_details not in {"strict", "lenient"}:
            raise ConfigError("SANDBOX_TRUEMED_AMOUNT_DETAILS must be strict or lenient")
        if self.webhook_max_attempts < 1:
            raise ConfigError("SANDBOX_WEBHOOK_MAX_ATTEMPTS must be at least 1")
        if not self.webhook_backoff_seconds:
            raise ConfigError("webhook_backoff_seconds needs at least one value")
        check_faults(latency_ms=self.latency_ms, error_rate=self.error_rate, timeout_rate=self.timeout_rate)

    @property
    def public_base(self) -> str:
        return self.public_url.rstrip("/")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SandboxConfig:
        """Read SANDBOX_* and the shared secret names; raise ConfigError naming the bad variable."""
        env = os.environ if environ is None else environ
        defaults = cls()

        def text(name: str, default: str) -> str:
            return env.get(name, "").strip() or default

        def number(name: str, default: Number, *, minimum: Number | None = None) -> Number:
            """An int or a float, as the default is: empty means the default, below `minimum` is refused."""
            raw = env.get(name, "").strip()
            if not raw:
                return default
            parse = type(default)
            try:
                value = parse(raw)
            except ValueError as exc:
                kind = "an integer" if parse is int else "a number"
                raise ConfigError(f"{name} must be {kind}, got {raw!r}") from exc
            floor = parse(0) if minimum is None else minimum
            if value < floor:
                raise ConfigError(f"{name} must be >= {floor}, got {raw!r}")
            return value

        def choice(name: str, default: str, allowed: set[str]) -> str:
            value = text(name, default).lower()
            if value not in allowed:
                raise ConfigError(f"{name} must be one of {sorted(allowed)}, got {value!r}")
            return value

        port = number("SANDBOX_PORT", defaults.port, minimum=1)
        host = text("SANDBOX_HOST", defaults.host)
        # Unset: whatever the backend expects (TRUEMED_WEBHOOK_MODE), so one setting switches both sides.
        shared_mode = text("TRUEMED_WEBHOOK_MODE", defaults.truemed_webhook_mode)
        mode = choice("SANDBOX_TRUEMED_WEBHOOK_MODE", shared_mode, {"legacy", "signed"})
        details = choice(
            "SANDBOX_TRUEMED_AMOUNT_DETAILS", defaults.truemed_amount_details, {"strict", "lenient"}
        )
        try:
            return cls(
                host=host,
                port=port,
                public_url=text("SANDBOX_PUBLIC_URL", f"http://{host}:{port}"),
                stripe_webhook_url=text("SANDBOX_STRIPE_WEBHOOK_URL", defaults.stripe_webhook_url),
                truemed_webhook_url=text("SANDBOX_TRUEMED_WEBHOOK_URL", defaults.truemed_webhook_url),
                stripe_webhook_secret=text("STRIPE_WEBHOOK_SECRET", defaults.stripe_webhook_secret),
                truemed_api_key=text("TRUEMED_API_KEY", defaults.truemed_api_key),
                truemed_webhook_secret=text("TRUEMED_WEBHOOK_SECRET", defaults.truemed_webhook_secret),
                truemed_webhook_mode="signed" if mode == "signed" else "legacy",
                truemed_capture_delay_seconds=number(
                    "SANDBOX_TRUEMED_CAPTURE_DELAY_SECONDS", defaults.truemed_capture_delay_seconds
                ),
                truemed_amount_details="strict" if details == "strict" else "lenient",
                latency_ms=number("SANDBOX_LATENCY_MS", defaults.latency_ms),
                error_rate=number("SANDBOX_ERROR_RATE", defaults.error_rate),
                timeout_rate=number("SANDBOX_TIMEOUT_RATE", defaults.timeout_rate),
                timeout_seconds=number("SANDBOX_TIMEOUT_SECONDS", defaults.timeout_seconds),
                webhook_max_attempts=number(
                    "SANDBOX_WEBHOOK_MAX_ATTEMPTS", defaults.webhook_max_attempts, minimum=1
                ),
            )
        except ConfigError:
            raise
        except ValueError as exc:  # pragma: no cover - __post_init__ raises ConfigError itself
            raise ConfigError(str(exc)) from exc


MAX_LATENCY_MS = 120_000


def check_faults(*, latency_ms: int, error_rate: float, timeout_rate: float) -> None:
    """Fault settings must be usable: rates are shares in [0, 1], latency a bounded number of ms."""
    if not 0 <= latency_ms <= MAX_LATENCY_MS:
        raise ConfigError(f"latency_ms must be between 0 and {MAX_LATENCY_MS}")
    for name, rate in (("error_rate", error_rate), ("timeout_rate", timeout_rate)):
        if not 0.0 <= rate <= 1.0:
            raise ConfigError(f"{name} must be between 0 and 1")
