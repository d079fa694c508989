from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from sofia_checkout.appointments.models import Appointment
from sofia_checkout.payments.statuses import LIVE_PAYMENT_STATUSES, PaymentStatus


class PaymentSession(models.Model):
    """Our record of one payment attempt with one provider."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    appointment = models.ForeignKey(Appointment, on_delete=models.PROTECT, related_name="payment_sessions")
    provider = models.CharField(max_length=20)  # a name registered in PAYMENT_PROVIDER_ADAPTERS
    attempt = models.PositiveIntegerField()
    # Deterministic per attempt and stored, so a retry after a timeout resends the same key and parameters.
    idempotency_key = models.CharField(max_length=255, unique=True)
    # NULL, not "", until the provider answers: the unique constraint only covers known ids.
    provider_session_id = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    redirect_url = models.URLField(max_length=2000, blank=True, default="")
    amount_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.CREATING)
    provider_status = models.CharField(max_length=50, blank=True, default="")
    # Frozen at creation: part of the parameters sent with the idempotency key.
    expires_at = models.DateTimeField()
    # What the provider makes a refund against (its payment id), as the adapter reports it.
    payment_reference = models.CharField(max_length=255, blank=True, default="")
    amount_mismatch = models.BooleanField(default=False)
    # What the provider last reported as paid or captured (None: it did not say, or not as an integer).
    reported_amount_cents = models.PositiveIntegerField(null=True, blank=True)
    attention = models.TextField(blank=True, default="")
    last_synced_at = models.DateTimeField(null=True, blank=True)
    # A lease, not a lock (payments/leases.py): a caller is talking to the provider about this session
    # (creating it, stopping it) until then, with no transaction open; others wait for the outcome or skip.
    provider_call_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-created_at",)
        constraints = (
            # One live attempt per appointment: a second method is only started after the first is cancelled,
            # so the shopper can never pay twice.
            models.UniqueConstraint(
                fields=("appointment",),
                condition=Q(status__in=LIVE_PAYMENT_STATUSES),
                name="payment_session_one_live_per_appointment",
            ),
            models.UniqueConstraint(
                fields=("provider", "provider_session_id"),
                condition=Q(provider_session_id__isnull=False),
                name="payment_session_unique_provider_id",
            ),
            models.UniqueConstraint(
                fields=("appointment", "provider", "attempt"), name="payment_session_attempt"
            ),
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="payment_session_amount_positive"),
        )
        indexes = (models.Index(fields=("status", "updated_at"), name="payment_session_status_upd"),)

    def __str__(self) -> str:
        return f"{self.provider} {self.provider_session_id or '(creating)'} {self.status}"


class RefundStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # stored with its key; the provider's answer is not known yet
    PROCESSING = "processing", "Processing"  # the provider accepted it; it may still fail
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class Refund(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    payment_session = models.ForeignKey(PaymentSession, on_delete=models.PROTECT, related_name="refunds")
    # None: everything the provider took (an unverified payment whose amount we cannot know).
    amount_cents = models.PositiveIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=50, default="customer_request")
    idempotency_key = models.CharField(max_length=255, unique=True)
    status = models.CharField(max_length=20, choices=RefundStatus.choices, default=RefundStatus.PENDING)
    provider_refund_id = models.CharField(max_length=255, blank=True, default="")
    error = models.TextField(blank=True, default="")
    # A lease, not a lock: the caller sending this refund holds it until then; parallel callers wait for
    # the outcome instead of sending it a second time.
    sending_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"refund {self.amount_cents} of {self.payment_session_id} ({self.status})"


class WebhookOutcome(models.TextChoices):
    RECEIVED = "received", "Received"
    APPLIED = "applied", "Applied"
    IGNORED = "ignored", "Ignored"
    UNKNOWN_SESSION = "unknown_session", "Unknown session"
    REJECTED = "rejected", "Rejected (authentication failed)"
    FAILED = "failed", "Failed (will be retried by the provider)"


class WebhookEvent(models.Model):
    """One inbound delivery, stored before it is trusted; unique per (provider, dedupe key)."""

    provider = models.CharField(max_length=20)  # a name registered in PAYMENT_PROVIDER_ADAPTERS
    dedupe_key = models.CharField(max_length=255)
    event_type = models.CharField(max_length=100, blank=True, default="")
    provider_session_id = models.CharField(max_length=255, blank=True, default="")
    payload = models.TextField()
    signature_valid = models.BooleanField(default=False)
    outcome = models.CharField(max_length=20, choices=WebhookOutcome.choices, default=WebhookOutcome.RECEIVED)
    error = models.TextField(blank=True, default="")
    deliveries = models.PositiveIntegerField(default=1)
    payment_session = models.ForeignKey(
        PaymentSession, null=True, blank=True, on_delete=models.SET_NULL, related_name="webhook_events"
    )
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-received_at",)
        constraints = (
            models.UniqueConstraint(fields=("provider", "dedupe_key"), name="webhook_event_unique_delivery"),
        )

    def __str__(self) -> str:
        return f"{self.provider} {self.event_type} {self.dedupe_key} ({self.outcome})"
