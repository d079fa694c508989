"""Who may see and act on an appointment: the holder of its access token.

The token is an HMAC (SECRET_KEY) over the appointment id and a random per-appointment salt, so it can be
derived again to put the manage link into an email without storing the token itself. What is stored is only
its SHA-256 hash, and a presented token is checked against that hash in constant time. The appointment's
UUID alone grants nothing: it travels in provider URLs, browser history and logs; the token never does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError

from sofia_checkout.appointments.models import Appointment
from sofia_checkout.appointments.selectors import appointment_lock
from sofia_checkout.core.errors import NotFound

APPOINTMENT_NOT_FOUND = "No appointment with this id."
# Compared against when the id is unknown, so an unknown id and a wrong token cost the same.
_NO_HASH = hashlib.sha256(b"no appointment").hexdigest()


def _derive(appointment_id: uuid.UUID | str, salt: str) -> str:
    message = f"appointment-access:{appointment_id}:{salt}".encode()
    digest = hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def access_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def access_token_for(appointment: Appointment) -> str:
    """The appointment's access token (43 characters, base64url): derived again on each call, never stored."""
    return _derive(appointment.pk, appointment.access_salt)


def access_token_matches(appointment: Appointment, presented: str) -> bool:
    """Whether `presented` is the appointment's token, compared in constant time against the stored hash."""
    return hmac.compare_digest(appointment.access_token_hash, access_token_hash(presented))


def access_token_matches_nothing(presented: str) -> bool:
    """For an unknown id: the same comparison as for a known one (no timing difference), always False."""
    hmac.compare_digest(_NO_HASH, access_token_hash(presented))
    return False


def manage_url(appointment: Appointment) -> str:
    """The patient's manage link. The token rides in the fragment, which browsers never send to a server."""
    token = access_token_for(appointment)
    return f"{settings.FRONTEND_BASE_URL}/appointments/{appointment.pk}/manage#token={token}"


def appointment_get_authorized(
    *, appointment_id: uuid.UUID | str, presented: str, lock: bool = False
) -> Appointment:
    """The appointment if `presented` is its token; else NotFound, the same answer as for an unknown id.
    `lock`: the row is locked for the caller's transaction (appointment_lock), and checked on it."""
    if not presented:
        raise NotFound(APPOINTMENT_NOT_FOUND)
    try:
        if lock:
            appointment = appointment_lock(appointment_id=appointment_id, with_practitioner=True)
        else:
            appointment = Appointment.objects.select_related("practitioner").get(pk=appointment_id)
    except (Appointment.DoesNotExist, NotFound, ValidationError, ValueError):
        access_token_matches_nothing(presented)
        raise NotFound(APPOINTMENT_NOT_FOUND) from None
    if not access_token_matches(appointment, presented):
        raise NotFound(APPOINTMENT_NOT_FOUND)
    return appointment
