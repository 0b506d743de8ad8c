"""Dashboard figures: read from rollups, equal to the metrics and the ledger, in bounded queries."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from governance.tenancy import tenant_scope
from roi.ingestion import events_ingest
from tests.dashboards.conftest import SYSTEM, automation_runs, month_start

pytestmark = pytest.mark.django_db


def test_executive_figures_match_the_business_impact_metrics(api_as, acme, history):
    from dashboards.alerts import alerts_evaluate

    with tenant_scope(acme):  # the stored alerts the overview shows: last month missed its targets
        alerts_evaluate()
    viewer = api_as(acme, "viewer")
    executive = viewer.get("/api/v1/dashboard/executive").json()
    this_month = f"{history[0]:%Y-%m}"
    impact = viewer.get("/api/v1/metrics/business-impact", {"start": this_month, "end": this_month}).json()
    assert executive["month_to_date_value"] == impact["total"]
    assert executive["incidents_prevented"] == 1
    assert executive["prevention_value"] == impact["streams"]["incident_prevention"]
    # Each run saves an hour at 75: ten runs last month are the automation run-rate.
    assert executive["active_automation_value"] == "750.00"
    assert executive["comparisons"]["month_to_date_value"]["last_month"] == "750.00"
    assert executive["currency"] == "USD" and executive["as_of"]
    assert {"kind", "message", "figure", "target"} <= set(executive["open_alerts"][0])


def test_fiscal_ytd_roi_counts_investment_cost(api_as, acme, history):
    executive = api_as(acme, "viewer").get("/api/v1/dashboard/executive").json()
    value, cost = Decimal(executive["fiscal_ytd_value"]), Decimal(executive["fiscal_ytd_cost"])
    assert cost > 0
    assert Decimal(executive["fiscal_ytd_roi_percent"]) == ((value - cost) / cost * 100).quantize(Decimal("0.0001"))


def test_trends_have_24_months_and_cumulative_figures(api_as, acme, history):
    trends = api_as(acme, "viewer").get("/api/v1/dashboard/trends").json()
    assert len(trends["months"]) == 24
    assert trends["months"][-1]["month"] == f"{history[0]:%Y-%m}"
    assert trends["months"][-2]["automation"] == "750.00"
    assert trends["months"][-1]["cumulative_value"] == str(
        sum((Decimal(m["total"]) for m in trends["months"]), Decimal(0)).quantize(Decimal("0.01"))
    )
    assert trends["forecast"]["points"] == [] and "note" in trends["forecast"]  # one complete month only


def test_comparative_by_department_and_by_period(api_as, acme, history):
    viewer = api_as(acme, "viewer")
    by_department = viewer.get("/api/v1/dashboard/comparative", {"by": "department"}).json()
    # what no department claims comes last
    assert [g["department"] for g in by_department["groups"]] == ["finance", "ops", "(none)"]
    by_period = viewer.get("/api/v1/dashboard/comparative", {"by": "period", "date": f"{history[1]:%Y-%m-%d}"}).json()
    assert by_period["split"] == f"{history[1]:%Y-%m}" and by_period["after"]["months"] == 0
    assert viewer.get("/api/v1/dashboard/comparative", {"by": "colour"}).status_code == 400


def test_real_time_shows_the_running_month(api_as, acme, history):
    live = api_as(acme, "viewer").get("/api/v1/dashboard/real-time").json()
    assert live["month"] == f"{history[0]:%Y-%m}" and Decimal(live["streams"]["automation"]) == Decimal("300.00")


# Statements per request, whatever the data size, as the tests count them on PostgreSQL
# (fewer on SQLite, which has no settings): the key lookup (key-hash setting, the key with
# its tenant, the setting cleared) and the tenant setting and its reset, each in a
# savepoint of the test's transaction (4 statements a request does not send), then the
# endpoint's own reads (governance.sql, dashboards.selectors.tenant_figures).
QUERIES = {"executive": 15, "real-time": 11, "trends": 13, "comparative": 16}


@pytest.mark.parametrize("path", sorted(QUERIES))
def test_dashboard_queries_do_not_grow_with_events(api_as, acme, acme_model, path):
    viewer = api_as(acme, "viewer")
    start = month_start(timezone.now())

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert viewer.get(f"/api/v1/dashboard/{path}").status_code == 200
        return len(captured)

    with tenant_scope(acme):
        events_ingest(actor=SYSTEM, kind="automation-runs", payload=automation_runs("a", 3, start))
    few = queries()
    with tenant_scope(acme):
        events_ingest(actor=SYSTEM, kind="automation-runs", payload=automation_runs("b", 400, start))
    assert queries() == few <= QUERIES[path], few


def test_without_any_data_the_dashboard_still_answers(api_as, globex):
    executive = api_as(globex, "viewer").get("/api/v1/dashboard/executive").json()
    assert executive["month_to_date_value"] == "0.00" and executive["business_value_index"] is None


def test_the_hand_written_reads_return_what_the_orm_returns(acme, history):
    """dashboards.selectors and the alert list read with SQL of their own: same values, same types."""
    from django.db.models import Sum

    from dashboards.alerts import alerts_evaluate, alerts_unresolved
    from dashboards.models import UNRESOLVED, Alert
    from dashboards.selectors.figures import as_of, tenant_figures
    from roi.models import AutomationRun, Incident, Investment, MonthlyRollup
    from roi.services import figures_in_force

    with tenant_scope(acme):
        alerts_evaluate()
        data = tenant_figures(newest=True)
        assert data.figures == figures_in_force()[0]
        newest = max(model.objects.order_by("-occurred_at")[0].occurred_at for model in (AutomationRun, Incident))
        assert data.newest == as_of() == newest
        cells = MonthlyRollup.objects.values("month", "stream").annotate(value=Sum("value"), count=Sum("event_count"))
        assert cells and {(c["month"], c["stream"]): (c["value"], c["count"]) for c in cells} == {
            (month, stream): (figures.value[stream], figures.count[stream])
            for month, figures in data.months.items()
            for stream in figures.value
        }
        assert all(type(figures.count[stream]) is int for figures in data.months.values() for stream in figures.count)
        assert [(i.started_at, i.months, i.upfront_cost, i.monthly_cost) for i in Investment.objects.all()] == [
            (i.started_at, i.months, i.upfront_cost, i.monthly_cost) for i in data.investments
        ]
        expected = list(Alert.objects.filter(status__in=UNRESOLVED).order_by("-opened_at", "-pk")[:20])
        found = alerts_unresolved()
        assert expected and [(a.pk, a.measured, a.opened_at, a.detail) for a in found] == [
            (a.pk, a.measured, a.opened_at, a.detail) for a in expected
        ]
