"""The brief's own KPI YAML is accepted whole; the settings that restate a model figure are informational."""

import pytest

pytestmark = pytest.mark.django_db

# The "Business KPIs" YAML of the original brief, converted to JSON as written.
BRIEF_KPIS = {
    "kpis": {
        "availability": {"target": 99.9, "cost_per_9": 100000},
        "performance": {"target_response_time": 200, "revenue_impact_per_100ms": 50000},
        "automation": {
            "manual_process_cost_per_hour": 75,
            "error_rate_reduction_target": 0.8,
            "compliance_value_per_year": 50000,
        },
    },
    "change_reason": "The brief's KPIs",
}


@pytest.fixture
def finance(api_as, acme):
    return api_as(acme, "finance_admin")


def test_the_briefs_kpi_yaml_is_accepted_and_read_back(finance, acme_model):
    response = finance.put("/api/v1/config/business-kpis", BRIEF_KPIS, format="json")

    assert response.status_code == 200, response.json()
    automation = finance.get("/api/v1/config/business-kpis").json()["kpis"]["automation"]
    assert automation["manual_process_cost_per_hour"] == "75"
    assert automation["compliance_value_per_year"] == "50000"
    assert automation["error_rate_reduction_target"] == "0.8"


def test_the_briefs_kpis_are_accepted_before_any_financial_model(finance):
    response = finance.put("/api/v1/config/business-kpis", BRIEF_KPIS, format="json")
    assert response.status_code == 200, response.json()


def test_automation_is_valued_at_the_models_hourly_rate_not_the_kpi(finance, api_as, acme, acme_model):
    # given a KPI manual-process rate (200) that disagrees with the model's IT staff rate (75)
    kpis = {"kpis": {"automation": {"manual_process_cost_per_hour": 200, "compliance_value_per_year": 1}}}
    response = finance.put("/api/v1/config/business-kpis", {**kpis, "change_reason": "x"}, format="json")
    assert response.status_code == 200, response.json()
    # when an hour of manual work and one compliance check are automated
    analyst = api_as(acme, "analyst")
    body = {"manual_time_equivalent": 3600, "execution_time": 0, "compliance_checks": 1}
    result = analyst.post("/api/v1/calculate/automation-value", body, format="json").json()["result"]
    # then the financial model's figures value them: 75 an hour, 1,000 a check
    assert result["cost_savings"] == "75.00"
    assert result["compliance_value"] == "1000.00"


@pytest.mark.parametrize("field", ["manual_process_cost_per_hour", "compliance_value_per_year"])
@pytest.mark.parametrize("value", [-1, "NaN", "abc", True, "1e16"])
def test_bad_informational_kpis_are_400s_naming_the_field(finance, field, value):
    body = {"kpis": {"automation": {field: value}}, "change_reason": "x"}
    response = finance.put("/api/v1/config/business-kpis", body, format="json")
    assert response.status_code == 400
    assert f"kpis.automation.{field}" in response.json()["errors"]
