"""PostgreSQL row-level security, as migration operations.

Every tenant table gets RLS enabled and FORCEd (so even its owner obeys it), a read policy
and write policies on `current_setting('app.tenant_id')`. A meta-test checks that every
tenant-owned table, history tables included, carries them, so a new model cannot forget.
"""

from __future__ import annotations

from django.db.migrations.operations.base import Operation

TENANT_MATCHES = (
    "(tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::bigint"
    " OR current_setting('app.all_tenants', true) = 'on')"
)
POLICY_NAMES = ("tenant_read", "tenant_insert", "tenant_update", "tenant_delete")


def enable_sql(table: str, extra_read_condition: str | None = None) -> list[str]:
    read = TENANT_MATCHES if extra_read_condition is None else f"({TENANT_MATCHES} OR {extra_read_condition})"
    quoted = f'"{table}"'
    return [
        f"ALTER TABLE {quoted} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {quoted} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY tenant_read ON {quoted} FOR SELECT USING {read}",
        f"CREATE POLICY tenant_insert ON {quoted} FOR INSERT WITH CHECK {TENANT_MATCHES}",
        f"CREATE POLICY tenant_update ON {quoted} FOR UPDATE USING {TENANT_MATCHES} WITH CHECK {TENANT_MATCHES}",
        f"CREATE POLICY tenant_delete ON {quoted} FOR DELETE USING {TENANT_MATCHES}",
    ]


def disable_sql(table: str) -> list[str]:
    quoted = f'"{table}"'
    return [f"DROP POLICY IF EXISTS {name} ON {quoted}" for name in POLICY_NAMES] + [
        f"ALTER TABLE {quoted} NO FORCE ROW LEVEL SECURITY",
        f"ALTER TABLE {quoted} DISABLE ROW LEVEL SECURITY",
    ]


class EnableTenantRLS(Operation):
    """Turn on tenant row-level security for one model's table (a no-op off PostgreSQL)."""

    reversible = True
    reduces_to_sql = True

    def __init__(self, model_name: str, extra_read_condition: str | None = None) -> None:
        self.model_name = model_name
        self.extra_read_condition = extra_read_condition

    def deconstruct(self):  # type: ignore[no-untyped-def]
        kwargs = {"model_name": self.model_name}
        if self.extra_read_condition:
            kwargs["extra_read_condition"] = self.extra_read_condition
        return (self.__class__.__qualname__, [], kwargs)

    def state_forwards(self, app_label, state):  # type: ignore[no-untyped-def]
        pass

    def _table(self, app_label, state):  # type: ignore[no-untyped-def]
        return state.apps.get_model(app_label, self.model_name)._meta.db_table

    def database_forwards(self, app_label, schema_editor, from_state, to_state):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in enable_sql(self._table(app_label, to_state), self.extra_read_condition):
            schema_editor.execute(statement)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in disable_sql(self._table(app_label, from_state)):
            schema_editor.execute(statement)

    def describe(self) -> str:
        return f"Enable tenant row-level security on {self.model_name}"


def grant_application_role(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    """Give the application's role (DATABASE_APP_ROLE) data access, and nothing more.

    The role owns no table and has no BYPASSRLS, so RLS binds it; default privileges carry
    the grants to tables that later migrations create. Creating the role needs CREATEROLE;
    in production a DBA usually creates it (with a password) before the first migration.
    """
    from django.conf import settings
    from psycopg import sql

    connection = schema_editor.connection
    role = settings.DATABASE_APP_ROLE
    if connection.vendor != "postgresql" or not role or role == connection.settings_dict.get("USER"):
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolbypassrls, rolsuper FROM pg_roles WHERE rolname = %s", [role])
        found = cursor.fetchone()
        if found is None:
            cursor.execute(sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS").format(sql.Identifier(role)))
        elif any(found):
            raise RuntimeError(f"DATABASE_APP_ROLE {role!r} must not be a superuser or have BYPASSRLS")
        name = sql.Identifier(role)
        for statement in (
            "GRANT USAGE ON SCHEMA public TO {}",
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}",
            "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}",
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {}",
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {}",
        ):
            cursor.execute(sql.SQL(statement).format(name))
