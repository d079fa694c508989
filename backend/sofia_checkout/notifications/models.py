from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from sofia_checkout.appointments.models import Appointment
from sofia_checkout.payments.models import PaymentSession


class EmailEvent(models.TextChoices):
    BOOKING_CONFIRMED = "booking_confirmed", "Booking confirmed"
    PAYMENT_UNDER_REVIEW = "payment_under_review", "Payment received, under review"
    PAYMENT_NOT_APPROVED = "payment_not_approved", "Payment not approved"
    CANCELLED = "cancelled", "Cancelled"
    RESCHEDULED = "rescheduled", "Rescheduled"
    HOLD_EXPIRED = "hold_expired", "Hold expired"


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "Pending (not tried yet)"
    RETRYING = "retrying", "Failed, will retry"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed (gave up: a person decides)"


SENDABLE_STATUSES = (OutboxStatus.PENDING, OutboxStatus.RETRYING)


class OutboxEmail(models.Model):
    """One message to the patient, stored in the transaction of the change it tells about.

    Holds no rendered text and no secret: the message (with the manage link, derived again from the
    appointment) is rendered when it is sent. `facts` keeps what may change later (the time as of the event).
    """

    appointment = models.ForeignKey(Appointment, on_delete=models.PROTECT, related_name="outbox_emails")
    event = models.CharField(max_length=30, choices=EmailEvent.choices)
    # Tells apart legitimate repeats of one event: "" for once-only events, the payment session for review
    # outcomes (one per attempt), the reschedule's number. (appointment, event, occurrence) is unique.
    occurrence = models.CharField(max_length=64, blank=True, default="")
    payment_session = models.ForeignKey(
        PaymentSession, on_delete=models.PROTECT, null=True, blank=True, related_name="outbox_emails"
    )
    facts = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # A sender claims the row until then (a lease): no other sender takes it meanwhile.
    claimed_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.UUIDField(null=True, blank=True)
    # The error's kind and SMTP code only: never the server's text (it may echo addresses or credentials).
    last_error = models.CharField(max_length=200, blank=True, default="")
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-created_at",)
        constraints = (
            models.UniqueConstraint(
                fields=("appointment", "event", "occurrence"), name="outbox_email_once_per_event"
            ),
        )
        indexes = (
            models.Index(
                fields=("next_attempt_at",),
                condition=Q(status__in=("pending", "retrying")),
                name="outbox_email_due",
            ),
        )

    def __str__(self) -> str:
        return f"{self.event} for {self.appointment_id} ({self.status})"
