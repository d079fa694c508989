"""Staff see every queued email and can send a failed one again (after fixing the mail server or address)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from sofia_checkout.notifications.models import OutboxEmail, OutboxStatus


@admin.register(OutboxEmail)
class OutboxEmailAdmin(admin.ModelAdmin[OutboxEmail]):
    list_display = (
        "created_at",
        "event",
        "appointment",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
    )
    list_filter = ("status", "event")
    search_fields = ("appointment__id",)
    ordering = ("-created_at",)
    actions = ("send_again",)
    readonly_fields = (
        "appointment",
        "event",
        "occurrence",
        "payment_session",
        "facts",
        "status",
        "attempts",
        "next_attempt_at",
        "claimed_until",
        "last_error",
        "sent_at",
        "created_at",
    )
    exclude = ("claim_token",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: OutboxEmail | None = None) -> bool:
        return False

    @admin.action(description="Send the selected failed emails again", permissions=["change"])
    def send_again(self, request: HttpRequest, queryset: QuerySet[OutboxEmail]) -> None:
        # Back in the queue for the next reconcile pass; an email already sent is never sent twice.
        count = queryset.filter(status=OutboxStatus.FAILED).update(
            status=OutboxStatus.RETRYING, next_attempt_at=timezone.now(), updated_at=timezone.now()
        )
        self.message_user(request, f"{count} email(s) queued again.", messages.SUCCESS)
