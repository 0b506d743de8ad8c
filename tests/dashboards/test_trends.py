"""The trends page: its charts show the API's numbers, link to drill-downs, and stay cheap to draw."""

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboards.templatetags.bizvalue import money
from dashboards.templatetags.trend_charts import forecast_chart, line_chart, stacked_value_chart
from governance.tenancy import tenant_scope
from roi.ingestion import events_ingest
from tests.dashboards.conftest import SYSTEM, automation_runs, month_start

pytestmark = pytest.mark.django_db


def months_ago(count):
    month = month_start(timezone.now())
    for _ in range(count):
        month = month_start(month - timedelta(days=1))
    return month


def ingest_month(tenant, back, runs, prefix="m"):
    with tenant_scope(tenant):
        events_ingest(
            actor=SYSTEM, kind="automation-runs", payload=automation_runs(f"{prefix}{back}", runs, months_ago(back))
        )


@pytest.fixture
def long_history(acme, acme_model):
    """Fourteen months of automation (a growing, uneven series) and an investment a year ago."""
    for back in range(14):
        ingest_month(acme, back, 3 + (14 - back) % 5 + (14 - back) // 2)
    with tenant_scope(acme):
        events_ingest(
            actor=SYSTEM,
            kind="investments",
            payload={
                "external_id": "rpa",
                "name": "RPA platform",
                "started_at": months_ago(12).isoformat(),
                "upfront_cost": 2000,
                "monthly_cost": 150,
            },
        )


@pytest.fixture
def viewer_client(client, bob):
    client.force_login(bob)
    return client


def test_the_page_and_the_api_show_the_same_trends(viewer_client, api_as, acme, long_history):
    # given the same window asked of both
    api = api_as(acme, "viewer").get("/api/v1/dashboard/trends", {"months": 18, "horizon": 4}).json()
    response = viewer_client.get("/t/acme/trends/", {"months": 18, "horizon": 4})
    # then one selector computed both
    assert response.status_code == 200
    assert response.context["trends"] == api
    # and the page prints every month's figures and the whole forecast
    page = response.content.decode()
    assert len(api["months"]) == 18 and len(api["forecast"]["points"]) == 4
    rows = dict(re.findall(r'<tr>\s*<th scope="row" id="month-(\d{4}-\d\d)">.*?</th>(.*?)</tr>', page, re.S))
    assert list(rows) == [m["month"] for m in api["months"]]
    for month in api["months"]:
        for key in ("incident_prevention", "automation", "performance", "total", "downtime_cost"):
            assert money(month[key], "USD") in rows[month["month"]], (month["month"], key)
    cumulative = dict(re.findall(r'id="cumulative-(\d{4}-\d\d)">.*?</th>(.*?)</tr>', page, re.S))
    for month in api["months"]:
        assert money(month["cumulative_value"], "USD") in cumulative[month["month"]]
        assert money(month["cumulative_cost"], "USD") in cumulative[month["month"]]
    forecast = api["forecast"]
    assert forecast["method"] == "holt" and forecast["mape"] is not None
    assert f"MAPE {float(forecast['mape']):,.1f} %" in page and "<code>holt</code>" in page
    for point in forecast["points"]:
        for key in ("value", "low_80", "high_80", "low_95", "high_95"):
            assert money(point[key], "USD") in page


def test_the_roi_over_time_is_the_overviews_roi_formula(api_as, acme, long_history):
    months = api_as(acme, "viewer").get("/api/v1/dashboard/trends").json()["months"]
    for month in months:
        value, cost = Decimal(month["cumulative_value"]), Decimal(month["cumulative_cost"])
        if not cost:
            assert month["cumulative_roi_percent"] is None
            continue
        expected = ((value - cost) / cost * 100).quantize(Decimal("0.0001"))
        assert Decimal(month["cumulative_roi_percent"]) == pytest.approx(expected, abs=Decimal("0.01"))


def test_the_forecast_names_the_months_it_was_fitted_on(api_as, acme, long_history):
    trends = api_as(acme, "viewer").get("/api/v1/dashboard/trends").json()
    history = trends["forecast"]["history"]
    complete = [m for m in trends["months"][:-1] if Decimal(m["total"])]
    assert [h["month"] for h in history] == [m["month"] for m in complete]
    assert [h["value"] for h in history] == [m["total"] for m in complete]
    assert trends["forecast"]["points"][0]["month"] == trends["months"][-1]["month"]


def test_every_chart_is_an_image_with_its_table_named(viewer_client, long_history):
    page = viewer_client.get("/t/acme/trends/").content.decode()
    charts = re.findall(r'<svg class="chart"[^>]*role="img"[^>]*aria-describedby="([\w-]+)"', page)
    assert charts == ["table-value", "table-cumulative", "table-cumulative", "table-forecast"]
    for table in set(charts):
        assert re.search(rf'<table id="{table}">\s*<caption>', page), table
    assert page.count("<title>") >= 4 + 24  # each chart's title, and a tooltip per figure
    assert page.count('fill="#cfe3f3" stroke="none"') == 1  # the 95 % band
    assert page.count('fill="#8fbde0" stroke="none"') == 1  # the 80 % band


def test_every_month_of_the_value_chart_opens_its_drill_down(viewer_client, long_history):
    page = viewer_client.get("/t/acme/trends/").content.decode()
    month = f"{months_ago(3):%Y-%m}"
    link = f"/t/acme/drill/automation/{month}/"
    chart = page.split('aria-describedby="table-value"', 1)[1].split("</svg>", 1)[0]
    assert f'<a href="{link}" tabindex="-1">' in chart
    assert viewer_client.get(link).status_code == 200
    # the lines link each month to its row in the table, which links on to the drill-downs
    assert f'<a href="#month-{month}" tabindex="-1">' in page and f'id="month-{month}"' in page


def test_months_and_horizon_change_the_window(viewer_client, long_history):
    page = viewer_client.get("/t/acme/trends/", {"months": 6, "horizon": 2}).content.decode()
    assert "<h1>Value over 6 months</h1>" in page
    assert page.count('id="month-') == 6 and page.count('<th scope="row" id="forecast-') == 2


@pytest.mark.parametrize(
    ("query", "field"), [({"months": "abc"}, "months"), ({"months": 61}, "months"), ({"horizon": 0}, "horizon")]
)
def test_a_bad_window_is_a_form_error_not_a_500(viewer_client, api_as, acme, acme_model, query, field):
    response = viewer_client.get("/t/acme/trends/", query)
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert 'class="errorlist"' in response.content.decode()
    assert "<h1>Value over 24 months</h1>" in response.content.decode()  # the default window, explained
    api = api_as(acme, "viewer").get("/api/v1/dashboard/trends", query)
    assert api.status_code == 400 and field in api.json()["errors"]


def test_another_tenants_trends_are_a_404(client, charlie, acme, long_history):
    client.force_login(charlie)
    assert client.get("/t/acme/trends/").status_code == 404


# As tests/dashboards/test_pages.py counts them on PostgreSQL: session, user, the tenant
# with the user's roles, the MFA check, the tenant setting and its reset, then the page's
# own reads (dashboards.selectors.tenant_figures).
TRENDS_PAGE_QUERIES = 14


def test_the_page_reads_a_fixed_number_of_queries_whatever_the_months_or_events(client, alice, acme, acme_model):
    client.force_login(alice)

    def queries(months):
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/t/acme/trends/", {"months": months, "horizon": 24}).status_code == 200
        return len(captured)

    ingest_month(acme, 0, 2)
    few = {months: queries(months) for months in (3, 24, 60)}
    for back in range(0, 30, 3):
        ingest_month(acme, back, 40, prefix="more")
    many = {months: queries(months) for months in (3, 24, 60)}
    assert len(set(few.values()) | set(many.values())) == 1, (few, many)
    assert few[60] <= TRENDS_PAGE_QUERIES


def test_the_charts_leave_a_gap_where_there_is_no_roi_and_draw_below_zero(acme):
    rows: list[dict[str, Any]] = [
        {"month": "2026-01", "cumulative_roi_percent": None},
        {"month": "2026-02", "cumulative_roi_percent": "-80.0000"},
        {"month": "2026-03", "cumulative_roi_percent": "120.5000"},
    ]
    with tenant_scope(acme):
        svg = str(line_chart(rows, "cumulative_roi_percent", "percent", "USD", "ROI", "t"))
    assert svg.count("<circle") == 2 and svg.count("<polyline") == 1
    assert "-80.0 %" in svg and "120.5 %" in svg


def test_the_charts_escape_what_they_print(acme):
    rows = [{"month": "2026-01", "automation": "5.00"}]
    with tenant_scope(acme):
        svg = str(stacked_value_chart(rows, "automation", "USD", "acme", "<b>Value</b>", "t"))
        empty = str(forecast_chart({"history": [], "points": []}, "USD", "Forecast", "t"))
    assert "<b>" not in svg and "&lt;b&gt;Value&lt;/b&gt;" in svg and "$5.00" in svg
    assert empty.startswith('<svg class="chart"') and "<polygon" not in empty


def test_a_negative_stream_is_drawn_below_zero_not_dropped(acme):
    rows = [{"month": "2026-01", "automation": "500.00", "performance": "-200.00"}]
    with tenant_scope(acme):
        svg = str(stacked_value_chart(rows, "automation,performance", "USD", "acme", "Value", "t"))
    chart = svg.split("</svg>", 1)[0]
    assert chart.count("<rect") == 2 and "Performance: -$200.00" in chart
    assert "-$" in chart.split("<a", 1)[0]  # the axis goes below zero
