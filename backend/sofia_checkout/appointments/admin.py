"""Staff edit the schedule here: practitioners (zone, weekly hours, date overrides, prices) and services."""

from django.contrib import admin

from sofia_checkout.appointments.models import DateOverride, Offering, Practitioner, Service, WorkingHours


class OfferingInline(admin.TabularInline[Offering, Practitioner]):
    model = Offering
    extra = 0


class WorkingHoursInline(admin.TabularInline[WorkingHours, Practitioner]):
    model = WorkingHours
    extra = 0


class DateOverrideInline(admin.TabularInline[DateOverride, Practitioner]):
    model = DateOverride
    extra = 0


@admin.register(Practitioner)
class PractitionerAdmin(admin.ModelAdmin[Practitioner]):
    list_display = ("name", "id", "time_zone", "active")
    list_filter = ("active",)
    search_fields = ("name", "id")
    inlines = (OfferingInline, WorkingHoursInline, DateOverrideInline)


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin[Service]):
    list_display = ("name", "slug", "duration_minutes", "buffer_minutes")
