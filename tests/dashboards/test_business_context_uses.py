"""What a tenant's business context changes: which reports are scheduled, what reports'
provenance and the benchmarks say."""

from __future__ import annotations

import pytest

from dashboards import reports, tasks
from dashboards.models import Report
from dashboards.report_schedule import scheduled_report_kinds
from governance.ledger import Actor
from governance.services import tenant_business_context_set
from governance.tenancy import tenant_scope
from tests.dashboards.test_reports import pdf_text

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("frequency", "kinds"),
    [
        ("monthly", ("monthly", "quarterly", "annual")),
        ("quarterly", ("quarterly", "annual")),
        ("annual", ("annual",)),
    ],
)
def test_the_frequency_decides_which_reports_are_scheduled(frequency, kinds):
    assert scheduled_report_kinds(reporting_frequency=frequency) == kinds


def test_a_quarterly_tenants_schedule_makes_no_monthly_report(acme, history, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    tenant_business_context_set(tenant=acme, actor="test", changes={"reporting_frequency": "quarterly"})

    made = tasks.reports_make_closed.apply(kwargs={"tenant_id": acme.pk}).get()

    with tenant_scope(acme):
        stored = list(Report.objects.all())
    assert sorted(made) == sorted(report.pk for report in stored)
    assert {report.kind for report in stored} == {"quarterly", "annual"}


def test_the_reports_provenance_names_the_accounting_standard(acme, history, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    tenant_business_context_set(tenant=acme, actor="test", changes={"accounting_standard": "ifrs"})
    with tenant_scope(acme):
        report = reports.report_make(actor=Actor.system("test"), kind="monthly", period=f"{history[1]:%Y-%m}").report
    assert "AccountingstandardIFRS" in pdf_text(report)


def test_the_benchmarks_name_the_business(client, bob, acme, acme_model):
    tenant_business_context_set(
        tenant=acme, actor="test", changes={"industry": "healthcare", "company_size": "enterprise"}
    )
    client.force_login(bob)
    page = client.get("/t/acme/comparative/").content.decode()
    assert "Your business: Healthcare, 1,000 to 9,999 employees, subscription model" in page
