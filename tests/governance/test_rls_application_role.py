"""RLS the application's role cannot switch off: no setting, role switch or garbage widens what it sees.

These tests connect as DATABASE_APP_ROLE with psycopg directly, as an SQL injection or a
leaked application credential would, over rows of two tenants that are committed.
"""

import re
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from django.conf import settings
from django.db import connection, connections

from governance.models import ApiKey
from governance.tenancy import all_tenants_scope, platform_database, tenant_owned_models, tenant_scope
from tests.governance.test_tasks import expired_key, revoked, worker  # noqa: F401 (worker is a fixture)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

OWNER = "postgres"


def tenant_tables() -> list[str]:
    return sorted({model._meta.db_table for model in tenant_owned_models()})


def app_role_session() -> psycopg.Connection:
    """A session of the application's role, outside Django: every statement commits, settings persist."""
    params = connections["default"].settings_dict
    return psycopg.connect(
        host=params["HOST"] or "127.0.0.1",
        port=params["PORT"] or 5432,
        user=settings.DATABASE_APP_ROLE,
        dbname=params["NAME"],
        autocommit=True,
    )


@pytest.fixture
def two_tenants_keys(acme, globex, make_key) -> tuple[Any, Any]:
    make_key(acme, "viewer", name="acme's")
    make_key(globex, "viewer", name="globex's")
    return acme, globex


def tenants_visible(conn: psycopg.Connection) -> dict[str, set[int]]:
    """Every tenant table's tenant ids this session sees (a read that is refused sees none)."""
    seen: dict[str, set[int]] = {}
    for table in tenant_tables():
        try:
            with conn.cursor() as cursor:
                cursor.execute(f'SELECT DISTINCT tenant_id FROM "{table}"')
                seen[table] = {row[0] for row in cursor.fetchall() if row[0] is not None}
        except psycopg.Error:
            seen[table] = set()
    return seen


def attempt(conn: psycopg.Connection, statement: str, params: list | None = None) -> int | str:
    """Run `statement`: the rows it touched, or the name of the error that refused it."""
    try:
        with conn.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.rowcount
    except psycopg.Error as error:
        return type(error).__name__


WIDENING_ATTEMPTS: list[tuple[str, list[str]]] = [
    ("nothing", []),
    ("set_config session", ["SELECT set_config('app.all_tenants', 'on', false)"]),
    ("set_config local", ["SELECT set_config('app.all_tenants', 'on', true)"]),
    ("SET", ["SET app.all_tenants = 'on'"]),
    ("SET LOCAL", ["SET LOCAL app.all_tenants = 'on'"]),
    ("tenant empty", ["SELECT set_config('app.tenant_id', '', false)"]),
    ("tenant garbage", ["SELECT set_config('app.tenant_id', 'garbage', false)"]),
    ("tenant injection", ["SELECT set_config('app.tenant_id', '1 OR true', false)"]),
    ("tenant null-ish", ["SELECT set_config('app.tenant_id', 'NULL', false)"]),
    ("tenant negative", ["SELECT set_config('app.tenant_id', '-1', false)"]),
    ("key hash wildcard", ["SELECT set_config('app.api_key_hash', '%', false)"]),
    ("RESET ROLE", ["RESET ROLE"]),
    ("SET ROLE platform", ['SET ROLE "{platform}"']),
    ("SET ROLE owner", ['SET ROLE "postgres"']),
    ("SET SESSION AUTHORIZATION", ['SET SESSION AUTHORIZATION "{platform}"']),
    ("row_security off", ["SET row_security = off"]),
    ("disable RLS", ["ALTER TABLE governance_apikey DISABLE ROW LEVEL SECURITY"]),
    ("no force RLS", ["ALTER TABLE governance_apikey NO FORCE ROW LEVEL SECURITY"]),
    ("drop policy", ["DROP POLICY tenant_read ON governance_apikey"]),
    ("own policy", ["CREATE POLICY mine ON governance_apikey FOR SELECT USING (true)"]),
    ("all at once", ["RESET ROLE", "SET app.all_tenants = 'on'", "SELECT set_config('app.tenant_id', '', false)"]),
]


def platform_role() -> str:
    return connections[platform_database()].settings_dict["USER"]


def test_no_setting_or_role_lets_the_app_role_see_any_tenant_without_one_in_scope(two_tenants_keys):
    for name, statements in WIDENING_ATTEMPTS:
        with app_role_session() as session:
            for statement in statements:
                attempt(session, statement.format(platform=platform_role()))
            seen = tenants_visible(session)
        assert all(not tenants for tenants in seen.values()), (name, seen)


def test_with_a_tenant_in_scope_no_setting_or_role_shows_or_changes_the_other(two_tenants_keys):
    acme, globex = two_tenants_keys
    for name, statements in WIDENING_ATTEMPTS:
        with app_role_session() as session:
            for statement in statements:
                attempt(session, statement.format(platform=platform_role()))
            attempt(session, "SELECT set_config('app.tenant_id', %s, false)", [str(acme.pk)])
            # when it reads every tenant table, and writes the other tenant's rows
            seen = tenants_visible(session)
            updated = attempt(session, "UPDATE governance_apikey SET name = 'pwned' WHERE tenant_id = %s", [globex.pk])
            deleted = attempt(session, "DELETE FROM governance_auditevent WHERE tenant_id = %s", [globex.pk])
            inserted = attempt(
                session,
                "INSERT INTO governance_apikey (tenant_id, name, role, prefix, key_hash, created_at) "
                "VALUES (%s, 'planted', 'tenant_admin', 'x', 'planted', now())",
                [globex.pk],
            )
        # then it saw acme alone, and changed nothing of globex's
        assert all(tenants <= {acme.pk} for tenants in seen.values()), (name, seen)
        assert updated in (0, "InsufficientPrivilege"), name
        assert deleted in (0, "InsufficientPrivilege", "RaiseException"), name
        assert inserted == "InsufficientPrivilege", name
    with tenant_scope(globex):
        assert list(ApiKey.objects.values_list("name", flat=True)) == ["globex's"]


def test_the_app_role_can_become_neither_the_platform_role_nor_the_owner():
    with app_role_session() as session:
        for role in (platform_role(), OWNER):
            assert attempt(session, f'SET ROLE "{role}"') == "InsufficientPrivilege", role
            assert attempt(session, f'SET SESSION AUTHORIZATION "{role}"') == "InsufficientPrivilege", role
        with session.cursor() as cursor:
            cursor.execute("SELECT current_user, session_user")
            assert cursor.fetchone() == (settings.DATABASE_APP_ROLE, settings.DATABASE_APP_ROLE)


def test_the_platform_role_bypasses_rls_owns_nothing_and_is_no_superuser(owner_sql: Callable[..., list]):
    role = platform_role()
    assert role not in (settings.DATABASE_APP_ROLE, OWNER)
    assert owner_sql("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", role) == [(False, True)]
    assert owner_sql("SELECT tablename FROM pg_tables WHERE tableowner = %s", role) == []
    members = owner_sql(
        "SELECT r.rolname FROM pg_roles r WHERE r.rolname IN (%s, %s) AND pg_has_role(%s, r.oid, 'MEMBER')",
        role,
        OWNER,
        settings.DATABASE_APP_ROLE,
    )
    assert members == []


def test_no_policy_reads_a_setting_other_than_the_tenant_and_the_key_hash(owner_sql: Callable[..., list]):
    policies = owner_sql("SELECT tablename, coalesce(qual, '') || coalesce(with_check, '') FROM pg_policies")
    assert policies
    for table, text in policies:
        assert "all_tenants" not in text, table
        settings_read = set(re.findall(r"current_setting\('([^']+)'", text))
        allowed = {"app.tenant_id", "app.api_key_hash"} if table == "governance_apikey" else {"app.tenant_id"}
        assert settings_read <= allowed, (table, settings_read)


def test_the_app_connection_runs_as_the_app_role_and_the_hatch_as_the_platform_role(acme, make_key):
    make_key(acme, "viewer")

    def current_user(conn: Any) -> str:
        with conn.cursor() as cursor:
            cursor.execute("SELECT current_user")
            return cursor.fetchone()[0]

    assert current_user(connection) == settings.DATABASE_APP_ROLE
    with all_tenants_scope():
        assert current_user(connections[platform_database()]) == platform_role()
        key = ApiKey.all_tenants.get(tenant=acme)
        assert key._state.db == platform_database()
        # a tenant's work inside the hatch (an admin action calling a service) is the app's again
        with tenant_scope(acme):
            assert ApiKey.objects.db == "default"
            key.name = "renamed as the app role"
            key.save()
            assert current_user(connection) == settings.DATABASE_APP_ROLE
        assert ApiKey.all_tenants.all().db == platform_database()
    assert key._state.db == "default"


def test_a_superuser_s_admin_lists_both_tenants_keys(root_client, two_tenants_keys):
    response = root_client.get("/admin/governance/apikey/")
    assert response.status_code == 200
    assert "acme&#x27;s" in response.text and "globex&#x27;s" in response.text


def test_the_beat_fan_out_reaches_both_tenants_as_the_app_role(worker, acme, globex, make_key):  # noqa: F811
    from governance.tasks import api_keys_revoke_expired_all_tenants

    expired_key(acme, make_key, "acme-old")
    expired_key(globex, make_key, "globex-old")
    assert api_keys_revoke_expired_all_tenants.delay().get(timeout=30) == 2
    import time

    for _ in range(100):
        if revoked(acme, "acme-old") and revoked(globex, "globex-old"):
            break
        time.sleep(0.1)
    assert revoked(acme, "acme-old") and revoked(globex, "globex-old")
