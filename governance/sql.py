"""The one way to run a hand-written statement, with the tenant condition written by the scope.

Why hand-written at all: on the hottest request paths (session, MFA check, key lookup, the
dashboard figures) compiling an ORM query costs about a millisecond of Python per
statement, more than the statement itself takes on PostgreSQL (bench/dashboard.py measures
those endpoints). Elsewhere the ORM, unless it has no form for the statement (an additive
upsert, an advisory lock, a setting). Values pass through Django's own per-field
converters (`connection.ops.get_db_converters` and the field's), so what comes back is
exactly what the ORM would have returned: `Decimal` quantized as on SQLite, aware
datetimes, decoded JSON.

Tenancy: a statement never writes a tenant's id. It writes `@tenant` where a tenant-owned
table's condition goes (`m.@tenant` for the table aliased `m`), and `@tenant_id` where the
tenant's id is a value (an INSERT's column); each becomes a parameter bound to the tenant
in scope (`current_tenant()`, which raises without one). A statement that reads or writes
more tenant-owned tables than it has markers is refused before it runs, so forgetting the
condition is an error, not a leak. On SQLite that condition is the only wall between
tenants; on PostgreSQL row-level security applies as well, in the same scope as any ORM
query. Statements over tables no tenant owns (sessions, tenants, permissions, locks) need
no marker and no scope. tests/test_sql_discipline.py refuses a cursor anywhere else.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.models import Field

from governance.tenancy import current_tenant, scoped_connection, tenant_owned_models

Converter = Callable[[Any, Any, Any], Any]
# The columns that need converting, by index: most columns need none on PostgreSQL.
Converters = list[tuple[int, list[Converter], Any]]


class UnscopedStatement(RuntimeError):
    """A hand-written statement names a tenant-owned table without its `@tenant` condition."""


# `@tenant` / `m.@tenant`: the tenant condition (of table alias m); `@tenant_id`: the tenant's id as a value.
TENANT_MARKER = re.compile(r"(?:\b(\w+)\.)?@tenant(_id)?\b")
# A positional parameter (not an escaped `%%s`), to know where the tenant's id goes among them.
PARAMETER = re.compile(r"(?<!%)%s")


@dataclass(frozen=True, slots=True)
class Prepared:
    """A statement's text as the database receives it, and where the tenant's id goes among its parameters."""

    text: str
    tenant_positions: tuple[int, ...]


@cache
def tenant_owned() -> frozenset[type[models.Model]]:
    """Every tenant-owned model and history model: their rows are one tenant's."""
    return frozenset(tenant_owned_models())


@cache
def tenant_owned_tables() -> re.Pattern[str]:
    """Where a statement reads or writes a tenant-owned table (or its history)."""
    names = "|".join(sorted((re.escape(model._meta.db_table) for model in tenant_owned()), key=len, reverse=True))
    return re.compile(rf'\b(?:FROM|JOIN|INTO|UPDATE)\s+"?({names})"?(?!\w)', re.IGNORECASE)


@lru_cache(maxsize=1024)  # bounded: a statement's text varies only with its IN lists' lengths
def prepared(statement: str, before_tenant_known: tuple[type[models.Model], ...] = ()) -> Prepared:
    """`statement` with its markers written out (once per distinct text: the same few run on every request).

    `before_tenant_known`: tenant-owned models the statement may read without a marker (see `select`).
    """
    pieces: list[str] = []
    positions: list[int] = []
    start = parameters = 0
    for marker in TENANT_MARKER.finditer(statement):
        before = statement[start : marker.start()]
        parameters += len(PARAMETER.findall(before))
        alias, as_value = marker.group(1), marker.group(2)
        if as_value:
            if alias:
                raise UnscopedStatement(f"{marker.group(0)!r}: the tenant's id as a value takes no table alias.")
            pieces += [before, "%s"]
        else:
            pieces += [before, f'{alias}."tenant_id" = %s' if alias else '"tenant_id" = %s']
        positions.append(parameters)
        parameters += 1
        start = marker.end()
    pieces.append(statement[start:])
    exempt = {model._meta.db_table for model in before_tenant_known}
    named = [name for name in tenant_owned_tables().findall(statement) if name not in exempt]
    if len(named) > len(positions):
        raise UnscopedStatement(
            f"This statement names the tenant-owned tables {named} with {len(positions)} tenant marker(s): "
            f"write `@tenant` (or `alias.@tenant`) in each one's condition.\n{statement}"
        )
    return Prepared("".join(pieces), tuple(positions))


def bound(
    statement: str, params: Sequence[Any], before_tenant_known: tuple[type[models.Model], ...] = ()
) -> tuple[str, list[Any]]:
    """The text and parameters to execute: the scope tenant's id bound at each marker (raises without a scope)."""
    ready = prepared(statement, before_tenant_known)
    values = list(params)
    if ready.tenant_positions:
        tenant_id = current_tenant().pk
        for position in ready.tenant_positions:  # ascending, each an index in the final list
            values.insert(position, tenant_id)
    return ready.text, values


# Per connection (they are bound to its operations) and per statement's columns: the same
# few statements run on every request, and looking their converters up again costs more
# than converting their rows. Kept on the connection object itself, so they go with it (a
# module-level map keyed by connection would keep every thread's connection alive, since
# the converters refer back to it).
_CONVERTERS_ATTRIBUTE = "_bizvalue_converters"


def converters_for(fields: Iterable[Field | None]) -> Converters:
    """The converters the ORM applies to each column's value, for the columns that have any
    (a column given as None is left as it comes)."""
    key = tuple(fields)
    known = connections[DEFAULT_DB_ALIAS].__dict__.setdefault(_CONVERTERS_ATTRIBUTE, {})
    if key not in known:
        known[key] = _converters_found(key)
    return known[key]


def _converters_found(fields: Iterable[Field | None]) -> Converters:
    out: Converters = []
    for index, field in enumerate(fields):
        if field is None:
            continue
        column = field.cached_col
        functions = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if functions:
            out.append((index, functions, column))
    return out


def convert_row(row: Sequence[Any], converters: Converters) -> list[Any]:
    values = list(row)
    for index, functions, column in converters:
        for function in functions:
            values[index] = function(values[index], column, connection)
    return values


def select(
    statement: str,
    params: Sequence[Any],
    fields: Sequence[Field | None],
    *,
    setting: tuple[str, str] | None = None,
    before_tenant_known: tuple[type[models.Model], ...] = (),
) -> list[list[Any]]:
    """The rows of `statement`, its tenant markers bound to the scope, each value converted as
    the ORM converts a value of its field.

    `setting` (PostgreSQL, outside any transaction): a transaction-local setting (name,
    value) made in the same round trip. PostgreSQL runs the two statements of one simple
    query as one implicit transaction, so the setting holds for `statement` and ends with it.

    `before_tenant_known`: the tenant-owned models a statement may read with no tenant in
    scope, because it is how the tenant is found (the API key lookup): its own WHERE names
    the one row, and on PostgreSQL row-level security shows it nothing else.
    """
    text, values = bound(statement, params, before_tenant_known)
    converters = converters_for(fields)
    # Inside `all_tenants_scope` the ORM runs on the platform connection; so does this SQL.
    with scoped_connection().cursor() as cursor:
        if setting is None:
            cursor.execute(text, values)
        else:
            # One message, two statements: the driver binds parameters client side.
            cursor.execute(f"SELECT set_config(%s, %s, true); {text}", [*setting, *values])
            cursor.nextset()
        rows = cursor.fetchall()
    if not converters:
        return [list(row) for row in rows]
    return [convert_row(row, converters) for row in rows]


def execute(statement: str, params: Sequence[Any] = ()) -> None:
    """Run `statement` for its effect (a write, a lock, a setting), its tenant markers bound to the scope."""
    text, values = bound(statement, params)
    with scoped_connection().cursor() as cursor:
        cursor.execute(text, values)


def adapt_date(value: Any) -> Any:
    return connection.ops.adapt_datefield_value(value)


def adapt_datetime(value: Any) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def instances(
    model: type[models.Model],
    where: str = "",
    params: Sequence[Any] = (),
    *,
    order_by: str = "",
    limit: int | None = None,
) -> list[Any]:
    """Rows of `model`'s table matching `where` (all of them without one), as model instances
    (every concrete field loaded); only the scope tenant's rows when the model is tenant-owned."""
    fields = list(model._meta.concrete_fields)
    columns = ", ".join(f'"{field.column}"' for field in fields)
    conditions = ["@tenant"] if model in tenant_owned() else []
    if where:
        conditions.append(f"({where})")
    statement = f'SELECT {columns} FROM "{model._meta.db_table}"'  # noqa: S608
    if conditions:
        statement += f" WHERE {' AND '.join(conditions)}"
    if order_by:
        statement += f" ORDER BY {order_by}"
    if limit is not None:
        statement += f" LIMIT {int(limit)}"
    names = [field.attname for field in fields]
    return [model.from_db(connection.alias, names, row) for row in select(statement, params, fields)]
