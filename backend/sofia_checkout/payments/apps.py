from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "sofia_checkout.payments"
    label = "payments"
