"""PostgreSQL: row and advisory locks, RLS settings bound on the server, the ledger's encoded insert."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

import psycopg
from django.db import DEFAULT_DB_ALIAS, connection, connections

from governance.stores import require_transaction

# The ledger's JSON columns, sent as the canonical text that was hashed.
JSON_COLUMNS = ("inputs", "figures", "result")


def lock_key(name: str) -> int:
    """A name as the 64-bit key of a PostgreSQL advisory lock."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class PostgresDatabaseStore:
    row_security = True

    def lock_tenant(self, tenant_id: int) -> None:
        require_transaction()
        # NO KEY UPDATE does not block the KEY SHARE locks that foreign-key checks take, so
        # other inserts for the tenant carry on.
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM governance_tenant WHERE id = %s FOR NO KEY UPDATE", [tenant_id])

    def try_lock(self, name: str) -> bool:
        require_transaction()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [lock_key(name)])
            return bool(cursor.fetchone()[0])

    def lock(self, names: Iterable[str]) -> None:
        require_transaction()
        # Taken in one order, so two transactions wanting the same locks never wait in a cycle.
        with connection.cursor() as cursor:
            for key in sorted({lock_key(name) for name in names}):
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])

    def set_transaction_setting(self, name: str, value: str) -> None:
        connection.ensure_connection()
        # Bound on the server ($1, $2), not written into the statement's text as Django's
        # cursor does: every session of the application's role can read the others' current
        # statement in pg_stat_activity, and the tenant token must not be read there.
        with psycopg.Cursor(connection.connection) as cursor:
            cursor.execute("SELECT set_config(%s, %s, true)", [name, value])

    def reserve_id(self, model: type[Any]) -> int | None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [model._meta.db_table])
            return int(cursor.fetchone()[0])

    def insert_ledger_record(self, record: Any, encoded: Mapping[str, str]) -> None:
        """INSERT `record` with its JSON columns sent as the canonical text just hashed.

        `record.save()` would encode the (for a batch, several hundred kB) JSON a second time
        and quote it into the statement; here the text that was hashed goes to the server as
        a bound parameter and is stored as that very text (`HashedJSONField`). The row is the
        same as `save()` makes, under the same row-level security, constraints and
        append-only trigger.
        """
        from django.db.backends.postgresql.base import ServerBindingCursor

        model = type(record)
        fields = [f for f in model._meta.concrete_fields if not f.primary_key or record.pk is not None]
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        marks = ", ".join("%s::json" if f.name in JSON_COLUMNS else "%s" for f in fields)
        params = [
            encoded[f.name] if f.name in JSON_COLUMNS else f.get_db_prep_save(getattr(record, f.attname), connection)
            for f in fields
        ]
        connection.ensure_connection()
        # The stubs type Django's wrappers around its own cursor class only; psycopg's is what they wrap.
        raw = ServerBindingCursor(connection.connection)  # type: ignore[call-arg]
        wrapped = connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)  # type: ignore[arg-type]
        with wrapped as cursor:
            # The table and column names are the model's; every value is a parameter.
            cursor.execute(
                f"INSERT INTO {model._meta.db_table} ({columns}) VALUES ({marks}) RETURNING id",  # noqa: S608
                params,
            )
            record.pk = cursor.fetchone()[0]
        record._state.adding = False
        record._state.db = connection.alias

    def probe(self, timeout_seconds: int) -> None:
        # A connection of its own, outside the pool, with a connect and a statement timeout:
        # a pooled connection would wait for the pool, and a stalled server for ever.
        wrapper = connections[DEFAULT_DB_ALIAS]
        params = wrapper.get_connection_params()
        params["connect_timeout"] = timeout_seconds
        params["options"] = f"{params.get('options', '')} -c statement_timeout={timeout_seconds * 1000}".strip()
        with psycopg.connect(**params, autocommit=True) as probe:
            probe.execute("SELECT 1")
