"""The one domain error type. Services raise these; the exception handler turns them into the envelope."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class DomainError(Exception):
    """An expected failure with a stable code, an HTTP status and optional per-field messages."""

    code = "error"
    http_status = 400
    default_message = "The request could not be completed."

    def __init__(
        self, message: str | None = None, *, errors: Mapping[str, Sequence[str]] | None = None
    ) -> None:
        self.message = message or self.default_message
        self.errors: dict[str, list[str]] = {k: list(v) for k, v in (errors or {}).items()}
        super().__init__(self.message)


class ValidationFailed(DomainError):
    code = "validation_error"
    http_status = 400
    default_message = "Some fields are not valid."


class NotFound(DomainError):
    code = "not_found"
    http_status = 404
    default_message = "Not found."


class Conflict(DomainError):
    code = "conflict"
    http_status = 409
    default_message = "The request conflicts with the current state."


class ProviderUnavailable(DomainError):
    """The provider could not be reached or failed on its side; trying again later may work."""

    code = "provider_unavailable"
    http_status = 503
    default_message = (
        "The payment provider is not answering right now. Nothing was charged; please try again."
    )


class ProviderBusy(ProviderUnavailable):
    """The provider's request limit is reached: we sent nothing over it. Retry after `retry_after` seconds."""

    code = "provider_busy"
    http_status = 503
    default_message = "The payment service is busy right now. Nothing was charged; retrying shortly."

    def __init__(self, message: str | None = None, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)


def busy_instead(exc: DomainError) -> DomainError:
    """A ProviderUnavailable caused by a provider that is only busy (the cause says when to retry, as a
    whole number of seconds in `retry_after`) becomes ProviderBusy: the shopper can be told when."""
    retry_after = getattr(exc.__cause__, "retry_after", None)
    if (
        isinstance(exc, ProviderUnavailable)
        and not isinstance(exc, ProviderBusy)
        and isinstance(retry_after, int)
    ):
        return ProviderBusy(retry_after=retry_after)
    return exc


class ProviderFailed(DomainError):
    """The provider refused our request; retrying the same request will not help."""

    code = "provider_error"
    http_status = 502
    default_message = "The payment provider refused the request. Nothing was charged; try the other method."
