from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from sofia_checkout.appointments.models import Appointment
from sofia_checkout.core.errors import DomainError
from sofia_checkout.payments.cancellation import appointment_cancel


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin[Appointment]):
    list_display = (
        "id",
        "practitioner",
        "appointment_time",
        "status",
        "amount_cents",
        "currency",
        "created_at",
    )
    list_filter = ("status", "practitioner")
    search_fields = ("id", "client_email", "client_name")
    readonly_fields = ("id", "amount_cents", "currency", "created_at", "updated_at")
    ordering = ("-created_at",)
    actions = ("cancel_and_refund",)

    # Only staff who may change appointments: a view-only account must never move money.
    @admin.action(description="Cancel (refund if paid)", permissions=["change"])
    def cancel_and_refund(self, request: HttpRequest, queryset: QuerySet[Appointment]) -> None:
        for appointment in queryset:
            try:
                appointment_cancel(appointment_id=appointment.id, by_staff=True)
            except DomainError as exc:
                self.message_user(request, f"{appointment.id}: {exc.message}", level=messages.ERROR)
            else:
                self.message_user(request, f"{appointment.id}: cancelled")
