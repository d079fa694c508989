from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorEnvelopeSerializer(serializers.Serializer[Any]):
    """The one error shape: a stable code, a message for people, and messages per field (for the schema)."""

    code = serializers.CharField()
    message = serializers.CharField()

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        # "errors" as a declared attribute would shadow Serializer.errors.
        fields = super().get_fields()
        fields["errors"] = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))
        return fields


def error_responses(*statuses: int) -> dict[int, type[ErrorEnvelopeSerializer]]:
    return dict.fromkeys(statuses, ErrorEnvelopeSerializer)


def provider_unavailable_response() -> OpenApiResponse:
    """The 503 of an operation that calls a payment provider."""
    return OpenApiResponse(
        ErrorEnvelopeSerializer,
        description=(
            "`provider_unavailable`: the payment provider is not answering; try again later. "
            "`provider_busy`: the provider's request limit is reached and nothing was sent to it; the "
            "`Retry-After` header says after how many seconds to try again (the same request is safe to "
            "repeat: it reuses the stored attempt)."
        ),
    )
