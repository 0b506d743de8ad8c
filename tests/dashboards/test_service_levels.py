"""Service levels: availability and response time against the KPI targets, per month and per service."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from governance.tenancy import tenant_scope
from roi.ingestion import events_ingest
from roi.services import business_kpis_update
from tests.dashboards.conftest import SYSTEM, month_start

pytestmark = pytest.mark.django_db


def months_ago(count):
    month = month_start(timezone.now())
    for _ in range(count):
        month = month_start(month - timedelta(days=1))
    return month


def samples(tenant, back, service, rows):
    """`rows`: (response time, availability or None, conversion or None) measured in the month `back` ago."""
    day = months_ago(back) + timedelta(days=2, hours=12)
    payload = []
    for n, (response, availability, conversion) in enumerate(rows):
        item = {
            "external_id": f"{service}-{back}-{n}",
            "service": service,
            "measured_at": (day + timedelta(hours=n)).isoformat(),
            "response_time_ms": response,
        }
        if availability is not None:
            item["availability_percent"] = availability
        if conversion is not None:
            item["conversion_rate"] = conversion
        payload.append(item)
    with tenant_scope(tenant):
        events_ingest(actor=SYSTEM, kind="performance-samples", payload=payload)


@pytest.fixture
def measured(acme, acme_model):
    """Last month: web fast and available, api slow and below target; two months ago only web."""
    with tenant_scope(acme):
        business_kpis_update(
            actor=SYSTEM,
            sections={"kpis": {"availability": {"target": "99.95"}, "performance": {"target_response_time": "250"}}},
            change_reason="Service level targets",
        )
    samples(acme, 1, "web", [(180, "100", "3"), (220, "99.98", None), (200, None, "2")])
    samples(acme, 1, "api", [(400, "99.5", None), (300, "99.9", None)])
    samples(acme, 2, "web", [(150, "99.99", "2.5")])
    return acme


@pytest.fixture
def viewer_client(client, bob):
    client.force_login(bob)
    return client


def test_the_page_and_the_api_show_the_same_service_levels(viewer_client, api_as, acme, measured):
    api = api_as(acme, "viewer").get("/api/v1/dashboard/service-levels", {"months": 6}).json()
    response = viewer_client.get("/t/acme/service-levels/", {"months": 6})
    assert response.status_code == 200
    assert response.context["levels"] == api
    assert len(api["months"]) == 6 and api["services_month"] == f"{months_ago(1):%Y-%m}"
    page = response.content.decode()
    rows = dict(re.findall(r'<th scope="row" id="month-(\d{4}-\d\d)">.*?</th>(.*?)</tr>', page, re.S))
    assert list(rows) == [m["month"] for m in api["months"]]
    # every month links to the performance drill-down of that month
    for month in api["months"]:
        assert f'href="/t/acme/drill/performance/{month["month"]}/"' in page


def test_monthly_means_are_exact_and_marked_against_the_targets(api_as, acme, measured):
    levels = api_as(acme, "viewer").get("/api/v1/dashboard/service-levels", {"months": 3}).json()
    # 99.95 % leaves 43,800 x 0.0005 = 21.9 minutes a month
    assert levels["targets"] == {
        "availability_percent": "99.95",
        "allowed_downtime_minutes": "21.9",
        "response_time_ms": "250",
    }
    two_ago, last, this = levels["months"]
    assert (two_ago["complete"], last["complete"], this["complete"]) == (True, True, False)
    # last month, every service: availability over the 4 samples that carry it, response time over all 5
    assert last["samples"] == 5 and last["availability_samples"] == 4
    assert last["availability_percent"] == "99.845"  # (100 + 99.98 + 99.5 + 99.9) / 4
    assert last["availability_met"] is False
    assert last["response_time_ms"] == "260.0" and last["response_time_met"] is False
    assert last["conversion_rate_percent"] == "2.500"
    assert two_ago["availability_met"] is True and two_ago["response_time_met"] is True
    assert two_ago["unavailable_minutes"] == "4.4"  # 43,800 x 0.0001 = 4.38
    # a month without samples is neither met nor missed
    assert this["samples"] == 0 and this["availability_met"] is None and this["response_time_met"] is None


def test_each_service_of_the_last_complete_month_is_marked(api_as, acme, measured):
    services = api_as(acme, "viewer").get("/api/v1/dashboard/service-levels").json()["services"]
    api, web = services
    assert (api["service"], api["availability_percent"], api["availability_met"]) == ("api", "99.700", False)
    assert (api["response_time_ms"], api["response_time_met"]) == ("350.0", False)
    assert (web["service"], web["availability_percent"], web["availability_met"]) == ("web", "99.990", True)
    assert (web["response_time_ms"], web["response_time_met"], web["conversion_rate_percent"]) == (
        "200.0",
        True,
        "2.500",
    )


def test_without_kpis_the_default_targets_apply(api_as, acme, acme_model):
    levels = api_as(acme, "viewer").get("/api/v1/dashboard/service-levels").json()
    assert levels["targets"] == {
        "availability_percent": "99.9",
        "allowed_downtime_minutes": "43.8",
        "response_time_ms": "200",
    }
    assert levels["services"] == [] and len(levels["months"]) == 24


def test_the_page_runs_a_bounded_number_of_queries(viewer_client, acme, measured):
    viewer_client.get("/t/acme/service-levels/")  # sessions and caches warm
    with CaptureQueriesContext(connection) as few:
        viewer_client.get("/t/acme/service-levels/", {"months": 3})
    for back in range(3, 12):
        samples(acme, back, f"svc-{back}", [(100 + back, "99.9", "1")] * 1)
        samples(acme, 1, f"svc-{back}", [(100 + back, "99.9", "1")])
    with CaptureQueriesContext(connection) as many:
        response = viewer_client.get("/t/acme/service-levels/", {"months": 24})
    assert response.status_code == 200 and len(response.context["levels"]["services"]) == 11
    assert len(many) == len(few)


def test_the_selector_reads_the_kpis_and_two_rollup_statements(api_as, acme, measured):
    api = api_as(acme, "viewer")
    with CaptureQueriesContext(connection) as queries:
        assert api.get("/api/v1/dashboard/service-levels").status_code == 200
    statements = [q["sql"] for q in queries.captured_queries]
    assert not any("roi_performancesample" in sql for sql in statements)  # rollups only, never raw samples
    assert sum('FROM "roi_monthlyrollup"' in sql for sql in statements) == 1
    assert sum('FROM "roi_performancemonth"' in sql for sql in statements) == 1
    assert sum('FROM "roi_businesskpis"' in sql for sql in statements) == 1


def test_bad_months_is_a_400_naming_the_field(viewer_client, api_as, acme, acme_model):
    response = api_as(acme, "viewer").get("/api/v1/dashboard/service-levels", {"months": "x"})
    assert response.status_code == 400 and "months" in response.json()["errors"]
    page = viewer_client.get("/t/acme/service-levels/", {"months": 999})
    assert page.status_code == 400 and "months" in page.context["form"].errors


def test_another_tenants_service_levels_are_a_404(client, charlie, acme, measured):
    client.force_login(charlie)
    assert client.get("/t/acme/service-levels/").status_code == 404


def test_another_tenant_sees_none_of_acmes_samples(api_as, globex, measured):
    levels = api_as(globex, "viewer").get("/api/v1/dashboard/service-levels").json()
    assert levels["services"] == [] and all(m["samples"] == 0 for m in levels["months"])
