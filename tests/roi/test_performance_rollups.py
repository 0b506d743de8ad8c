"""Availability and conversion rate in the rollups: kept by ingestion, rebuilt from samples, filled by the migration."""

import importlib
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from governance.ledger import Actor
from governance.models import Tenant
from governance.tenancy import all_tenants_scope, platform_connection, tenant_scope
from roi.ingestion import events_ingest
from roi.models import MonthlyRollup, PerformanceMonth, PerformanceSample, Stream
from roi.rollups import rollup_cells_from_events, rollup_cells_stored, rollups_rebuild

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("test")
SUMS = ("availability_percent_sum", "availability_count", "conversion_rate_sum", "conversion_rate_count")
AFTER = [("roi", "0011_performance_availability_conversion_sums")]
MIGRATION = importlib.import_module("roi.migrations.0011_performance_availability_conversion_sums")


def sample(n, measured_at, response_time_ms, *, availability=None, conversion=None, **extra):
    item = {
        "external_id": f"P-{n}",
        "service": "web",
        "measured_at": measured_at,
        "response_time_ms": response_time_ms,
        "department": "engineering",
        "product": "shop",
        **extra,
    }
    if availability is not None:
        item["availability_percent"] = availability
    if conversion is not None:
        item["conversion_rate"] = conversion
    return item


def ingest(tenant, samples):
    with tenant_scope(tenant):
        events_ingest(actor=SYSTEM, kind="performance-samples", payload=samples)


def performance_months():
    return {
        (m.service, m.month): (m.samples, m.response_time_ms_sum, *(getattr(m, c) for c in SUMS))
        for m in PerformanceMonth.objects.all()
    }


def test_a_sample_without_availability_is_left_out_of_its_mean(acme, acme_model):
    # given three samples in October, one without availability and one without conversion
    ingest(
        acme,
        [
            sample(1, "2026-10-05T12:00:00Z", 180, availability="99.9", conversion="2.5"),
            sample(2, "2026-10-06T12:00:00Z", 220, availability="99.7"),
            sample(3, "2026-10-07T12:00:00Z", 200, conversion="3.5"),
        ],
    )
    with tenant_scope(acme):
        # then the service-month and the rollup cell both sum over the samples that carry each field
        month = PerformanceMonth.objects.get(service="web", month="2026-10-01")
        assert (month.samples, month.availability_count, month.conversion_rate_count) == (3, 2, 2)
        assert month.availability_percent_sum / month.availability_count == Decimal("99.8")
        assert month.conversion_rate_sum / month.conversion_rate_count == Decimal("3")
        cell = MonthlyRollup.objects.get(stream=Stream.PERFORMANCE, month="2026-10-01")
        assert [getattr(cell, c) for c in SUMS] == [Decimal("199.6"), 2, Decimal("6"), 2]


def test_resending_a_sample_moves_its_availability(acme, acme_model):
    ingest(acme, [sample(1, "2026-10-05T12:00:00Z", 180, availability="99.0")])
    # when the same sample comes again in November, without availability
    ingest(acme, [sample(1, "2026-11-05T12:00:00Z", 180, conversion="2")])
    with tenant_scope(acme):
        october = MonthlyRollup.objects.filter(stream=Stream.PERFORMANCE, month="2026-10-01").first()
        assert october is None or [getattr(october, c) for c in SUMS] == [0, 0, 0, 0]
        november = PerformanceMonth.objects.get(month="2026-11-01")
        assert [getattr(november, c) for c in SUMS] == [0, 0, Decimal("2"), 1]
        assert PerformanceMonth.objects.get(month="2026-10-01").availability_count == 0


def test_random_ingestion_equals_a_rebuild_from_the_samples(acme, acme_model):
    """Samples re-sent across services, months, labels and with fields dropped: the rollups and
    service-months ingestion keeps equal what a rebuild computes from the samples."""
    rng = random.Random(20261127)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    for _ in range(5):
        sent = {}
        for _ in range(50):
            n = rng.randrange(80)  # ids repeat: updates, including to past months and other services
            when = start + timedelta(days=rng.randrange(500), seconds=rng.randrange(86400))
            sent[n] = sample(
                n,
                when.isoformat(),
                f"{rng.uniform(50, 900):.3f}",
                availability=f"{rng.uniform(98, 100):.6f}" if rng.random() < 0.7 else None,
                conversion=f"{rng.uniform(0, 5):.6f}" if rng.random() < 0.5 else None,
                service=rng.choice(["web", "api", "search"]),
                department=rng.choice(["engineering", "ops", ""]),
            )
        ingest(acme, list(sent.values()))
    with tenant_scope(acme):
        stored = rollup_cells_stored()
        assert stored == rollup_cells_from_events(ZoneInfo(acme.time_zone))
        cells = [amounts for (_, stream, _, _), amounts in stored.items() if stream == Stream.PERFORMANCE]
        carrying = PerformanceSample.objects.exclude(availability_percent=None)
        assert sum(c["availability_count"] for c in cells) == carrying.count()
        assert sum(c["availability_percent_sum"] for c in cells) == sum(s.availability_percent for s in carrying)
        assert (
            sum(c["conversion_rate_count"] for c in cells)
            == PerformanceSample.objects.exclude(conversion_rate=None).count()
        )
        kept = performance_months()
        assert sum(m[3] for m in kept.values()) == carrying.count()

        rebuilt = rollups_rebuild()

        assert (rebuilt.cells_changed, rebuilt.performance_months_changed) == (0, 0)
        assert performance_months() == kept


def test_a_rebuild_repairs_drifted_availability(acme, acme_model):
    ingest(acme, [sample(1, "2026-10-05T12:00:00Z", 180, availability="99.5", conversion="2")])
    with tenant_scope(acme):
        good, months = rollup_cells_stored(), performance_months()
        MonthlyRollup.objects.update(availability_count=7)
        PerformanceMonth.objects.update(conversion_rate_sum=1)

        rebuilt = rollups_rebuild()

        assert (rebuilt.cells_changed, rebuilt.performance_months_changed) == (1, 1)
        assert rollup_cells_stored() == good and performance_months() == months


def ingest_two_tenants(acme, globex):
    """Acme in New York (its 02:00 UTC sample on 1 October is a September one), globex in UTC."""
    Tenant.objects.filter(pk=acme.pk).update(time_zone="America/New_York")
    acme.refresh_from_db()
    for tenant in (acme, globex):
        ingest(
            tenant,
            [
                sample(1, "2026-10-01T02:00:00Z", 300, availability="99.25", conversion="1.5"),
                sample(2, "2026-10-02T12:00:00Z", 100, availability="99.95"),
                sample(3, "2026-10-03T12:00:00Z", 200, service="api"),
            ],
        )
    expected = {}
    for tenant in (acme, globex):
        with tenant_scope(tenant):
            expected[tenant.slug] = (rollup_cells_stored(), performance_months())
    return expected


# Transactional: across tenants the data step reads through the platform role's connection,
# which sees committed rows only.
@pytest.mark.django_db(transaction=True)
def test_the_data_step_fills_every_tenants_rows_by_local_month(acme, globex, acme_model):
    # given rollups and service-months from before the columns existed: at their default, zero
    expected = ingest_two_tenants(acme, globex)
    with all_tenants_scope():
        assert MonthlyRollup.all_tenants.update(**dict.fromkeys(SUMS, 0)) > 0
        assert PerformanceMonth.all_tenants.update(**dict.fromkeys(SUMS, 0)) > 0
    # when the migration's data step runs across tenants (on PostgreSQL as the platform role)
    historical = MigrationExecutor(connection).loader.project_state(AFTER).apps
    with all_tenants_scope():
        MIGRATION.fill_availability_conversion(historical, platform_connection().schema_editor(atomic=False))
    # then every row is as ingestion kept it, local months included
    for tenant in (acme, globex):
        with tenant_scope(tenant):
            assert (rollup_cells_stored(), performance_months()) == expected[tenant.slug]
    with tenant_scope(acme):
        september = PerformanceMonth.objects.get(service="web", month="2026-09-01")
        assert [getattr(september, c) for c in SUMS] == [Decimal("99.25"), 1, Decimal("1.5"), 1]
        october = MonthlyRollup.objects.get(stream=Stream.PERFORMANCE, month="2026-10-01")
        assert [getattr(october, c) for c in SUMS] == [Decimal("99.95"), 1, 0, 0]
