"""The demo tenant's story: every kind of event, two years of it, the same every time."""

from collections import Counter
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils.dateparse import parse_datetime

from governance.models import LedgerRecord, Tenant
from governance.tenancy import tenant_scope
from roi.demo.events import demo_events, demo_span
from roi.ingestion.batch import parse_batch
from roi.ledger_verification import ledger_verify
from roi.models import AutomationRun, EventKind, FinancialModel, Incident, MonthlyRollup, PerformanceSample
from roi.rollups import rollups_rebuild

END = datetime(2026, 11, 27, 15, 30, tzinfo=UTC)
TIME_FIELD = {
    EventKind.INCIDENT: "started_at",
    EventKind.AUTOMATION_RUN: "started_at",
    EventKind.PERFORMANCE_SAMPLE: "measured_at",
    EventKind.DEPLOYMENT: "deployed_at",
    EventKind.INVESTMENT: "started_at",
}


@pytest.fixture(scope="module")
def two_years():
    return demo_events(end=END)


def moments(events, kind):
    return [parse_datetime(event[TIME_FIELD[kind]]) for event in events]


def months_of(events, kind):
    return Counter(moment.strftime("%Y-%m") for moment in moments(events, kind))


def test_it_yields_every_kind_over_two_years_ending_now(two_years):
    assert set(two_years) == set(EventKind.values)
    span = demo_span(end=END)
    assert span.start == datetime(2024, 12, 1, tzinfo=UTC)
    for kind in (EventKind.INCIDENT, EventKind.AUTOMATION_RUN, EventKind.PERFORMANCE_SAMPLE, EventKind.DEPLOYMENT):
        seen = months_of(two_years[kind], kind)
        assert len(seen) == 24, kind
        assert min(seen) == "2024-12" and max(seen) == "2026-11", kind
    for kind, events in two_years.items():
        assert all(span.start <= moment <= END for moment in moments(events, kind)), kind


def test_every_event_is_valid_input_with_a_unique_external_id(two_years):
    for kind, events in two_years.items():
        assert len(parse_batch(kind, events)) == len(events)
        assert len({event["external_id"] for event in events}) == len(events)


def test_it_is_deterministic_for_the_same_seed_and_end(two_years):
    assert demo_events(end=END) == two_years
    assert demo_events(end=END, seed=7) != two_years


def test_the_story_has_outages_prevention_a_new_automation_faster_shipping_and_investments(two_years):
    incidents = two_years[EventKind.INCIDENT]
    sev1_outages = [e for e in incidents if e["severity"] == "sev1" and not e.get("prevented")]
    assert sev1_outages and all(e["resolved_at"] and e["public"] for e in sev1_outages)
    assert len({e["started_at"][:7] for e in sev1_outages}) <= 3  # a few bad months, not a bad year
    prevented = [e for e in incidents if e.get("prevented")]
    assert prevented and all(e["estimated_downtime_minutes"] and e["prevention_confidence"] for e in prevented)

    runs = two_years[EventKind.AUTOMATION_RUN]
    assert len({e["process"] for e in runs}) >= 4
    remediation = sorted(e["started_at"] for e in runs if e["process"] == "incident-auto-remediation")
    assert "2025-10" < remediation[0][:7] < "2026-01"  # goes live mid-way
    assert all(e["department"] and e["product"] for e in runs)

    samples = two_years[EventKind.PERFORMANCE_SAMPLE]
    assert len({e["service"] for e in samples}) == 3
    storefront = [(e["measured_at"][:7], float(e["response_time_ms"])) for e in samples if e["service"] == "storefront"]

    def mean(month):
        values = [v for m, v in storefront if m == month]
        return sum(values) / len(values)

    assert mean("2025-08") > mean("2025-06")  # the slow stretch
    assert mean("2026-09") < mean("2025-09") - 100  # the improvement holds

    deployments = months_of(two_years[EventKind.DEPLOYMENT], EventKind.DEPLOYMENT)
    assert sum(deployments[m] for m in ("2026-08", "2026-09", "2026-10")) > 3 * sum(
        deployments[m] for m in ("2024-12", "2025-01", "2025-02")
    )
    failed = [e for e in two_years[EventKind.DEPLOYMENT] if e.get("failed")]
    assert failed and any(e.get("restored_at") for e in failed)

    assert 3 <= len(two_years[EventKind.INVESTMENT]) <= 4


@pytest.mark.django_db
def test_seed_demo_fills_the_demo_tenant_once_and_its_ledger_verifies(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    out = StringIO()
    call_command("seed_demo", "--months", "2", stdout=out)
    assert "Demo data:" in out.getvalue()
    demo = Tenant.objects.get(slug="demo")
    with tenant_scope(demo):
        counts = (Incident.objects.count(), AutomationRun.objects.count(), PerformanceSample.objects.count())
        records = LedgerRecord.objects.count()
        assert all(counts) and records
        assert FinancialModel.objects.get().revenue_model["annual_recurring_revenue"] == "56000000"
        assert MonthlyRollup.objects.exists()

    again = StringIO()
    call_command("seed_demo", "--months", "2", stdout=again)

    assert "already has events" in again.getvalue()
    with tenant_scope(demo):
        assert (Incident.objects.count(), AutomationRun.objects.count(), PerformanceSample.objects.count()) == counts
        assert LedgerRecord.objects.count() == records
        assert ledger_verify().ok
        assert rollups_rebuild().cells_changed == 0  # ingestion's rollups add up
