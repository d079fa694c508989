from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
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
    practitioner = serializers.CharField(
        max_length=100, help_text="The practitioner's id from /api/practitioners/ (the name works too)."
    )
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

    def parsed_fields(self) -> dict[str, Any]:
        """After a failed is_valid(): the checked fields that did parse, each on its own (for the domain
        rules, so one answer names every field at fault)."""
        data = self.initial_data if isinstance(self.initial_data, Mapping) else {}
        if "practitioner" not in data and "provider_name" in data:
            data = {**data, "practitioner": data["provider_name"]}
        parsed: dict[str, Any] = {}
        for name in ("practitioner", "service", "appointment_time", "client_state"):
            if name in data and name not in self.errors:
                try:
                    parsed[name] = self.fields[name].run_validation(data[name])
                except serializers.ValidationError:
                    continue
        return parsed


class AppointmentRescheduleInputSerializer(serializers.Serializer[dict[str, Any]]):
    appointment_time = AwareDateTimeField()


class OfferedServiceSerializer(serializers.Serializer[Any]):
    slug = serializers.CharField(source="service.slug")
    name = serializers.CharField(source="service.name")
    duration_minutes = serializers.IntegerField(source="service.duration_minutes")
    buffer_minutes = serializers.IntegerField(source="service.buffer_minutes")
    amount_cents = serializers.IntegerField()


class PractitionerSerializer(serializers.Serializer[Any]):
    id = serializers.CharField(help_text="Use this in bookings and availability queries.")
    name = serializers.CharField()
    time_zone = serializers.CharField(help_text="IANA zone the practitioner's hours are in.")
    services = OfferedServiceSerializer(many=True, source="offerings.all")


class AvailabilityQuerySerializer(serializers.Serializer[dict[str, Any]]):
    practitioner = serializers.CharField(max_length=100)
    service = serializers.CharField(max_length=50)
    from_ = serializers.DateField(help_text="First date (YYYY-MM-DD) in `tz`.")
    to = serializers.DateField(help_text="Last date (YYYY-MM-DD) in `tz`, inclusive.")
    tz = serializers.CharField(
        required=False,
        max_length=64,
        help_text="IANA zone for the dates and times (default: the practitioner's).",
    )

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")  # `from` is a Python keyword
        return fields

    def validate_tz(self, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise serializers.ValidationError("Use an IANA time zone, e.g. America/New_York.") from None
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        first, last = attrs["from"], attrs["to"]
        if last < first:
            raise serializers.ValidationError({"to": ["Must be on or after `from`."]})
        if (last - first).days + 1 > settings.AVAILABILITY_MAX_DAYS:
            raise serializers.ValidationError(
                {"to": [f"Ask for at most {settings.AVAILABILITY_MAX_DAYS} days at a time."]}
            )
        return attrs


class AvailabilityDaySerializer(serializers.Serializer[Any]):
    date = serializers.DateField()
    slots = serializers.ListField(child=serializers.DateTimeField(), help_text="Open starts, with offset.")


class AvailabilitySerializer(serializers.Serializer[Any]):
    practitioner = serializers.CharField()
    service = serializers.CharField()
    time_zone = serializers.CharField()
    duration_minutes = serializers.IntegerField()
    days = AvailabilityDaySerializer(many=True)
