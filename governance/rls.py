"""PostgreSQL row-level security, as migration operations.

(PostgreSQL only: these steps check the vendor to do nothing elsewhere, rather than go
through governance.stores, because they are migration and setup DDL, not the runtime's
write path; SQLite has no row-level security to set up.)

Every tenant table gets RLS enabled and FORCEd (so even its owner obeys it), a read policy
and write policies on the tenant that `app.tenant_id` names with a valid proof (below). A meta-test checks that every
tenant-owned table, history tables included, carries them, so a new model cannot forget.

No policy has an "every tenant" clause: a setting is something any session of the
application's role can change, so cross-tenant work connects as the platform role instead
(BYPASSRLS; `grant_platform_role`, governance.tenancy.all_tenants_scope).

Nor can a session name a tenant by itself: `app.tenant_id` carries a proof,
"<id>:<hex HMAC-SHA256(DATABASE_RLS_KEY, id)>", made in Python (`tenant_token`), and the
policies compare `tenant_id` with what `bizvalue_rls_tenant_id()` makes of it: the id when the
proof verifies, else NULL (no row). The function is SECURITY DEFINER, owned by the owner, and
reads the key from a schema the application's role has no access to; so SQL injection or a
leaked application credential alone, without the key, sees no tenant at all, and a token read
from `current_setting` opens only the tenant it was made for (see docs/operations.md).
"""

from __future__ import annotations

import hashlib
import hmac
import logging

from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.operations.base import Operation

logger = logging.getLogger(__name__)

# What the policies said before the tenant setting carried a proof: `EnableTenantRLS` in the
# migrations before the proof's (dashboards 0005, which replaces them), and the way back.
TENANT_MATCHES = "(tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::bigint)"

RLS_SCHEMA = "bizvalue_rls"
TENANT_FUNCTION = "public.bizvalue_rls_tenant_id"
# The sub-select makes PostgreSQL run the function once per statement (an InitPlan), not per row.
TENANT_MATCHES_PROVEN = f"(tenant_id = (SELECT {TENANT_FUNCTION}()))"
# No tenant has id 0: the system check and `rls_key_in_sync` probe the key with it.
PROBE_TENANT_ID = 0
HMAC_BLOCK_BYTES = 64


def tenant_token(tenant_id: int) -> str:
    """The value of `app.tenant_id` that opens tenant `tenant_id`'s rows: "<id>:<hex HMAC>"."""
    message = str(int(tenant_id))
    proof = hmac.new(settings.DATABASE_RLS_KEY.encode(), message.encode(), hashlib.sha256).hexdigest()
    return f"{message}:{proof}"


def hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """HMAC-SHA256's inner and outer padded keys (RFC 2104), so SQL needs only `sha256()`.

    The database stores these rather than the key: with them `sha256(outer || sha256(inner ||
    message))` is exactly HMAC-SHA256, using the built-in `sha256` (no pgcrypto to install).
    They are as secret as the key and kept as carefully.
    """
    if len(key) > HMAC_BLOCK_BYTES:
        key = hashlib.sha256(key).digest()
    key = key.ljust(HMAC_BLOCK_BYTES, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


# Garbage, an empty value, a bare id or a wrong proof give NULL, never an error. The value is
# taken apart with split_part and lengths, not one regular expression with bounded repeats
# (`{64}`), which costs PostgreSQL's regex engine about 0.13 ms a call against 0.01 ms (bench/
# rls_policy.py). The proof is compared as sha256(expected) = sha256(given), so the time the
# comparison takes depends on hashes the caller cannot steer, never on how many leading
# characters of the real proof it guessed. search_path is pinned so no object of the caller's
# can stand in for `sha256` or the key's table.
TENANT_FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION public.bizvalue_rls_tenant_id() RETURNS bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
    token text := current_setting('app.tenant_id', true);
    tenant text := split_part(token, ':', 1);
    proof text := substr(token, length(tenant) + 2);
    key_inner bytea;
    key_outer bytea;
BEGIN
    IF token IS NULL OR length(tenant) NOT BETWEEN 1 AND 18 OR length(proof) <> 64
        OR tenant !~ '^[0-9]+$' OR proof !~ '^[0-9a-f]+$' THEN
        RETURN NULL;
    END IF;
    SELECT k.inner_pad, k.outer_pad INTO key_inner, key_outer FROM bizvalue_rls.tenant_proof_key k WHERE k.id = 1;
    IF key_inner IS NULL
        OR sha256(sha256(key_outer || sha256(key_inner || convert_to(tenant, 'UTF8'))))
            IS DISTINCT FROM sha256(decode(proof, 'hex')) THEN
        RETURN NULL;
    END IF;
    RETURN tenant::bigint;
END
$function$
"""


def install_tenant_proof(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    """The owner-only key table, the verifying function, and the key; then the policies use it."""
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    for statement in (
        f"CREATE SCHEMA IF NOT EXISTS {RLS_SCHEMA}",
        f"REVOKE ALL ON SCHEMA {RLS_SCHEMA} FROM PUBLIC",
        f"CREATE TABLE IF NOT EXISTS {RLS_SCHEMA}.tenant_proof_key ("
        " id smallint PRIMARY KEY CHECK (id = 1), inner_pad bytea NOT NULL, outer_pad bytea NOT NULL)",
        f"REVOKE ALL ON {RLS_SCHEMA}.tenant_proof_key FROM PUBLIC",
        TENANT_FUNCTION_SQL,
        f"REVOKE ALL ON FUNCTION {TENANT_FUNCTION}() FROM PUBLIC",
    ):
        schema_editor.execute(statement)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [settings.DATABASE_APP_ROLE])
        if cursor.fetchone():
            # The owner may run it as owner; the platform role bypasses RLS and never needs it.
            cursor.execute(f'GRANT EXECUTE ON FUNCTION {TENANT_FUNCTION}() TO "{settings.DATABASE_APP_ROLE}"')
    rls_key_sync(connection)
    _recreate_tenant_policies(schema_editor, TENANT_MATCHES_PROVEN)


def uninstall_tenant_proof(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    _recreate_tenant_policies(schema_editor, TENANT_MATCHES)
    schema_editor.execute(f"DROP FUNCTION IF EXISTS {TENANT_FUNCTION}()")
    schema_editor.execute(f"DROP SCHEMA IF EXISTS {RLS_SCHEMA} CASCADE")


def _owns_key_schema(connection: BaseDatabaseWrapper) -> bool | None:
    """Whether the current role owns the key's schema; None when it does not exist (not migrated)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_has_role(nspowner, 'USAGE') FROM pg_namespace WHERE nspname = %s", [RLS_SCHEMA])
        found = cursor.fetchone()
    return None if found is None else bool(found[0])


def rls_key_sync(connection: BaseDatabaseWrapper) -> bool:
    """Write DATABASE_RLS_KEY into the owner-only key table; False when this role may not (not the owner)."""
    if connection.vendor != "postgresql" or not _owns_key_schema(connection):
        return False
    inner, outer = hmac_pads(settings.DATABASE_RLS_KEY.encode())
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bizvalue_rls.tenant_proof_key (id, inner_pad, outer_pad) VALUES (1, %s, %s)"
            " ON CONFLICT (id) DO UPDATE SET inner_pad = EXCLUDED.inner_pad, outer_pad = EXCLUDED.outer_pad",
            [inner, outer],
        )
    return True


def rls_key_sync_after_migrate(sender, using: str = "default", **kwargs) -> None:  # type: ignore[no-untyped-def]
    """post_migrate: every `migrate` (as the owner) leaves the database's key equal to DATABASE_RLS_KEY."""
    from django.db import connections

    if rls_key_sync(connections[using]):
        logger.info("DATABASE_RLS_KEY written to %s.tenant_proof_key", RLS_SCHEMA)


def rls_key_in_sync(connection: BaseDatabaseWrapper) -> bool | None:
    """Whether the database accepts tokens made with DATABASE_RLS_KEY; None off PostgreSQL or before 0005.

    False means every tenant sees nothing (RLS fails closed) until `migrate` runs as the owner.
    """
    if connection.vendor != "postgresql":
        return None
    from django.db import transaction

    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute("SELECT to_regprocedure(%s)", [f"{TENANT_FUNCTION}()"])
        if cursor.fetchone()[0] is None:
            return None
        # Probe inside the caller's transaction, then put its tenant back.
        cursor.execute("SELECT current_setting('app.tenant_id', true)")
        previous = cursor.fetchone()[0] or ""
        cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [tenant_token(PROBE_TENANT_ID)])
        cursor.execute(f"SELECT {TENANT_FUNCTION}()")
        accepted = cursor.fetchone()[0] == PROBE_TENANT_ID
        cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [previous])
    return accepted


POLICY_NAMES = ("tenant_read", "tenant_insert", "tenant_update", "tenant_delete")


def enable_sql(table: str, extra_read_condition: str | None = None, matches: str = TENANT_MATCHES) -> list[str]:
    quoted = f'"{table}"'
    return [
        f"ALTER TABLE {quoted} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {quoted} FORCE ROW LEVEL SECURITY",
        *policies_sql(table, extra_read_condition, matches),
    ]


def current_tenant_matches(connection: BaseDatabaseWrapper) -> str:
    """The policy expression for a table created now: the proven one once its function exists.

    Early migrations run before it does (the proof migration then recreates their policies);
    a table any later migration creates gets the proven expression straight away.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regprocedure(%s)", [f"{TENANT_FUNCTION}()"])
        installed = cursor.fetchone()[0] is not None
    return TENANT_MATCHES_PROVEN if installed else TENANT_MATCHES


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
        matches = current_tenant_matches(schema_editor.connection)
        for statement in enable_sql(self._table(app_label, to_state), self.extra_read_condition, matches):
            schema_editor.execute(statement)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in disable_sql(self._table(app_label, from_state)):
            schema_editor.execute(statement)

    def describe(self) -> str:
        return f"Enable tenant row-level security on {self.model_name}"


# Data access and nothing more, on every table and sequence, and on those later migrations create.
DATA_ACCESS_GRANTS = (
    "GRANT USAGE ON SCHEMA public TO {}",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}",
    "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {}",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {}",
)


def _grant_data_access(cursor, role: str) -> None:  # type: ignore[no-untyped-def]
    from psycopg import sql

    for statement in DATA_ACCESS_GRANTS:
        cursor.execute(sql.SQL(statement).format(sql.Identifier(role)))


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
        _grant_data_access(cursor, role)


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
        _grant_data_access(cursor, role)


def check_rls_key(app_configs, databases=None, **kwargs):  # type: ignore[no-untyped-def]
    """System check (`manage.py check --database default`): the database holds DATABASE_RLS_KEY.

    A warning, not an error, so that `migrate`, which runs database checks first and then
    writes the key (post_migrate), is never blocked by the very thing it repairs.
    """
    from django.core.checks import Warning
    from django.db import connections

    problems = []
    for alias in databases or ():
        if alias != "default" or rls_key_in_sync(connections[alias]) is not False:
            continue
        problems.append(
            Warning(
                "The database's row-level security key differs from DATABASE_RLS_KEY: every tenant sees "
                "no rows (RLS fails closed) until `manage.py migrate` runs as the owner.",
                hint="Run `manage.py migrate` with the owner's DATABASE_URL and this DATABASE_RLS_KEY.",
                id="governance.W050",
            )
        )
    return problems
