"""governance.sql: the one way to run a hand-written statement, the tenant condition bound from the scope."""

import gc
import threading
import weakref
from decimal import Decimal

import pytest
from django.contrib.sessions.models import Session
from django.db import connections
from django.utils import timezone

from dashboards.models import Alert
from governance import sql
from governance.models import Tenant
from governance.sql import UnscopedStatement, converters_for
from governance.tenancy import TenantScopeMissing, all_tenants_scope, tenant_scope
from roi.models import CostMonth, FinancialModel, Investment, MonthlyRollup, Stream


def test_converter_lookups_go_with_their_connection():
    # Each thread has a connection of its own (runserver starts one per request): what is
    # remembered for a connection must not keep it alive after its thread is gone.
    gone: list[weakref.ref] = []

    def look_up() -> None:
        converters_for([Session._meta.get_field("expire_date"), Session._meta.get_field("session_data")])
        gone.append(weakref.ref(connections["default"]))

    for _ in range(3):
        thread = threading.Thread(target=look_up)
        thread.start()
        thread.join()
    gc.collect()
    assert [ref() for ref in gone] == [None, None, None]


# --- The tenant condition: written by the helper from the scope, or refused ------------

ROLLUP = MonthlyRollup._meta.db_table
ROLLUP_CELLS = f'SELECT "tenant_id", "value" FROM "{ROLLUP}" WHERE @tenant AND "month" >= %s ORDER BY "id"'
ROLLUP_FIELDS = [None, MonthlyRollup._meta.get_field("value")]


def rollup_cell(tenant: Tenant, value: str) -> None:
    with tenant_scope(tenant):
        MonthlyRollup.objects.create(month="2026-01-01", stream=Stream.AUTOMATION, value=Decimal(value), event_count=1)


def test_it_writes_each_marker_as_its_tables_tenant_condition():
    ready = sql.prepared(
        f'SELECT 1 FROM "{Investment._meta.db_table}" i JOIN "{CostMonth._meta.db_table}" c'
        ' ON c.@tenant AND c."month" = %s WHERE i.@tenant AND i."months" > %s'
    )

    assert ready.text == (
        f'SELECT 1 FROM "{Investment._meta.db_table}" i JOIN "{CostMonth._meta.db_table}" c'
        ' ON c."tenant_id" = %s AND c."month" = %s WHERE i."tenant_id" = %s AND i."months" > %s'
    )
    assert ready.tenant_positions == (0, 2)


def test_the_tenant_id_marker_is_a_value():
    ready = sql.prepared(f'INSERT INTO "{ROLLUP}" ("tenant_id", "month") VALUES (@tenant_id, %s), (@tenant_id, %s)')

    assert ready.text == f'INSERT INTO "{ROLLUP}" ("tenant_id", "month") VALUES (%s, %s), (%s, %s)'
    assert ready.tenant_positions == (0, 2)


@pytest.mark.parametrize(
    "statement",
    [
        f'SELECT SUM("value") FROM "{ROLLUP}" WHERE "month" >= %s',
        f'SELECT SUM("value") FROM {ROLLUP} WHERE "month" >= %s',
        f'SELECT 1 FROM "{Investment._meta.db_table}" i JOIN "{CostMonth._meta.db_table}" c ON c.@tenant',
        f'SELECT 1 FROM "{Alert._meta.db_table}" WHERE "tenant_id" = %s',
        f'UPDATE "{Alert._meta.db_table}" SET "status" = %s',
        f'DELETE FROM "{ROLLUP}"',
        f'INSERT INTO "{CostMonth._meta.db_table}" ("tenant_id") VALUES (%s)',
        f'SELECT 1 FROM "{FinancialModel.history.model._meta.db_table}"',
    ],
)
def test_it_refuses_a_tenant_owned_table_without_its_condition(statement: str):
    with pytest.raises(UnscopedStatement):
        sql.prepared(statement)


@pytest.mark.django_db
def test_it_binds_the_scope_tenant_at_each_marker(acme):
    with tenant_scope(acme):
        text, params = sql.bound(f'SELECT 1 FROM "{ROLLUP}" WHERE "month" >= %s AND @tenant AND "stream" = %s', [1, 2])

    assert text == f'SELECT 1 FROM "{ROLLUP}" WHERE "month" >= %s AND "tenant_id" = %s AND "stream" = %s'
    assert params == [1, acme.pk, 2]


@pytest.mark.django_db
def test_it_fails_without_a_scope(acme):
    # given a cell of acme's
    rollup_cell(acme, "5")

    # then a tenant-owned read refuses to run with no tenant in scope, even across tenants
    with pytest.raises(TenantScopeMissing):
        sql.select(ROLLUP_CELLS, ["2000-01-01"], ROLLUP_FIELDS)
    with pytest.raises(TenantScopeMissing):
        sql.instances(Alert, '"status" = %s', ["open"])
    with pytest.raises(TenantScopeMissing):
        sql.execute(f'DELETE FROM "{ROLLUP}" WHERE @tenant')
    with all_tenants_scope(), pytest.raises(TenantScopeMissing):
        sql.select(ROLLUP_CELLS, ["2000-01-01"], ROLLUP_FIELDS)


@pytest.mark.django_db
def test_tables_no_tenant_owns_need_no_scope(acme):
    rows = sql.select(f'SELECT "slug" FROM "{Tenant._meta.db_table}" WHERE "id" = %s', [acme.pk], [None])

    assert rows == [["acme"]]


@pytest.mark.django_db
def test_another_tenants_rows_never_come_back(acme, globex):
    # given rollup cells and alerts of both tenants (on SQLite, with no RLS, the helper's
    # condition is the only wall; on PostgreSQL the tests run as the application's role)
    rollup_cell(acme, "5")
    rollup_cell(globex, "7")
    for tenant in (acme, globex):
        with tenant_scope(tenant):
            Alert.objects.create(
                rule="value_below_target", period="2026-01", escalation="notify_cfo", unit="money",
                measured=1, threshold=2, message="value below target", opened_at=timezone.now(),
            )  # fmt: skip

    for tenant, value in ((acme, Decimal("5")), (globex, Decimal("7"))):
        with tenant_scope(tenant):
            # when each tenant reads them by hand
            cells = sql.select(ROLLUP_CELLS, ["2000-01-01"], ROLLUP_FIELDS)
            alerts = sql.instances(Alert, '"status" = %s', ["open"])
            every_cell = sql.instances(MonthlyRollup)

            # then only its own come back
            assert cells == [[tenant.pk, value]]
            assert [(cell.tenant_id, cell.value) for cell in every_cell] == [(tenant.pk, value)]
            assert [alert.tenant_id for alert in alerts] == [tenant.pk]


@pytest.mark.django_db
def test_a_write_takes_the_scope_tenant(acme, globex):
    # given a cell of each tenant
    rollup_cell(acme, "5")
    rollup_cell(globex, "7")

    # when acme's scope deletes every cell of the month by hand
    with tenant_scope(acme):
        sql.execute(f'DELETE FROM "{ROLLUP}" WHERE @tenant AND "month" = %s', ["2026-01-01"])

    # then acme's is gone and globex's is still there
    for tenant, left in ((acme, 0), (globex, 1)):
        with tenant_scope(tenant):
            assert MonthlyRollup.objects.count() == left
