"""The ledger record PDF of an investment case carries the figures table its page shows."""

import io
import re

import pytest

from dashboards.templatetags.bizvalue import money, percent
from dashboards.templatetags.calculator_results import fraction_as_percent
from governance.models import LedgerRecord
from governance.tenancy import tenant_scope
from tests.governance.test_api import CALCULATION_BODIES, EVENT_BODIES

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
        irr = percent(fraction_as_percent(case.result["irr_annual"]))
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


def _latest_record(tenant):
    with tenant_scope(tenant):
        return LedgerRecord.objects.order_by("-sequence").first()


# Deployments carry no money of their own, so a batch of them writes no ledger record.
RECORDLESS_KINDS = {"deployments"}


@pytest.mark.parametrize("kind", sorted(set(EVENT_BODIES) - RECORDLESS_KINDS))
def test_every_event_batch_record_has_a_one_page_pdf(client, carol, acme, acme_model, api_as, kind):
    from pypdf import PdfReader

    # given a batch of three events of this kind, stored with one ledger record (its "items" key
    # once made the template iterate the items instead of the result's rows: a 500)
    batch = [{**EVENT_BODIES[kind], "external_id": f"{kind}-{n}"} for n in range(3)]
    assert api_as(acme, "ingest").post(f"/api/v1/events/{kind}", batch, format="json").status_code in {200, 201}
    record = _latest_record(acme)
    assert record.method == "event_batch"
    client.force_login(carol)

    # when
    response = client.get(f"/t/acme/ledger/{record.pk}/pdf")

    # then its items are counted, not listed: the record's page lists them
    assert response.status_code == 200
    assert len(PdfReader(io.BytesIO(response.content)).pages) == 1
    text = pdf_text(response.content)
    assert flat(f"{record.result['count']} items, listed on the record's page") in text
    assert record.result["merkle_root"] in text


def test_a_batch_of_recordless_kinds_writes_no_record(acme, acme_model, api_as):
    for kind in RECORDLESS_KINDS:
        api_as(acme, "ingest").post(f"/api/v1/events/{kind}", [EVENT_BODIES[kind]], format="json")

    assert _latest_record(acme) is None


@pytest.mark.parametrize("path", sorted(CALCULATION_BODIES))
def test_every_calculation_record_has_a_one_page_pdf(client, carol, acme, acme_model, api_as, path):
    from pypdf import PdfReader

    response = api_as(acme, "analyst").post(f"/api/v1/calculate/{path}", CALCULATION_BODIES[path], format="json")
    assert response.status_code == 201, response.content
    record = _latest_record(acme)
    client.force_login(carol)

    response = client.get(f"/t/acme/ledger/{record.pk}/pdf")

    assert response.status_code == 200
    assert len(PdfReader(io.BytesIO(response.content)).pages) == 1
    assert record.hash in pdf_text(response.content)
