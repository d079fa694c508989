from __future__ import annotations

from rest_framework import serializers

from sofia_checkout.payments.models import PaymentSession, Provider


class PaymentSessionStartInputSerializer(serializers.Serializer[dict[str, str]]):
    provider = serializers.ChoiceField(choices=Provider.choices)


class PaymentSessionOutputSerializer(serializers.ModelSerializer[PaymentSession]):
    appointment_id = serializers.UUIDField(read_only=True)

    class Meta:
        model = PaymentSession
        fields = (
            "id",
            "appointment_id",
            "provider",
            "provider_session_id",
            "status",
            "provider_status",
            "redirect_url",
            "amount_cents",
            "currency",
            "expires_at",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields
