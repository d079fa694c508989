"""The staff's appointment admin: what needs attention, each appointment's payment and webhook timeline, and
cancel-and-refund for staff who hold the dedicated `can_refund` permission. Statuses are never edited by
hand: only the payment state machine (payments/state.py) moves them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from sofia_checkout.appointments.models import RELEASED_APPOINTMENT_STATUSES, Appointment
from sofia_checkout.core.errors import DomainError
from sofia_checkout.payments.cancellation import appointment_cancel
from sofia_checkout.payments.models import PaymentSession, Refund, RefundStatus, WebhookEvent
from sofia_checkout.payments.statuses import MONEY_TAKEN_STATUSES

REFUND_PERMISSION = "appointments.can_refund"
CANCEL_ACTION = "cancel_and_refund"

# What needs a person, as querysets of appointments (annotated once for the column and the filter).
_SESSIONS = PaymentSession.objects.filter(appointment=OuterRef("pk"))
ATTENTION_ANNOTATIONS = {
    "amount_mismatch": Exists(_SESSIONS.filter(amount_mismatch=True)),
    "refund_failed": Exists(
        Refund.objects.filter(payment_session__appointment=OuterRef("pk"), status=RefundStatus.FAILED)
    ),
    # Money still held for an appointment that was cancelled or expired (a refund is owed).
    "late_payment": ExpressionWrapper(
        Exists(_SESSIONS.filter(status__in=MONEY_TAKEN_STATUSES))
        & Q(status__in=RELEASED_APPOINTMENT_STATUSES),
        output_field=BooleanField(),
    ),
    "flagged": ExpressionWrapper(
        ~Q(attention="") | Exists(_SESSIONS.exclude(attention="")), output_field=BooleanField()
    ),
}
ATTENTION_LABELS = {
    "amount_mismatch": "amount mismatch",
    "refund_failed": "refund failed",
    "late_payment": "late payment",
    "flagged": "flagged",
}


class AttentionFilter(admin.SimpleListFilter):
    title = "attention needed"
    parameter_name = "attention"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("any", "any"), *ATTENTION_LABELS.items()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value == "any":
            any_of = Q()
            for name in ATTENTION_ANNOTATIONS:
                any_of |= Q(**{f"needs_{name}": True})
            return queryset.filter(any_of)
        if value in ATTENTION_ANNOTATIONS:
            return queryset.filter(**{f"needs_{value}": True})
        return queryset


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    what: str
    detail: str


def appointment_timeline(appointment: Appointment) -> list[TimelineEntry]:
    """The appointment's payment sessions, refunds and webhook deliveries, in time order."""
    entries = [TimelineEntry(appointment.created_at, "booked", f"{appointment.amount_cents} cents")]
    sessions = list(PaymentSession.objects.filter(appointment=appointment))
    for s in sessions:
        reference = s.payment_reference or s.provider_session_id or "(not created)"
        detail = f"{s.provider} attempt {s.attempt}: {s.status} ({s.provider_status or '-'}), {reference}"
        if s.amount_mismatch:
            detail += f"; AMOUNT MISMATCH (reported {s.reported_amount_cents})"
        if s.attention:
            detail += f"; {s.attention}"
        entries.append(TimelineEntry(s.created_at, "payment session", detail))
        if s.last_synced_at:
            entries.append(TimelineEntry(s.last_synced_at, "last re-fetch", f"{s.provider}: {s.status}"))
    for r in Refund.objects.filter(payment_session__in=sessions):
        detail = f"{r.amount_cents if r.amount_cents is not None else 'all'} cents: {r.status}"
        detail += f" {r.provider_refund_id}".rstrip() + (f"; {r.error}" if r.error else "")
        entries.append(TimelineEntry(r.created_at, "refund", detail))
    for w in WebhookEvent.objects.filter(payment_session__in=sessions):
        detail = f"{w.provider} {w.event_type or '-'}: {w.outcome}, {w.deliveries} deliveries"
        entries.append(TimelineEntry(w.received_at, "webhook", detail + (f"; {w.error}" if w.error else "")))
    if appointment.confirmed_at:
        entries.append(TimelineEntry(appointment.confirmed_at, "confirmed", ""))
    if appointment.cancel_requested_at:
        entries.append(TimelineEntry(appointment.cancel_requested_at, "cancel requested", ""))
    return sorted(entries, key=lambda entry: entry.at)


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin[Appointment]):
    list_display = (
        "id",
        "practitioner",
        "appointment_time",
        "status",
        "amount_cents",
        "currency",
        "attention_needed",
        "created_at",
    )
    list_filter = (AttentionFilter, "status", "practitioner")
    search_fields = ("id", "client_email", "client_name")
    # `status` is never edited by hand (a payment marked confirmed by hand would be a payment never taken).
    readonly_fields = (
        "id",
        "status",
        "amount_cents",
        "currency",
        "hold_expires_at",
        "cancel_requested_at",
        "confirmed_at",
        "attention",
        "created_at",
        "updated_at",
        "timeline",
    )
    ordering = ("-created_at",)
    actions = (CANCEL_ACTION,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Appointment]:
        annotations = {f"needs_{name}": expression for name, expression in ATTENTION_ANNOTATIONS.items()}
        return super().get_queryset(request).select_related("practitioner").annotate(**annotations)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # booked through the API only: priced, checked against the schedule, with a token

    def has_refund_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(REFUND_PERMISSION)

    @admin.display(description="attention needed")
    def attention_needed(self, obj: Appointment) -> str:
        return ", ".join(
            label for name, label in ATTENTION_LABELS.items() if getattr(obj, f"needs_{name}", False)
        )

    @admin.display(description="payments and webhooks")
    def timeline(self, obj: Appointment) -> SafeString:
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((f"{e.at:%Y-%m-%d %H:%M:%S %Z}", e.what, e.detail) for e in appointment_timeline(obj)),
        )
        return format_html("<table><tr><th>when</th><th>what</th><th>detail</th></tr>{}</table>", rows)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # Refused outright (403), not with Django's "no action selected": only can_refund moves money.
        refunding = request.method == "POST" and request.POST.get("action") == CANCEL_ACTION
        if refunding and not self.has_refund_permission(request):
            raise PermissionDenied
        return super().changelist_view(request, extra_context)

    @admin.action(description="Cancel (refund if paid)", permissions=["refund"])
    def cancel_and_refund(self, request: HttpRequest, queryset: QuerySet[Appointment]) -> None:
        if not self.has_refund_permission(request):
            raise PermissionDenied
        for appointment in queryset:
            try:
                # Staff are not held to the patient's cancellation window.
                appointment_cancel(appointment_id=appointment.id, by_staff=True)
            except DomainError as exc:
                self.message_user(request, f"{appointment.id}: {exc.message}", level=messages.ERROR)
            else:
                self.message_user(request, f"{appointment.id}: cancelled")
