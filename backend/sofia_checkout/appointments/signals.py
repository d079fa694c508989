"""What happens to an appointment, announced for other apps (notifications) without this app knowing them.

Both are sent inside the transaction that made the change, with the appointment row locked: a receiver may
write rows in that transaction (so they commit or roll back with the change) and must leave any network
call (SMTP) to `transaction.on_commit`.
"""

from django.dispatch import Signal

# kwargs: appointment, previous (AppointmentStatus), status (AppointmentStatus), reason (str),
# payment_session (the payment session whose new status caused it, or None for our own decisions).
appointment_status_changed = Signal()

# kwargs: appointment (already at its new time), previous_time (datetime).
appointment_rescheduled = Signal()
