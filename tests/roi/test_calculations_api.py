"""Calculations over the API: worked examples to the cent, what-ifs, and 400s that name fields."""

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governance.models import LedgerRecord
from governance.tenancy import tenant_scope
from roi.ledger_verification import ledger_verify

pytestmark = pytest.mark.django_db


@pytest.fixture
def analyst(api_as, acme, acme_model):
    return api_as(acme, "analyst")


def calculate(client, path, body):
    response = client.post(f"/api/v1/calculate/{path}", body, format="json")
    return response.status_code, response.json()


def test_the_briefs_incident_costs_49499_85_to_the_cent(analyst):
    status, record = calculate(
        analyst,
        "incident-prevention",
        {
            "downtime_minutes": 45,
            "recovery_cost": 2500,
            "reputational_damage": 5000,
            "severity": "sev1",
            "assumptions": {"revenue_per_minute_override": "933.33", "override_reason": "the brief's figure"},
        },
    )
    assert status == 201, record
    assert record["result"]["revenue_impact"] == "41999.85"
    assert record["result"]["total_impact"] == "49499.85"
    assert record["method"] == "incident_cost" and record["method_version"] == 1
    assert record["model_version"] == 1 and record["currency"] == "USD"
    assert record["inputs"]["assumptions"]["revenue_per_minute_override"] == "933.33"
    assert record["figures"]["revenue_per_minute_override"] == "933.33"
    assert record["actor"].startswith("api-key:") and len(record["hash"]) == 64


@pytest.mark.parametrize(
    ("path", "body", "expected"),
    [
        # 40 hours saved at 75 an hour, plus 12,000 a year of compliance value (1,000 a month).
        (
            "automation-value",
            {"manual_time_equivalent": 3600, "execution_time": 0, "runs": 40, "compliance_checks": 1},
            {"cost_savings": "3000.00", "compliance_value": "1000.00", "total_value": "4000.00"},
        ),
        ("performance-impact", {"response_time_improvement_ms": 200}, {"monthly_revenue_impact": "100000.00"}),
        (
            "customer-experience",
            {"response_time_change_ms": -200, "availability_change": "0.05"},
            {"satisfaction_impact": "5.5000", "churn_reduction": "0.0055", "churn_value": "110000.00"},
        ),
        (
            "roi",
            {"upfront_cost": 100000, "monthly_cost": 5000, "monthly_benefit": 25000, "months": 36},
            {
                "total_benefits": "900000.00",
                "total_costs": "280000.00",
                "roi_percent": "221.4286",
                "npv": "523729.17",
            },
        ),
        (
            "roi",
            {
                "cash_flows": {
                    "period": "year",
                    "costs": [10000, 5000, 5000, 5000],
                    "benefits": [0, 12000, 14000, 16000],
                },
                "annual_discount_rate": "0.10",
            },
            {
                "pv_costs": "22434.26",
                "pv_benefits": "34500.38",
                "npv": "12066.12",
                "roi_percent_discounted": "53.7843",
                "payback_periods": "1.3333",
            },
        ),
        (
            "availability",
            {"current_target": "99.9"},
            {
                "allowed_downtime_minutes_per_month": "43.8000",
                "downtime_cost_per_month": "4666.67",
                "next_nine_annual_value": "50400.00",
                "recommendation": "hold",
            },
        ),
    ],
)
def test_worked_examples_to_the_cent(analyst, path, body, expected):
    status, record = calculate(analyst, path, body)
    assert status == 201, record
    for field, value in expected.items():
        assert record["result"][field] == value, (field, record["result"])


def test_value_at_risk_is_reproducible_from_its_seed(analyst):
    body = {
        "upfront_cost": 100000,
        "monthly_cost": {"low": 4000, "mode": 5000, "high": 8000},
        "monthly_benefit": {"low": 5000, "mode": 25000, "high": 30000},
        "months": 36,
        "trials": 20000,
        "seed": 42,
    }
    first = calculate(analyst, "value-at-risk", body)[1]
    second = calculate(analyst, "value-at-risk", body)[1]
    assert first["result"] == second["result"]
    assert Decimal(first["result"]["p5_npv"]) < Decimal(first["result"]["mean_npv"])


def test_an_unseeded_monte_carlo_stores_the_seed_it_chose(analyst):
    body = {"upfront_cost": 1000, "monthly_cost": 10, "monthly_benefit": {"low": 0, "mode": 50, "high": 100}}
    record = calculate(analyst, "value-at-risk", {**body, "months": 12, "trials": 1000})[1]
    assert isinstance(record["inputs"]["seed"], int | str)


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("incident-prevention", {"downtime_minutes": -5, "severity": "sev1"}, "downtime_minutes"),
        ("incident-prevention", {"downtime_minutes": "NaN", "severity": "sev1"}, "downtime_minutes"),
        ("incident-prevention", {"downtime_minutes": "Infinity", "severity": "sev1"}, "downtime_minutes"),
        ("incident-prevention", {"downtime_minutes": "1e20", "severity": "sev1"}, "downtime_minutes"),
        ("incident-prevention", {"downtime_minutes": 5, "severity": "sev9"}, "severity"),
        ("incident-prevention", {"downtime_minutes": 5, "severity": "sev1", "affected_revenue_share": 1.2}, "affected_revenue_share"),
        ("incident-prevention", {"downtime_minutes": 5, "severity": "sev1", "prevention_confidence": -0.1}, "prevention_confidence"),
        ("incident-prevention", {"downtime": 5, "severity": "sev1"}, "downtime"),
        ("roi", {"upfront_cost": 1, "monthly_cost": 1, "monthly_benefit": 1, "months": 0}, "months"),
        ("value-at-risk", {"upfront_cost": {"low": 5, "mode": 1, "high": 9}, "monthly_cost": 1, "monthly_benefit": 1, "months": 3}, "upfront_cost"),
        ("availability", {"current_target": 101}, "current_target"),
        ("automation-value", {"manual_time_equivalent": 60, "execution_time": 1, "assumptions": {"it_staff_hourly_rate": -1}}, "assumptions.it_staff_hourly_rate"),
        ("automation-value", {"manual_time_equivalent": 60, "execution_time": 1, "assumptions": {"nonsense": 1}}, "assumptions.nonsense"),
        ("automation-value", {"manual_time_equivalent": 60, "execution_time": 1, "assumptions": [1]}, "assumptions"),
    ],
)  # fmt: skip
def test_bad_inputs_are_400s_naming_the_field(analyst, path, body, field):
    status, answer = calculate(analyst, path, body)
    assert status == 400, answer
    assert any(name == field or name.startswith(field + ".") for name in answer["errors"]), answer


def test_json_numbers_reach_the_engine_exactly_as_written(analyst):
    # Through a float, 999999999999999.99 would become 1e15 and the share's twentieth digit
    # would be lost; the parser reads them as Decimal, so the ledger keeps what was sent.
    body = (
        '{"downtime_minutes": 0, "severity": "sev1", "recovery_cost": 999999999999999.99,'
        ' "affected_revenue_share": 0.12345678901234567891}'
    )
    response = analyst.post("/api/v1/calculate/incident-prevention", body, content_type="application/json")
    assert response.status_code == 201, response.json()
    record = response.json()
    assert record["inputs"]["recovery_cost"] == "999999999999999.99"
    assert record["inputs"]["affected_revenue_share"] == "0.12345678901234567891"
    assert record["result"]["total_impact"] == "999999999999999.99"


def test_a_body_that_is_not_an_object_is_a_400(analyst):
    response = analyst.post("/api/v1/calculate/roi", [1, 2], format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["body"]


def test_without_a_financial_model_the_error_says_what_to_do(api_as, globex):
    status, answer = calculate(api_as(globex, "analyst"), "performance-impact", {"response_time_improvement_ms": 1})
    assert status == 400
    assert "financial_model" in answer["errors"]


def test_a_rejected_calculation_writes_nothing(analyst, acme):
    calculate(analyst, "availability", {"current_target": 101})
    with tenant_scope(acme):
        assert LedgerRecord.objects.count() == 0


def test_a_what_if_does_not_change_the_model(analyst, api_as, acme):
    calculate(
        analyst,
        "performance-impact",
        {"response_time_improvement_ms": 100, "assumptions": {"revenue_impact_per_100ms": 1}},
    )
    model = api_as(acme, "viewer").get("/api/v1/config/financial-model").json()
    assert model["version"] == 1


numbers = st.one_of(
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=False, allow_infinity=False, places=4).map(str),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "abc", "", "0x10"]),
    st.none(),
    st.booleans(),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    path=st.sampled_from(["incident-prevention", "automation-value", "performance-impact", "availability", "roi"]),
    body=st.dictionaries(
        st.sampled_from(
            [
                "downtime_minutes",
                "severity",
                "affected_revenue_share",
                "manual_time_equivalent",
                "execution_time",
                "runs",
                "response_time_improvement_ms",
                "current_target",
                "upfront_cost",
                "monthly_cost",
                "monthly_benefit",
                "months",
            ]
        ),
        numbers,
        max_size=6,
    ),
)
def test_any_body_gives_a_201_or_a_400_never_a_500(analyst, path, body):
    # Sent as Python's json writes it, NaN and Infinity literals included, as some clients do.
    response = analyst.post(f"/api/v1/calculate/{path}", json.dumps(body), content_type="application/json")
    status, answer = response.status_code, response.json()
    assert status in {201, 400}, answer
    if status == 400:
        assert answer["errors"] and all(isinstance(v, list) for v in answer["errors"].values())


def test_an_outage_dated_at_the_edge_of_the_calendar_is_a_400_naming_started_at(analyst):
    # With a revenue profile, each minute is placed in the tenant's week; year 1 at +05:00 is year 0 in UTC.
    status, answer = calculate(
        analyst,
        "incident-prevention",
        {
            "downtime_minutes": 120,
            "severity": "sev2",
            "started_at": "0001-01-01T00:30:00+05:00",
            "assumptions": {"revenue_profile": ["1"] * 168},
        },
    )
    assert status == 400, answer
    assert "started_at" in answer["errors"]


def test_records_made_with_investment_roi_v1_still_verify_under_v2(analyst, api_as, acme, monkeypatch):
    # given a calculation and an investment event valued while v1 was current, on figures
    # where v1 and v2 differ (IRR -99.99 % a month: null in v1, found in v2)
    from roi.engine import METHODS, method_for

    case = {"upfront_cost": "10000.01", "monthly_benefit": "1", "months": 1}
    event = {
        "external_id": "INV-edge",
        "name": "A bad bet",
        "started_at": "2026-09-20T00:00:00Z",
        "upfront_cost": "10000.01",
        "monthly_cost": "0",
        "expected_monthly_benefit": "1",
        "months": 1,
    }
    with monkeypatch.context() as patch:
        patch.setitem(METHODS, "investment_roi", method_for("investment_roi", 1))
        status, old = calculate(analyst, "roi", case)
        assert status == 201 and old["method_version"] == 1 and old["result"]["irr_annual"] is None
        ingested = analyst.post("/api/v1/events/investments", [event], format="json")
        assert ingested.status_code in {200, 201}, ingested.json()
    # when v2 is current again and the same case is calculated
    status, new = calculate(analyst, "roi", case)
    assert status == 201 and new["method_version"] == 2 and new["result"]["irr_annual"] == "-1.0000"
    # then every record verifies against the version it was made with
    answer = api_as(acme, "auditor").post("/api/v1/ledger/verify").json()
    assert answer["ok"], answer["failures"]


VALID_BODIES: dict[str, dict[str, Any]] = {
    "roi": {"upfront_cost": 1000, "monthly_cost": 10, "monthly_benefit": 100, "months": 12},
    "incident-prevention": {"downtime_minutes": 30, "severity": "sev2"},
    "automation-value": {"manual_time_equivalent": 600, "execution_time": 30},
    "performance-impact": {"response_time_improvement_ms": 100},
    "customer-experience": {"response_time_change_ms": -100, "availability_change": "0.01"},
    "competitive-advantage": {"deployment_frequency": 8, "lead_time": 3, "recovery_time": 2},
    "value-at-risk": {"upfront_cost": 1000, "monthly_cost": 10, "monthly_benefit": 100, "months": 12, "trials": 1000},
    "availability": {"current_target": "99.9"},
}
# One number each endpoint requires or reads, that cannot be negative.
CHECKED_FIELD = {
    "roi": "upfront_cost",
    "incident-prevention": "downtime_minutes",
    "automation-value": "execution_time",
    "performance-impact": "conversion_rate_lift",
    "customer-experience": "availability_change",
    "competitive-advantage": "lead_time",
    "value-at-risk": "monthly_cost",
    "availability": "current_target",
}
NOT_A_NUMBER = ["NaN", "nan", "-Infinity", "Infinity", "1e16", "-1e16", "1E+999", "", "twelve", [1], {"a": 1}, True]


@pytest.mark.parametrize("path", sorted(VALID_BODIES))
def test_every_calculation_accepts_its_valid_body(analyst, path):
    status, record = calculate(analyst, path, VALID_BODIES[path])
    assert status == 201, record


@pytest.mark.parametrize("value", NOT_A_NUMBER, ids=repr)
@pytest.mark.parametrize("path", sorted(VALID_BODIES))
def test_a_value_that_is_not_an_accepted_number_is_a_400_naming_the_field(analyst, path, value):
    field = CHECKED_FIELD[path]
    status, answer = calculate(analyst, path, {**VALID_BODIES[path], field: value})
    assert status == 400, answer
    assert field in answer["errors"], answer


@pytest.mark.parametrize("path", sorted(VALID_BODIES))
def test_the_limit_itself_is_accepted_and_numeric_strings_equal_numbers(analyst, path):
    # 1e15 is the largest accepted magnitude; a numeric string gives what the number gives.
    as_numbers = calculate(analyst, path, VALID_BODIES[path])[1]["result"]
    as_strings = calculate(analyst, path, {k: str(v) for k, v in VALID_BODIES[path].items()})[1]["result"]
    as_numbers.pop("seed", None), as_strings.pop("seed", None)
    if path != "value-at-risk":  # its seed is drawn per request
        assert as_numbers == as_strings
    field = {"performance-impact": "response_time_improvement_ms", "availability": "cost_per_9"}.get(
        path, CHECKED_FIELD[path]
    )
    status, record = calculate(analyst, path, {**VALID_BODIES[path], field: "1e15"})
    assert status == 201, record


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("roi", {"monthly_benefit": 1, "months": 12}, "upfront_cost"),
        ("roi", {"upfront_cost": 1, "monthly_benefit": 1}, "months"),
        ("roi", {"upfront_cost": 1, "monthly_benefit": 1, "months": "12.5"}, "months"),
        ("roi", {"upfront_cost": 1, "monthly_benefit": 1, "months": 12, "annual_discount_rate": -0.1}, "annual_discount_rate"),
        ("roi", {"upfront_cost": 1, "monthly_benefit": 1, "months": 12, "benefit_risk_adjustment": 2}, "benefit_risk_adjustment"),
        ("roi", {"cash_flows": {"period": "year", "costs": [1, "NaN"], "benefits": [0, 1]}}, "cash_flows.costs[1]"),
        ("roi", {"cash_flows": {"period": "year", "costs": [1], "benefits": [-1]}}, "cash_flows.benefits[0]"),
        ("roi", {"cash_flows": {"period": "year", "costs": "1", "benefits": [1]}}, "cash_flows.costs"),
        ("incident-prevention", {"severity": "sev1"}, "downtime_minutes"),
        ("incident-prevention", {"downtime_minutes": 5}, "severity"),
        ("incident-prevention", {"downtime_minutes": 5, "severity": "sev1", "public": "maybe"}, "public"),
        ("incident-prevention", {"downtime_minutes": 5, "severity": "sev1", "affected_customers": -1}, "affected_customers"),
        ("incident-prevention", {"downtime_minutes": 5, "severity": "sev1", "started_at": "2026-01-01T10:00"}, "started_at"),
        ("automation-value", {"execution_time": 1}, "manual_time_equivalent"),
        ("automation-value", {"manual_time_equivalent": 60, "execution_time": 1, "runs": -2}, "runs"),
        ("performance-impact", {}, "response_time_improvement_ms"),
        ("customer-experience", {}, "response_time_change_ms"),
        ("value-at-risk", {**VALID_BODIES["value-at-risk"], "trials": 999}, "trials"),
        ("value-at-risk", {**VALID_BODIES["value-at-risk"], "seed": -1}, "seed"),
        ("value-at-risk", {**VALID_BODIES["value-at-risk"], "monthly_benefit": {"low": 1, "mode": 2}}, "monthly_benefit"),
        ("value-at-risk", {**VALID_BODIES["value-at-risk"], "monthly_benefit": {"low": 1, "mode": "NaN", "high": 3}}, "monthly_benefit.mode"),
        ("availability", {"current_target": "99.9", "cost_per_9": "-1"}, "cost_per_9"),
        ("availability", {"current_target": "99.9", "assumptions": {"annual_recurring_revenue": "Infinity"}}, "annual_recurring_revenue"),
    ],
)  # fmt: skip
def test_missing_or_out_of_range_inputs_are_400s_naming_the_field(analyst, path, body, field):
    status, answer = calculate(analyst, path, body)
    assert status == 400, answer
    assert any(name == field or name.endswith("." + field) for name in answer["errors"]), answer


@pytest.mark.parametrize(
    ("text", "fields"),
    [
        ('{"downtime_minutes": NaN, "severity": "sev1"}', ["body", "downtime_minutes"]),
        ('{"downtime_minutes": Infinity, "severity": "sev1"}', ["body", "downtime_minutes"]),
        ('{"downtime_minutes": -Infinity, "severity": "sev1", "reputational_damage": NaN}',
         ["body", "downtime_minutes", "reputational_damage"]),
        ('{"downtime_minutes": 5, "severity": "sev1", "assumptions": {"engineer_hourly_rate": NaN}}',
         ["assumptions.engineer_hourly_rate", "body"]),
        ('{"downtime_minutes": 5, "severity": "NaN"}', ["severity"]),  # a string, refused by the method
    ],
)  # fmt: skip
def test_nan_and_infinity_literals_as_python_writes_them_are_400s_naming_the_field(analyst, text, fields):
    # json.dumps(float("nan")) writes a bare NaN: not JSON, but clients send it.
    response = analyst.post("/api/v1/calculate/incident-prevention", text, content_type="application/json")
    assert response.status_code == 400
    assert sorted(response.json()["errors"]) == fields


def test_a_literal_nested_in_cash_flows_is_named_by_its_place(analyst):
    text = json.dumps({"cash_flows": {"period": "year", "costs": [1, float("inf")], "benefits": [0, 2]}})
    response = analyst.post("/api/v1/calculate/roi", text, content_type="application/json")
    assert response.status_code == 400
    assert "cash_flows.costs[1]" in response.json()["errors"]


@pytest.mark.parametrize(
    ("written", "recorded"),
    [
        ("1_000", "1000"),
        ("\u0661\u0660\u0660\u0660", "1000"),  # Arabic-Indic digits
        ("\u06f1\u06f0\u06f0\u06f0", "1000"),  # Extended Arabic-Indic (Persian) digits
        (" 12 ", "12"),
        ("\t45.50\n", "45.50"),
        ("0045", "45"),
        ("4.5e1", "45"),
        ("45", "45"),
    ],
)
def test_numbers_are_recorded_in_the_ledger_in_one_canonical_form(analyst, acme, written, recorded):
    body = {"downtime_minutes": written, "severity": "sev2", "assumptions": {"annual_recurring_revenue": written}}
    status, answer = calculate(analyst, "incident-prevention", body)
    assert status == 201, answer
    with tenant_scope(acme):
        record = LedgerRecord.objects.get(pk=answer["id"])
        assert ledger_verify().ok
    assert record.inputs["downtime_minutes"] == recorded
    assert record.inputs["assumptions"]["annual_recurring_revenue"] == recorded
    assert record.inputs["severity"] == "sev2"  # text stays as written
    # the same calculation spelt the plain way gives the same result
    plain_body = {**body, "downtime_minutes": recorded, "assumptions": {"annual_recurring_revenue": recorded}}
    _, plain = calculate(analyst, "incident-prevention", plain_body)
    assert plain["result"] == answer["result"]
