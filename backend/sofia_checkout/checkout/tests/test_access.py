"""Appointment access: only the holder of an appointment's token (returned once, by the booking) reaches its
endpoints; a missing or wrong token gets the very answer an unknown id gets; the token is stored only hashed,
derived again for the manage link, and never cached, sent to a provider or logged."""

from __future__ import annotations

import hashlib
import importlib
from typing import Any

import pytest
from django.apps import apps
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from sofia_checkout.appointments.access import access_token_for, access_token_matches, manage_url
from sofia_checkout.appointments.models import Appointment
from testing.booking import slot
from testing.flows import started
from testing.patient import bearer
from testing.provider_mocks import StripeMock

pytestmark = pytest.mark.django_db

UNKNOWN = "00000000-0000-4000-8000-000000000000"
# Every per-appointment endpoint: method, path ({a}: the appointment, {s}: its payment session), body.
ENDPOINTS: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "appointment read": ("get", "/api/appointments/{a}/", None),
    "payment-session create": ("post", "/api/appointments/{a}/payment-sessions/", {"provider": "stripe"}),
    "payment-session read": ("get", "/api/payment-sessions/{s}/", None),
    "sync": ("post", "/api/payment-sessions/{s}/sync/", None),
    "cancel": ("post", "/api/appointments/{a}/cancel/", None),
    "reschedule": ("post", "/api/appointments/{a}/reschedule/", {"appointment_time": slot(hours=24 * 5)}),
    "receipt": ("get", "/api/appointments/{a}/receipt/", None),
}
WRONG_CREDENTIALS: dict[str, dict[str, str]] = {
    "missing": {},
    "wrong token": bearer("A" * 43),
    "empty bearer": {"HTTP_AUTHORIZATION": "Bearer "},
    "not bearer": {"HTTP_AUTHORIZATION": "Basic dXNlcjpwYXNz"},
    "token as a query": {},  # (see the request below: ?token=... must not count)
}


@pytest.fixture
def paying(api: APIClient, book: Any, stripe_mock: StripeMock) -> tuple[dict[str, Any], dict[str, Any]]:
    """A booked appointment (with its token) whose card payment has started: it and our payment session."""
    appointment = book()
    stripe_mock.answer_create()
    return appointment, started(api, appointment, "stripe")


def call(client: APIClient, endpoint: str, appointment_id: str, session_id: str, **headers: str) -> Any:
    method, path, body = ENDPOINTS[endpoint]
    url = path.format(a=appointment_id, s=session_id)
    return getattr(client, method)(url, body, format="json", **headers)


def test_the_booking_answer_carries_the_token_and_nothing_else_does(
    api: APIClient, paying: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    appointment, session = paying
    token = appointment["access_token"]
    assert len(token) >= 43  # 256 bits, base64url
    read = api.get(f"/api/appointments/{appointment['id']}/", **bearer(token))
    assert read.status_code == 200
    assert "access_token" not in read.json()
    assert token not in read.content.decode()
    assert token not in api.get(f"/api/payment-sessions/{session['id']}/", **bearer(token)).content.decode()


@pytest.mark.parametrize("credentials", WRONG_CREDENTIALS)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_no_endpoint_answers_without_the_right_token(
    paying: tuple[dict[str, Any], dict[str, Any]],
    stripe_mock: StripeMock,
    endpoint: str,
    credentials: str,
) -> None:
    appointment, session = paying
    stranger = APIClient()  # holds no token
    creates_before, time_before = stripe_mock.create.call_count, stored_time(appointment)
    if credentials == "token as a query":
        method, path, body = ENDPOINTS[endpoint]
        url = path.format(a=appointment["id"], s=session["id"]) + f"?token={appointment['access_token']}"
        refused = getattr(stranger, method)(url, body, format="json")
    else:
        refused = call(stranger, endpoint, appointment["id"], session["id"], **WRONG_CREDENTIALS[credentials])
    unknown = call(stranger, endpoint, UNKNOWN, UNKNOWN, **bearer(appointment["access_token"]))
    assert refused.status_code == 404
    assert refused.json()["code"] == "not_found"
    assert refused.json() == unknown.json()  # nothing tells that the id exists
    assert refused["Cache-Control"] == "no-store"
    # ... and nothing happened.
    stored = Appointment.objects.get(pk=appointment["id"])
    assert (stored.status, stored.appointment_time.isoformat()) == ("pending_payment", time_before)
    assert stripe_mock.create.call_count == creates_before


def stored_time(appointment: dict[str, Any]) -> str:
    return Appointment.objects.get(pk=appointment["id"]).appointment_time.isoformat()


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_another_appointments_token_opens_nothing(
    api: APIClient, book: Any, paying: tuple[dict[str, Any], dict[str, Any]], endpoint: str
) -> None:
    appointment, session = paying
    other = book()
    refused = call(APIClient(), endpoint, appointment["id"], session["id"], **bearer(other["access_token"]))
    assert refused.status_code == 404
    assert refused.json() == call(APIClient(), endpoint, UNKNOWN, UNKNOWN, **bearer("x")).json()


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_the_right_token_opens_every_endpoint(
    paying: tuple[dict[str, Any], dict[str, Any]], stripe_mock: StripeMock, endpoint: str
) -> None:
    appointment, session = paying
    stripe_mock.retrieve("cs_test_fixture", status="open")
    stripe_mock.expire("cs_test_fixture")
    answer = call(
        APIClient(), endpoint, appointment["id"], session["id"], **bearer(appointment["access_token"])
    )
    if endpoint == "receipt":  # past the token: it is just not paid yet
        assert (answer.status_code, answer.json()["code"]) == (409, "not_paid")
    else:
        assert answer.status_code in {200, 201}, answer.json()
    assert answer["Cache-Control"] == "no-store"


def test_only_the_tokens_hash_is_stored_and_the_token_can_be_derived_again(book: Any, settings: Any) -> None:
    appointment = book()
    token = appointment["access_token"]
    stored = Appointment.objects.get(pk=appointment["id"])
    assert stored.access_token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in {str(getattr(stored, field.attname)) for field in Appointment._meta.fields}
    assert access_token_for(stored) == token  # what the confirmation email's manage link carries
    assert access_token_matches(stored, token)
    assert not access_token_matches(stored, token[:-1] + ("A" if token[-1] != "A" else "B"))
    settings.FRONTEND_BASE_URL = "https://book.example.com"
    assert manage_url(stored) == (f"https://book.example.com/appointments/{stored.pk}/manage#token={token}")


def test_each_appointment_has_its_own_token(book: Any) -> None:
    tokens = {book()["access_token"] for _ in range(5)}
    assert len(tokens) == 5


def test_existing_appointments_get_a_token_from_the_migration(book: Any) -> None:
    appointment = book()
    Appointment.objects.filter(pk=appointment["id"]).update(access_salt="", access_token_hash="")
    migration = importlib.import_module("sofia_checkout.appointments.migrations.0006_access_token")
    migration.backfill(apps, None)
    stored = Appointment.objects.get(pk=appointment["id"])
    assert stored.access_salt
    assert access_token_matches(stored, access_token_for(stored))
    assert not access_token_matches(stored, appointment["access_token"])  # a new salt, a new token


def test_an_appointment_made_outside_the_booking_service_opens_for_no_token(book: Any) -> None:
    appointment = book()
    Appointment.objects.filter(pk=appointment["id"]).update(access_token_hash="")
    stored = Appointment.objects.get(pk=appointment["id"])
    assert not access_token_matches(stored, access_token_for(stored))
    assert not access_token_matches(stored, "")


def test_the_token_goes_to_no_provider(
    api: APIClient, paying: tuple[dict[str, Any], dict[str, Any]], stripe_mock: StripeMock
) -> None:
    appointment, session = paying
    sent = stripe_mock.create.calls.last.request
    assert appointment["access_token"] not in sent.url.query.decode() + sent.content.decode()
    assert appointment["access_token"] not in session["redirect_url"]


def test_the_schema_declares_the_bearer_scheme_on_every_per_appointment_operation() -> None:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    scheme = schema["components"]["securitySchemes"]["appointmentAccessToken"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    secured = {
        (path, method)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if operation.get("security") == [{"appointmentAccessToken": []}]
    }
    expected = {
        (path.replace("{a}", "{appointment_id}").replace("{s}", "{payment_session_id}"), method)
        for method, path, _ in ENDPOINTS.values()
    }
    assert expected <= secured
    assert schema["paths"]["/api/appointments/"]["post"]["security"] == [{}]  # booking needs no token
