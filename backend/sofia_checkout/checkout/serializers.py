from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from sofia_checkout.appointments.models import Appointment
from sofia_checkout.appointments.policy import cancellation_terms
from sofia_checkout.appointments.serializers import PractitionerSerializer
from sofia_checkout.payments.models import PaymentSession
from sofia_checkout.payments.serializers import PaymentSessionOutputSerializer


class CancellationTermsSerializer(serializers.Serializer[Any]):
    allowed = serializers.BooleanField()
    code = serializers.CharField(
        help_text="full_refund, no_charge, cancellation_window_closed, appointment_started, "
        "payment_in_review, already_cancelled, expired"
    )
    message = serializers.CharField()
    refund_amount_cents = serializers.IntegerField(help_text="What a cancel now refunds.")
    refund_cutoff_at = serializers.DateTimeField(
        allow_null=True, help_text="Until when a paid appointment is refunded in full."
    )


@extend_schema_field(CancellationTermsSerializer)
class CancellationField(serializers.Field):  # type: ignore[type-arg]
    """The appointment's cancellation terms now. Always present; declared optional in the schema only until
    the SPA's test fixtures carry it (the generated zod schema would refuse them); then make it read-only."""

    def __init__(self) -> None:
        super().__init__(
            source="*",
            required=False,
            help_text="May the patient cancel now, and what would it refund (state it before confirming).",
        )

    def to_representation(self, value: Appointment) -> dict[str, Any]:
        # "now" from the context when the caller fixed it (the read's ETag is computed for the same instant).
        now = self.context.get("now") or timezone.now()
        return dict(CancellationTermsSerializer(cancellation_terms(value, now=now)).data)


@extend_schema_serializer(deprecate_fields=["provider_name"])
class AppointmentOutputSerializer(serializers.ModelSerializer[Appointment]):
    practitioner = serializers.CharField(source="practitioner_id", read_only=True, help_text="The id.")
    practitioner_name = serializers.CharField(source="practitioner.name", read_only=True)
    provider_name = serializers.CharField(
        source="practitioner.name", read_only=True, help_text="Deprecated: use `practitioner_name`."
    )
    latest_payment_session = serializers.SerializerMethodField()
    cancellation = CancellationField()

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
            "cancellation",
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


class ReceiptItemSerializer(serializers.Serializer[Any]):
    description = serializers.CharField()
    quantity = serializers.IntegerField()
    amount_cents = serializers.IntegerField()


class ReceiptSerializer(serializers.Serializer[Any]):
    """An itemized receipt (payments/receipts.py), fit to substantiate an HSA/FSA claim."""

    receipt_number = serializers.CharField()
    clinic_name = serializers.CharField()
    appointment_id = serializers.UUIDField()
    patient_name = serializers.CharField()
    patient_email = serializers.CharField()
    practitioner_name = serializers.CharField()
    service_name = serializers.CharField()
    date_of_service = serializers.DateTimeField(help_text="When the visit starts.")
    items = ReceiptItemSerializer(many=True)
    amount_cents = serializers.IntegerField()
    currency = serializers.CharField()
    payment_method = serializers.CharField(help_text='The method\'s display name: "Card" or "HSA/FSA".')
    provider = serializers.CharField()
    provider_reference = serializers.CharField(help_text="The provider's payment reference.")
    paid_at = serializers.DateTimeField()


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
