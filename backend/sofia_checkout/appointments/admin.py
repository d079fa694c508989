from django.contrib import admin

from sofia_checkout.appointments.models import Appointment


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin[Appointment]):
    list_display = (
        "id",
        "provider_name",
        "appointment_time",
        "status",
        "amount_cents",
        "currency",
        "created_at",
    )
    list_filter = ("status", "provider_name")
    search_fields = ("id", "client_email", "client_name")
    readonly_fields = ("id", "amount_cents", "currency", "created_at", "updated_at")
    ordering = ("-created_at",)
