"""A screenshot of every tenant page, on six months of demo data so no chart or table is empty.

The shots land in test-artifacts/screenshots/pages/ for a human to look at; each page must
answer 200 and show no server error. One test, one browser, two logins (a finance admin,
then the auditor for the audit page), so the suite stays quick.
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page

from governance.ledger import Actor
from governance.models import LedgerRecord
from governance.tenancy import tenant_scope
from tests.e2e.browser import SHOTS, log_in

PAGES = SHOTS / "pages"
DEMO_MONTHS = 6


@pytest.fixture
def demo(acme):
    """acme with the demo's model, KPIs and six months of every event kind, its alerts and a report."""
    from dashboards.alerts import alerts_evaluate
    from dashboards.reports import report_generate
    from roi.demo.seed import demo_data_seed

    actor = Actor.system("e2e")
    with tenant_scope(acme):
        demo_data_seed(actor=actor, months=DEMO_MONTHS)
        alerts_evaluate()
        last_month = timezone.now().replace(day=1) - timedelta(days=1)
        report_generate(actor=actor, kind="monthly", period=f"{last_month:%Y-%m}")
        record = LedgerRecord.objects.order_by("-sequence").first()
    return {"last_month": f"{last_month:%Y-%m}", "month": f"{timezone.now():%Y-%m}", "record": record.pk}


def visit(page: Page, path: str, name: str) -> str:
    response = page.goto(path)
    assert response is not None and response.status == 200, (path, response and response.status)
    text = page.locator("main").inner_text()
    assert "Server error" not in text, path
    PAGES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(PAGES / f"{name}.png"), full_page=True)
    return text


def test_every_tenant_page_renders_with_data(transactional_db, page, alice, carol, acme, demo):
    log_in(page, "alice", "alice-long-password")
    month, last_month = demo["month"], demo["last_month"]
    pages = {
        "overview": "/t/acme/",
        "overview-breakdown": "/t/acme/overview/breakdown/",
        "trends": "/t/acme/trends/",
        "comparative-department": "/t/acme/comparative/?by=department",
        "comparative-product": "/t/acme/comparative/?by=product",
        "comparative-period": f"/t/acme/comparative/?by=period&date={last_month}-01",
        "investments": "/t/acme/investments/",
        "it-budget": "/t/acme/investments/budget/",
        "costs": f"/t/acme/costs/?start={last_month}&end={last_month}",
        "service-levels": "/t/acme/service-levels/",
        "drill-down-automation": f"/t/acme/drill/automation/{last_month}/",
        "drill-down-prevention": f"/t/acme/drill/incident_prevention/{last_month}/",
        "drill-down-downtime": f"/t/acme/drill/downtime/{last_month}/",
        "drill-down-performance": f"/t/acme/drill/performance/{last_month}/",
        "ledger": "/t/acme/ledger/",
        "ledger-record": f"/t/acme/ledger/{demo['record']}/",
        "model": "/t/acme/model/",
        "model-edit": "/t/acme/model/edit/",
        "kpi-edit": "/t/acme/model/kpis/edit/",
        "reports": "/t/acme/reports/",
        "alerts": "/t/acme/alerts/",
        "import": "/t/acme/import/",
        "calculators": "/t/acme/calculate/",
        "calculator": "/t/acme/calculate/incident_cost/",
        "methodology": "/t/acme/methodology/",
        "periods": "/t/acme/periods/",
        "settings": "/t/acme/settings/",
    }
    texts = {name: visit(page, path, name) for name, path in pages.items()}

    # The data reached the pages: charts drawn, tables filled, nothing "yet" or empty.
    assert page.goto("/t/acme/trends/") and page.locator("svg.chart rect").count() > DEMO_MONTHS
    assert "no events yet" not in texts["overview"]
    assert "No investments recorded" not in texts["investments"]
    assert texts["reports"].count(last_month) >= 1
    assert month in texts["overview"]

    # The audit page is the auditor's.
    page.context.clear_cookies()
    log_in(page, "carol", "carol-long-password")
    visit(page, "/t/acme/audit/", "audit")
    assert "Board review" in visit(page, "/t/acme/alerts/escalations/", "alert-escalations")
