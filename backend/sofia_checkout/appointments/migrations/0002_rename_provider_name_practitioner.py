from django.db import migrations, models


class Migration(migrations.Migration):
    """`provider_name` meant the practitioner; `provider` means the payment provider. Rename the first."""

    dependencies = [
        ("appointments", "0001_initial"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="appointment", name="appointment_unique_live_slot"),
        migrations.RenameField(model_name="appointment", old_name="provider_name", new_name="practitioner"),
        migrations.AddConstraint(
            model_name="appointment",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status__in", ("pending_payment", "payment_processing", "confirmed"))),
                fields=("practitioner", "appointment_time"),
                name="appointment_unique_live_slot",
            ),
        ),
    ]
