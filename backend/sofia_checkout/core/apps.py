from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "sofia_checkout.core"
    label = "core"
