"""Sandbox settings from the environment. An empty value means "use the default", as in .env.example."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, ClassVar, Literal, TypeVar

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


# How a Stripe refund ends (https://docs.stripe.com/refunds#failed-refunds): at once, or `pending` first and
# then, later, `succeeded` or `failed` (with refund.updated / refund.failed webhooks). Plain `pending` waits
# for the control API (`POST /_sandbox/stripe/refunds/{id}/complete`).
STRIPE_REFUND_OUTCOMES = ("succeeded", "pending", "pending_then_succeeded", "pending_then_failed")
# Signed-mode Truemed event types: dot-notation names (`payment_session.updated`, `qualification.completed`).
EVENT_TYPE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
MAX_EVENT_TYPE_LENGTH = 100
_TRUEMED_PATH = re.compile(r"^/payments/[A-Za-z0-9_./{}-]+$")


@dataclass(frozen=True)
class TruemedAssumptions:
    """Every undocumented Truemed behaviour the sandbox has to pick one answer for (docs/sandbox.md, "Truemed:
    documented choices"). The first value of each choice is the default: what the adapter assumes
    (backend/sofia_checkout/payments/providers/truemed/assumptions.py). The others let a test show what the
    product does when Truemed turns out to behave otherwise."""

    # The cancel route ({id}: the session id) and its answer: 200 {"id","status"}, 200 {"id"}, or 204.
    cancel_path: str = "/payments/v1/payment_session/{id}/cancel"
    cancel_answer: str = "id_status"
    # The refund route and its answer: 200 {"refund_id"} or 200 {"id"}.
    refund_path: str = "/payments/v1/refund"
    refund_answer: str = "refund_id"
    # When a refund shows in status_summary: at once, or only once the control API completes it.
    refund_summary: str = "immediate"
    # The webhook's session id field.
    webhook_id_field: str = "payment_id"
    # Signed mode `x-truemed-signature`: "t=<unix>,v1=<hex>" (HMAC over "{t}.{body}"), the same with v1 first,
    # or "sha256=<hex>" (HMAC over the body alone, no timestamp).
    signature: str = "t_v1"
    # Legacy mode `x-truemed-api-key`: the webhook secret, or the merchant's API key.
    legacy_header: str = "webhook_secret"
    # 4xx bodies: {"error": "<Enum>", "message"} or {"detail": "<text>"} (Django REST framework's default).
    error_body: str = "error_message"

    CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {
        "cancel_answer": ("id_status", "id", "empty"),
        "refund_answer": ("refund_id", "id"),
        "refund_summary": ("immediate", "pending"),
        "webhook_id_field": ("payment_id", "payment_session_id", "id"),
        "signature": ("t_v1", "v1_t", "sha256"),
        "legacy_header": ("webhook_secret", "api_key"),
        "error_body": ("error_message", "detail"),
    }

    def __post_init__(self) -> None:
        for name, allowed in self.CHOICES.items():
            if getattr(self, name) not in allowed:
                raise ConfigError(f"truemed assumption {name} must be one of {', '.join(allowed)}")
        for name in ("cancel_path", "refund_path"):
            path = getattr(self, name)
            if not isinstance(path, str) or not _TRUEMED_PATH.match(path) or "//" in path:
                raise ConfigError(f"truemed assumption {name} must be a path under /payments/")
        if self.cancel_path.count("{id}") != 1:
            raise ConfigError("truemed assumption cancel_path must contain {id} once")
        if "{" in self.refund_path or "}" in self.refund_path:
            raise ConfigError("truemed assumption refund_path takes no {id}")
        if self.cancel_path.replace("{id}", "x") == self.refund_path:
            raise ConfigError("truemed assumptions cancel_path and refund_path must differ")

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    def changed(self, changes: Mapping[str, object]) -> TruemedAssumptions:
        """A copy with some assumptions changed; ConfigError for unknown names or values."""
        unknown = sorted(set(changes) - set(self.names()))
        if unknown:
            raise ConfigError(f"unknown truemed assumption {unknown[0]!r}")
        if any(not isinstance(value, str) for value in changes.values()):
            raise ConfigError("truemed assumptions are strings")
        return replace(self, **{name: str(value) for name, value in changes.items()})

    @classmethod
    def parse(cls, text: str) -> TruemedAssumptions:
        """`name=value,name=value` (SANDBOX_TRUEMED_ASSUMPTIONS); empty means every default."""
        changes: dict[str, object] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            name, sep, value = part.partition("=")
            if not sep or not name.strip() or not value.strip():
                raise ConfigError(f"expected name=value, got {part!r}")
            changes[name.strip()] = value.strip()
        return cls().changed(changes)

    def as_dict(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in self.names()}


def check_event_type(value: object) -> str:
    if (
        not isinstance(value, str)
        or len(value) > MAX_EVENT_TYPE_LENGTH
        or not EVENT_TYPE_PATTERN.match(value)
    ):
        raise ConfigError("an event type is lowercase words joined by dots, e.g. payment_session.updated")
    return value


@dataclass(frozen=True)
class ProviderLimits:
    """Requests per second for one provider: all its API calls together, and each endpoint (0: no limit).

    Defaults: Stripe's documented sandbox figures (https://docs.stripe.com/rate-limits): 25 operations a
    second per account, 25 a second per endpoint unless documented otherwise. Truemed publishes none: the
    same figures, configurable (docs/sandbox.md)."""

    global_per_second: int = 25
    endpoint_per_second: int = 25
    # Endpoints with their own limit, by endpoint_name().
    endpoints: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        values = [self.global_per_second, self.endpoint_per_second, *self.endpoints.values()]
        if any(isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in values):
            raise ConfigError("rate limits are whole numbers of requests per second, 0 for none")

    def for_endpoint(self, endpoint: str) -> int:
        return self.endpoints.get(endpoint, self.endpoint_per_second)

    def changed(self, changes: object) -> ProviderLimits:
        """A copy with `{"global_per_second", "endpoint_per_second", "endpoints": {name: n}}` applied."""
        if not isinstance(changes, dict):
            raise ConfigError("a provider's rate limits are an object")
        unknown = sorted(set(changes) - {"global_per_second", "endpoint_per_second", "endpoints"})
        if unknown:
            raise ConfigError(f"unknown rate limit setting {unknown[0]!r}")
        endpoints = changes.get("endpoints", self.endpoints)
        if not isinstance(endpoints, dict):
            raise ConfigError("endpoints is an object of endpoint: requests per second")
        return replace(
            self,
            global_per_second=changes.get("global_per_second", self.global_per_second),
            endpoint_per_second=changes.get("endpoint_per_second", self.endpoint_per_second),
            endpoints={str(k): v for k, v in endpoints.items()},
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "global_per_second": self.global_per_second,
            "endpoint_per_second": self.endpoint_per_second,
            "endpoints": dict(self.endpoints),
        }


@dataclass(frozen=True)
class Switches:
    """Provider behaviours a test may switch while the sandbox runs (`POST /_sandbox/config`); a reset goes
    back to the start-up values (SandboxConfig.switches)."""

    stripe_refund_outcome: str = "succeeded"
    truemed_event_type: str = "payment_session.updated"
    truemed: TruemedAssumptions = field(default_factory=TruemedAssumptions)

    def __post_init__(self) -> None:
        if self.stripe_refund_outcome not in STRIPE_REFUND_OUTCOMES:
            raise ConfigError(f"stripe_refund_outcome must be one of {', '.join(STRIPE_REFUND_OUTCOMES)}")
        check_event_type(self.truemed_event_type)

    def as_dict(self) -> dict[str, object]:
        return {
            "stripe_refund_outcome": self.stripe_refund_outcome,
            "truemed_event_type": self.truemed_event_type,
            "truemed_assumptions": self.truemed.as_dict(),
        }


@dataclass(frozen=True)
class SandboxConfig:
    """Everything the sandbox reads at start-up. Faults (latency/error/timeout) can change at runtime."""

    host: str = "127.0.0.1"
    port: int = 8100
    # The mail sink's SMTP port on the same host (0: no sink). See mail/.
    smtp_port: int = 1025
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
    # stripe_refund_outcome pending_then_*: seconds a refund stays pending before it settles.
    refund_settle_seconds: float = 1.0
    switches: Switches = field(default_factory=Switches)
    # Request limits per provider (rate_limits.py enforces them); a reset goes back to these.
    rate_limits: dict[str, ProviderLimits] = field(
        default_factory=lambda: {"stripe": ProviderLimits(), "truemed": ProviderLimits()}
    )

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
        smtp_port = number("SANDBOX_SMTP_PORT", defaults.smtp_port, minimum=0)
        host = text("SANDBOX_HOST", defaults.host)
        # Unset: whatever the backend expects (TRUEMED_WEBHOOK_MODE), so one setting switches both sides.
        shared_mode = text("TRUEMED_WEBHOOK_MODE", defaults.truemed_webhook_mode)
        mode = choice("SANDBOX_TRUEMED_WEBHOOK_MODE", shared_mode, {"legacy", "signed"})
        details = choice(
            "SANDBOX_TRUEMED_AMOUNT_DETAILS", defaults.truemed_amount_details, {"strict", "lenient"}
        )
        refund_outcome = choice(
            "SANDBOX_STRIPE_REFUND_OUTCOME",
            defaults.switches.stripe_refund_outcome,
            set(STRIPE_REFUND_OUTCOMES),
        )
        event_type = text("SANDBOX_TRUEMED_EVENT_TYPE", defaults.switches.truemed_event_type)
        try:
            check_event_type(event_type)
        except ConfigError as exc:
            raise ConfigError(f"SANDBOX_TRUEMED_EVENT_TYPE: {exc}") from exc
        try:
            assumptions = TruemedAssumptions.parse(text("SANDBOX_TRUEMED_ASSUMPTIONS", ""))
        except ConfigError as exc:
            raise ConfigError(f"SANDBOX_TRUEMED_ASSUMPTIONS: {exc}") from exc
        switches = Switches(
            stripe_refund_outcome=refund_outcome, truemed_event_type=event_type, truemed=assumptions
        )
        rate_limits = {
            provider: ProviderLimits(
                global_per_second=number(f"SANDBOX_{provider.upper()}_RATE_LIMIT", limits.global_per_second),
                endpoint_per_second=number(
                    f"SANDBOX_{provider.upper()}_ENDPOINT_RATE_LIMIT", limits.endpoint_per_second
                ),
            )
            for provider, limits in defaults.rate_limits.items()
        }
        try:
            return cls(
                host=host,
                port=port,
                smtp_port=smtp_port,
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
                switches=switches,
                rate_limits=rate_limits,
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
