"""The versioned financial model and KPIs over the API."""

from typing import Any

import pytest

from governance.tenancy import tenant_scope
from roi import selectors
from tests.conftest import ACME_MODEL

pytestmark = pytest.mark.django_db

BRIEF_REVENUE_MODEL = {
    "annual_recurring_revenue": 56000000,
    "monthly_recurring_revenue": 4666667,
    "average_transaction_value": 250,
    "transactions_per_minute": 31.25,
    "revenue_per_minute": 933.33,
}


@pytest.fixture
def finance(api_as, acme):
    return api_as(acme, "finance_admin")


def test_a_finance_admin_sets_the_model_and_gets_derived_figures(finance):
    response = finance.put(
        "/api/v1/config/financial-model", {**ACME_MODEL, "change_reason": "FY26 plan"}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["version"] == 1 and body["change_reason"] == "FY26 plan" and body["currency"] == "USD"
    assert body["revenue_model"]["monthly_recurring_revenue"] == "4666666.67"
    assert body["revenue_model"]["revenue_per_minute"] == "106.54"
    assert body["severity_responders"] == {"sev1": 5, "sev2": 3, "sev3": 2, "sev4": 1}
    assert finance.get("/api/v1/config/financial-model").json() == body


def test_the_briefs_inconsistent_revenue_model_is_refused_naming_each_field(finance):
    response = finance.put(
        "/api/v1/config/financial-model",
        {"revenue_model": BRIEF_REVENUE_MODEL, "change_reason": "from the brief"},
        format="json",
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    for field in ("revenue_per_minute", "annual_recurring_revenue", "transactions_per_minute"):
        assert f"revenue_model.{field}" in errors, errors
    assert any("106.54" in message for message in errors["revenue_model.revenue_per_minute"])


def test_change_reason_is_required(finance):
    response = finance.put("/api/v1/config/financial-model", ACME_MODEL, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["change_reason"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"cost_model": {"engineer_hourly_rate": -1}}, "cost_model.engineer_hourly_rate"),
        ({"cost_model": {"engineer_hourly_rate": "NaN"}}, "cost_model.engineer_hourly_rate"),
        ({"impact_model": {"customer_churn_rate_per_incident": 1.5}}, "impact_model.customer_churn_rate_per_incident"),
        ({"cost_model": {"espresso_budget": 5}}, "cost_model.espresso_budget"),
        ({"revenue_model": {"annual_recurring_revenue": "1e400"}}, "revenue_model.annual_recurring_revenue"),
        ({"severity_responders": {"sev9": 3}}, "severity_responders.sev9"),
        ({"favourite_colour": "blue"}, "favourite_colour"),
    ],
)
def test_bad_figures_are_400s_naming_the_field(finance, acme_model, change, field):
    response = finance.put("/api/v1/config/financial-model", {**change, "change_reason": "typo"}, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"], response.json()


def test_a_change_is_a_new_version_with_who_when_why(finance, acme, acme_model):
    response = finance.post(
        "/api/v1/config/revenue-model",
        {"annual_recurring_revenue": "60000000", "change_reason": "New contracts signed"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["version"] == 2
    assert response.json()["cost_model"]["engineer_hourly_rate"] == "120"  # other groups kept
    with tenant_scope(acme):
        versions = list(selectors.financial_model_versions())
        assert versions[0].changed_by_key.role == "finance_admin"
    assert [(v.version, v.history_change_reason) for v in versions] == [
        (2, "New contracts signed"),
        (1, "Initial figures"),
    ]
    assert versions[1].revenue_model["annual_recurring_revenue"] == "56000000"


def test_kpis_round_trip_and_weightings_must_sum_to_one(finance):
    good: dict[str, Any] = {
        "kpis": {"availability": {"target": 99.95, "cost_per_9": 100000}},
        "alerts": {"monthly_value_target": 100000, "roi_target": 300, "incident_prevention_target": 50000},
        "attribution_rules": {
            "incident_prevention": {"weighting": 0.4, "time_window": 30},
            "automation_roi": {"weighting": 0.35, "time_window": 30},
            "performance_improvement": {"weighting": 0.25, "time_window": 90},
        },
        "change_reason": "Board targets",
    }
    response = finance.put("/api/v1/config/business-kpis", good, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["kpis"]["availability"]["target"] == "99.95"
    assert response.json()["alerts"]["roi_target"] == "300"

    bad = {**good, "attribution_rules": {**good["attribution_rules"], "automation_roi": {"weighting": 0.5}}}
    response = finance.put("/api/v1/config/business-kpis", bad, format="json")
    assert response.status_code == 400
    assert "attribution_rules.automation_roi.weighting" in response.json()["errors"]


def test_unknown_kpi_settings_are_named(finance):
    response = finance.put(
        "/api/v1/config/business-kpis", {"kpis": {"availability": {"nines": 5}}, "change_reason": "x"}, format="json"
    )
    assert response.status_code == 400
    assert "kpis.availability.nines" in response.json()["errors"]


def test_reading_the_model_before_one_exists_is_a_404(api_as, acme):
    assert api_as(acme, "viewer").get("/api/v1/config/financial-model").status_code == 404
