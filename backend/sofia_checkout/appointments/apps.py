from django.apps import AppConfig


class AppointmentsConfig(AppConfig):
    name = "sofia_checkout.appointments"
    label = "appointments"
