from django.urls import path

from sofia_checkout.payments.apis import (
    PaymentSessionDetailApi,
    PaymentSessionStartApi,
    PaymentSessionSyncApi,
)
from sofia_checkout.payments.webhooks import WebhookApi

urlpatterns = [
    path(
        "appointments/<uuid:appointment_id>/payment-sessions/",
        PaymentSessionStartApi.as_view(),
        name="payment-session-start",
    ),
    path(
        "payment-sessions/<uuid:payment_session_id>/",
        PaymentSessionDetailApi.as_view(),
        name="payment-session",
    ),
    path(
        "payment-sessions/<uuid:payment_session_id>/sync/",
        PaymentSessionSyncApi.as_view(),
        name="payment-session-sync",
    ),
    path("webhooks/<slug:provider>/", WebhookApi.as_view(), name="webhook"),
]
