from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "sofia_checkout.notifications"
    label = "notifications"

    def ready(self) -> None:
        # Listens to the appointment's changes and the reconcile job (see receivers.py).
        from sofia_checkout.notifications import receivers  # noqa: PLC0415 - once the apps are loaded

        receivers.connect()
