"""The appointment read that the return and manage pages poll every few seconds: one query, and a cheap 304.

One SQL statement loads the appointment, its practitioner's name, its latest payment session and the stored
hash of its access token. The ETag hashes every value that statement loaded (the token's hash excepted) and
the cancellation terms as of now, so it is known before anything is serialized: a poll while nothing changed
costs the throttle, that one indexed query and a SHA-256.

Why a hash of the values and not an update time or a version column: the tag then changes whoever wrote the
rows (save(), QuerySet.update() without updated_at, the admin, a data migration), and no writer can forget
to bump it. The cancellation terms depend on the clock (the refund cutoff and the start pass by without any
write), so they are part of the tag too. Whatever the answer shows must be loaded by that statement: a field
it did not load would be fetched by a second query, which the query-count tests refuse, so "shown" implies
"hashed".
"""

from __future__ import annotations

import hashlib
import uuid
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model
from django.db.models.expressions import Col
from django.utils.functional import cached_property

from sofia_checkout.appointments.access import (
    APPOINTMENT_NOT_FOUND,
    access_token_matches,
    access_token_matches_nothing,
)
from sofia_checkout.appointments.models import Appointment, Practitioner
from sofia_checkout.appointments.policy import cancellation_terms
from sofia_checkout.core.errors import NotFound
from sofia_checkout.payments.models import PaymentSession

# Bump when the answer's shape changes while no stored value does, so that polling clients fetch it again.
REPRESENTATION_VERSION = "1"

# What the read shows (checkout/serializers.py: AppointmentOutputSerializer, PaymentSessionOutputSerializer)
# and what the cancellation terms are computed from, per table alias of the statement.
_LOADED: tuple[tuple[str, type[Model], tuple[str, ...]], ...] = (
    (
        "a",
        Appointment,
        (
            "id",
            "practitioner",
            "service",
            "service_name",
            "appointment_time",
            "ends_at",
            "client_name",
            "client_email",
            "client_state",
            "amount_cents",
            "currency",
            "status",
            "hold_expires_at",
            "access_token_hash",  # to check the presented token; never part of the tag
            "created_at",
        ),
    ),
    ("p", Practitioner, ("id", "name")),
    (
        "s",
        PaymentSession,
        (
            "id",
            "appointment",
            "provider",
            "provider_session_id",
            "redirect_url",
            "amount_cents",
            "currency",
            "status",
            "provider_status",
            "expires_at",
            "created_at",
            "updated_at",
        ),
    ),
)
_NOT_IN_TAG = ("a", "access_token_hash")

Converter = Callable[[Any, Any, Any], Any]
Conversions = list[tuple[int, list[Converter], Col]]  # position in the row, converters, the column


@dataclass(frozen=True)
class _Column:
    alias: str
    field: Field[Any, Any]


@cache
def _statement(vendor: str) -> tuple[str, tuple[_Column, ...]]:
    """The SELECT (built once from the models' metadata) and its columns, each table's in the model's own
    field order (Model.from_db wants them so)."""
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    columns = tuple(
        _Column(alias, field)
        for alias, model, names in _LOADED
        for field in model._meta.concrete_fields
        if field.name in names
    )

    def col(alias: str, model: type[Model], name: str) -> str:
        field = model._meta.get_field(name)
        column = field.column if isinstance(field, Field) else None
        if not column:
            raise TypeError(f"{model.__name__}.{name} has no column")
        return f"{alias}.{quote(column)}"

    appointments = quote(Appointment._meta.db_table)
    practitioners = quote(Practitioner._meta.db_table)
    sessions = quote(PaymentSession._meta.db_table)
    # The latest session as payments.selectors.payment_session_latest picks it (the id breaks a tie).
    latest = (
        f"SELECT {col('l', PaymentSession, 'id')} FROM {sessions} l "  # noqa: S608 - names only
        f"WHERE {col('l', PaymentSession, 'appointment')} = {col('a', Appointment, 'id')} "
        f"ORDER BY {col('l', PaymentSession, 'created_at')} DESC, {col('l', PaymentSession, 'id')} DESC "
        "LIMIT 1"
    )
    # Only names from the models' metadata are interpolated; the one value is a bound parameter.
    sql = (
        f"SELECT {', '.join(f'{c.alias}.{quote(c.field.column)}' for c in columns)} "  # noqa: S608
        f"FROM {appointments} a "
        f"INNER JOIN {practitioners} p "
        f"ON {col('p', Practitioner, 'id')} = {col('a', Appointment, 'practitioner')} "
        f"LEFT OUTER JOIN {sessions} s ON {col('s', PaymentSession, 'id')} = ({latest}) "
        f"WHERE {col('a', Appointment, 'id')} = %s"
    )
    return sql, columns


# Per database connection (Django has one per thread): the positions that need converting, and how.
_CONVERTERS: weakref.WeakKeyDictionary[BaseDatabaseWrapper, Conversions] = weakref.WeakKeyDictionary()


def _converters(
    db: BaseDatabaseWrapper, columns: Sequence[_Column]
) -> list[tuple[int, list[Converter], Col]]:
    found = _CONVERTERS.get(db)
    if found is None:
        found = []
        for position, column in enumerate(columns):
            expression = column.field.get_col(column.alias)
            converters = [*db.ops.get_db_converters(expression), *expression.get_db_converters(db)]
            if converters:
                found.append((position, converters, expression))
        _CONVERTERS[db] = found
    return found


def _converted(db: BaseDatabaseWrapper, row: Sequence[Any], columns: Sequence[_Column]) -> list[Any]:
    """The database's values as the ORM gives them (on SQLite, datetimes and UUIDs arrive as strings)."""
    values = list(row)
    for position, converters, expression in _converters(db, columns):
        for convert in converters:
            values[position] = convert(values[position], expression, db)
    return values


@dataclass(frozen=True)
class _Row:
    db_alias: str
    columns: tuple[_Column, ...]
    values: list[Any]

    def instance(self, alias: str) -> Any:
        model = next(model for a, model, _ in _LOADED if a == alias)
        names, values = [], []
        for column, value in zip(self.columns, self.values, strict=True):
            if column.alias == alias:
                names.append(column.field.attname)
                values.append(value)
        if alias == "s" and values[names.index("id")] is None:  # the LEFT JOIN found no session
            return None
        return model.from_db(self.db_alias, names, values)


class AppointmentRead:
    """What the read shows. The practitioner and the payment session are only built for a 200."""

    def __init__(self, row: _Row) -> None:
        self._row = row
        self.appointment: Appointment = row.instance("a")

    def etag(self, now: datetime) -> str:
        """A strong validator of the answer as of `now`: the loaded values and the cancellation terms."""
        tagged = tuple(
            value
            for column, value in zip(self._row.columns, self._row.values, strict=True)
            if (column.alias, column.field.name) != _NOT_IN_TAG
        )
        terms = cancellation_terms(self.appointment, now=now)
        canonical = repr((REPRESENTATION_VERSION, tagged, terms)).encode()
        return f'"{hashlib.sha256(canonical).hexdigest()[:32]}"'

    @cached_property
    def latest_payment_session(self) -> PaymentSession | None:
        session: PaymentSession | None = self._row.instance("s")
        if session is not None:
            session.appointment = self.appointment
        return session

    def shown(self) -> tuple[Appointment, PaymentSession | None]:
        """The appointment with its practitioner attached, and its latest payment session: to serialize."""
        self.appointment.practitioner = self._row.instance("p")
        return self.appointment, self.latest_payment_session


def appointment_read_authorized(*, appointment_id: uuid.UUID | str, presented: str) -> AppointmentRead:
    """The appointment, its practitioner and its latest payment session in one query, if `presented` is its
    access token; else NotFound, the same answer as for an unknown id (appointments/access.py)."""
    if not presented:
        raise NotFound(APPOINTMENT_NOT_FOUND)
    db = connections[DEFAULT_DB_ALIAS]
    sql, columns = _statement(db.vendor)
    pk: Any = Appointment._meta.pk
    try:
        key = pk.get_db_prep_value(pk.to_python(appointment_id), db)
    except ValidationError:
        key = None
    row = None
    if key is not None:
        with db.cursor() as cursor:
            cursor.execute(sql, [key])
            row = cursor.fetchone()
    if row is None:
        access_token_matches_nothing(presented)
        raise NotFound(APPOINTMENT_NOT_FOUND)
    read = AppointmentRead(_Row(db.alias, columns, _converted(db, row, columns)))
    if not access_token_matches(read.appointment, presented):
        raise NotFound(APPOINTMENT_NOT_FOUND)
    return read
