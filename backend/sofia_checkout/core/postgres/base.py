"""PostgreSQL whose pooled connections are checked only when they may have gone stale.

Django's pool check (CONN_HEALTH_CHECKS with a pool) sends an empty query every time a request takes a
connection: a round trip and a thread switch per request, two per payment-session create (which hands its
connection back while the provider answers), and about a sixth of a polled read's cost. A connection that
was in use moments ago is as good as checked. One that sat in the pool longer than STALE_AFTER_SECONDS (the
server may have restarted, a firewall may have cut it) is checked before use, and replaced if it is dead, so
a request still never gets a connection that died while idle.
"""

from __future__ import annotations

import time
from typing import Any

from django.db.backends.postgresql import base
from psycopg import Connection
from psycopg import Error as PsycopgError
from psycopg_pool import ConnectionPool

STALE_AFTER_SECONDS = 2.0

# Set on a connection when it goes back to the pool (psycopg connections take attributes).
_RETURNED_AT = "_sofia_returned_at"


def _recently_returned(connection: Connection[Any]) -> bool:
    returned_at: float | None = getattr(connection, _RETURNED_AT, None)
    return returned_at is not None and time.monotonic() - returned_at < STALE_AFTER_SECONDS


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        pool: ConnectionPool[Any] | None = self.pool  # type: ignore[attr-defined]  # not in django-stubs yet
        if pool is None:
            return super().get_new_connection(conn_params)
        # Each dead connection is replaced by the pool; bounded so a server that is down fails fast.
        for _ in range(pool.max_size + 1):
            connection = super().get_new_connection(conn_params)
            if _recently_returned(connection):
                return connection
            try:
                ConnectionPool.check_connection(connection)
            except PsycopgError:
                pool.putconn(connection)  # broken: the pool discards it and opens a new one
                continue
            return connection
        return super().get_new_connection(conn_params)  # let the pool's own errors speak

    def _close(self) -> None:
        if self.pool is not None and self.connection is not None:  # type: ignore[attr-defined]
            setattr(self.connection, _RETURNED_AT, time.monotonic())
        super()._close()  # type: ignore[misc]  # Django's; django-stubs do not declare it
