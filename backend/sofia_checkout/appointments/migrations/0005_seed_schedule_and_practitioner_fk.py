"""Seed the demo practitioners' schedules and prices; appointments point at a Practitioner and know how long
they block the practitioner; on PostgreSQL an exclusion constraint makes overlaps impossible."""

from datetime import time, timedelta

import django.db.models.deletion
from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations, models
from django.utils.text import slugify

SERVICES = {
    "initial_consultation": ("Initial consultation (60 min)", 60, 15),
    "follow_up": ("Follow-up visit (30 min)", 30, 10),
    "nutrition_plan": ("Nutrition plan session (45 min)", 45, 15),
}
MORNING_AND_AFTERNOON = [(time(9), time(12)), (time(13), time(17))]
PRACTITIONERS = {
    "ana-reyes": (
        "Dr. Ana Reyes",
        "America/New_York",
        {"initial_consultation": 15000, "follow_up": 8500},
        {day: MORNING_AND_AFTERNOON for day in range(5)},
    ),
    "sam-okafor": (
        "Dr. Sam Okafor",
        "America/Chicago",
        {"initial_consultation": 18000, "nutrition_plan": 12000},
        {**{day: [(time(10), time(18))] for day in range(4)}, 5: [(time(9), time(13))]},
    ),
    "jordan-lee": (
        "Jordan Lee, RD",
        "America/Los_Angeles",
        {"nutrition_plan": 9500, "follow_up": 6000},
        {day: [(time(8), time(16))] for day in range(1, 6)},
    ),
}
LIVE = ("pending_payment", "payment_processing", "confirmed")


def seed(apps, schema_editor):
    Practitioner = apps.get_model("appointments", "Practitioner")
    Service = apps.get_model("appointments", "Service")
    Offering = apps.get_model("appointments", "Offering")
    WorkingHours = apps.get_model("appointments", "WorkingHours")
    for slug, (name, duration, buffer) in SERVICES.items():
        Service.objects.update_or_create(
            slug=slug, defaults={"name": name, "duration_minutes": duration, "buffer_minutes": buffer}
        )
    for pid, (name, zone, prices, hours) in PRACTITIONERS.items():
        practitioner, created = Practitioner.objects.get_or_create(
            id=pid, defaults={"name": name, "time_zone": zone}
        )
        if not created:
            continue
        for service, amount in prices.items():
            Offering.objects.create(practitioner=practitioner, service_id=service, amount_cents=amount)
        for weekday, intervals in hours.items():
            for start, end in intervals:
                WorkingHours.objects.create(
                    practitioner=practitioner, weekday=weekday, start_time=start, end_time=end
                )


def link_appointments(apps, schema_editor):
    """Existing rows named their practitioner by name: point them at a Practitioner (an inactive one is made
    for a name the seed does not know) and derive their end from the service's length."""
    Appointment = apps.get_model("appointments", "Appointment")
    Practitioner = apps.get_model("appointments", "Practitioner")
    Service = apps.get_model("appointments", "Service")
    services = {s.slug: s for s in Service.objects.all()}
    for appointment in Appointment.objects.all():
        practitioner = Practitioner.objects.filter(name=appointment.practitioner).first()
        if practitioner is None:
            practitioner = Practitioner.objects.create(
                id=slugify(appointment.practitioner)[:50] or "unknown",
                name=appointment.practitioner,
                time_zone="America/New_York",
                active=False,
            )
        service = services.get(appointment.service)
        duration = timedelta(minutes=service.duration_minutes if service else 60)
        buffer = timedelta(minutes=service.buffer_minutes if service else 0)
        appointment.practitioner_ref = practitioner
        appointment.ends_at = appointment.appointment_time + duration
        appointment.blocked_until = appointment.ends_at + buffer
        appointment.save(update_fields=["practitioner_ref", "ends_at", "blocked_until"])


EXCLUDE_SQL = (
    "ALTER TABLE appointments_appointment ADD CONSTRAINT appointment_no_overlap "
    "EXCLUDE USING gist (practitioner_id WITH =, tstzrange(appointment_time, blocked_until, '[)') WITH &&) "
    "WHERE (status IN ('pending_payment', 'payment_processing', 'confirmed'))"
)


def add_exclusion(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(EXCLUDE_SQL)


def drop_exclusion(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE appointments_appointment DROP CONSTRAINT IF EXISTS appointment_no_overlap"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("appointments", "0004_scheduling_models"),
    ]

    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
        migrations.AddField(
            model_name="appointment",
            name="practitioner_ref",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="appointments.practitioner",
            ),
        ),
        migrations.AddField(model_name="appointment", name="ends_at", field=models.DateTimeField(null=True)),
        migrations.AddField(
            model_name="appointment", name="blocked_until", field=models.DateTimeField(null=True)
        ),
        migrations.RunPython(link_appointments, migrations.RunPython.noop),
        migrations.RemoveConstraint(model_name="appointment", name="appointment_unique_live_slot"),
        migrations.RemoveField(model_name="appointment", name="practitioner"),
        migrations.RenameField(model_name="appointment", old_name="practitioner_ref", new_name="practitioner"),
        migrations.AlterField(
            model_name="appointment",
            name="practitioner",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="appointments",
                to="appointments.practitioner",
            ),
        ),
        migrations.AlterField(model_name="appointment", name="ends_at", field=models.DateTimeField()),
        migrations.AlterField(model_name="appointment", name="blocked_until", field=models.DateTimeField()),
        migrations.AddConstraint(
            model_name="appointment",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status__in", LIVE)),
                fields=("practitioner", "appointment_time"),
                name="appointment_unique_live_slot",
            ),
        ),
        migrations.AddConstraint(
            model_name="appointment",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("blocked_until__gte", models.F("ends_at")), ("ends_at__gt", models.F("appointment_time"))
                ),
                name="appointment_times_ordered",
            ),
        ),
        migrations.AddIndex(
            model_name="appointment",
            index=models.Index(fields=["practitioner", "appointment_time"], name="appointment_practitioner_time"),
        ),
        BtreeGistExtension(),
        migrations.RunPython(add_exclusion, drop_exclusion),
    ]
