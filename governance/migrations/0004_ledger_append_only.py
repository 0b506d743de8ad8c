"""The ledger is append-only at the database: UPDATE and DELETE are refused by a trigger."""

from django.db import migrations

from governance.rls import EnableTenantRLS

MESSAGE = "ledger records are append-only"

POSTGRES_FORWARD = f"""
CREATE OR REPLACE FUNCTION bizvalue_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% (% on %)', '{MESSAGE}', TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER ledger_append_only BEFORE UPDATE OR DELETE ON governance_ledgerrecord
    FOR EACH ROW EXECUTE FUNCTION bizvalue_refuse_change();
"""
POSTGRES_BACKWARD = "DROP TRIGGER IF EXISTS ledger_append_only ON governance_ledgerrecord;"

SQLITE_FORWARD = [
    f"""CREATE TRIGGER ledger_no_update BEFORE UPDATE ON governance_ledgerrecord
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;""",
    f"""CREATE TRIGGER ledger_no_delete BEFORE DELETE ON governance_ledgerrecord
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;""",
]
SQLITE_BACKWARD = ["DROP TRIGGER IF EXISTS ledger_no_update;", "DROP TRIGGER IF EXISTS ledger_no_delete;"]


def forward(apps, schema_editor):  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    for statement in {"postgresql": [POSTGRES_FORWARD], "sqlite": SQLITE_FORWARD}.get(vendor, []):
        schema_editor.execute(statement, params=None)


def backward(apps, schema_editor):  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    for statement in {"postgresql": [POSTGRES_BACKWARD], "sqlite": SQLITE_BACKWARD}.get(vendor, []):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("governance", "0003_business_context_and_ledger")]

    operations = [
        EnableTenantRLS("ledgerrecord"),
        migrations.RunPython(forward, backward),
    ]
