"""The comparative view: value against cost by department and product, reconciled with the
overview, the same on the page and in the API, with benchmarks and cost drill-downs."""

import json
import re
from datetime import timedelta
from decimal import Decimal
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboards.templatetags.bizvalue import money
from dashboards.templatetags.comparative import per_unit
from governance.tenancy import tenant_scope
from roi.ingestion import events_ingest
from tests.dashboards.conftest import SYSTEM, automation_runs, month_start
from tests.roi.test_focus import focus_csv

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer_client(client, bob):
    client.force_login(bob)
    return client


def import_costs(month: str, *rows: tuple[str, str], file_name: str = "cloud.csv") -> None:
    """A FOCUS file of one charge per (effective cost, tags JSON) in `month`."""
    from roi.focus import focus_import

    charges = [
        {
            "ChargePeriodStart": f"{month}-01T00:00:00Z",
            "ChargePeriodEnd": f"{month}-02T00:00:00Z",
            "EffectiveCost": cost,
            "Tags": tags,
            "ServiceName": f"Service {index}",
        }
        for index, (cost, tags) in enumerate(rows)
    ]
    focus_import(actor=SYSTEM, file_name=file_name, data=focus_csv(*charges))


@pytest.fixture
def costed(acme, history):
    """acme's history, with cloud cost this month: 300 for finance, 50 for ops, 25 untagged."""
    with tenant_scope(acme):
        import_costs(
            f"{history[0]:%Y-%m}",
            ("300.00", json.dumps({"department": "finance", "product": "erp"})),
            ("50.00", json.dumps({"department": "ops", "product": "erp"})),
            ("25.00", "{}"),
        )
    return history


def by_label(answer, by="department"):
    return {group[by]: group for group in answer["groups"]}


def test_each_department_shows_value_cost_net_value_roi_and_value_per_unit_of_cost(api_as, acme, costed):
    # when
    answer = api_as(acme, "viewer").get("/api/v1/dashboard/comparative", {"by": "department"}).json()
    # then: the automation runs alternate finance / ops, the cloud cost is tagged, and the
    # untagged cost and the (unlabelled) investment are in the row no department claims
    groups = by_label(answer)
    assert list(groups) == ["finance", "ops", "(none)"]
    finance = groups["finance"]
    value, cost = Decimal(finance["total"]), Decimal(finance["cost"])
    assert cost == Decimal("300.00") and finance["cloud_cost"] == "300.00" and finance["investment_cost"] == "0.00"
    assert Decimal(finance["net_value"]) == value - cost
    assert Decimal(finance["roi_percent"]) == ((value - cost) / cost * 100).quantize(Decimal("0.0001"))
    assert Decimal(finance["value_per_cost"]) == (value / cost).quantize(Decimal("0.01"))
    unattributed = groups["(none)"]
    assert unattributed["attributed"] is False and unattributed["label"] == ""
    assert unattributed["cloud_cost"] == "25.00" and unattributed["investment_cost"] == "1200.00"


@pytest.mark.parametrize("by", ["department", "product"])
def test_the_totals_reconcile_with_the_overview(api_as, acme, costed, by):
    viewer = api_as(acme, "viewer")
    executive = viewer.get("/api/v1/dashboard/executive").json()
    answer = viewer.get("/api/v1/dashboard/comparative", {"by": by}).json()
    totals = answer["totals"]
    assert totals["cost"] == executive["fiscal_ytd_cost"] == "1575.00"  # investment 1,200 + cloud 375
    assert totals["total"] == executive["fiscal_ytd_value"]
    assert totals["roi_percent"] == executive["fiscal_ytd_roi_percent"]
    assert sum(Decimal(g["cost"]) for g in answer["groups"]) == Decimal(totals["cost"])
    assert sum(Decimal(g["total"]) for g in answer["groups"]) == Decimal(totals["total"])


def test_an_investment_labelled_with_a_department_counts_as_its_cost(api_as, acme, costed):
    with tenant_scope(acme):
        events_ingest(
            actor=SYSTEM,
            kind="investments",
            payload={
                "external_id": "bot",
                "name": "Ops bot",
                "department": "ops",
                "started_at": costed[0].isoformat(),
                "upfront_cost": 500,
                "monthly_cost": 20,
            },
        )
    viewer = api_as(acme, "viewer")
    ops = by_label(viewer.get("/api/v1/dashboard/comparative", {"by": "department"}).json())["ops"]
    assert ops["investment_cost"] == "520.00" and ops["cost"] == "570.00"
    executive = viewer.get("/api/v1/dashboard/executive").json()
    assert executive["fiscal_ytd_cost"] == "2095.00"


def row_of(page: str, heading: str) -> str:
    """A group's cells in both tables: value by stream, and value against cost."""
    cells = re.findall(rf'<th scope="row">{re.escape(heading)}</th>(.*?)</tr>', page, re.S)
    assert len(cells) == 2, heading
    return unescape(" ".join(cells))


@pytest.mark.parametrize("by", ["department", "product"])
def test_the_page_shows_the_apis_figures(viewer_client, api_as, acme, costed, by):
    api = api_as(acme, "viewer").get("/api/v1/dashboard/comparative", {"by": by}).json()
    page = viewer_client.get(f"/t/acme/comparative/?by={by}").content.decode()
    with tenant_scope(acme):  # formatted in the tenant's locale, as the page is
        for group in api["groups"]:
            heading = group["label"] if group["attributed"] else f"Not attributed to any {by}"
            row = row_of(page, heading)
            for key in ("incident_prevention", "automation", "performance", "total", "cost", "net_value"):
                assert money(group[key], "USD") in row, (heading, key)
            assert per_unit(group["value_per_cost"]) in row
        totals = row_of(page, "Total")
        assert money(api["totals"]["cost"], "USD") in totals and money(api["totals"]["total"], "USD") in totals


def test_each_cost_links_to_the_rows_it_sums_and_each_value_to_its_months(viewer_client, acme, costed):
    page = viewer_client.get("/t/acme/comparative/").content.decode()
    finance = row_of(page, "finance")
    cost_link = unescape(re.search(r'href="(/t/acme/costs/\?department=finance[^"]*)"', finance).group(1))
    value_link = unescape(re.search(r'href="(/t/acme/comparative/label/\?department=finance[^"]*)"', finance).group(1))
    # the cost drill-down lists the finance cell with its import, and no other department's
    costs = viewer_client.get(cost_link).content.decode()
    assert "Service 0" in costs and "cloud.csv" in costs and "Service 1" not in costs
    assert "$300.00" in costs
    # the value drill-down lists the months, each linking to its events
    months = viewer_client.get(value_link).content.decode()
    this_month = f"{costed[0]:%Y-%m}"
    events_link = unescape(
        re.search(
            rf'href="(/t/acme/comparative/events/\?[^"]*stream=automation&amp;start={this_month}[^"]*)"', months
        ).group(1)
    )
    events = viewer_client.get(events_link).content.decode()
    # the finance runs of this month (every other one), each with its ledger record
    assert "now-0" in events and "now-2" in events and "now-1" not in events and "then-0" not in events
    assert len(re.findall(r"/t/acme/ledger/\d+/#item-", events)) == 2
    assert f"/t/acme/costs/?department=finance&amp;start={this_month}&amp;end={this_month}" in months
    # the unattributed row's cost lists the untagged cell and the unlabelled investment
    none_link = unescape(re.search(r'href="(/t/acme/costs/\?department=&[^"]*)"', page).group(1))
    unattributed = viewer_client.get(none_link).content.decode()
    assert "Service 2" in unattributed and "Service 0" not in unattributed and "RPA platform" in unattributed
    assert "$1,225.00" in unattributed


def test_the_total_cost_drills_down_to_every_row(viewer_client, acme, costed):
    page = viewer_client.get("/t/acme/comparative/").content.decode()
    link = unescape(re.search(r'href="(/t/acme/costs/\?start=[^"]*)"', row_of(page, "Total")).group(1))
    costs = viewer_client.get(link).content.decode()
    assert all(f"Service {n}" in costs for n in range(3)) and "$1,575.00" in costs


def test_another_tenants_cost_pages_are_404_and_show_nothing_of_acme(client, charlie, acme, globex, costed):
    client.force_login(charlie)
    assert client.get("/t/acme/costs/").status_code == 404
    assert client.get("/t/acme/comparative/label/?department=finance").status_code == 404
    assert client.get("/t/acme/comparative/events/?department=finance&stream=automation").status_code == 404
    month = f"{costed[0]:%Y-%m}"
    theirs = client.get(f"/t/globex/comparative/events/?department=finance&stream=automation&start={month}&end={month}")
    assert theirs.status_code == 200 and "now-0" not in theirs.content.decode()
    own = client.get("/t/globex/costs/?start=2000-01&end=2004-12")
    assert own.status_code == 200
    own = client.get("/t/globex/costs/").content.decode()
    assert "cloud.csv" not in own and "RPA platform" not in own and "No imported cost" in own
    label = client.get("/t/globex/comparative/label/?department=finance").content.decode()
    assert "$" not in label or "€" in label  # globex's own (empty) months, in euros


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("start=2026-13", "start"),
        ("end=march", "end"),
        ("start=2026-05&end=2026-01", "end"),
        ("start=2000-01&end=2026-01", "end"),
        ("department=a&product=b", "department"),
    ],
)
def test_bad_cost_drill_down_input_is_a_form_error(viewer_client, acme, query, field):
    response = viewer_client.get(f"/t/acme/costs/?{query}")
    assert response.status_code == 400 and f"<li>{field}:" in response.content.decode()


def test_the_value_drill_down_needs_a_label(viewer_client, acme):
    response = viewer_client.get("/t/acme/comparative/label/")
    assert response.status_code == 400 and "<li>department:" in response.content.decode()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("department=finance&stream=colour", "stream"),
        ("department=finance&stream=automation&start=2026-01&end=2026-03", "start"),
        ("stream=automation", "department"),
    ],
)
def test_bad_events_drill_down_input_is_a_form_error(viewer_client, acme, query, field):
    response = viewer_client.get(f"/t/acme/comparative/events/?{query}")
    assert response.status_code == 400 and f"<li>{field}:" in response.content.decode()


def test_a_bad_date_is_a_form_error_on_the_page_and_a_400_naming_the_field_in_the_api(viewer_client, api_as, acme):
    response = viewer_client.get("/t/acme/comparative/?by=period&date=2026-02-30")
    assert response.status_code == 400 and "Enter a date" in response.content.decode()
    assert viewer_client.get("/t/acme/comparative/?by=colour").status_code == 400
    api = api_as(acme, "viewer").get("/api/v1/dashboard/comparative", {"by": "period", "date": "2026-02-30"})
    assert api.status_code == 400 and "date" in api.json()["errors"]


def test_before_and_after_a_date_shows_mean_monthly_value_and_cost(api_as, viewer_client, acme, costed):
    last_month = costed[1]
    split = month_start(last_month - timedelta(days=1))
    answer = (
        api_as(acme, "viewer")
        .get("/api/v1/dashboard/comparative", {"by": "period", "date": f"{split:%Y-%m-%d}"})
        .json()
    )
    after = answer["after"]
    assert after["months"] == 1  # last month; this month is not complete
    assert after["mean_monthly_value"] == "750.00" and after["mean_monthly_cost"] == "1100.00"
    assert Decimal(after["roi_percent"]) == (Decimal(-350) / Decimal(1100) * 100).quantize(Decimal("0.0001"))
    page = viewer_client.get(f"/t/acme/comparative/?by=period&date={split:%Y-%m-%d}").content.decode()
    assert "$1,100.00" in page and "$750.00" in page


# --- Benchmarks ------------------------------------------------------------------------


def deployments(last_month, prefix="d", days_ago=None):
    return [
        {"external_id": f"{prefix}{n}", "service": "web", "deployed_at": (last_month + timedelta(days=n)).isoformat(),
         "committed_at": (last_month + timedelta(days=n) - timedelta(hours=20)).isoformat(),
         "failed": n == 3, "restored_at": (last_month + timedelta(days=n, hours=2)).isoformat() if n == 3 else None}
        for n in range(10)
    ]  # fmt: skip


def test_the_api_carries_the_pages_benchmarks(viewer_client, api_as, acme, acme_model):
    # given ten deployments last month, one failed and restored in two hours, 20 h lead time
    last_month = month_start(month_start(timezone.now()) - timedelta(days=1))
    with tenant_scope(acme):
        events_ingest(actor=SYSTEM, kind="deployments", payload=deployments(last_month))
    # when
    benchmarks = api_as(acme, "viewer").get("/api/v1/dashboard/comparative").json()["benchmarks"]
    page = viewer_client.get("/t/acme/comparative/").content.decode()
    # then: all four DORA inputs from the rollups of the last 12 complete months
    assert benchmarks["deployments"] == 10 and benchmarks["failed_deployments"] == 1
    dora = benchmarks["dora"]
    assert Decimal(dora["inputs"]["change_failure_rate"]) == 10
    assert Decimal(dora["inputs"]["lead_time"]).quantize(Decimal("0.0001")) == (Decimal(20) / 24).quantize(
        Decimal("0.0001")
    )
    assert Decimal(dora["inputs"]["recovery_time"]) == 2
    assert {p["source"].split(",")[0] for p in benchmarks["published"]} == {
        "Gartner",
        "Ponemon Institute",
        "ITIC",
    }
    assert all(p["year"] and p["cost_per_minute_usd"] and p["currency"] == "USD" for p in benchmarks["published"])
    for key in ("deployment_frequency_tier", "lead_time_tier", "recovery_time_tier", "change_failure_rate_tier"):
        assert dora[key] and f"<td>{dora[key]}</td>" in page
    for published in benchmarks["published"]:
        assert unescape(published["source"]) in unescape(page)


def test_the_benchmarks_name_the_tenants_customer_segments_to_it_alone(
    client, bob, charlie, api_as, acme, globex, acme_model
):
    acme.customer_segments = ["enterprise", "<b>mid-market</b>"]
    acme.save(update_fields=["customer_segments"])
    benchmarks = api_as(acme, "viewer").get("/api/v1/dashboard/comparative").json()["benchmarks"]
    assert benchmarks["customer_segments"] == ["enterprise", "<b>mid-market</b>"]
    client.force_login(bob)
    page = client.get("/t/acme/comparative/").content.decode()
    assert '<span id="customer-segments">enterprise, &lt;b&gt;mid-market&lt;/b&gt;</span> customers' in page
    # globex names none: its page says nothing of segments, and nothing of acme's
    assert api_as(globex, "viewer").get("/api/v1/dashboard/comparative").json()["benchmarks"]["customer_segments"] == []
    client.force_login(charlie)
    theirs = client.get("/t/globex/comparative/").content.decode()
    assert 'id="benchmarks"' in theirs and "customer-segments" not in theirs and "mid-market" not in theirs


def test_all_four_dora_inputs_read_the_same_twelve_months_of_rollups_and_no_deployment(api_as, acme, acme_model):
    now = timezone.now()
    recent = month_start(month_start(now) - timedelta(days=1))
    old = month_start(now - timedelta(days=200))
    too_old = month_start(now - timedelta(days=450))  # before the twelve complete months
    slow = [dict(d, committed_at=(old - timedelta(days=30)).isoformat()) for d in deployments(old, prefix="old")]
    ancient = [
        dict(d, committed_at=(too_old - timedelta(days=90)).isoformat(), restored_at=None)
        for d in deployments(too_old, prefix="ancient")
    ]
    with tenant_scope(acme):
        events_ingest(actor=SYSTEM, kind="deployments", payload=deployments(recent))
        events_ingest(actor=SYSTEM, kind="deployments", payload=slow)
        events_ingest(actor=SYSTEM, kind="deployments", payload=ancient)
    viewer = api_as(acme, "viewer")
    with CaptureQueriesContext(connection) as captured:
        benchmarks = viewer.get("/api/v1/dashboard/comparative").json()["benchmarks"]
    # then: frequency, failure rate, lead time and time to restore over the same 20 deployments
    assert benchmarks["deployments"] == 20 and benchmarks["failed_deployments"] == 2
    assert benchmarks["lead_time_deployments"] == 20 and benchmarks["restored_deployments"] == 2
    inputs = benchmarks["dora"]["inputs"]
    # 10 deployments 20 h after their commit, 10 deployed 30 + n days after theirs (n = 0..9)
    lead_days = (Decimal(10 * 20) / 24 + sum(Decimal(30 + n) for n in range(10))) / 20
    assert Decimal(inputs["lead_time"]).quantize(Decimal("0.000001")) == lead_days.quantize(Decimal("0.000001"))
    assert Decimal(inputs["recovery_time"]) == 2 and Decimal(inputs["change_failure_rate"]) == 10
    assert "timing_since" not in benchmarks and "timing_deployments" not in benchmarks
    # and no statement reads the raw deployments: rollups only
    assert not [q["sql"] for q in captured.captured_queries if "roi_deployment" in q["sql"]]


def test_a_re_sent_deployment_moves_its_lead_time_and_restore_time(api_as, acme, acme_model):
    last_month = month_start(month_start(timezone.now()) - timedelta(days=1))
    first = deployments(last_month)
    with tenant_scope(acme):
        events_ingest(actor=SYSTEM, kind="deployments", payload=first)
        # the failed one re-sent: restored in 6 hours, not 2; one other loses its commit time
        resent = [
            dict(first[3], restored_at=(last_month + timedelta(days=3, hours=6)).isoformat()),
            dict(first[0], committed_at=None),
        ]
        events_ingest(actor=SYSTEM, kind="deployments", payload=resent)
    benchmarks = api_as(acme, "viewer").get("/api/v1/dashboard/comparative").json()["benchmarks"]
    assert benchmarks["deployments"] == 10 and benchmarks["lead_time_deployments"] == 9
    assert Decimal(benchmarks["dora"]["inputs"]["recovery_time"]) == 6
    assert Decimal(benchmarks["dora"]["inputs"]["lead_time"]).quantize(Decimal("0.0001")) == (
        Decimal(20) / 24
    ).quantize(Decimal("0.0001"))


# --- Bounded queries ---------------------------------------------------------------------

# Statements per request as counted on PostgreSQL (fewer on SQLite): the fixed overhead of
# the key or session and the tenant setting (9 for the API, 10 for a page, as counted in
# test_dashboard_api and test_pages), then the comparative's own: tenant_figures (4), the
# value and cost by label (2) and the DORA timing from the rollups (1); a drill-down's sums and page.
API_QUERIES = {"department": 16, "product": 16, "period": 14}
PAGE_QUERIES = {
    "comparative/": 17,
    "comparative/?by=product": 17,
    "comparative/?by=period": 15,
    "costs/": 14,
    "costs/?department=finance": 14,
    "comparative/label/?department=finance": 13,
    "comparative/events/?department=finance&stream=automation": 13,
}


def grow(acme, prefix: str, count: int) -> None:
    start = month_start(timezone.now())
    with tenant_scope(acme):
        events_ingest(actor=SYSTEM, kind="automation-runs", payload=automation_runs(prefix, count, start))
        events_ingest(actor=SYSTEM, kind="deployments", payload=deployments(start, prefix=f"{prefix}-d"))
        import_costs(
            f"{start:%Y-%m}",
            *((f"{n}.00", json.dumps({"department": ["finance", "ops"][n % 2]})) for n in range(1, count)),
            file_name=f"{prefix}.csv",
        )


@pytest.mark.parametrize("by", sorted(API_QUERIES))
def test_the_api_runs_a_bounded_number_of_queries(api_as, acme, acme_model, by):
    viewer = api_as(acme, "viewer")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert viewer.get("/api/v1/dashboard/comparative", {"by": by}).status_code == 200
        return len(captured)

    grow(acme, "a", 3)
    few = queries()
    grow(acme, "b", 150)
    assert queries() == few <= API_QUERIES[by], few


@pytest.mark.parametrize("path", list(PAGE_QUERIES))
def test_the_pages_run_a_bounded_number_of_queries(viewer_client, acme, acme_model, path):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert viewer_client.get(f"/t/acme/{path}").status_code == 200
        return len(captured)

    grow(acme, "a", 3)
    few = queries()
    grow(acme, "b", 150)
    assert queries() == few <= PAGE_QUERIES[path], few


# --- Chosen months -------------------------------------------------------------------------


def test_a_breakdown_covers_the_months_chosen(api_as, viewer_client, acme, costed):
    month = f"{costed[1]:%Y-%m}"  # last month: ten automation runs and the investment's start
    answer = api_as(acme, "viewer").get("/api/v1/dashboard/comparative", {"start": month, "end": month}).json()
    assert (answer["start"], answer["end"]) == (month, month)
    totals = answer["totals"]
    assert totals["total"] == "750.00" and totals["cost"] == "1100.00"  # upfront 1,000 + one month of 100
    assert by_label(answer)["finance"]["cost"] == "0.00"  # the cloud cost is this month's
    page = viewer_client.get(f"/t/acme/comparative/?start={month}&end={month}").content.decode()
    assert f"{month} to {month}" in page and "$1,100.00" in page


@pytest.mark.parametrize(
    ("months", "field"),
    [
        ({"start": "2026-13"}, "start"),
        ({"end": "soon"}, "end"),
        ({"end": "2999-01"}, "end"),
        ({"start": "2026-05", "end": "2026-01"}, "start"),
        ({"start": "1999-01"}, "start"),
    ],
)
def test_months_that_cannot_be_used_are_a_400_naming_the_field(api_as, viewer_client, acme, months, field):
    response = api_as(acme, "viewer").get("/api/v1/dashboard/comparative", months)
    assert response.status_code == 400 and list(response.json()["errors"]) == [field]
    query = "&".join(f"{name}={value}" for name, value in months.items())
    page = viewer_client.get(f"/t/acme/comparative/?{query}")
    assert page.status_code == 400 and 'aria-invalid="true"' in page.content.decode()
