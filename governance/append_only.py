"""Audit tables that refuse UPDATE and DELETE at the database (SOX), as a migration operation.

django-simple-history writes history from Python, so raw SQL could otherwise rewrite or
erase it. On PostgreSQL each table gets a row trigger calling
`bizvalue_refuse_history_change()` (created by governance 0006); on SQLite, two triggers
that abort. The ledger has its own trigger and message (governance 0004).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db.migrations.operations.base import Operation

MESSAGE = "history and audit rows are append-only"

REFUSE_FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION bizvalue_refuse_history_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% (% on %)', '{MESSAGE}', TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$;"""


# Branches on the vendor of the migration's schema editor, not through governance.stores:
# it is DDL run once at migrate time (the stores are the runtime's), and a migration must
# keep the SQL it was written with.
def forward_sql(vendor: str, table: str) -> list[str]:
    if vendor == "postgresql":
        return [
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION bizvalue_refuse_history_change();"
        ]
    if vendor == "sqlite":
        return [
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op} BEFORE {op.upper()} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;"
            for op in ("update", "delete")
        ]
    return []


def backward_sql(vendor: str, table: str) -> list[str]:
    if vendor == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};"]
    if vendor == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {table}_no_{op};" for op in ("update", "delete")]
    return []


class AppendOnly(Operation):
    """Make these tables refuse UPDATE and DELETE (PostgreSQL and SQLite; nothing elsewhere)."""

    reversible = True
    reduces_to_sql = True

    def __init__(self, tables: Sequence[str]) -> None:
        self.tables = tuple(tables)

    def deconstruct(self):  # type: ignore[no-untyped-def]
        return (self.__class__.__qualname__, [], {"tables": self.tables})

    def state_forwards(self, app_label, state):  # type: ignore[no-untyped-def]
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):  # type: ignore[no-untyped-def]
        for table in self.tables:
            for statement in forward_sql(schema_editor.connection.vendor, table):
                schema_editor.execute(statement, params=None)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):  # type: ignore[no-untyped-def]
        for table in self.tables:
            for statement in backward_sql(schema_editor.connection.vendor, table):
                schema_editor.execute(statement, params=None)

    def describe(self) -> str:
        return f"Refuse UPDATE and DELETE on {', '.join(self.tables)}"
