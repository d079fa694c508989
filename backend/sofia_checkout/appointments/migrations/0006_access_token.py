"""Appointments gain an access token (a salt; the token's hash) and a can_refund permission for staff.

Existing rows get their own salt and the hash of their token, derived as appointments/access.py does (kept
here as it was when written: a migration must not change meaning when the code moves on).
"""

import base64
import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import migrations, models

import sofia_checkout.appointments.models


def _token(appointment_id, salt):
    message = f"appointment-access:{appointment_id}:{salt}".encode()
    digest = hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def backfill(apps, schema_editor):
    Appointment = apps.get_model("appointments", "Appointment")
    for appointment in Appointment.objects.filter(access_token_hash="").only("pk").iterator():
        salt = secrets.token_urlsafe(16)
        token_hash = hashlib.sha256(_token(appointment.pk, salt).encode()).hexdigest()
        Appointment.objects.filter(pk=appointment.pk).update(access_salt=salt, access_token_hash=token_hash)


class Migration(migrations.Migration):
    dependencies = [
        ("appointments", "0005_seed_schedule_and_practitioner_fk"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="appointment",
            options={
                "ordering": ("-created_at",),
                "permissions": (("can_refund", "Can cancel and refund appointments"),),
            },
        ),
        migrations.AddField(
            model_name="appointment",
            name="access_salt",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="appointment",
            name="access_token_hash",
            field=models.CharField(blank=True, default="", editable=False, max_length=64),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="appointment",
            name="access_salt",
            field=models.CharField(
                default=sofia_checkout.appointments.models.access_salt_new, editable=False, max_length=64
            ),
        ),
    ]
