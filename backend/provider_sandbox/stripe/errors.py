"""Stripe's error shape `{"error": {"type", "code", "message", "param"}}` (+ `doc_url` when there is a code),
so the real SDK raises its own exception classes (https://docs.stripe.com/api/errors)."""

from __future__ import annotations

from typing import Any

from provider_sandbox.ids import stripe_id

DOC_URL = "https://stripe.com/docs/error-codes/"


class StripeApiError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        type_: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        validation: bool = False,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.code, self.param = status, message, type_, code, param
        # Stripe saves no idempotent result when the parameters failed validation (the endpoint never
        # started executing); errors raised while executing are saved and replayed.
        self.validation = validation

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type, "code": self.code, "message": self.message}
        error["param"] = self.param
        if self.code:
            # Stripe's doc pages spell codes with hyphens: .../error-codes/parameter-unknown
            error["doc_url"] = DOC_URL + self.code.replace("_", "-")
        return {"error": error}


def injected_error_body() -> dict[str, Any]:
    """The 500 answer of an injected outage (SDK: stripe.APIError)."""
    message = "An unknown error occurred (injected by the provider sandbox)."
    return StripeApiError(500, message, type_="api_error").body()


def missing(param: str) -> StripeApiError:
    return StripeApiError(
        400, f"Missing required param: {param}.", code="parameter_missing", param=param, validation=True
    )


def invalid(param: str, message: str, code: str = "parameter_invalid_empty") -> StripeApiError:
    return StripeApiError(400, message, code=code, param=param, validation=True)


def no_such(
    kind: str, value: object, param: str, *, status: int = 400, sandbox_supports: str | None = None
) -> StripeApiError:
    """`resource_missing`: the object the request names does not exist. With `sandbox_supports`, the request
    named a kind of object the sandbox never holds: a validation error (the endpoint did not start)."""
    message = f"No such {kind}: '{value}'"
    if sandbox_supports:
        message += f". The sandbox supports {sandbox_supports} only."
    return StripeApiError(
        status, message, code="resource_missing", param=param, validation=sandbox_supports is not None
    )


def rate_limited(state: object, retry_after: int) -> tuple[dict[str, Any], dict[str, str]]:
    """The 429 of a request over a limit (SDK: stripe.RateLimitError). Stripe documents no retry hint for
    it (no Retry-After, and Stripe-Should-Retry is only documented in general), so none is sent: clients
    back off on their own (https://docs.stripe.com/rate-limits#handling-limiting-gracefully)."""
    message = (
        "Request rate limit exceeded. You can learn more about rate limits here "
        "https://stripe.com/docs/rate-limits."
    )
    body = StripeApiError(429, message, code="rate_limit").body()
    return body, {"Request-Id": stripe_id("req_", 14)}
