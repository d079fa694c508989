"""The database connection around slow network calls.

With PostgreSQL's connection pool (settings: DB_POOL_MAX_SIZE), a request's connection is handed back while
its thread waits on a provider or on another caller's lease (no transaction is open then: payments/leases.py),
so a few connections serve many requests in flight and the pool is bounded by database work, not by the
number of threads waiting on the network. Without a pool nothing changes (reconnecting would cost more).
"""

from __future__ import annotations

from django.db import connection


def release_connection_while_waiting() -> None:
    """Return this thread's pooled connection to the pool; the next query takes one again. A connection
    inside a transaction (tests wrap each in one) is kept."""
    if connection.settings_dict.get("OPTIONS", {}).get("pool") and not connection.in_atomic_block:
        connection.close()
