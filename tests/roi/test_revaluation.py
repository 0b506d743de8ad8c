"""Revaluation: events take the model version in force at their time now, provably and visibly."""

from datetime import UTC, datetime
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db.models import Sum

from governance.ledger import Actor
from governance.models import LedgerRecord
from governance.tenancy import tenant_scope
from roi.ingestion import events_ingest
from roi.ledger_verification import ledger_verify
from roi.models import AutomationRun, Incident, MonthlyRollup, PerformanceMonth, Stream
from roi.revaluation import events_revalue
from roi.rollups import rollup_cells_from_events, rollup_cells_stored
from roi.services import business_kpis_update, financial_model_update
from tests.conftest import ACME_MODEL

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("test")
SEPTEMBER = datetime(2026, 9, 1, tzinfo=UTC)


def runs():
    return [
        {"external_id": f"RUN-{month}", "process": "invoice-matching", "started_at": f"2026-{month:02d}-10T02:00:00Z",
         "execution_time": 60, "manual_time_equivalent": 3600, "department": "finance"}
        for month in (8, 9, 10)
    ]  # fmt: skip


def incidents():
    return [
        {"external_id": "INC-AUG", "severity": "sev2", "started_at": "2026-08-05T10:00:00Z",
         "resolved_at": "2026-08-05T10:45:00Z"},
        {"external_id": "INC-SEP", "severity": "sev2", "started_at": "2026-09-05T10:00:00Z",
         "resolved_at": "2026-09-05T11:30:00Z", "product": "checkout"},
        {"external_id": "PREV-OCT", "severity": "sev1", "started_at": "2026-10-05T10:00:00Z", "prevented": True,
         "estimated_downtime_minutes": 120, "prevention_confidence": "0.8"},
    ]  # fmt: skip


def samples():
    return [
        {"external_id": f"P-{month}-{day}", "service": "web", "measured_at": f"2026-{month:02d}-{day:02d}T12:00:00Z",
         "response_time_ms": response, "product": "shop"}
        for month, response in ((8, 400), (9, 300), (10, 250)) for day in (3, 17)
    ]  # fmt: skip


INVESTMENT = {"external_id": "INV-1", "name": "CDN", "started_at": "2026-09-20T00:00:00Z", "upfront_cost": "80000",
              "monthly_cost": "6000", "expected_monthly_benefit": "25000", "months": 24}  # fmt: skip


def ingest_all(tenant):
    with tenant_scope(tenant):
        for kind, payload in (
            ("automation-runs", runs()),
            ("incidents", incidents()),
            ("performance-samples", samples()),
            ("investments", [INVESTMENT]),
        ):
            events_ingest(actor=SYSTEM, kind=kind, payload=payload)


def snapshot(model):
    return {e.external_id: (e.value, e.model_version, e.ledger_record_id) for e in model.objects.all()}


def rollups_add_up():
    """The stored cells equal a recomputation from raw events, and automation equals its events' sum."""
    assert rollup_cells_stored() == rollup_cells_from_events(ZoneInfo("UTC"))
    stored = MonthlyRollup.objects.filter(stream=Stream.AUTOMATION).aggregate(total=Sum("value"))["total"]
    assert stored == AutomationRun.objects.aggregate(total=Sum("value"))["total"]


@pytest.fixture
def acme_events(acme, acme_model):
    ingest_all(acme)
    return acme


def back_dated_rate_change(tenant, effective_from=SEPTEMBER):
    with tenant_scope(tenant):
        financial_model_update(
            actor=SYSTEM,
            groups={
                "cost_model": {**ACME_MODEL["cost_model"], "it_staff_hourly_rate": "150", "engineer_hourly_rate": "240"}
            },
            change_reason="Rates were wrong since September",
            effective_from=effective_from,
        )


def test_a_back_dated_model_change_is_applied_by_revalue_with_new_records_and_old_ones_kept(acme_events):
    with tenant_scope(acme_events):
        old_records = set(LedgerRecord.objects.values_list("pk", flat=True))
        old_runs = snapshot(AutomationRun)
    back_dated_rate_change(acme_events)

    with tenant_scope(acme_events):
        assert snapshot(AutomationRun) == old_runs  # nothing moves until revalue runs
        report = events_revalue(actor=Actor.system("revalue"), since=SEPTEMBER)

        runs_now = snapshot(AutomationRun)
        assert runs_now["RUN-8"] == old_runs["RUN-8"]  # before the date: untouched
        for external_id in ("RUN-9", "RUN-10"):
            value, model_version, record_id = runs_now[external_id]
            assert value == Decimal("147.50") and old_runs[external_id][0] == Decimal("73.75")
            assert model_version == 2 and record_id in report.ledger_record_ids
        september = Incident.objects.get(external_id="INC-SEP")
        assert september.model_version == 2 and september.ledger_record_id in report.ledger_record_ids
        assert Incident.objects.get(external_id="INC-AUG").model_version == 1

        assert report.changed_value == 4  # two runs, the real and the prevented incident
        assert set(report.ledger_record_ids).isdisjoint(old_records)
        assert old_records <= set(LedgerRecord.objects.values_list("pk", flat=True))  # old ones kept
        rollups_add_up()
        assert ledger_verify().ok


def test_revaluing_again_changes_nothing_and_adds_no_record(acme_events):
    back_dated_rate_change(acme_events)
    with tenant_scope(acme_events):
        events_revalue(actor=SYSTEM, since=SEPTEMBER)
        records = LedgerRecord.objects.count()
        again = events_revalue(actor=SYSTEM, since=SEPTEMBER)
        assert (again.revalued, again.changed_value, again.ledger_record_ids) == (0, 0, [])
        assert LedgerRecord.objects.count() == records


def test_performance_months_are_revalued_under_back_dated_kpis(acme_events):
    with tenant_scope(acme_events):
        august_record = PerformanceMonth.objects.get(month="2026-08-01").ledger_record_id
        business_kpis_update(
            actor=SYSTEM,
            sections={"kpis": {"performance": {"revenue_impact_per_100ms": "80000"}}},
            change_reason="Finance re-estimated the value of speed",
            effective_from=SEPTEMBER,
        )
        report = events_revalue(actor=SYSTEM, since=SEPTEMBER)

        months = {m.month.month: m for m in PerformanceMonth.objects.all()}
        assert (months[9].value, months[10].value) == (Decimal("80000.00"), Decimal("120000.00"))  # 100 and 150 ms
        assert months[8].ledger_record_id == august_record
        assert report.performance_months_changed_value == 2
        assert MonthlyRollup.objects.get(stream=Stream.PERFORMANCE, month="2026-10-01").value == Decimal("120000.00")
        rollups_add_up()
        assert ledger_verify().ok


def test_events_stored_without_a_model_are_valued_by_revalue(globex):
    ingest_all(globex)
    with tenant_scope(globex):
        assert not AutomationRun.objects.filter(value__isnull=False).exists()
        financial_model_update(actor=SYSTEM, groups=ACME_MODEL, change_reason="At last")

        report = events_revalue(actor=SYSTEM, since=datetime(2026, 1, 1, tzinfo=UTC))

        assert report.changed_value == 6  # three runs, two real incidents and the prevented one
        assert not AutomationRun.objects.filter(value__isnull=True).exists()
        assert Incident.objects.get(external_id="INC-AUG").downtime_cost > 0
        assert PerformanceMonth.objects.get(month="2026-10-01").value == Decimal("75000.00")
        rollups_add_up()
        assert ledger_verify().ok


def test_revaluing_acme_never_touches_globex(acme_events, globex):
    with tenant_scope(globex):
        financial_model_update(
            actor=SYSTEM,
            groups=ACME_MODEL,
            change_reason="Same figures",
            effective_from=datetime(2020, 1, 1, tzinfo=UTC),
        )
    ingest_all(globex)
    back_dated_rate_change(globex)  # pending for globex too, but only acme is revalued
    back_dated_rate_change(acme_events)
    with tenant_scope(globex):
        before = (snapshot(AutomationRun), LedgerRecord.objects.count(), rollup_cells_stored())

    with tenant_scope(acme_events):
        assert events_revalue(actor=SYSTEM, since=SEPTEMBER).changed_value == 4

    with tenant_scope(globex):
        assert (snapshot(AutomationRun), LedgerRecord.objects.count(), rollup_cells_stored()) == before


def test_the_command_prints_what_changed_and_the_new_records_and_the_ledger_verifies(acme_events):
    back_dated_rate_change(acme_events)
    out = StringIO()
    call_command("revalue", "acme", "--since", "2026-09-01", stdout=out)
    with tenant_scope(acme_events):
        newest = LedgerRecord.objects.order_by("-sequence").first()
    assert "4 changed value" in out.getvalue()
    assert f"#{newest.pk}" in out.getvalue()
    call_command("verify_ledger", "acme", stdout=StringIO())  # raises on any failure
