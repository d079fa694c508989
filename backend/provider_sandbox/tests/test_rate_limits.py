"""Request limits: 429 in each provider's words over the limit, counted per endpoint and per provider."""

from __future__ import annotations

from typing import Any

import pytest

from provider_sandbox.config import ConfigError, ProviderLimits, SandboxConfig
from provider_sandbox.rate_limits import RateLimiter, endpoint_name
from provider_sandbox.tests.helpers import STRIPE_AUTH, SandboxFactory

CREATE = "POST /v1/checkout/sessions"
RETRIEVE = "GET /v1/checkout/sessions/{id}"


def limited(stripe: ProviderLimits | None = None, truemed: ProviderLimits | None = None) -> dict[str, Any]:
    return {
        "rate_limits": {
            "stripe": stripe or ProviderLimits(0, 0),
            "truemed": truemed or ProviderLimits(0, 0),
        }
    }


def test_endpoint_names_count_object_ids_as_one_endpoint() -> None:
    assert endpoint_name("post", "/v1/checkout/sessions") == CREATE
    assert endpoint_name("GET", "/v1/checkout/sessions/cs_test_a1b2c3d4e5") == RETRIEVE
    assert endpoint_name("POST", "/v1/checkout/sessions/cs_test_a1b2c3d4e5/expire") == (
        "POST /v1/checkout/sessions/{id}/expire"
    )
    assert endpoint_name("GET", "/payments/v1/payment_session/8c1d6f2e-0b7a-4c65-9d1e-3f5a7b9c0d2e") == (
        "GET /payments/v1/payment_session/{id}"
    )
    assert endpoint_name("POST", "/payments/v1/create_payment_session") == (
        "POST /payments/v1/create_payment_session"
    )


def test_a_sliding_one_second_window_per_endpoint_and_per_provider() -> None:
    limiter = RateLimiter({"stripe": ProviderLimits(global_per_second=3, endpoint_per_second=2)})
    admit = lambda endpoint, t: limiter.admit("stripe", endpoint, now=t, wall=1000 + t)  # noqa: E731
    assert admit(CREATE, 0.0) == 0
    assert admit(CREATE, 0.5) == 0
    # The endpoint is full until the first create leaves the window at t=1.0.
    assert admit(CREATE, 0.6) == pytest.approx(0.4)
    # Another endpoint has room of its own, but takes the provider's last place.
    assert admit(RETRIEVE, 0.7) == 0
    assert admit(RETRIEVE, 0.8) == pytest.approx(0.2)
    assert admit(CREATE, 1.0) == 0  # the first create has left the window
    stats = limiter.stats()["providers"]["stripe"]
    create = stats["endpoints"][CREATE]
    assert (create["accepted"], create["refused"], create["max_accepted_in_any_second"]) == (3, 1, 2)
    assert stats["global"]["accepted"] == 4
    assert stats["global"]["refused"] == 2
    assert stats["global"]["max_accepted_in_any_second"] == 3
    assert [row["second"] for row in create["per_second"]] == [1000, 1001]
    assert create["per_second"][0] == {"second": 1000, "accepted": 2, "refused": 1}


def test_no_limit_still_counts() -> None:
    limiter = RateLimiter({"stripe": ProviderLimits(0, 0)})
    for i in range(50):
        assert limiter.admit("stripe", CREATE, now=i / 100, wall=2000.0) == 0
    assert limiter.stats()["providers"]["stripe"]["endpoints"][CREATE]["max_accepted_in_any_second"] == 50


def test_stripe_over_the_limit_answers_429_in_stripes_shape(make_sandbox: SandboxFactory) -> None:
    sandbox = make_sandbox(**limited(stripe=ProviderLimits(global_per_second=10, endpoint_per_second=2)))
    first = sandbox.stripe_session()
    sandbox.stripe_session()
    refused = sandbox.stripe_create()
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["code"] == "rate_limit"
    assert refused.headers["request-id"].startswith("req_")
    assert "retry-after" not in refused.headers  # Stripe documents none
    # Another endpoint has its own allowance; the refused create made nothing.
    read = sandbox.client.get(f"/stripe/v1/checkout/sessions/{first['id']}", headers=STRIPE_AUTH)
    assert read.status_code == 200
    assert len(sandbox.stripe.sessions) == 2
    stats = sandbox.control("GET", "/stats.json")["providers"]["stripe"]
    assert stats["endpoints"][CREATE]["accepted"] == 2
    assert stats["endpoints"][CREATE]["refused"] == 1
    assert stats["endpoints"][RETRIEVE]["accepted"] == 1
    assert stats["global"]["accepted"] == 3


def test_truemed_over_the_limit_answers_429_with_retry_after(make_sandbox: SandboxFactory) -> None:
    sandbox = make_sandbox(**limited(truemed=ProviderLimits(global_per_second=1, endpoint_per_second=5)))
    sandbox.truemed_session()
    refused = sandbox.truemed_create()
    assert refused.status_code == 429
    assert refused.json()["error"] == "RateLimited"
    assert refused.headers["retry-after"] == "1"
    sandbox.control("POST", "/config", json={"truemed_assumptions": {"error_body": "detail"}})
    assert "detail" in sandbox.truemed_create().json()


def test_hosted_pages_and_the_control_api_are_never_limited(make_sandbox: SandboxFactory) -> None:
    sandbox = make_sandbox(**limited(stripe=ProviderLimits(global_per_second=1, endpoint_per_second=1)))
    for _ in range(5):
        sandbox.control("GET", "/config")
    assert sandbox.control("GET", "/stats.json")["providers"] == {}


def test_limits_change_at_runtime_and_a_reset_restores_them(make_sandbox: SandboxFactory) -> None:
    sandbox = make_sandbox(**limited(stripe=ProviderLimits(global_per_second=25, endpoint_per_second=25)))
    answer = sandbox.control("POST", "/config", json={"rate_limits": {"stripe": {"endpoints": {CREATE: 1}}}})
    assert answer["rate_limits"]["stripe"] == {
        "global_per_second": 25,
        "endpoint_per_second": 25,
        "endpoints": {CREATE: 1},
    }
    sandbox.stripe_session()
    assert sandbox.stripe_create().status_code == 429
    sandbox.control("DELETE", "/stats.json")
    assert sandbox.control("GET", "/stats.json")["providers"] == {}
    sandbox.control("POST", "/reset")
    assert sandbox.control("GET", "/config")["rate_limits"]["stripe"]["endpoints"] == {}
    assert sandbox.stripe_create().status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"rate_limits": {"stripe": {"global_per_second": -1}}},
        {"rate_limits": {"stripe": {"global_per_second": 2.5}}},
        {"rate_limits": {"stripe": {"per_minute": 2}}},
        {"rate_limits": {"paypal": {}}},
        {"rate_limits": []},
        {"rate_limits": {"stripe": {"endpoints": {CREATE: True}}}},
    ],
)
def test_bad_limits_are_refused_and_change_nothing(
    make_sandbox: SandboxFactory, body: dict[str, Any]
) -> None:
    sandbox = make_sandbox()
    before = sandbox.control("GET", "/config")
    response = sandbox.client.post("/_sandbox/config", json=body)
    assert response.status_code == 400
    assert response.json()["error"] == "validation_error"
    assert sandbox.control("GET", "/config") == before


def test_limits_from_the_environment() -> None:
    config = SandboxConfig.from_env(
        {"SANDBOX_STRIPE_RATE_LIMIT": "100", "SANDBOX_TRUEMED_ENDPOINT_RATE_LIMIT": "0"}
    )
    assert config.rate_limits["stripe"] == ProviderLimits(global_per_second=100, endpoint_per_second=25)
    assert config.rate_limits["truemed"] == ProviderLimits(global_per_second=25, endpoint_per_second=0)
    assert SandboxConfig.from_env({}).rate_limits["stripe"] == ProviderLimits(25, 25)
    with pytest.raises(ConfigError, match="SANDBOX_STRIPE_RATE_LIMIT"):
        SandboxConfig.from_env({"SANDBOX_STRIPE_RATE_LIMIT": "-3"})
