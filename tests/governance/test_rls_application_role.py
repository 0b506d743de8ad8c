"""RLS the application's role cannot switch off: no setting, role switch or garbage widens what it sees.

These tests connect as DATABASE_APP_ROLE with psycopg directly, as an SQL injection or a
leaked application credential would, over rows of two tenants that are committed.
"""

import re
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

import psycopg
import pytest
from django.conf import settings
from django.db import connection, connections

from governance.models import ApiKey
from governance.rls import (
    TENANT_MATCHES_PROVEN,
    check_rls_key,
    current_tenant_matches,
    hmac_pads,
    rls_key_in_sync,
    rls_key_sync,
    tenant_token,
)
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
            attempt(session, "SELECT set_config('app.tenant_id', %s, false)", [tenant_token(acme.pk)])
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


def test_no_policy_reads_a_setting_other_than_the_key_hash_and_every_one_verifies_the_tenant(
    owner_sql: Callable[..., list],
):
    policies = owner_sql("SELECT tablename, coalesce(qual, '') || coalesce(with_check, '') FROM pg_policies")
    assert policies
    for table, text in policies:
        assert "all_tenants" not in text, table
        # the tenant comes from the verifying function alone, never from the setting itself
        settings_read = set(re.findall(r"current_setting\('([^']+)'", text))
        allowed = {"app.api_key_hash"} if table == "governance_apikey" else set()
        assert settings_read <= allowed, (table, settings_read)
        assert re.search(r"tenant_id = \( SELECT bizvalue_rls_tenant_id\(\) AS", text), (table, text)


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


def test_a_tenant_table_a_later_migration_creates_gets_the_verifying_policy():
    assert current_tenant_matches(connection) == TENANT_MATCHES_PROVEN


def forged_tokens(acme: Any, globex: Any) -> dict[str, str]:
    """Values a session without DATABASE_RLS_KEY might set to reach globex, holding acme's token."""
    acme_token = tenant_token(acme.pk)
    acme_proof = acme_token.partition(":")[2]
    globex_proof = tenant_token(globex.pk).partition(":")[2]
    return {
        "bare id": str(globex.pk),
        "empty proof": f"{globex.pk}:",
        "wrong proof": f"{globex.pk}:{'0' * 64}",
        "proof flipped by one": f"{globex.pk}:{globex_proof[:-1]}{'0' if globex_proof[-1] != '0' else '1'}",
        "acme's proof, globex's id": f"{globex.pk}:{acme_proof}",
        "acme's token, id padded": f"0{globex.pk}:{acme_proof}",
        "acme's token plus globex": f"{acme_token},{globex.pk}",
        "acme's token, newline, globex": f"{acme_token}\n{globex.pk}:{acme_proof}",
        "proof in upper case": f"{globex.pk}:{acme_proof.upper()}",
        "sql in the id": f"{globex.pk} OR true:{acme_proof}",
        "key's own hash": f"{globex.pk}:{globex_proof[:32]}",
    }


def globex_reached(session: psycopg.Connection, globex: Any) -> dict[str, Any]:
    """What a session sees and changes of globex's rows."""
    seen = {table: tenants for table, tenants in tenants_visible(session).items() if globex.pk in tenants}
    return {
        "seen": seen,
        "updated": attempt(session, "UPDATE governance_apikey SET name = 'pwned' WHERE tenant_id = %s", [globex.pk]),
        "deleted": attempt(session, "DELETE FROM roi_automationrun WHERE tenant_id = %s", [globex.pk]),
        "inserted": attempt(
            session,
            "INSERT INTO governance_apikey (tenant_id, name, role, prefix, key_hash, created_at) "
            "VALUES (%s, 'planted', 'tenant_admin', 'x', 'planted', now())",
            [globex.pk],
        ),
    }


NOTHING_OF_GLOBEX = {"seen": {}, "updated": 0, "deleted": 0, "inserted": "InsufficientPrivilege"}


def test_a_bare_id_or_a_forged_proof_shows_and_changes_nothing_of_another_tenant(two_tenants_keys):
    acme, globex = two_tenants_keys
    for name, value in forged_tokens(acme, globex).items():
        for is_local in (False, True):
            with app_role_session() as session, session.transaction() if is_local else nullcontext():
                # when the session sets the forged value and reads and writes globex's rows
                attempt(session, "SELECT set_config('app.tenant_id', %s, %s)", [value, is_local])
                assert attempt(session, "SELECT bizvalue_rls_tenant_id()") == 1, name  # an answer, not an error
                reached = globex_reached(session, globex)
            # then it reached nothing of globex's
            assert reached == NOTHING_OF_GLOBEX, (name, is_local, reached)
    with tenant_scope(globex):
        assert list(ApiKey.objects.values_list("name", flat=True)) == ["globex's"]


def test_a_token_read_from_the_session_opens_its_own_tenant_and_no_other(two_tenants_keys):
    acme, globex = two_tenants_keys
    with app_role_session() as session:
        # given the token a request of acme's left readable (an injection inside acme's scope)
        attempt(session, "SELECT set_config('app.tenant_id', %s, false)", [tenant_token(acme.pk)])
        with session.cursor() as cursor:
            cursor.execute("SELECT current_setting('app.tenant_id'), bizvalue_rls_tenant_id()")
            stolen, verified = cursor.fetchone()
        assert verified == acme.pk
        assert {frozenset(tenants) for tenants in tenants_visible(session).values() if tenants} == {
            frozenset({acme.pk})
        }
        # when it is reused with globex's id, or replayed in a new session and then rewritten
        for value in (stolen.replace(f"{acme.pk}:", f"{globex.pk}:", 1), f"{globex.pk}:{stolen}"):
            attempt(session, "SELECT set_config('app.tenant_id', %s, false)", [value])
            assert globex_reached(session, globex) == NOTHING_OF_GLOBEX, value
    with app_role_session() as replay:
        attempt(replay, "SELECT set_config('app.tenant_id', %s, false)", [stolen])
        # then the replayed token shows acme alone, and changes nothing of globex's
        seen = tenants_visible(replay)
        assert all(tenants <= {acme.pk} for tenants in seen.values()), seen
        assert globex_reached(replay, globex) == NOTHING_OF_GLOBEX


def test_a_valid_token_opens_its_tenant_s_rows_and_only_those(two_tenants_keys):
    acme, globex = two_tenants_keys
    for tenant in (acme, globex):
        with app_role_session() as session:
            attempt(session, "SELECT set_config('app.tenant_id', %s, false)", [tenant_token(tenant.pk)])
            seen = tenants_visible(session)
            assert seen["governance_apikey"] == {tenant.pk}
            assert all(tenants <= {tenant.pk} for tenants in seen.values()), seen


def test_the_app_role_can_neither_read_the_key_nor_see_it_in_the_function_nor_replace_it(owner_sql):
    inner, outer = hmac_pads(settings.DATABASE_RLS_KEY.encode())
    assert owner_sql("SELECT inner_pad, outer_pad FROM bizvalue_rls.tenant_proof_key") == [(inner, outer)]
    with app_role_session() as session:
        for statement in (
            "SELECT * FROM bizvalue_rls.tenant_proof_key",
            "UPDATE bizvalue_rls.tenant_proof_key SET inner_pad = ''",
            "ALTER FUNCTION bizvalue_rls_tenant_id() SECURITY INVOKER",
            "CREATE OR REPLACE FUNCTION bizvalue_rls_tenant_id() RETURNS bigint LANGUAGE sql AS 'SELECT 1::bigint'",
            "DROP FUNCTION bizvalue_rls_tenant_id()",
            "CREATE FUNCTION public.sha256(bytea) RETURNS bytea LANGUAGE sql AS 'SELECT $1'",
        ):
            assert attempt(session, statement) == "InsufficientPrivilege", statement
        with session.cursor() as cursor:
            cursor.execute("SELECT pg_get_functiondef('bizvalue_rls_tenant_id()'::regprocedure)")
            definition = cursor.fetchone()[0]
    for secret in (settings.DATABASE_RLS_KEY, inner.hex(), outer.hex(), inner.hex()[:16]):
        assert secret not in definition
    assert "SECURITY DEFINER" in definition and "SET search_path TO 'pg_catalog', 'pg_temp'" in definition
    # only the application's role (besides its owner) may run it
    acl = owner_sql(
        "SELECT grantee.rolname FROM pg_proc p, aclexplode(p.proacl) a"
        " LEFT JOIN pg_roles grantee ON grantee.oid = a.grantee"
        " WHERE p.oid = 'bizvalue_rls_tenant_id()'::regprocedure AND a.grantee <> p.proowner"
    )
    assert acl == [(settings.DATABASE_APP_ROLE,)]


def test_a_key_that_differs_from_the_database_s_fails_closed_and_the_check_says_so(two_tenants_keys, settings):
    acme, _ = two_tenants_keys
    assert rls_key_in_sync(connection) is True
    assert check_rls_key(None, databases=["default"]) == []
    # when the application runs with another key than the one `migrate` wrote
    settings.DATABASE_RLS_KEY = "a-different-key-" * 4
    # then no tenant's rows show, and the check names the cause
    with tenant_scope(acme):
        assert list(ApiKey.objects.all()) == []
    assert rls_key_in_sync(connection) is False
    assert [problem.id for problem in check_rls_key(None, databases=["default"])] == ["governance.W050"]
    # and the application's role cannot write its key into the database
    assert rls_key_sync(connection) is False


def test_another_session_of_the_role_cannot_read_a_tenant_token_in_pg_stat_activity(two_tenants_keys):
    # given a request of acme's, its tenant setting made, its transaction still open
    acme, _globex = two_tenants_keys
    token = tenant_token(acme.pk)
    # when another session of the same role reads what every session is running
    with tenant_scope(acme), app_role_session() as spy, spy.cursor() as cursor:
        cursor.execute("SELECT coalesce(query, '') FROM pg_stat_activity WHERE pid <> pg_backend_pid()")
        statements = [row[0] for row in cursor.fetchall()]
    # then it sees the statement, bound on the server, but never the token
    assert any("set_config" in statement for statement in statements), statements
    assert not any(token in statement for statement in statements)
