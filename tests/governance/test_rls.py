"""The database wall: PostgreSQL row-level security, tested as the application's role."""

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from governance.models import ApiKey, Tenant
from governance.tenancy import tenant_owned_models, tenant_scope
from roi.models import LedgerVerificationRun

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def tenant_tables() -> list[str]:
    return sorted({model._meta.db_table for model in tenant_owned_models()})


def raw(sql: str, params: list | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@pytest.fixture
def populated(acme, globex, make_key, settings, tmp_path):
    """A row of each tenant, in every tenant table."""
    from datetime import date

    from dashboards.escalations import escalation_settings_update
    from dashboards.models import ReportSubscription
    from governance.ledger import Actor
    from governance.models import IdempotencyRecord
    from governance.periods import period_close
    from governance.secrets import integration_secret_set
    from roi.budgets import it_budget_set
    from roi.focus import focus_import
    from roi.ingestion import events_ingest
    from roi.proposals import change_propose
    from roi.services import business_kpis_update, calculation_run, financial_model_update
    from tests.dashboards.test_alerts import stored_alert
    from tests.dashboards.test_reports import stored_report
    from tests.governance.test_api import EVENT_BODIES
    from tests.roi.test_focus import focus_csv

    settings.MEDIA_ROOT = tmp_path / "media"
    for tenant in (acme, globex):
        make_key(tenant, "viewer")
        with tenant_scope(tenant):
            actor = Actor.system("test")
            financial_model_update(
                actor=actor, groups={"revenue_model": {"annual_recurring_revenue": "1000"}}, change_reason="r"
            )
            business_kpis_update(actor=actor, sections={}, change_reason="r")
            it_budget_set(actor=actor, fiscal_year=2026, annual_amount="1000", change_reason="r")
            change_propose(  # a proposal, and its history row
                actor=actor, target="business_kpis", payload={"alerts": {"roi_target": 250}}, change_reason="r"
            )
            calculation_run(actor=actor, method="availability_economics", body={"current_target": 99})
            integration_secret_set(tool="github", secret=f"{tenant.slug}-signing-secret-0f9e8d7c6b5a", actor=actor)
            for kind, body in EVENT_BODIES.items():
                events_ingest(actor=actor, kind=kind, payload=body)
            focus_import(actor=actor, file_name="f.csv", data=focus_csv({}, currency=tenant.currency))
            period_close(month=date(2020, 1, 1), actor=actor)  # the audit log has rows already (key, secret)
            IdempotencyRecord.objects.create(key="k", request_hash="h", status=201, response_body={})
            ReportSubscription.objects.create(email=f"board@{tenant.slug}.example")
            LedgerVerificationRun.objects.create(actor="test")
            escalation_settings_update(actor=actor, recipients={"notify_cfo": {"roles": ["viewer"]}})
        stored_report(tenant)
        stored_alert(tenant)
    return acme, globex


def test_tenant_tables_include_history_tables():
    assert {
        "governance_apikey",
        "governance_historicalapikey",
        "governance_ledgerrecord",
        "roi_financialmodel",
        "roi_historicalfinancialmodel",
    } <= set(tenant_tables())


def test_every_tenant_table_has_forced_rls_with_read_and_write_policies(owner_sql):
    for table in tenant_tables():
        [(enabled, forced)] = owner_sql(
            "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = %s", table
        )
        assert (enabled, forced) == (True, True), table
        commands = {row[0] for row in owner_sql("SELECT cmd FROM pg_policies WHERE tablename = %s", table)}
        assert commands == {"SELECT", "INSERT", "UPDATE", "DELETE"}, table


def test_the_application_role_owns_no_table_and_cannot_bypass_rls(owner_sql):
    [(user,)] = raw("SELECT current_user")
    assert user == settings.DATABASE_APP_ROLE
    [(superuser, bypass)] = owner_sql("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", user)
    assert (superuser, bypass) == (False, False)
    owned = owner_sql("SELECT tablename FROM pg_tables WHERE tableowner = %s", user)
    assert owned == []


def test_raw_sql_in_one_tenant_sees_none_of_anothers_rows(populated):
    acme, _globex = populated
    with tenant_scope(acme):
        for table in tenant_tables():
            seen = {row[0] for row in raw(f'SELECT DISTINCT tenant_id FROM "{table}"')}
            assert seen == {acme.pk}, table


def test_with_no_tenant_set_every_tenant_table_is_empty_to_the_app(populated):
    acme, globex = populated
    for table in tenant_tables():
        # The rows are uncommitted, so only this connection can prove the table is not
        # empty: a row of each tenant in its own scope, then none without any tenant.
        total = 0
        for tenant in (acme, globex):
            with tenant_scope(tenant):
                [(count,)] = raw(f'SELECT count(*) FROM "{table}"')
            assert count >= 1, (table, tenant.slug)
            total += count
        assert total >= 2, table
        [(visible,)] = raw(f'SELECT count(*) FROM "{table}"')
        assert visible == 0, table


def test_writing_a_row_for_another_tenant_is_refused(acme, globex):
    with tenant_scope(acme), pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
        raw(
            "INSERT INTO governance_apikey (tenant_id, name, role, prefix, key_hash, created_at) "
            "VALUES (%s, 'sneaky', 'viewer', 'x', 'y', now()) RETURNING id",
            [globex.pk],
        )


def test_updating_another_tenants_rows_changes_nothing(acme, globex, make_key):
    make_key(globex, "viewer", name="theirs")
    with tenant_scope(acme):
        raw("UPDATE governance_apikey SET name = 'pwned' WHERE tenant_id = %s RETURNING id", [globex.pk])
    with tenant_scope(globex):
        assert ApiKey.objects.get().name == "theirs"


def test_a_key_lookup_sees_only_the_presented_key(acme, globex, make_key):
    raw_key = make_key(acme, "viewer")
    make_key(globex, "viewer")
    from governance.auth import api_key_find

    found = api_key_find(raw_key)
    assert found is not None and found.tenant == acme
    assert api_key_find("bv_nope_nope") is None


@pytest.mark.django_db(transaction=True)
def test_a_request_s_first_key_lookup_takes_one_round_trip_and_leaves_no_setting(acme, globex, make_key):
    from django.test.utils import CaptureQueriesContext

    from governance.auth import api_key_find

    raw_key = make_key(acme, "viewer")
    make_key(globex, "viewer")
    assert connection.get_autocommit() and not connection.in_atomic_block  # as at a request's start
    with CaptureQueriesContext(connection) as queries:
        found = api_key_find(raw_key)
    assert found is not None and found.tenant == acme
    assert len(queries) == 1  # the setting and the look-up, one message
    # The setting ended with the look-up's implicit transaction: no key row is visible now.
    assert raw("SELECT current_setting('app.api_key_hash', true)") in ([("",)], [(None,)])
    assert raw("SELECT id FROM governance_apikey") == []
    assert api_key_find("bv_nope_nope") is None


@pytest.mark.django_db(transaction=True)
def test_the_isolation_test_fails_when_the_policy_is_switched_off(owner_sql):
    """Teeth: the same raw query leaks once RLS is disabled, so the tests above test something."""
    acme = Tenant.objects.create(slug="acme", name="Acme")
    globex = Tenant.objects.create(slug="globex", name="Globex")
    for tenant in (acme, globex):
        with tenant_scope(tenant):
            ApiKey.objects.create(name="k", role="viewer", prefix=tenant.slug, key_hash=tenant.slug)

    def tenants_seen_as_acme() -> set[int]:
        with tenant_scope(acme):
            return {row[0] for row in raw("SELECT DISTINCT tenant_id FROM governance_apikey")}

    assert tenants_seen_as_acme() == {acme.pk}
    owner_sql("ALTER TABLE governance_apikey DISABLE ROW LEVEL SECURITY")
    try:
        assert tenants_seen_as_acme() == {acme.pk, globex.pk}
    finally:
        owner_sql("ALTER TABLE governance_apikey ENABLE ROW LEVEL SECURITY")
    assert tenants_seen_as_acme() == {acme.pk}
