"""The pooled PostgreSQL backend (core/postgres/base.py): a connection handed back moments ago is used as it
is; one idle for longer is checked first, and a dead one replaced, so no request gets a dead connection.

On a pool of its own (one connection), beside the test database's. PostgreSQL only: SQLite has no pool.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from psycopg_pool import ConnectionPool

from sofia_checkout.core.postgres import base

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the pool is PostgreSQL's"),
    pytest.mark.django_db,
]


@pytest.fixture
def pooled() -> Iterator[base.DatabaseWrapper]:
    settings = {**connection.settings_dict, "OPTIONS": {**connection.settings_dict["OPTIONS"]}}
    settings["OPTIONS"]["pool"] = {"min_size": 1, "max_size": 1, "timeout": 5}
    wrapper = base.DatabaseWrapper(settings, alias="pool_check_test")
    yield wrapper
    wrapper.close()
    wrapper.close_pool()


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The backend pids the pool's check ran on."""
    seen: list[int] = []
    check = ConnectionPool.check_connection

    def counting(conn: Any) -> None:
        seen.append(conn.info.backend_pid)
        check(conn)

    monkeypatch.setattr(ConnectionPool, "check_connection", staticmethod(counting))
    return seen


def backend_pid(wrapper: base.DatabaseWrapper) -> int:
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def idle_for(wrapper: base.DatabaseWrapper, seconds: float) -> None:
    """Hand the connection back as if that long ago."""
    held = wrapper.connection
    wrapper.close()
    setattr(held, base._RETURNED_AT, time.monotonic() - seconds)


def test_a_connection_handed_back_moments_ago_is_not_checked(
    pooled: base.DatabaseWrapper, checks: list[int]
) -> None:
    first = backend_pid(pooled)  # new to this wrapper: checked once
    assert checks == [first]
    for _ in range(3):
        pooled.close()
        assert backend_pid(pooled) == first
    assert checks == [first]


def test_a_connection_idle_a_while_is_checked_before_use(
    pooled: base.DatabaseWrapper, checks: list[int]
) -> None:
    first = backend_pid(pooled)
    idle_for(pooled, base.STALE_AFTER_SECONDS + 1)
    assert backend_pid(pooled) == first
    assert checks == [first, first]


def test_a_connection_that_died_while_idle_is_replaced_unseen(
    pooled: base.DatabaseWrapper, checks: list[int]
) -> None:
    first = backend_pid(pooled)
    idle_for(pooled, base.STALE_AFTER_SECONDS + 1)
    with connection.cursor() as cursor:  # e.g. the server restarted, or a firewall cut it
        cursor.execute("SELECT pg_terminate_backend(%s)", [first])
    replacement = backend_pid(pooled)  # no error: the check found it dead, the pool opened another
    assert replacement != first
    assert checks[:2] == [first, first]
