from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from sofia_checkout.payments.models import PaymentSession
from sofia_checkout.payments.providers.registry import registered_providers


class PaymentSessionStartInputSerializer(serializers.Serializer[dict[str, str]]):
    provider = serializers.ChoiceField(choices=registered_providers())


class PaymentSessionOutputSerializer(serializers.ModelSerializer[PaymentSession]):
    appointment_id = serializers.UUIDField(read_only=True)
    redirect_url = serializers.SerializerMethodField()

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

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_redirect_url(self, session: PaymentSession) -> str | None:
        # null, not "", until the provider has given a page (an attempt still creating, or refused).
        return session.redirect_url or None
