from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from sofia_checkout.appointments.models import Appointment
from sofia_checkout.appointments.serializers import PractitionerSerializer
from sofia_checkout.payments.models import PaymentSession
from sofia_checkout.payments.serializers import PaymentSessionOutputSerializer


@extend_schema_serializer(deprecate_fields=["provider_name"])
class AppointmentOutputSerializer(serializers.ModelSerializer[Appointment]):
    practitioner = serializers.CharField(source="practitioner_id", read_only=True, help_text="The id.")
    practitioner_name = serializers.CharField(source="practitioner.name", read_only=True)
    provider_name = serializers.CharField(
        source="practitioner.name", read_only=True, help_text="Deprecated: use `practitioner_name`."
    )
    latest_payment_session = serializers.SerializerMethodField()

    class Meta:
        model = Appointment
        fields: tuple[str, ...] = (
            "id",
            "practitioner",
            "practitioner_name",
            "provider_name",
            "service",
            "service_name",
            "appointment_time",
            "ends_at",
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
        read_only_fields: tuple[str, ...] = fields

    @extend_schema_field(PaymentSessionOutputSerializer(allow_null=True))
    def get_latest_payment_session(self, obj: Appointment) -> dict[str, Any] | None:
        latest: PaymentSession | None = self.context.get("latest_payment_session")
        return PaymentSessionOutputSerializer(latest).data if latest is not None else None


class AppointmentCreatedOutputSerializer(AppointmentOutputSerializer):
    # Always present in the 201. Declared optional only until the SPA's test fixtures carry it (the
    # generated zod schema would otherwise refuse their booking answers); then make it read_only.
    access_token = serializers.CharField(
        required=False,
        help_text=(
            "Always present. Send as `Authorization: Bearer <access_token>` to every per-appointment "
            "endpoint. Returned only here: keep it."
        ),
    )

    class Meta(AppointmentOutputSerializer.Meta):
        fields = (*AppointmentOutputSerializer.Meta.fields, "access_token")
        read_only_fields = fields


class PaymentMethodSerializer(serializers.Serializer[Any]):
    provider = serializers.CharField()
    display_name = serializers.CharField()


class CheckoutConfigSerializer(serializers.Serializer[Any]):
    currency = serializers.CharField()
    payment_providers = serializers.ListField(child=serializers.CharField())
    payment_methods = PaymentMethodSerializer(many=True)
    practitioners = PractitionerSerializer(many=True)
    booking_horizon_days = serializers.IntegerField()
    min_lead_minutes = serializers.IntegerField()
    sandbox = serializers.BooleanField()
