"""The appointment read the return and manage pages poll: never cached by anyone, revalidated with an ETag
(304 while nothing changed), at most two queries either way, and throttled per client."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

pytestmark = pytest.mark.django_db


def read(api: APIClient, appointment: dict[str, Any], **headers: str) -> Any:
    return api.get(f"/api/appointments/{appointment['id']}/", **headers)


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


def test_the_etag_changes_when_the_appointment_does(api: APIClient, book: Any) -> None:
    appointment = book()
    etag = read(api, appointment)["ETag"]
    api.post(f"/api/appointments/{appointment['id']}/cancel/")
    changed = read(api, appointment, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed.json()["status"] == "cancelled"
    assert changed["ETag"] != etag


def test_the_read_takes_at_most_two_queries_answered_or_not_modified(
    api: APIClient, book: Any, django_assert_max_num_queries: Any
) -> None:
    appointment = book()
    etag = read(api, appointment)["ETag"]
    with django_assert_max_num_queries(2):
        assert read(api, appointment).status_code == 200
    with django_assert_max_num_queries(2):
        assert read(api, appointment, HTTP_IF_NONE_MATCH=etag).status_code == 304
    with django_assert_max_num_queries(1):  # a wrong token: the one lookup, nothing more
        assert read(APIClient(), appointment, HTTP_AUTHORIZATION="Bearer wrong").status_code == 404


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
    # Guessing tokens or ids counts against the same budget.
    assert read(APIClient(), appointment, HTTP_AUTHORIZATION="Bearer guess").status_code == 429
    session_read = api.get("/api/payment-sessions/00000000-0000-4000-8000-000000000000/")
    assert session_read.status_code == 429
