"""Rebuilding rollups from raw events: it repairs drift, and agrees with ingestion's own rollups."""

from datetime import UTC, datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from governance.ledger import Actor
from governance.tenancy import tenant_scope
from roi.demo.events import demo_events
from roi.ingestion import events_ingest
from roi.models import MonthlyRollup, PerformanceMonth, Stream
from roi.rollups import rollup_cells_stored, rollups_rebuild

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("test")
END = datetime(2026, 11, 27, tzinfo=UTC)


def ingest_demo(tenant, months=2, seed=1):
    with tenant_scope(tenant):
        for kind, events in demo_events(end=END, months=months, seed=seed).items():
            events_ingest(actor=SYSTEM, kind=kind, payload=events)


@pytest.fixture
def acme_events(acme, acme_model):
    ingest_demo(acme)
    return acme


def corrupt(stream, **changes):
    """Edit one rollup cell behind the application's back."""
    cell = MonthlyRollup.objects.filter(stream=stream).order_by("month", "department", "product").first()
    MonthlyRollup.objects.filter(pk=cell.pk).update(**changes)
    return cell


def test_a_rebuild_equals_the_rollups_ingestion_kept(acme_events):
    with tenant_scope(acme_events):
        incremental = rollup_cells_stored()
        assert {stream for (_, stream, _, _) in incremental} == set(Stream.values)

        rebuilt = rollups_rebuild()

        assert rebuilt.cells_changed == 0 and rebuilt.performance_months_changed == 0
        assert rollup_cells_stored() == incremental


def test_a_rebuild_repairs_corrupted_missing_and_invented_cells(acme_events):
    with tenant_scope(acme_events):
        good = rollup_cells_stored()
        corrupt(Stream.AUTOMATION, value=F("value") + 1000)
        corrupt(Stream.DEPLOYMENTS, failures=F("failures") + 3, event_count=0)
        MonthlyRollup.objects.filter(stream=Stream.INVESTMENT).delete()
        MonthlyRollup.objects.create(month="2020-01-01", stream=Stream.DOWNTIME, value=Decimal("99"), event_count=1)
        PerformanceMonth.objects.filter(service="search").update(samples=1, response_time_ms_sum=1)
        investment_cells = sum(1 for (_, stream, _, _) in good if stream == Stream.INVESTMENT)

        rebuilt = rollups_rebuild()

        assert rebuilt.cells_changed == 3 + investment_cells
        assert rebuilt.performance_months_changed == PerformanceMonth.objects.filter(service="search").count()
        assert rollup_cells_stored() == good
        assert rollups_rebuild().cells_changed == 0


def test_rebuilding_acme_leaves_globex_alone(acme_events, globex):
    with tenant_scope(globex):
        MonthlyRollup.objects.create(month="2026-01-01", stream=Stream.AUTOMATION, value=Decimal("5"), event_count=1)
    with tenant_scope(acme_events):
        rollups_rebuild()
    with tenant_scope(globex):
        assert MonthlyRollup.objects.get().value == Decimal("5.00")


def test_the_rebuild_is_grouped_sql_not_a_query_per_event(acme, globex, acme_model):
    ingest_demo(acme, months=1)
    ingest_demo(globex, months=3)
    with tenant_scope(acme), CaptureQueriesContext(connection) as small:
        rollups_rebuild()
    with tenant_scope(globex), CaptureQueriesContext(connection) as large:
        rollups_rebuild()
    assert len(large) <= len(small) + 2  # a bulk insert or update split in one more batch at most


def test_the_command_reports_cells_changed_per_tenant(acme_events, globex):
    with tenant_scope(acme_events):
        corrupt(Stream.AUTOMATION, value=F("value") + 1)
    out = StringIO()
    call_command("rebuild_rollups", stdout=out)
    assert "acme: 1 cells changed" in out.getvalue()
    assert "globex: 0 cells changed" in out.getvalue()
