from __future__ import annotations

from typing import Any

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
