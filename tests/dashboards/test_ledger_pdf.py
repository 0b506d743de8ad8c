"""The ledger record PDF of an investment case carries the figures table its page shows."""

import io
import re

import pytest

from dashboards.templatetags.bizvalue import money, percent
from dashboards.templatetags.calculator_results import _percent_of
from governance.models import LedgerRecord
from governance.tenancy import tenant_scope

pytestmark = pytest.mark.django_db

COMMON = {"annual_discount_rate": "0.10", "benefit_risk_adjustment": "0", "cost_risk_adjustment": "0"}
YEARLY_CASE = {
    "mode": "cash_flows",
    "cash_flow_period": "year",
    "cash_flow_costs": "10000\n5000\n5000\n5000",
    "cash_flow_benefits": "0\n12000\n14000\n16000",
    **COMMON,
}


def pdf_text(content: bytes) -> str:
    from pypdf import PdfReader

    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return "".join(text.split())  # the PDF wraps lines; compare without whitespace


def flat(text: str) -> str:
    return "".join(text.split())


@pytest.fixture
def case(client, alice, acme, acme_model):
    client.force_login(alice)
    response = client.post("/t/acme/calculate/investment_roi/", YEARLY_CASE)
    assert response.status_code == 302, response.content.decode()
    record_id = int(re.search(r"/ledger/(\d+)/", response.url).group(1))
    with tenant_scope(acme):
        return LedgerRecord.objects.get(pk=record_id)


def test_the_pdf_of_an_investment_case_holds_npv_irr_and_payback(client, acme, case, django_assert_max_num_queries):
    from pypdf import PdfReader

    with django_assert_max_num_queries(15):
        response = client.get(f"/t/acme/ledger/{case.pk}/pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert len(PdfReader(io.BytesIO(response.content)).pages) == 1  # still one page
    text = pdf_text(response.content)
    with tenant_scope(acme):
        npv = money(case.result["npv"], acme.currency)
        irr = percent(_percent_of(case.result["irr_annual"]))
    assert flat("The case in figures") in text
    assert flat("Net present value (NPV)") + flat(npv) in text  # $12,066.12, as the page shows it
    assert flat("Internal rate of return (IRR), a year") + flat(irr) in text
    assert flat("Payback (years)") + "1.3333" in text
    assert f"irr_annual{case.result['irr_annual']}" in text  # the Result table's raw value
    # the record's own result and hash are still there
    assert case.hash in text


def test_the_pdf_of_another_method_has_no_investment_figures(client, alice, acme, acme_model):
    client.force_login(alice)
    response = client.post(
        "/t/acme/calculate/incident_cost/",
        {"downtime_minutes": "45", "severity": "sev1", "recovery_cost": "2500", "reputational_damage": "5000"},
    )
    assert response.status_code == 302, response.content.decode()
    text = pdf_text(client.get(response.url + "pdf").content)
    assert flat("The case in figures") not in text
    assert "downtime_minutes" in text


def test_another_tenant_cannot_get_the_pdf(client, charlie, case):
    client.force_login(charlie)
    assert client.get(f"/t/globex/ledger/{case.pk}/pdf").status_code == 404
    assert client.get(f"/t/acme/ledger/{case.pk}/pdf").status_code == 404
