from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from sofia_checkout.appointments.models import Appointment
from sofia_checkout.payments.models import PaymentSession
from sofia_checkout.payments.serializers import PaymentSessionOutputSerializer


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


class AppointmentCreateInputSerializer(serializers.Serializer[dict[str, Any]]):
    provider_name = serializers.CharField(max_length=100)
    service = serializers.CharField(max_length=50)
    appointment_time = AwareDateTimeField()
    client_name = serializers.CharField(max_length=100, min_length=1)
    client_email = serializers.EmailField(max_length=254)
    client_state = serializers.CharField(min_length=2, max_length=2)


class AppointmentOutputSerializer(serializers.ModelSerializer[Appointment]):
    latest_payment_session = serializers.SerializerMethodField()

    class Meta:
        model = Appointment
        fields = (
            "id",
            "provider_name",
            "service",
            "service_name",
            "appointment_time",
            "client_name",
            "client_email",
            "client_state",
            "status",
            "amount_cents",
            "currency",
            "hold_expires_at",
            "created_at",
            "latest_payment_session",
        )
        read_only_fields = fields

    @extend_schema_field(PaymentSessionOutputSerializer(allow_null=True))
    def get_latest_payment_session(self, obj: Appointment) -> dict[str, Any] | None:
        latest: PaymentSession | None = self.context.get("latest_payment_session")
        return PaymentSessionOutputSerializer(latest).data if latest is not None else None


class ServiceSerializer(serializers.Serializer[Any]):
    slug = serializers.CharField()
    name = serializers.CharField()
    amount_cents = serializers.IntegerField()


class PractitionerSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    services = ServiceSerializer(many=True)


class CheckoutConfigSerializer(serializers.Serializer[Any]):
    currency = serializers.CharField()
    payment_providers = serializers.ListField(child=serializers.CharField())
    practitioners = PractitionerSerializer(many=True)
    booking_horizon_days = serializers.IntegerField()
    min_lead_minutes = serializers.IntegerField()
    sandbox = serializers.BooleanField()
