from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q


class AppointmentStatus(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", "Pending payment"
    PAYMENT_PROCESSING = "payment_processing", "Payment processing"
    CONFIRMED = "confirmed", "Confirmed"
    CANCELLED = "cancelled", "Cancelled"
    EXPIRED = "expired", "Expired"


# A slot is taken while its appointment is in one of these; cancelled/expired free it.
LIVE_APPOINTMENT_STATUSES = (
    AppointmentStatus.PENDING_PAYMENT,
    AppointmentStatus.PAYMENT_PROCESSING,
    AppointmentStatus.CONFIRMED,
)


class Appointment(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    practitioner = models.CharField(max_length=100)
    service = models.CharField(max_length=50)
    service_name = models.CharField(max_length=120)
    appointment_time = models.DateTimeField()
    client_name = models.CharField(max_length=100)
    client_email = models.EmailField(max_length=254)
    client_state = models.CharField(max_length=2)
    amount_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=20, choices=AppointmentStatus.choices, default=AppointmentStatus.PENDING_PAYMENT
    )
    hold_expires_at = models.DateTimeField()
    # Set under the row lock when a cancel starts: from then on no new payment session may be started,
    # so a cancel and a new session can never race.
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    # Set when money and the appointment disagree (e.g. paid after the slot was released): needs a human.
    attention = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-created_at",)
        constraints = (
            # The database, not only Python, refuses a double booking (races included).
            models.UniqueConstraint(
                fields=("practitioner", "appointment_time"),
                condition=Q(status__in=LIVE_APPOINTMENT_STATUSES),
                name="appointment_unique_live_slot",
            ),
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="appointment_amount_positive"),
        )
        indexes = (models.Index(fields=("status", "hold_expires_at"), name="appointment_status_hold"),)

    def __str__(self) -> str:
        return f"{self.practitioner} at {self.appointment_time:%Y-%m-%d %H:%M} ({self.status})"
