"""Truemed's error shape `{"error": "<PascalCaseEnum>", "message": "<text>"}`.

Enums Truemed does not document are our choices, listed in docs/sandbox.md ("Truemed: documented choices").
The shape is documented for capture/void/refund only; the assumption `error_body=detail` answers
`{"detail": "<text>"}` instead (Django REST framework's default), to see what a client makes of that.
"""

from __future__ import annotations

from starlette.responses import JSONResponse

from provider_sandbox.store import SandboxState


class TruemedError(Exception):
    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error, self.message = status, error, message

    def body(self, shape: str = "error_message") -> dict[str, str]:
        if shape == "detail":
            return {"detail": self.message}
        return {"error": self.error, "message": self.message}

    def response(self, shape: str = "error_message") -> JSONResponse:
        return JSONResponse(self.body(shape), status_code=self.status)


def injected_error_body(shape: str = "error_message") -> dict[str, str]:
    """The 500 answer of an injected outage."""
    return TruemedError(500, "ServerError", "Injected by the provider sandbox: retry with the same key").body(
        shape
    )


def missing(name: str) -> TruemedError:
    return TruemedError(400, "MissingField", f"Missing required field: {name}")


def invalid(name: str, why: str) -> TruemedError:
    # choice: Truemed's enum for a wrongly typed field is not documented; "InvalidField" names it.
    return TruemedError(400, "InvalidField", f"Invalid field {name}: {why}")


def key_reused(message: str) -> TruemedError:
    # choice: the docs say "same key -> same session" only; a changed body is refused.
    return TruemedError(400, "IdempotencyKeyReused", message)


def rate_limited(state: SandboxState, retry_after: int) -> tuple[dict[str, str], dict[str, str]]:
    """The 429 of a request over a limit. Truemed documents no limits: the enum and the standard
    Retry-After header (RFC 9110) are our choices (docs/sandbox.md)."""
    error = TruemedError(429, "RateLimited", "Too many requests: retry after the time in Retry-After")
    return error.body(state.switches.truemed.error_body), {"Retry-After": str(retry_after)}
