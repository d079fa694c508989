"""The appointment read the return and manage pages poll: never cached by anyone, revalidated with an ETag
(304 while nothing changed) decided before serializing, one query either way, and throttled per client.

The ETag must change whenever anything the answer shows changes, whoever writes it: the API's own writes
(a payment started, a webhook's status change, a reschedule, a cancel), writes that bypass save()
(QuerySet.update() without updated_at), and the clock passing the refund cutoff or the start."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from config import settings as project_settings
from sofia_checkout.appointments.models import Appointment, Practitioner
from sofia_checkout.checkout import early_not_modified
from sofia_checkout.checkout.serializers import AppointmentOutputSerializer
from sofia_checkout.payments.models import PaymentSession
from sofia_checkout.payments.selectors import payment_session_latest
from sofia_checkout.payments.serializers import PaymentSessionOutputSerializer
from testing.booking import slot
from testing.flows import send_stripe_webhook, started
from testing.patient import bearer
from testing.provider_mocks import StripeMock, stripe_event, stripe_paid_session
from testing.redis_server import redis_server

pytestmark = pytest.mark.django_db

Json = dict[str, Any]


def read(api: APIClient, appointment: Json, **headers: str) -> Any:
    return api.get(f"/api/appointments/{appointment['id']}/", **headers)


def etag_of(api: APIClient, appointment: Json) -> str:
    answer = read(api, appointment)
    assert answer.status_code == 200
    return str(answer["ETag"])


def changed_since(api: APIClient, appointment: Json, etag: str) -> Any:
    """The conditional read with `etag`: asserted to be a 200 with a new ETag (something changed)."""
    answer = read(api, appointment, HTTP_IF_NONE_MATCH=etag)
    assert answer.status_code == 200, "a change went unnoticed: 304 for a stale ETag"
    assert answer["ETag"] not in {etag, None}
    return answer


def test_the_read_carries_an_etag_and_answers_304_while_nothing_changed(api: APIClient, book: Any) -> None:
    appointment = book()
    first = read(api, appointment)
    assert first.status_code == 200
    assert first["Cache-Control"] == "no-store"
    etag = first["ETag"]
    assert etag.startswith('"')
    again = read(api, appointment, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    assert (again["ETag"], again["Cache-Control"]) == (etag, "no-store")
    assert read(api, appointment, HTTP_IF_NONE_MATCH=f'"other", W/{etag}').status_code == 304
    assert read(api, appointment, HTTP_IF_NONE_MATCH='"stale"').status_code == 200


def test_a_matching_etag_opens_nothing_without_the_token(api: APIClient, book: Any) -> None:
    appointment = book()
    etag = etag_of(api, appointment)
    for credentials in ({}, bearer("A" * 43), bearer(book()["access_token"])):
        answer = read(APIClient(), appointment, HTTP_IF_NONE_MATCH=etag, **credentials)
        assert answer.status_code == 404
        assert answer.json()["code"] == "not_found"
        assert "ETag" not in answer


def test_the_answer_is_the_serializer_s_over_the_stored_rows(api: APIClient, card_checkout: Any) -> None:
    """The one-query read builds the same answer as the ORM's instances would (fields, types, session)."""
    appointment, _ = card_checkout()
    stored = Appointment.objects.select_related("practitioner").get(pk=appointment["id"])
    latest = payment_session_latest(appointment_id=stored.pk)
    assert latest is not None
    expected = AppointmentOutputSerializer(stored, context={"latest_payment_session": latest}).data
    answer = read(api, appointment).json()
    assert answer == expected
    assert answer["latest_payment_session"] == PaymentSessionOutputSerializer(latest).data


def test_one_query_answered_not_modified_or_refused(
    api: APIClient, card_checkout: Any, django_assert_num_queries: Any
) -> None:
    appointment, _ = card_checkout()  # with a payment session: everything the answer shows
    etag = etag_of(api, appointment)
    with django_assert_num_queries(1):
        assert read(api, appointment).status_code == 200
    with django_assert_num_queries(1):
        assert read(api, appointment, HTTP_IF_NONE_MATCH=etag).status_code == 304
    with django_assert_num_queries(1):  # a wrong token: the one lookup, nothing more
        assert read(APIClient(), appointment, **bearer("wrong")).status_code == 404
    with django_assert_num_queries(0):  # no token: not even that
        assert read(APIClient(), appointment).status_code == 404


# --- the ETag follows every change -----------------------------------------------------------------------


def test_a_payment_session_started_changes_the_etag(
    api: APIClient, book: Any, stripe_mock: StripeMock
) -> None:
    appointment = book()
    etag = etag_of(api, appointment)
    stripe_mock.answer_create()
    session = started(api, appointment, "stripe")
    answer = changed_since(api, appointment, etag)
    assert answer.json()["latest_payment_session"]["id"] == session["id"]


def test_a_webhook_status_change_changes_the_etag(api: APIClient, card_checkout: Any) -> None:
    appointment, session = card_checkout()
    etag = etag_of(api, appointment)
    body = stripe_event("checkout.session.completed", stripe_paid_session(session))
    assert send_stripe_webhook(Client(), body).status_code == 200
    answer = changed_since(api, appointment, etag).json()
    assert (answer["status"], answer["latest_payment_session"]["status"]) == ("confirmed", "paid")
    assert answer["cancellation"]["code"] == "full_refund"


def test_a_reschedule_changes_the_etag(api: APIClient, book: Any) -> None:
    appointment = book()
    etag = etag_of(api, appointment)
    moved = api.post(
        f"/api/appointments/{appointment['id']}/reschedule/",
        {"appointment_time": slot(hours=24 * 6)},
        format="json",
    )
    assert moved.status_code == 200, moved.json()
    answer = changed_since(api, appointment, etag).json()
    assert answer["appointment_time"] == moved.json()["appointment_time"]


def test_a_cancel_changes_the_etag(api: APIClient, book: Any) -> None:
    appointment = book()
    etag = etag_of(api, appointment)
    api.post(f"/api/appointments/{appointment['id']}/cancel/")
    assert changed_since(api, appointment, etag).json()["status"] == "cancelled"


def at(monkeypatch: pytest.MonkeyPatch, when: datetime) -> None:
    monkeypatch.setattr(timezone, "now", lambda: when)


def test_the_refund_cutoff_passing_changes_the_etag_with_no_write(
    api: APIClient, card_checkout: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    appointment, session = card_checkout()
    body = stripe_event("checkout.session.completed", stripe_paid_session(session))
    assert send_stripe_webhook(Client(), body).status_code == 200
    cutoff = datetime.fromisoformat(read(api, appointment).json()["cancellation"]["refund_cutoff_at"])
    at(monkeypatch, cutoff - timedelta(minutes=1))
    before = read(api, appointment)
    assert before.json()["cancellation"]["code"] == "full_refund"
    assert read(api, appointment, HTTP_IF_NONE_MATCH=before["ETag"]).status_code == 304
    at(monkeypatch, cutoff + timedelta(seconds=1))
    after = changed_since(api, appointment, before["ETag"]).json()
    assert after["cancellation"]["code"] == "cancellation_window_closed"


def test_the_start_passing_changes_the_etag_of_an_unpaid_appointment(
    api: APIClient, book: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    appointment = book()
    starts = datetime.fromisoformat(appointment["appointment_time"])
    at(monkeypatch, starts - timedelta(minutes=1))
    before = read(api, appointment)
    assert before.json()["cancellation"]["code"] == "no_charge"
    at(monkeypatch, starts)
    assert changed_since(api, appointment, before["ETag"]).json()["cancellation"]["code"] == (
        "appointment_started"
    )


# Every stored column the answer shows, as (model, field): changed below with QuerySet.update(), which
# neither runs save() nor touches updated_at, the way several writers change these rows.
SHOWN_APPOINTMENT = (
    "service",
    "service_name",
    "appointment_time",
    "ends_at",
    "client_name",
    "client_email",
    "client_state",
    "status",
    "amount_cents",
    "currency",
    "hold_expires_at",
    "created_at",
)
SHOWN_SESSION = (
    "provider",
    "provider_session_id",
    "status",
    "provider_status",
    "redirect_url",
    "amount_cents",
    "currency",
    "expires_at",
    "created_at",
    "updated_at",
)


def test_the_update_cases_cover_every_field_the_answer_shows() -> None:
    derived = {"id", "practitioner", "practitioner_name", "provider_name", "latest_payment_session"}
    assert set(AppointmentOutputSerializer.Meta.fields) == {*SHOWN_APPOINTMENT, *derived, "cancellation"}
    assert set(PaymentSessionOutputSerializer.Meta.fields) == {*SHOWN_SESSION, "id", "appointment_id"}


def other(value: Any) -> Any:
    if isinstance(value, datetime):
        return value - timedelta(minutes=1)  # earlier: appointment_time stays before ends_at
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str) and value.startswith("https://"):
        return value + "?again"
    assert isinstance(value, str)
    return value[:-1] + ("y" if value.endswith("x") else "x") if value else "x"


@pytest.mark.parametrize(
    ("model", "field"),
    [
        *((Appointment, name) for name in SHOWN_APPOINTMENT),
        *((PaymentSession, name) for name in SHOWN_SESSION),
        (Practitioner, "name"),
    ],
    ids=lambda value: value if isinstance(value, str) else value.__name__,
)
def test_any_shown_column_changed_without_save_changes_the_etag(
    api: APIClient, card_checkout: Any, model: type[Any], field: str
) -> None:
    appointment, session = card_checkout()
    etag = etag_of(api, appointment)
    row = {
        Appointment: Appointment.objects.filter(pk=appointment["id"]),
        PaymentSession: PaymentSession.objects.filter(pk=session["id"]),
        Practitioner: Practitioner.objects.filter(appointments__pk=appointment["id"]),
    }[model]
    current = row.values_list(field, flat=True).get()
    assert row.update(**{field: other(current)}) == 1
    changed_since(api, appointment, etag)


@pytest.fixture(params=["local memory", "redis"])
def rate_limit_cache(request: pytest.FixtureRequest, settings: Any, tmp_path: Path) -> Iterator[None]:
    """The default cache the limits count in: this process's memory, or Redis as replicas share it."""
    if request.param == "local memory":
        yield
        return
    with redis_server(tmp_path) as url:
        settings.CACHES = {"default": project_settings._cache_config(f"{url}/0")}
        yield


@pytest.mark.usefixtures("rate_limit_cache")
def test_per_appointment_reads_are_throttled(
    api: APIClient, book: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    appointment = book()
    cache.clear()
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"appointment_read": "5/min"})
    codes = [read(api, appointment).status_code for _ in range(6)]
    assert codes == [200] * 5 + [429]
    limited = read(api, appointment)
    assert limited.json()["code"] == "throttled"
    assert int(limited["Retry-After"]) > 0
    # Guessing tokens or ids counts against the same budget, and so do conditional reads.
    assert read(APIClient(), appointment, HTTP_AUTHORIZATION="Bearer guess").status_code == 429
    assert read(api, appointment, HTTP_IF_NONE_MATCH='"any"').status_code == 429
    session_read = api.get("/api/payment-sessions/00000000-0000-4000-8000-000000000000/")
    assert session_read.status_code == 429


# --- the early 304 (checkout/early_not_modified.py) -------------------------------------------------------


def test_the_early_304_answers_as_the_full_path_does(
    api: APIClient, book: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A matching poll is answered by the middleware: same status, body and headers as the view's own 304
    (forced here by turning the early answer off)."""
    appointment = book()
    etag = etag_of(api, appointment)
    early = read(api, appointment, HTTP_IF_NONE_MATCH=etag, HTTP_ORIGIN="http://localhost:5173")
    monkeypatch.setattr(early_not_modified, "_not_modified", lambda *_: None)
    full = read(api, appointment, HTTP_IF_NONE_MATCH=etag, HTTP_ORIGIN="http://localhost:5173")
    assert (early.status_code, early.content) == (full.status_code, full.content) == (304, b"")

    def headers(answer: Any) -> dict[str, str]:
        # A 304 has no body, so no type or length of one (Django's common middleware writes a wrong 0 on
        # the full path); the request id is each request's own.
        skip = {"Content-Type", "Content-Length", "X-Request-ID"}
        return {k: v for k, v in answer.headers.items() if k not in skip}

    assert headers(early) == headers(full)
    assert early["ETag"] == etag


@pytest.mark.usefixtures("rate_limit_cache")
def test_a_poll_counts_once_against_the_limit_whichever_path_answers(
    api: APIClient, book: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    appointment = book()
    etag = etag_of(api, appointment)
    cache.clear()
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"appointment_read": "6/min"})
    stranger = APIClient()
    stranger.credentials(HTTP_AUTHORIZATION="Bearer wrong")
    answers = [
        read(api, appointment, HTTP_IF_NONE_MATCH=etag),  # early 304
        read(api, appointment, HTTP_IF_NONE_MATCH='"stale"'),  # early path, then DRF's: a 200
        read(stranger, appointment, HTTP_IF_NONE_MATCH=etag),  # early path, then DRF's: a 404
        read(api, appointment, HTTP_IF_NONE_MATCH=etag),
        read(api, appointment),
        read(api, appointment, HTTP_IF_NONE_MATCH='"stale"'),
        read(api, appointment, HTTP_IF_NONE_MATCH=etag),  # the seventh in a minute
        read(api, appointment, HTTP_IF_NONE_MATCH='"stale"'),
    ]
    assert [a.status_code for a in answers] == [304, 200, 404, 304, 200, 200, 429, 429]
    assert answers[-2].json()["code"] == "throttled"
    assert int(answers[-2]["Retry-After"]) > 0


def test_a_changed_poll_costs_two_queries(api: APIClient, book: Any, django_assert_num_queries: Any) -> None:
    """The early path's look, then DRF's path answers the 200 (rare: a poll mostly finds nothing changed)."""
    appointment = book()
    with django_assert_num_queries(2):
        assert read(api, appointment, HTTP_IF_NONE_MATCH='"stale"').status_code == 200
