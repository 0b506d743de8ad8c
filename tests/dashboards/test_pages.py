"""The executive pages show the API's figures, link them to their events and ledger records."""

import re

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from governance.tenancy import tenant_scope
from roi.ingestion import events_ingest
from tests.dashboards.conftest import SYSTEM, automation_runs, month_start

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer_client(client, bob):
    client.force_login(bob)
    return client


def test_the_overview_shows_the_apis_figures(viewer_client, api_as, acme, history):
    api = api_as(acme, "viewer").get("/api/v1/dashboard/executive").json()
    page = viewer_client.get("/t/acme/").content.decode()
    assert f"${float(api['month_to_date_value']):,.2f}" in page
    assert f"${float(api['active_automation_value']):,.2f}" in page
    assert api["as_of"] in page
    assert 'data-live-url="/t/acme/live/"' in page


def test_a_figure_drills_down_to_its_events_and_ledger_records(viewer_client, alice, client, acme, history):
    month = f"{history[0]:%Y-%m}"
    page = viewer_client.get(f"/t/acme/drill/automation/{month}/").content.decode()
    assert page.count("now-") == 4
    link = re.search(r'href="(/t/acme/ledger/\d+/)#item-\d+"', page).group(1)
    client.force_login(alice)  # ledger pages are for analysts and up, and auditors
    record_page = client.get(link).content.decode()
    assert "event_batch" in record_page and "(matches its contents)" in record_page
    verified = client.post(link).content.decode()
    assert "This record recomputes and its chain link holds." in verified


def test_viewers_cannot_open_the_ledger(viewer_client, acme):
    assert viewer_client.get("/t/acme/ledger/").status_code == 403


# Statements per page, as the tests count them on PostgreSQL (fewer on SQLite): session,
# user, the tenant with the user's roles there, the MFA check, the tenant setting and its
# reset in a savepoint of the test's transaction, then the page's own reads.
PAGE_QUERIES = {"": 16, "trends/": 14, "comparative/": 17, "comparative/?by=period": 16, "ledger/": 12}


@pytest.mark.parametrize("path", list(PAGE_QUERIES))
def test_pages_run_a_bounded_number_of_queries(client, alice, acme, acme_model, path):
    client.force_login(alice)
    start = month_start(timezone.now())

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/t/acme/{path}").status_code == 200
        return len(captured)

    with tenant_scope(acme):
        events_ingest(actor=SYSTEM, kind="automation-runs", payload=automation_runs("a", 3, start))
    few = queries()
    with tenant_scope(acme):
        events_ingest(actor=SYSTEM, kind="automation-runs", payload=automation_runs("b", 300, start))
    assert queries() == few <= PAGE_QUERIES[path], few


def test_the_trends_chart_has_a_table_behind_it(viewer_client, history):
    page = viewer_client.get("/t/acme/trends/").content.decode()
    assert '<svg class="chart"' in page and 'role="img"' in page
    assert page.count("<tr>") >= 25


def test_an_analyst_runs_a_calculator_and_gets_a_ledger_record(client, acme, acme_model, django_user_model):
    from governance.services import membership_set_role

    analyst = django_user_model.objects.create_user("ana", password="ana-long-password")
    membership_set_role(tenant=acme, user=analyst, role="analyst")
    client.force_login(analyst)
    form = client.get("/t/acme/calculate/incident_cost/").content.decode()
    assert 'name="assume_annual_recurring_revenue" value="56000000"' in form
    response = client.post(
        "/t/acme/calculate/incident_cost/",
        {"downtime_minutes": "45", "severity": "sev1", "recovery_cost": "2500", "reputational_damage": "5000",
         "assume_revenue_per_minute_override": "933.33", "assume_override_reason": "brief",
         "assume_annual_recurring_revenue": "56000000"},
    )  # fmt: skip
    assert response.status_code == 302
    record_page = client.get(response.url).content.decode()
    assert "49499.85" in record_page and "revenue_per_minute_override" in record_page
    pdf = client.get(response.url + "pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_a_bad_calculator_input_is_shown_not_raised(client, alice, acme, acme_model):
    client.force_login(alice)
    response = client.post("/t/acme/calculate/availability_economics/", {"current_target": "250"})
    assert response.status_code == 400 and "current_target" in response.content.decode()


def test_viewers_have_no_calculators(viewer_client, acme):
    assert viewer_client.get("/t/acme/calculate/").status_code == 403


def test_a_finance_admin_changes_the_model_and_everyone_sees_the_diff(client, alice, bob, acme, acme_model):
    client.force_login(alice)
    form = client.get("/t/acme/model/edit/").content.decode()
    assert 'name="cost_model.engineer_hourly_rate" value="120"' in form
    fields = {
        f"{group}.{name}": value for group, name, value in re.findall(r'name="(\w+)\.(\w+)" value="([^"]*)"', form)
    }
    fields["cost_model.engineer_hourly_rate"] = "130"
    assert client.post("/t/acme/model/edit/", fields).status_code == 400  # no reason given
    response = client.post("/t/acme/model/edit/", {**fields, "change_reason": "Engineering pay review"})
    assert response.status_code == 302

    client.force_login(bob)
    page = client.get("/t/acme/model/").content.decode()
    assert "Version 2" in page and "Engineering pay review" in page and "alice" in page
    assert "cost_model.engineer_hourly_rate" in page and "130" in page
    assert "Change the financial model" not in page  # viewers read, finance admins edit
    assert client.get("/t/acme/model/edit/").status_code == 403


def test_investments_show_business_case_beside_cost_and_value_to_date(viewer_client, api_as, acme, history):
    page = viewer_client.get("/t/acme/investments/").content.decode()
    assert "RPA platform" in page and "business case" in page
    executive = api_as(acme, "viewer").get("/api/v1/dashboard/executive").json()
    assert executive["fiscal_ytd_cost"] == "1200.00"  # upfront 1,000 + two months of 100


def test_imported_cloud_cost_is_part_of_the_roi_denominator(api_as, acme, history):
    from roi.focus import focus_import
    from tests.roi.test_focus import focus_csv

    month = f"{history[0]:%Y-%m}"
    with tenant_scope(acme):
        focus_import(
            actor=SYSTEM,
            file_name="cloud.csv",
            data=focus_csv(
                {
                    "ChargePeriodStart": f"{month}-01T00:00:00Z",
                    "ChargePeriodEnd": f"{month}-02T00:00:00Z",
                    "EffectiveCost": "300.00",
                }
            ),
        )
    executive = api_as(acme, "viewer").get("/api/v1/dashboard/executive").json()
    assert executive["fiscal_ytd_cost"] == "1500.00"  # investment 1,200 + cloud 300


def test_the_comparative_page_sets_downtime_and_delivery_against_published_figures(viewer_client, acme, acme_model):
    from datetime import timedelta

    last_month = month_start(month_start(timezone.now()) - timedelta(days=1))
    deployments = [
        {"external_id": f"d{n}", "service": "web", "deployed_at": (last_month + timedelta(days=n)).isoformat(),
         "committed_at": (last_month + timedelta(days=n) - timedelta(hours=20)).isoformat(),
         "failed": n == 3, "restored_at": (last_month + timedelta(days=n, hours=2)).isoformat() if n == 3 else None}
        for n in range(10)
    ]  # fmt: skip
    outage = {"external_id": "o1", "severity": "sev2", "started_at": last_month.isoformat(), "downtime_minutes": 30}
    with tenant_scope(acme):
        events_ingest(actor=SYSTEM, kind="deployments", payload=deployments)
        events_ingest(actor=SYSTEM, kind="incidents", payload=outage)
    page = viewer_client.get("/t/acme/comparative/").content.decode()
    assert "Gartner" in page and "Ponemon" in page and "a minute</strong>" in page
    assert "DORA tiers of the 2023" in page and "10.0" in page


def test_the_pager_keeps_the_filters_of_the_page(rf):
    # Every paginated page (ledger, drill-downs, alerts, reports, audit, costs) uses this pager:
    # page 2 of a filtered list must still be the filtered list.
    page = Paginator(list(range(250)), 100).get_page(2)
    html = render_to_string(
        "dashboards/_pager.html",
        {"page": page},
        request=rf.get("/t/acme/ledger/", {"method": "incident_cost", "page": 2}),
    )
    assert 'href="?method=incident_cost&amp;page=1"' in html
    assert 'href="?method=incident_cost&amp;page=3"' in html
