"""Staff edit the schedule here: practitioners (zone, weekly hours, date overrides, prices) and services;
and see each practitioner's appointments by day or week."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from sofia_checkout.appointments.models import (
    Appointment,
    DateOverride,
    Offering,
    Practitioner,
    Service,
    WorkingHours,
)


class OfferingInline(admin.TabularInline[Offering, Practitioner]):
    model = Offering
    extra = 0


class WorkingHoursInline(admin.TabularInline[WorkingHours, Practitioner]):
    model = WorkingHours
    extra = 0


class DateOverrideInline(admin.TabularInline[DateOverride, Practitioner]):
    model = DateOverride
    extra = 0


def _first_day(raw: str | None, today: date) -> date:
    try:
        return date.fromisoformat(raw) if raw else today
    except ValueError:
        return today


@admin.register(Practitioner)
class PractitionerAdmin(admin.ModelAdmin[Practitioner]):
    list_display = ("name", "id", "time_zone", "active", "schedule_link")
    list_filter = ("active",)
    search_fields = ("name", "id")
    readonly_fields = ("schedule_link",)
    inlines = (OfferingInline, WorkingHoursInline, DateOverrideInline)

    def get_urls(self) -> list[URLPattern]:
        schedule = path(
            "<path:object_id>/schedule/",
            self.admin_site.admin_view(self.schedule_view),
            name="appointments_practitioner_schedule",
        )
        return [schedule, *super().get_urls()]

    @admin.display(description="schedule")
    def schedule_link(self, obj: Practitioner) -> SafeString:
        if not obj.pk:
            return format_html("{}", "-")
        url = reverse("admin:appointments_practitioner_schedule", args=[obj.pk])
        return format_html('<a href="{}">day</a> / <a href="{}?span=week">week</a>', url, url)

    def schedule_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The practitioner's appointments of one day (or the week from it), in the practitioner's zone, with
        their status. Needs the permission to view appointments."""
        if not request.user.has_perm("appointments.view_appointment"):
            raise PermissionDenied
        practitioner = get_object_or_404(Practitioner, pk=object_id)
        zone = ZoneInfo(practitioner.time_zone)
        week = request.GET.get("span") == "week"
        first = _first_day(request.GET.get("date"), timezone.now().astimezone(zone).date())
        days = [first + timedelta(days=n) for n in range(7 if week else 1)]
        start = datetime.combine(days[0], time.min, tzinfo=zone)
        end = datetime.combine(days[-1] + timedelta(days=1), time.min, tzinfo=zone)
        appointments = Appointment.objects.filter(
            practitioner=practitioner, appointment_time__gte=start, appointment_time__lt=end
        ).order_by("appointment_time")
        by_day: dict[date, list[Appointment]] = {day: [] for day in days}
        for appointment in appointments:
            by_day[appointment.appointment_time.astimezone(zone).date()].append(appointment)
        step = timedelta(days=7 if week else 1)
        context = {
            **self.admin_site.each_context(request),
            "title": f"{practitioner.name}: {'week' if week else 'day'} from {days[0]:%A %Y-%m-%d}",
            "opts": self.model._meta,
            "practitioner": practitioner,
            "zone": practitioner.time_zone,
            "days": [(day, [(a, a.appointment_time.astimezone(zone)) for a in by_day[day]]) for day in days],
            "span": "week" if week else "day",
            "previous": (days[0] - step).isoformat(),
            "next": (days[0] + step).isoformat(),
        }
        return TemplateResponse(request, "admin/appointments/practitioner_schedule.html", context)


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin[Service]):
    list_display = ("name", "slug", "duration_minutes", "buffer_minutes")
