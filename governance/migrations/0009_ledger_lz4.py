"""Ledger JSON columns compressed with LZ4 on PostgreSQL (nothing to do on SQLite).

A batch record holds a few hundred kB of JSON; PostgreSQL compresses it when it is
written, and LZ4 does that in about half the time of the default pglz, for a little more
space. Only new values are compressed this way (stored ones stay as they are, and both
read alike). A server built without LZ4 keeps pglz: the statement is skipped, not failed.
"""

from django.db import migrations

COLUMNS = ("inputs", "figures", "result")

FORWARD = """
DO $$
BEGIN
    ALTER TABLE governance_ledgerrecord {alters};
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
    RAISE NOTICE 'lz4 not available; ledger columns keep the default compression';
END
$$;
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    alters = ", ".join(f"ALTER COLUMN {column} SET COMPRESSION lz4" for column in COLUMNS)
    schema_editor.execute(FORWARD.format(alters=alters))


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    alters = ", ".join(f"ALTER COLUMN {column} SET COMPRESSION DEFAULT" for column in COLUMNS)
    schema_editor.execute(f"ALTER TABLE governance_ledgerrecord {alters}")


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0008_tenant_locale"),
    ]

    operations = [
        migrations.RunPython(forward, backward, elidable=False),
    ]
