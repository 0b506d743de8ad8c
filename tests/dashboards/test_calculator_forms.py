"""The investment calculators' forms: every input form the API takes, the same ledger result, errors beside fields."""

import re

import pytest

from governance.models import LedgerRecord, Tenant
from governance.tenancy import tenant_scope

pytestmark = pytest.mark.django_db

CASE_MONTHLY = {"upfront_cost": "100000", "monthly_cost": "5000", "annual_discount_rate": "0.10"}
COMMON = {"annual_discount_rate": "0.10", "benefit_risk_adjustment": "0", "cost_risk_adjustment": "0"}


@pytest.fixture
def analyst_client(client, alice):
    client.force_login(alice)
    return client


def _page_record(client, method, form):
    response = client.post(f"/t/acme/calculate/{method}/", form)
    assert response.status_code == 302, response.content.decode()
    record_id = int(re.search(r"/ledger/(\d+)/", response.url).group(1))
    with tenant_scope(Tenant.objects.get(slug="acme")):  # PostgreSQL's row-level security hides it otherwise
        return response.url, LedgerRecord.objects.get(pk=record_id)


def _api_record(api_as, acme, path, body):
    response = api_as(acme, "analyst").post(f"/api/v1/calculate/{path}", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


@pytest.mark.parametrize(
    ("form", "body"),
    [
        (
            {"mode": "monthly", "upfront_cost": "100000", "monthly_cost": "5000", "monthly_benefit": "25000",
             "months": "36", **COMMON},
            {"upfront_cost": 100000, "monthly_cost": 5000, "monthly_benefit": 25000, "months": 36},
        ),
        (
            {"mode": "benefits", "upfront_cost": "100000", "monthly_cost": "5000",
             "benefits": "10000\r\n20000\r\n\r\n30000\r\n40000\n", "months": "36", "monthly_benefit": "25000", **COMMON},
            {"upfront_cost": 100000, "monthly_cost": 5000, "benefits": [10000, 20000, 30000, 40000]},
        ),
        (
            {"mode": "cash_flows", "cash_flow_period": "year", "cash_flow_costs": "10000\n5000\n5000\n5000",
             "cash_flow_benefits": "0\n12000\n14000\n16000", "upfront_cost": "1", **COMMON},
            {"cash_flows": {"period": "year", "costs": [10000, 5000, 5000, 5000], "benefits": [0, 12000, 14000, 16000]}},
        ),
        (
            {"mode": "cash_flows", "cash_flow_period": "month", "cash_flow_costs": "9000\n100\n100",
             "cash_flow_benefits": "0\n5000\n5000", "annual_discount_rate": "0.08", "benefit_risk_adjustment": "0.1",
             "cost_risk_adjustment": "0.2"},
            {"cash_flows": {"period": "month", "costs": [9000, 100, 100], "benefits": [0, 5000, 5000]},
             "annual_discount_rate": "0.08", "benefit_risk_adjustment": "0.1", "cost_risk_adjustment": "0.2"},
        ),
    ],
    ids=["monthly", "benefit-list", "yearly-cash-flows", "monthly-cash-flows"],
)  # fmt: skip
def test_each_input_form_records_what_the_api_records(analyst_client, api_as, acme, acme_model, form, body):
    # given the same case on the page and over the API
    _, record = _page_record(analyst_client, "investment_roi", form)
    api = _api_record(api_as, acme, "roi", body)
    # then the ledger holds the same result, by the same method version and model
    assert record.result == api["result"]
    assert (record.method, record.method_version, record.model_version) == (
        api["method"],
        api["method_version"],
        api["model_version"],
    )
    # and the fields of the other input forms were left out of the record
    assert set(record.inputs) - {"assumptions"} == set(body) | ({"annual_discount_rate", "benefit_risk_adjustment",
                                                                  "cost_risk_adjustment"})  # fmt: skip


def test_the_yearly_business_case_shows_npv_irr_payback_and_roi(analyst_client, acme, acme_model):
    url, record = _page_record(
        analyst_client,
        "investment_roi",
        {"mode": "cash_flows", "cash_flow_period": "year", "cash_flow_costs": "10000\n5000\n5000\n5000",
         "cash_flow_benefits": "0\n12000\n14000\n16000", **COMMON},
    )  # fmt: skip
    assert record.result["npv"] == "12066.12" and record.result["payback_periods"] == "1.3333"
    page = analyst_client.get(url).content.decode()
    section = page[page.index('id="investment-figures"') :]
    assert "$12,066.12" in section and "npv: 12066.12" in section
    assert "Payback (years)" in section and "payback_periods: 1.3333" in section
    assert f"irr_annual: {record.result['irr_annual']}" in section
    assert f"roi_percent: {record.result['roi_percent']}" in section


def test_the_form_offers_every_input_form_and_a_link_can_choose_one(analyst_client, acme, acme_model):
    page = analyst_client.get("/t/acme/calculate/investment_roi/").content.decode()
    assert 'id="mode-monthly" name="mode" value="monthly" checked' in page
    assert '<textarea id="f-benefits" name="benefits"' in page
    assert '<textarea id="f-cash_flow_costs" name="cash_flow_costs"' in page
    assert '<select id="f-cash_flow_period" name="cash_flow_period"' in page
    chosen = analyst_client.get("/t/acme/calculate/investment_roi/?mode=cash_flows").content.decode()
    assert 'value="cash_flows" checked' in chosen and 'value="monthly" checked' not in chosen


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"mode": "benefits", "upfront_cost": "1000", "benefits": "100\nlots\n300"}, "benefits", "line 2: must be a number"),
        ({"mode": "benefits", "upfront_cost": "1000", "benefits": ""}, "benefits", "must have between 1 and 600 items"),
        ({"mode": "cash_flows", "cash_flow_period": "year", "cash_flow_costs": "100\n1e400",
          "cash_flow_benefits": "0\n1"}, "cash_flow_costs", "line 2:"),
        ({"mode": "cash_flows", "cash_flow_period": "year", "cash_flow_costs": "100\n50",
          "cash_flow_benefits": "0\n1\n2"}, "cash_flow_benefits", "must have as many items as costs"),
        ({"mode": "cash_flows", "cash_flow_period": "decade", "cash_flow_costs": "1", "cash_flow_benefits": "1"},
         "cash_flow_period", "must be one of year, month"),
        ({"mode": "cash_flows", "cash_flow_period": "year", "cash_flow_costs": "1", "cash_flow_benefits": "-5"},
         "cash_flow_benefits", "line 1:"),
        ({"mode": "monthly", "upfront_cost": "x", "monthly_benefit": "1", "months": "12"}, "upfront_cost", "number"),
        ({"mode": "quarterly", "upfront_cost": "1"}, "mode", "must be one of monthly, benefits, cash_flows"),
    ],
)  # fmt: skip
def test_bad_input_is_a_form_error_beside_its_field(analyst_client, acme, acme_model, form, field, message):
    response = analyst_client.post("/t/acme/calculate/investment_roi/", form)
    assert response.status_code == 400
    page = response.content.decode()
    beside = re.search(rf'id="e-{field}">([^<]*)<', page)
    assert beside and message in beside.group(1), page
    with tenant_scope(acme):
        assert not LedgerRecord.objects.filter(method="investment_roi").exists()


def test_value_at_risk_takes_ranges_for_costs_too(analyst_client, api_as, acme, acme_model):
    form = {
        "upfront_cost_low": "80000", "upfront_cost": "100000", "upfront_cost_high": "150000",
        "monthly_cost_low": "4000", "monthly_cost": "5000", "monthly_cost_high": "7000",
        "monthly_benefit_low": "10000", "monthly_benefit_mode": "25000", "monthly_benefit_high": "30000",
        "months": "36", "trials": "2000", "seed": "42",
    }  # fmt: skip
    _, record = _page_record(analyst_client, "value_at_risk", form)
    assert record.inputs["upfront_cost"] == {"low": "80000", "mode": "100000", "high": "150000"}
    api = _api_record(
        api_as,
        acme,
        "value-at-risk",
        {
            "upfront_cost": {"low": 80000, "mode": 100000, "high": 150000},
            "monthly_cost": {"low": 4000, "mode": 5000, "high": 7000},
            "monthly_benefit": {"low": 10000, "mode": 25000, "high": 30000},
            "months": 36,
            "trials": 2000,
            "seed": 42,
        },
    )
    assert record.result == api["result"]


def test_value_at_risk_without_a_cost_range_takes_the_plain_figure(analyst_client, acme, acme_model):
    # the investments page links here with the most likely costs only
    _, record = _page_record(
        analyst_client,
        "value_at_risk",
        {"upfront_cost": "1000", "monthly_cost": "10", "monthly_benefit_low": "50", "monthly_benefit_mode": "60",
         "monthly_benefit_high": "90", "months": "12", "trials": "1000", "seed": "7"},
    )  # fmt: skip
    assert record.inputs["upfront_cost"] == "1000" and record.inputs["monthly_cost"] == "10"


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"upfront_cost_low": "120", "upfront_cost": "100", "upfront_cost_high": "150"}, "upfront_cost"),
        ({"upfront_cost": "100", "monthly_cost_low": "x", "monthly_cost": "5", "monthly_cost_high": "9"},
         "monthly_cost_low"),
        ({"upfront_cost": "100", "monthly_cost_low": "4", "monthly_cost": "5"}, "monthly_cost"),
    ],
)  # fmt: skip
def test_a_bad_range_is_a_form_error_beside_it(analyst_client, acme, acme_model, form, field):
    base = {"monthly_benefit_low": "1", "monthly_benefit_mode": "2", "monthly_benefit_high": "3", "months": "12"}
    response = analyst_client.post("/t/acme/calculate/value_at_risk/", {**base, **form})
    assert response.status_code == 400
    assert f'id="e-{field}"' in response.content.decode()


def test_another_tenant_cannot_open_the_record(analyst_client, acme, acme_model, client, django_user_model, globex):
    url, _ = _page_record(
        analyst_client,
        "investment_roi",
        {"mode": "cash_flows", "cash_flow_period": "year", "cash_flow_costs": "10\n1", "cash_flow_benefits": "0\n20"},
    )
    from governance.services import membership_set_role

    outsider = django_user_model.objects.create_user("gus", password="gus-long-password")
    membership_set_role(tenant=globex, user=outsider, role="finance_admin")
    client.force_login(outsider)
    assert client.get(url.replace("/t/acme/", "/t/globex/")).status_code == 404
    assert client.get(url).status_code in (403, 404)
