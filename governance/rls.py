"""PostgreSQL row-level security, as migration operations.

Every tenant table gets RLS enabled and FORCEd (so even its owner obeys it), a read policy
and write policies on `current_setting('app.tenant_id')`. A meta-test checks that every
tenant-owned table, history tables included, carries them, so a new model cannot forget.

No policy has an "every tenant" clause: a setting is something any session of the
application's role can change, so cross-tenant work connects as the platform role instead
(BYPASSRLS; `grant_platform_role`, governance.tenancy.all_tenants_scope).
"""

from __future__ import annotations

from django.db.migrations.operations.base import Operation

TENANT_MATCHES = "(tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::bigint)"
POLICY_NAMES = ("tenant_read", "tenant_insert", "tenant_update", "tenant_delete")


def enable_sql(table: str, extra_read_condition: str | None = None) -> list[str]:
    quoted = f'"{table}"'
    return [
        f"ALTER TABLE {quoted} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {quoted} FORCE ROW LEVEL SECURITY",
        *policies_sql(table, extra_read_condition, TENANT_MATCHES),
    ]


def policies_sql(table: str, extra_read_condition: str | None, matches: str) -> list[str]:
    read = matches if extra_read_condition is None else f"({matches} OR {extra_read_condition})"
    quoted = f'"{table}"'
    return [
        f"CREATE POLICY tenant_read ON {quoted} FOR SELECT USING {read}",
        f"CREATE POLICY tenant_insert ON {quoted} FOR INSERT WITH CHECK {matches}",
        f"CREATE POLICY tenant_update ON {quoted} FOR UPDATE USING {matches} WITH CHECK {matches}",
        f"CREATE POLICY tenant_delete ON {quoted} FOR DELETE USING {matches}",
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


# What the policies said before the platform role existed; kept to migrate back to it.
TENANT_MATCHES_WITH_ALL_TENANTS_SETTING = (
    "(tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::bigint"
    " OR current_setting('app.all_tenants', true) = 'on')"
)

# The one extra read condition: the key lookup before any tenant is known (governance.auth).
# It cannot widen visibility beyond the one key whose hash is presented: it matches a row
# only by equality with `key_hash`, which is unique and a SHA-256 of a random secret, so a
# session sees a key row only if it already holds that key; it grants SELECT alone (no
# write policy has it); and it opens the key's row only, never the tenant's other rows.
API_KEY_HASH_READ = "key_hash = current_setting('app.api_key_hash', true)"
EXTRA_READ_CONDITIONS = {"governance_apikey": API_KEY_HASH_READ}


def _recreate_tenant_policies(schema_editor, matches: str) -> None:  # type: ignore[no-untyped-def]
    """Drop and recreate the four tenant policies of every table that has them, with `matches`."""
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_policies WHERE schemaname = current_schema() AND policyname = 'tenant_read'"
            " ORDER BY tablename"
        )
        tables = [row[0] for row in cursor.fetchall()]
    for table in tables:
        for name in POLICY_NAMES:
            schema_editor.execute(f'DROP POLICY IF EXISTS {name} ON "{table}"')
        for statement in policies_sql(table, EXTRA_READ_CONDITIONS.get(table), matches):
            schema_editor.execute(statement)


def policies_without_all_tenants_setting(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    """Every tenant table's policies, recreated with no clause a session setting can switch on."""
    _recreate_tenant_policies(schema_editor, TENANT_MATCHES)


def policies_with_all_tenants_setting(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    _recreate_tenant_policies(schema_editor, TENANT_MATCHES_WITH_ALL_TENANTS_SETTING)


def grant_platform_role(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    """Give the platform role (the `platform` alias's user) data access across tenants.

    The role has BYPASSRLS, owns nothing and is no superuser; the application's role must not
    be a member of it (nor of the owner), or a `SET ROLE` would undo RLS: that is refused
    here. Creating the role needs a superuser (BYPASSRLS); in production a DBA creates it
    with a password before migrating (docs/deployment.md). Off PostgreSQL: nothing to do.
    """
    from django.conf import settings
    from psycopg import sql

    connection = schema_editor.connection
    platform = settings.DATABASES.get("platform")
    if connection.vendor != "postgresql" or platform is None:
        return
    role, app_role, owner = platform["USER"], settings.DATABASE_APP_ROLE, connection.settings_dict.get("USER")
    if role in (app_role, owner):
        raise RuntimeError(f"The platform role {role!r} must be neither DATABASE_APP_ROLE nor the owner")
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", [role])
        found = cursor.fetchone()
        if found is None:
            cursor.execute(sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER BYPASSRLS NOINHERIT").format(sql.Identifier(role)))
        elif found != (False, True):
            raise RuntimeError(f"The platform role {role!r} must have BYPASSRLS and not be a superuser")
        cursor.execute(
            "SELECT rolname FROM pg_roles WHERE rolname IN (%s, current_user) AND pg_has_role(%s, oid, 'MEMBER')",
            [role, app_role],
        )
        if cursor.fetchall():
            raise RuntimeError(f"DATABASE_APP_ROLE {app_role!r} must not be a member of the platform role or the owner")
        name = sql.Identifier(role)
        for statement in (
            "GRANT USAGE ON SCHEMA public TO {}",
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}",
            "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}",
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {}",
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {}",
        ):
            cursor.execute(sql.SQL(statement).format(name))
