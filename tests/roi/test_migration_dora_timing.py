"""The migration that adds lead time and time to restore to the rollups fills existing tenants' cells."""

import importlib
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from governance.ledger import Actor
from governance.models import Tenant
from governance.tenancy import all_tenants_scope, platform_connection, tenant_scope
from roi.ingestion import events_ingest
from roi.models import MonthlyRollup, Stream
from roi.rollups import rollup_cells_stored

SYSTEM = Actor.system("test")
BEFORE = [("roi", "0009_it_budget")]
AFTER = [("roi", "0010_monthlyrollup_dora_timing")]
TIMING = ("lead_time_seconds_sum", "lead_time_count", "restore_seconds_sum", "restore_count")


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def deployment(n, deployed_at, **extra):
    return {
        "external_id": f"D{n}",
        "service": "web",
        "deployed_at": deployed_at,
        "committed_at": "2026-09-29T10:00:00.250000Z",
        "department": "ops",
        **extra,
    }


MIGRATION = importlib.import_module("roi.migrations.0010_monthlyrollup_dora_timing")


def ingest_two_tenants(acme, globex):
    """Acme in New York (its 02:00 UTC deployment on 1 October is a September one), globex in UTC."""
    Tenant.objects.filter(pk=acme.pk).update(time_zone="America/New_York")
    acme.refresh_from_db()
    for tenant in (acme, globex):
        with tenant_scope(tenant):
            events_ingest(
                actor=SYSTEM,
                kind="deployments",
                payload=[
                    deployment(1, "2026-10-01T02:00:00Z"),
                    deployment(2, "2026-10-02T12:00:00Z", failed=True, restored_at="2026-10-02T13:30:00.5Z"),
                    deployment(3, "2026-10-03T12:00:00Z", committed_at=None, failed=True),
                ],
            )
    expected = {}
    for tenant in (acme, globex):
        with tenant_scope(tenant):
            expected[tenant.slug] = rollup_cells_stored()
            assert sum(c["restore_count"] for c in expected[tenant.slug].values()) == 1
    return expected


def assert_filled(acme, globex, expected):
    for tenant in (acme, globex):
        with tenant_scope(tenant):
            assert rollup_cells_stored() == expected[tenant.slug]
    with tenant_scope(acme):
        september = MonthlyRollup.objects.get(stream=Stream.DEPLOYMENTS, month="2026-09-01")
        assert (september.lead_time_count, september.lead_time_seconds_sum) == (1, Decimal("143999.750000"))
        october = MonthlyRollup.objects.get(stream=Stream.DEPLOYMENTS, month="2026-10-01")
        assert [getattr(october, c) for c in TIMING] == [Decimal("266399.750000"), 1, Decimal("5400.500000"), 1]


# Transactional: across tenants the data step reads through the platform role's connection,
# which sees committed rows only.
@pytest.mark.django_db(transaction=True)
def test_the_data_step_fills_every_tenants_cells_by_local_month(acme, globex):
    # given rollups from before the columns existed: the four at their default, zero
    expected = ingest_two_tenants(acme, globex)
    with all_tenants_scope():
        assert MonthlyRollup.all_tenants.update(**dict.fromkeys(TIMING, 0)) > 0
    # when the migration's data step runs across tenants (on PostgreSQL as the platform role)
    historical = MigrationExecutor(connection).loader.project_state(AFTER).apps
    with all_tenants_scope():
        MIGRATION.fill_dora_timing(historical, platform_connection().schema_editor(atomic=False))
    # then
    assert_filled(acme, globex, expected)


@pytest.mark.sqlite  # on PostgreSQL the tests run as the app role, and altering the table needs its owner
@pytest.mark.django_db(transaction=True)
def test_migrating_back_and_forth_refills_the_columns(acme, globex):
    expected = ingest_two_tenants(acme, globex)
    # when the columns are taken away and the migration adds and fills them again
    try:
        migrate(BEFORE)
        migrate(AFTER)
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    # then every cell is as ingestion kept it, local months included
    assert_filled(acme, globex, expected)
