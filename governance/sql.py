"""Hand-written reads for the hottest request paths (session, MFA check, key lookup, dashboard figures).

Compiling an ORM query costs about a millisecond of Python per statement, more than the
statement itself takes on PostgreSQL. These few reads are written in SQL that both
databases understand, and their values pass through Django's own per-field converters
(`connection.ops.get_db_converters` and the field's), so what comes back is exactly what
the ORM would have returned: `Decimal` quantized as on SQLite, aware datetimes, decoded
JSON. Tenant-owned tables are still filtered by tenant in the SQL, and row-level security
still applies on PostgreSQL: these reads run in the same scope as any ORM query.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Field

from governance.tenancy import scoped_connection

Converter = Callable[[Any, Any, Any], Any]
# The columns that need converting, by index: most columns need none on PostgreSQL.
Converters = list[tuple[int, list[Converter], Any]]


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
    sql: str, params: Sequence[Any], fields: Sequence[Field | None], *, setting: tuple[str, str] | None = None
) -> list[list[Any]]:
    """The rows of `sql`, each value converted as the ORM converts a value of its field.

    `setting` (PostgreSQL, outside any transaction): a transaction-local setting (name,
    value) made in the same round trip. PostgreSQL runs the two statements of one simple
    query as one implicit transaction, so the setting holds for `sql` and ends with it.
    """
    converters = converters_for(fields)
    # Inside `all_tenants_scope` the ORM runs on the platform connection; so does this SQL.
    with scoped_connection().cursor() as cursor:
        if setting is None:
            cursor.execute(sql, params)
        else:
            # One message, two statements: the driver binds parameters client side.
            cursor.execute(f"SELECT set_config(%s, %s, true); {sql}", [*setting, *params])
            cursor.nextset()
        rows = cursor.fetchall()
    if not converters:
        return [list(row) for row in rows]
    return [convert_row(row, converters) for row in rows]


def adapt_date(value: Any) -> Any:
    return connection.ops.adapt_datefield_value(value)


def adapt_datetime(value: Any) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def instances(
    model: Any, where: str, params: Sequence[Any], *, order_by: str = "", limit: int | None = None
) -> list[Any]:
    """Rows of `model`'s table matching `where`, as model instances (every concrete field loaded)."""
    fields = list(model._meta.concrete_fields)
    columns = ", ".join(f'"{field.column}"' for field in fields)
    statement = f'SELECT {columns} FROM "{model._meta.db_table}" WHERE {where}'  # noqa: S608
    if order_by:
        statement += f" ORDER BY {order_by}"
    if limit is not None:
        statement += f" LIMIT {int(limit)}"
    names = [field.attname for field in fields]
    return [model.from_db(connection.alias, names, row) for row in select(statement, params, fields)]
