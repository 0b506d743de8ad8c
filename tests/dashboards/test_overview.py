"""The executive overview: every headline figure beside last month and its target, linked, refreshed live."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboards.models import Alert
from governance.tenancy import tenant_scope
from roi.ingestion import events_ingest
from tests.dashboards.conftest import SYSTEM, automation_runs, month_start

pytestmark = pytest.mark.django_db

HEADLINE = [
    "month_to_date_value",
    "fiscal_ytd_roi_percent",
    "active_automation_value",
    "incidents_prevented",
    "prevention_value",
    "business_value_index",
    "open_alert_count",
]


@pytest.fixture
def viewer(api_as, acme):
    return api_as(acme, "viewer")


def alert_opened(tenant, opened_at, *, resolved_at=None, period="2020-01"):
    with tenant_scope(tenant):
        return Alert.objects.create(
            rule="value_below_target",
            period=period,
            escalation="notify_cfo",
            unit="money",
            measured=1,
            threshold=2,
            message="value below target",
            opened_at=opened_at,
            status="resolved" if resolved_at else "open",
            resolved_at=resolved_at,
        )


def test_every_headline_figure_has_last_month_and_a_target(viewer, history):
    executive = viewer.get("/api/v1/dashboard/executive").json()
    for figure in HEADLINE:
        assert figure in executive, figure
        assert {"last_month", "target"} <= set(executive["comparisons"][figure]), figure


def test_the_comparisons_are_last_month_and_the_kpi_targets(api_as, viewer, acme, history):
    # given targets of acme's own
    kpis = {
        "kpis": {"automation": {"monthly_savings_target": 5000}},
        "alerts": {"monthly_value_target": 20000, "roi_target": 150, "incident_prevention_target": 40000},
        "change_reason": "Board targets",
    }
    assert api_as(acme, "finance_admin").put("/api/v1/config/business-kpis", kpis, format="json").status_code == 200

    executive = viewer.get("/api/v1/dashboard/executive").json()
    comparisons = executive["comparisons"]

    assert comparisons["month_to_date_value"] == {"last_month": "750.00", "target": "20000.00"}
    assert comparisons["active_automation_value"] == {"last_month": "0.00", "target": "5000.00"}
    assert comparisons["incidents_prevented"]["last_month"] == 0
    assert comparisons["prevention_value"] == {"last_month": "0.00", "target": "40000.00"}
    assert comparisons["fiscal_ytd_roi_percent"]["target"] == "150"
    assert comparisons["business_value_index"]["target"] == "100"
    assert comparisons["open_alert_count"]["target"] == 0


def test_last_months_roi_and_index_are_where_they_stood_at_its_end(viewer, acme, history):
    executive = viewer.get("/api/v1/dashboard/executive").json()
    last_month = executive["last_month"]
    months = {m["month"]: m for m in executive["fiscal_ytd_months"]}
    if last_month in months:  # the fiscal year began before this month: its ROI to the end of last month
        value = sum((Decimal(m["value"]) for name, m in months.items() if name <= last_month), Decimal(0))
        cost = sum((Decimal(m["cost"]) for name, m in months.items() if name <= last_month), Decimal(0))
        expected = ((value - cost) / cost * 100).quantize(Decimal("0.0001"))
        assert Decimal(executive["comparisons"]["fiscal_ytd_roi_percent"]["last_month"]) == expected
    with tenant_scope(acme):
        from dashboards.selectors import business_value_index, tenant_figures
        from governance.fiscal import add_months

        data = tenant_figures()
        then = business_value_index(data, add_months(data.this_month, -1))
    assert then is not None and then["month"] == last_month
    assert executive["comparisons"]["business_value_index"]["last_month"] == then["value"]


def test_fiscal_ytd_months_add_up_to_the_roi(viewer, history):
    executive = viewer.get("/api/v1/dashboard/executive").json()
    months = executive["fiscal_ytd_months"]
    assert months[-1]["month"] == executive["month"]
    assert sum(Decimal(m["value"]) for m in months) == Decimal(executive["fiscal_ytd_value"])
    assert sum(Decimal(m["cost"]) for m in months) == Decimal(executive["fiscal_ytd_cost"])
    for m in months:
        assert Decimal(m["value"]) == sum(Decimal(m[s]) for s in ("incident_prevention", "automation", "performance"))


def test_open_alerts_now_and_at_the_end_of_last_month(viewer, acme, history):
    this_month, last_month = history
    alert_opened(acme, last_month + timedelta(days=2), period="a")  # open then, open now
    alert_opened(acme, this_month + timedelta(minutes=1), period="b")  # opened since
    alert_opened(acme, last_month + timedelta(days=3), resolved_at=this_month + timedelta(minutes=5), period="c")
    alert_opened(acme, last_month + timedelta(days=4), resolved_at=last_month + timedelta(days=5), period="d")

    executive = viewer.get("/api/v1/dashboard/executive").json()

    assert executive["open_alert_count"] == 2
    assert executive["comparisons"]["open_alert_count"]["last_month"] == 2  # "a" and "c"


def test_the_index_shows_what_it_is_made_of(viewer, history):
    detail = viewer.get("/api/v1/dashboard/executive").json()["business_value_index_detail"]
    streams = {s["stream"]: s for s in detail["streams"]}
    assert set(streams) == {"incident_prevention", "automation", "performance"}
    total = sum(Decimal(str(s["score"])) for s in detail["streams"])
    assert abs(total - Decimal(str(detail["value"]))) <= Decimal("0.0003")


@pytest.fixture
def viewer_page(client, bob):
    client.force_login(bob)
    return client


def test_every_tile_shows_both_comparisons_and_links_to_what_it_is_made_of(viewer_page, viewer, history):
    page = viewer_page.get("/t/acme/").content.decode()
    for figure in ["month_to_date_value", "fiscal_ytd_roi_percent", "active_automation_value", "prevention_value",
                   "business_value_index", "open_alert_count"]:  # fmt: skip
        assert f'data-cmp="{figure}.last_month"' in page, figure
        assert f'data-cmp="{figure}.target"' in page, figure
    tiles = page.split('<section class="tiles"')[1].split("</section>")[0]
    for tile in tiles.split("<article")[1:]:
        figure = tile.split('class="figure">')[1].split("</p>")[0]
        assert "<a href=" in figure, tile
    assert 'href="/t/acme/overview/breakdown/#fiscal-ytd"' in page
    assert 'href="/t/acme/overview/breakdown/#index-detail"' in page
    breakdown = viewer_page.get("/t/acme/overview/breakdown/").content.decode()
    assert 'id="fiscal-ytd"' in breakdown and 'id="index-detail"' in breakdown
    last_month = viewer.get("/api/v1/dashboard/executive").json()["last_month"]
    assert f'href="/t/acme/drill/automation/{last_month}/" data-live-field="active_automation_value"' in page


def test_the_live_fragment_refreshes_every_figure(viewer_page, viewer, acme, history):
    before = viewer_page.get("/t/acme/live/")
    assert before.status_code == 200 and before["Cache-Control"] == "no-store"
    assert "<html" not in before.content.decode()

    # when an automation run arrives
    moment = timezone.now() - timedelta(seconds=5)
    with tenant_scope(acme):
        events_ingest(actor=SYSTEM, kind="automation-runs", payload=automation_runs("live", 1, moment))

    # then the fragment shows the new "as of", the new value and its comparisons, as the API does
    after = viewer_page.get("/t/acme/live/").content.decode()
    api = viewer.get("/api/v1/dashboard/executive").json()
    assert api["as_of"] in after and api["as_of"] not in before.content.decode()
    assert f"${Decimal(api['month_to_date_value']):,.2f}" in after
    assert f"${Decimal(api['comparisons']['month_to_date_value']['target']):,.2f}" in after


def test_the_live_fragment_is_404_to_another_tenant(client, django_user_model, globex, history):
    from governance.services import membership_set_role

    outsider = django_user_model.objects.create_user("otto", password="otto-long-password")
    membership_set_role(tenant=globex, user=outsider, role="viewer")
    client.force_login(outsider)
    assert client.get("/t/acme/live/").status_code == 404
    assert client.get("/t/globex/live/").status_code == 200


def test_the_live_fragment_runs_a_bounded_number_of_queries(client, alice, acme, acme_model):
    client.force_login(alice)
    start = month_start(timezone.now())

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/t/acme/live/").status_code == 200
        return len(captured)

    with tenant_scope(acme):
        events_ingest(actor=SYSTEM, kind="automation-runs", payload=automation_runs("a", 3, start))
    few = queries()
    with tenant_scope(acme):
        events_ingest(actor=SYSTEM, kind="automation-runs", payload=automation_runs("b", 300, start))
    assert queries() == few <= 16, few


def test_remembered_links_are_what_the_url_tag_writes_under_any_script_prefix(viewer_page):
    from django.template import Context, Template
    from django.urls import set_script_prefix

    both = Template(
        "{% load bizvalue %}{% url 'trends' slug %}|{% page_url 'trends' slug %}|"
        "{% url 'drill-down' slug 'automation' '2026-01' %}|{% drill_url slug 'automation' '2026-01' %}|"
        "{% url 'home' %}|{% page_url 'home' %}"
    )
    try:
        for prefix in ["/", "/bizvalue/"]:
            set_script_prefix(prefix)
            url, remembered, drill, remembered_drill, home, remembered_home = both.render(
                Context({"slug": "acme"})
            ).split("|")
            assert (remembered, remembered_drill, remembered_home) == (url, drill, home)
            assert url == f"{prefix}t/acme/trends/"
    finally:
        set_script_prefix("/")
    nav = viewer_page.get("/t/acme/").content.decode().split('<nav class="main"')[1].split("</nav>")[0]
    assert 'href="/t/acme/trends/"' in nav and 'href="/t/acme/settings/"' in nav
