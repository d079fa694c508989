from django.contrib import admin

from sofia_checkout.payments.models import PaymentSession, Refund, WebhookEvent


@admin.register(PaymentSession)
class PaymentSessionAdmin(admin.ModelAdmin[PaymentSession]):
    list_display = (
        "id",
        "provider",
        "status",
        "provider_status",
        "amount_cents",
        "amount_mismatch",
        "created_at",
    )
    list_filter = ("provider", "status", "amount_mismatch")
    search_fields = ("id", "provider_session_id", "appointment__id")
    readonly_fields = [f.name for f in PaymentSession._meta.fields]


@admin.register(Refund)
class RefundAdmin(admin.ModelAdmin[Refund]):
    list_display = ("id", "payment_session", "amount_cents", "status", "created_at")
    readonly_fields = [f.name for f in Refund._meta.fields]


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin[WebhookEvent]):
    list_display = (
        "provider",
        "event_type",
        "dedupe_key",
        "outcome",
        "signature_valid",
        "deliveries",
        "received_at",
    )
    list_filter = ("provider", "outcome", "signature_valid")
    search_fields = ("dedupe_key", "provider_session_id")
    readonly_fields = [f.name for f in WebhookEvent._meta.fields]
