from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers


class AwareDateTimeField(serializers.DateTimeField):
    """ISO 8601 with an explicit offset: a naive time would silently be read as UTC."""

    def to_internal_value(self, value: Any) -> datetime:
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value.strip())
            except ValueError:
                parsed = None
            if parsed is not None and parsed.tzinfo is None:
                raise serializers.ValidationError("Include a UTC offset, e.g. 2026-12-01T15:00:00-05:00.")
        return super().to_internal_value(value)


@extend_schema_serializer(deprecate_fields=["provider_name"])
class AppointmentCreateInputSerializer(serializers.Serializer[dict[str, Any]]):
    practitioner = serializers.CharField(max_length=100, help_text="The practitioner's name as listed.")
    provider_name = serializers.CharField(
        max_length=100,
        required=False,
        write_only=True,
        help_text="Deprecated alias of `practitioner`, accepted for one release.",
    )
    service = serializers.CharField(max_length=50)
    appointment_time = AwareDateTimeField()
    client_name = serializers.CharField(max_length=100, min_length=1)
    client_email = serializers.EmailField(max_length=254)
    client_state = serializers.CharField(min_length=2, max_length=2)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, Mapping) and "practitioner" not in data and "provider_name" in data:
            data = {**data, "practitioner": data["provider_name"]}
        validated: dict[str, Any] = super().to_internal_value(data)
        validated.pop("provider_name", None)
        return validated


class ServiceSerializer(serializers.Serializer[Any]):
    slug = serializers.CharField()
    name = serializers.CharField()
    amount_cents = serializers.IntegerField()


class PractitionerSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    services = ServiceSerializer(many=True)
