"""Ledger JSON columns as `json` (the text as written) instead of `jsonb`, on PostgreSQL.

See `HashedJSONField`. Elsewhere the column type does not change, so the database is not
touched (on SQLite an AlterField would rebuild the table and lose its append-only
triggers). Changing a column's type resets its compression, so LZ4 is set again after
the change, both ways, as 0009 set it. Existing records keep their content (jsonb's own
text of it) and verify as before, since verification hashes the parsed values.
"""

import importlib

from django.db import migrations

import governance.models

lz4 = importlib.import_module("governance.migrations.0009_ledger_lz4")
COLUMNS = ("figures", "inputs", "result")


def retype(to: str):  # type: ignore[no-untyped-def]
    def run(apps, schema_editor):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor != "postgresql":
            return
        alters = ", ".join(f"ALTER COLUMN {column} TYPE {to} USING {column}::{to}" for column in COLUMNS)
        schema_editor.execute(f"ALTER TABLE governance_ledgerrecord {alters}")
        lz4.forward(apps, schema_editor)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0009_ledger_lz4"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(model_name="ledgerrecord", name=name, field=governance.models.HashedJSONField())
                for name in COLUMNS
            ],
            database_operations=[migrations.RunPython(retype("json"), retype("jsonb"), elidable=False)],
        ),
    ]
