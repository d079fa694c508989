from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from provider_sandbox.config import (
    DEFAULT_STRIPE_WEBHOOK_SECRET,
    DEFAULT_TRUEMED_API_KEY,
    DEFAULT_TRUEMED_WEBHOOK_SECRET,
    ConfigError,
    SandboxConfig,
)
from provider_sandbox.stripe.forms import FormError, parse_form
from provider_sandbox.tests.helpers import stripe_form, stripe_params


def test_parses_the_sdk_encoding_into_nested_structures() -> None:
    params = stripe_params(line_items=[*stripe_params()["line_items"], *stripe_params()["line_items"]])
    parsed = parse_form(parse_qsl(stripe_form(params)))
    assert parsed["line_items"][1]["price_data"]["unit_amount"] == "15000"
    assert parsed["line_items"][0]["price_data"]["product_data"]["name"].startswith("Initial")
    assert parsed["metadata"] == {"appointment_id": "appt-1", "payment_session_id": "ps-123"}
    assert parsed["mode"] == "payment"


def test_metadata_keys_that_look_like_indexes_stay_keys() -> None:
    assert parse_form([("metadata[0]", "a"), ("metadata[1]", "b")]) == {"metadata": {"0": "a", "1": "b"}}


def test_append_syntax_and_index_order() -> None:
    assert parse_form([("expand[]", "a"), ("expand[]", "b")]) == {"expand": ["a", "b"]}
    assert parse_form([("x[1]", "b"), ("x[0]", "a")]) == {"x": ["a", "b"]}


@pytest.mark.parametrize(
    "pairs",
    [[("a", "1"), ("a[b]", "2")], [("a[b]", "1"), ("a[b]", "2")], [("a]b", "1")], [("0", "x")]],
)
def test_malformed_forms_are_refused(pairs: list[tuple[str, str]]) -> None:
    with pytest.raises(FormError):
        parse_form(pairs)


def test_config_defaults_and_empty_values() -> None:
    config = SandboxConfig.from_env({"STRIPE_WEBHOOK_SECRET": "", "SANDBOX_PORT": "", "TRUEMED_API_KEY": " "})
    assert config.port == 8100
    assert config.host == "127.0.0.1"
    assert config.public_base == "http://127.0.0.1:8100"
    assert config.stripe_webhook_secret == DEFAULT_STRIPE_WEBHOOK_SECRET
    assert config.truemed_api_key == DEFAULT_TRUEMED_API_KEY
    assert config.truemed_webhook_secret == DEFAULT_TRUEMED_WEBHOOK_SECRET
    assert config.truemed_webhook_mode == "legacy"
    assert config.truemed_amount_details == "lenient"
    assert config.truemed_capture_delay_seconds == 3
    assert config.webhook_max_attempts == 5
    assert (config.latency_ms, config.error_rate, config.timeout_rate) == (0, 0, 0)


def test_truemed_webhook_mode_follows_the_backend_setting_unless_overridden() -> None:
    assert SandboxConfig.from_env({"TRUEMED_WEBHOOK_MODE": "signed"}).truemed_webhook_mode == "signed"
    both = {"TRUEMED_WEBHOOK_MODE": "signed", "SANDBOX_TRUEMED_WEBHOOK_MODE": "legacy"}
    assert SandboxConfig.from_env(both).truemed_webhook_mode == "legacy"
    assert SandboxConfig.from_env({"SANDBOX_TRUEMED_WEBHOOK_MODE": ""}).truemed_webhook_mode == "legacy"


def test_config_reads_every_variable() -> None:
    config = SandboxConfig.from_env(
        {
            "SANDBOX_HOST": "192.0.2.10",
            "SANDBOX_PORT": "9000",
            "SANDBOX_PUBLIC_URL": "http://sandbox.example/",
            "SANDBOX_STRIPE_WEBHOOK_URL": "http://b/s",
            "SANDBOX_TRUEMED_WEBHOOK_URL": "http://b/t",
            "SANDBOX_TRUEMED_WEBHOOK_MODE": "signed",
            "SANDBOX_TRUEMED_CAPTURE_DELAY_SECONDS": "0.5",
            "SANDBOX_TRUEMED_AMOUNT_DETAILS": "strict",
            "SANDBOX_LATENCY_MS": "20",
            "SANDBOX_ERROR_RATE": "0.1",
            "SANDBOX_TIMEOUT_RATE": "0.2",
            "SANDBOX_TIMEOUT_SECONDS": "7",
            "SANDBOX_WEBHOOK_MAX_ATTEMPTS": "2",
            "STRIPE_WEBHOOK_SECRET": "whsec_x",
            "TRUEMED_API_KEY": "k",
            "TRUEMED_WEBHOOK_SECRET": "s",
        }
    )
    assert (config.host, config.port, config.public_base) == ("192.0.2.10", 9000, "http://sandbox.example")
    assert (config.stripe_webhook_url, config.truemed_webhook_url) == ("http://b/s", "http://b/t")
    assert config.truemed_webhook_mode == "signed"
    assert config.truemed_amount_details == "strict"
    assert config.truemed_capture_delay_seconds == 0.5
    assert (config.latency_ms, config.error_rate, config.timeout_rate) == (20, 0.1, 0.2)
    assert config.timeout_seconds == 7
    assert config.webhook_max_attempts == 2
    assert (config.stripe_webhook_secret, config.truemed_api_key, config.truemed_webhook_secret) == (
        "whsec_x",
        "k",
        "s",
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SANDBOX_PORT", "http"),
        ("SANDBOX_TRUEMED_WEBHOOK_MODE", "hmac"),
        ("SANDBOX_TRUEMED_AMOUNT_DETAILS", "loose"),
        ("SANDBOX_ERROR_RATE", "1.5"),
        ("SANDBOX_TIMEOUT_RATE", "-0.1"),
        ("SANDBOX_WEBHOOK_MAX_ATTEMPTS", "0"),
        ("SANDBOX_LATENCY_MS", "fast"),
    ],
)
def test_bad_config_names_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError):
        SandboxConfig.from_env({name: value})
