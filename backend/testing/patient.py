"""An API client that holds appointment access tokens the way the SPA does.

`PatientClient` keeps the `access_token` of every booking it sees answered (201 of POST /api/appointments/)
and sends it as `Authorization: Bearer ...` to that appointment's endpoints and to its payment sessions'
(learnt from the answers that name them). Tokens are kept per test process, so a fresh client in another
thread opens the appointment a first client booked, as a second tab of the same browser would. A header given
explicitly always wins. Tests that prove the token is needed use a plain `APIClient`.
"""

from __future__ import annotations

import re
from typing import Any

from rest_framework.test import APIClient

_TOKENS: dict[str, str] = {}  # appointment id -> access token
_SESSION_APPOINTMENT: dict[str, str] = {}  # payment session id -> appointment id
_APPOINTMENT_PATH = re.compile(r"^/api/appointments/(?P<id>[0-9a-fA-F-]{36})/")
_SESSION_PATH = re.compile(r"^/api/payment-sessions/(?P<id>[0-9a-fA-F-]{36})/")


def bearer(token: str) -> dict[str, str]:
    """Test-client keyword arguments that send `token` as the bearer token."""
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def token_of(appointment_id: str) -> str | None:
    """The access token a PatientClient saw for this appointment, if any."""
    return _TOKENS.get(str(appointment_id))


def _token_for_path(path: str) -> str | None:
    if match := _APPOINTMENT_PATH.match(path):
        return _TOKENS.get(match["id"])
    if match := _SESSION_PATH.match(path):
        appointment_id = _SESSION_APPOINTMENT.get(match["id"])
        return _TOKENS.get(appointment_id) if appointment_id else None
    return None


def _remember_session(data: Any) -> None:
    if (
        isinstance(data, dict)
        and isinstance(data.get("appointment_id"), str)
        and isinstance(data.get("id"), str)
    ):
        _SESSION_APPOINTMENT[data["id"]] = data["appointment_id"]


def _remember(response: Any) -> None:
    if not response.get("Content-Type", "").startswith("application/json"):
        return
    try:
        data = response.json()
    except ValueError:
        return
    if not isinstance(data, dict):
        return
    if isinstance(data.get("access_token"), str) and isinstance(data.get("id"), str):
        _TOKENS[data["id"]] = data["access_token"]
    _remember_session(data)
    _remember_session(data.get("latest_payment_session"))


class PatientClient(APIClient):
    def request(self, **kwargs: Any) -> Any:
        if "HTTP_AUTHORIZATION" not in kwargs and "HTTP_AUTHORIZATION" not in self._credentials:
            token = _token_for_path(str(kwargs.get("PATH_INFO", "")))
            if token is not None:
                kwargs.update(bearer(token))
        response = super().request(**kwargs)
        _remember(response)
        return response
