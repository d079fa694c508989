from __future__ import annotations

import secrets
import uuid
import zoneinfo

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone (e.g. America/New_York).")


class Practitioner(models.Model):
    """The clinician who is booked. `id` is the public identifier (`/api/practitioners/`, booking, slots)."""

    id = models.SlugField(primary_key=True, max_length=50)
    name = models.CharField(max_length=100, unique=True)
    time_zone = models.CharField(max_length=64, validators=[validate_time_zone])
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class Service(models.Model):
    """What is booked: how long the visit is and how long the practitioner is blocked after it."""

    slug = models.SlugField(primary_key=True, max_length=50)
    name = models.CharField(max_length=120)
    duration_minutes = models.PositiveSmallIntegerField()
    buffer_minutes = models.PositiveSmallIntegerField(default=0, help_text="Blocked after the visit.")

    class Meta:
        ordering = ("duration_minutes", "slug")
        constraints = (
            models.CheckConstraint(
                condition=Q(duration_minutes__gt=0, duration_minutes__lte=480), name="service_duration_sane"
            ),
        )

    def __str__(self) -> str:
        return self.name


class Offering(models.Model):
    """A practitioner offers a service at a price (integer cents): the server's price table."""

    practitioner = models.ForeignKey(Practitioner, on_delete=models.CASCADE, related_name="offerings")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="offerings")
    amount_cents = models.PositiveIntegerField()

    class Meta:
        ordering = ("practitioner", "service")
        constraints = (
            models.UniqueConstraint(fields=("practitioner", "service"), name="offering_unique"),
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="offering_amount_positive"),
        )

    def __str__(self) -> str:
        return f"{self.service} with {self.practitioner}: {self.amount_cents} cents"


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class WorkingHours(models.Model):
    """One interval of a practitioner's weekly hours, wall-clock time in the practitioner's zone.

    An end of 00:00 means midnight at the end of the day. Several intervals per weekday are allowed.
    """

    practitioner = models.ForeignKey(Practitioner, on_delete=models.CASCADE, related_name="working_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time = models.TimeField()
    end_time = models.TimeField(help_text="00:00 means the end of the day.")

    class Meta:
        ordering = ("practitioner", "weekday", "start_time")
        verbose_name_plural = "working hours"

    def __str__(self) -> str:
        return (
            f"{self.practitioner} {Weekday(self.weekday).label} {self.start_time:%H:%M}-{self.end_time:%H:%M}"
        )


class DateOverride(models.Model):
    """Hours for one date that replace the weekly hours (cal.com style). A row without times: the day off;
    several rows on one date: several intervals that day."""

    practitioner = models.ForeignKey(Practitioner, on_delete=models.CASCADE, related_name="date_overrides")
    date = models.DateField()
    start_time = models.TimeField(null=True, blank=True)
    end_time = models.TimeField(null=True, blank=True, help_text="00:00 means the end of the day.")

    class Meta:
        ordering = ("practitioner", "date", "start_time")
        constraints = (
            models.CheckConstraint(
                condition=Q(start_time__isnull=True, end_time__isnull=True)
                | Q(start_time__isnull=False, end_time__isnull=False),
                name="date_override_both_times_or_none",
            ),
        )

    def __str__(self) -> str:
        if self.start_time is None or self.end_time is None:
            return f"{self.practitioner} {self.date}: day off"
        return f"{self.practitioner} {self.date}: {self.start_time:%H:%M}-{self.end_time:%H:%M}"


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
# Final: the slot is free again; money that arrives for these is refunded, never used to revive them.
RELEASED_APPOINTMENT_STATUSES = (AppointmentStatus.CANCELLED, AppointmentStatus.EXPIRED)


def access_salt_new() -> str:
    """A random per-appointment salt for its access token (see access.py)."""
    return secrets.token_urlsafe(16)


class Appointment(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    practitioner = models.ForeignKey(Practitioner, on_delete=models.PROTECT, related_name="appointments")
    service = models.CharField(max_length=50)
    service_name = models.CharField(max_length=120)
    appointment_time = models.DateTimeField()
    ends_at = models.DateTimeField()
    # ends_at plus the service's buffer: the practitioner is busy until then. Live appointments of one
    # practitioner never overlap on [appointment_time, blocked_until) (PostgreSQL: an exclusion constraint,
    # added in migration 0005; SQLite: the check inside the serialized booking transaction).
    blocked_until = models.DateTimeField()
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
    # The access token is derived from the id and this salt (access.py); only the token's SHA-256 is stored.
    # An empty hash matches no token: an appointment made outside the booking service cannot be opened.
    access_salt = models.CharField(max_length=64, default=access_salt_new, editable=False)
    access_token_hash = models.CharField(max_length=64, blank=True, default="", editable=False)
    # When it was confirmed (paid): the receipt's "paid at".
    confirmed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-created_at",)
        permissions = (("can_refund", "Can cancel and refund appointments"),)
        constraints = (
            # The database, not only Python, refuses a double booking (races included).
            models.UniqueConstraint(
                fields=("practitioner", "appointment_time"),
                condition=Q(status__in=LIVE_APPOINTMENT_STATUSES),
                name="appointment_unique_live_slot",
            ),
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="appointment_amount_positive"),
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("appointment_time"), blocked_until__gte=F("ends_at")),
                name="appointment_times_ordered",
            ),
        )
        indexes = (
            models.Index(fields=("status", "hold_expires_at"), name="appointment_status_hold"),
            models.Index(fields=("practitioner", "appointment_time"), name="appointment_practitioner_time"),
        )

    def __str__(self) -> str:
        return f"{self.practitioner_id} at {self.appointment_time:%Y-%m-%d %H:%M} ({self.status})"
