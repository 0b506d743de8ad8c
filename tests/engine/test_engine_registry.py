"""The registry: every method named and versioned, JSON-ready, and only EngineInputError escapes."""

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roi.engine import METHODS, EngineInputError, FinancialFigures, method_for

FIGURES = FinancialFigures(
    annual_recurring_revenue=Decimal(56000000),
    engineer_hourly_rate=Decimal(120),
    it_staff_hourly_rate=Decimal(75),
    customer_count=Decimal(2000),
    customer_lifetime_value=Decimal(10000),
    customer_churn_rate_per_incident=Decimal("0.02"),
    development_value_per_day=Decimal(2000),
)

VALID: dict[str, dict[str, Any]] = {
    "incident_cost": {"downtime_minutes": 45, "severity": "sev2", "affected_customers": 10, "public": True},
    "automation_value": {"manual_time_equivalent": 600, "execution_time": 30, "runs": 10},
    "performance_impact": {"response_time_improvement_ms": 200},
    "customer_experience": {"response_time_change_ms": -200, "availability_change": 0.05},
    "competitive_advantage": {"deployment_frequency": 8, "lead_time": 3, "recovery_time": 2, "change_failure_rate": 7},
    "investment_roi": {"upfront_cost": 100000, "monthly_cost": 5000, "monthly_benefit": 25000, "months": 36},
    "value_at_risk": {
        "upfront_cost": {"low": 1, "mode": 2, "high": 3},
        "monthly_benefit": 10,
        "months": 12,
        "trials": 1000,
        "seed": 1,
    },
    "availability_economics": {"current_target": 99.9},
    "business_value_index": {
        "incident_prevention_value": 1,
        "automation_roi_value": 1,
        "performance_improvement_value": 1,
    },
    "forecast": {"series": [1, 2, 3, 4], "horizon": 2},
}
CASH_FLOW_FIELDS = {"cash_flows": {"period": "year", "costs": [1], "benefits": [2]}}


# A method's current version; every earlier one stays registered for old ledger records.
CURRENT_VERSIONS = {name: 1 for name in VALID} | {"investment_roi": 2}


def test_every_spec_method_is_registered_at_its_current_version() -> None:
    assert set(METHODS) == set(VALID)
    assert {name: spec.version for name, spec in METHODS.items()} == CURRENT_VERSIONS
    assert all(spec.name == name for name, spec in METHODS.items())


def test_every_earlier_version_still_recomputes() -> None:
    for name, current in CURRENT_VERSIONS.items():
        for version in range(1, current + 1):
            spec = method_for(name, version)
            assert (spec.name, spec.version) == (name, version)
            spec.run(spec.prepare(VALID[name]), FIGURES)


def test_method_for_finds_versions_and_rejects_unknown() -> None:
    assert method_for("incident_cost", 1) is METHODS["incident_cost"]
    with pytest.raises(EngineInputError):
        method_for("incident_cost", 99)
    with pytest.raises(EngineInputError):
        method_for("astrology")


@pytest.mark.parametrize("name", sorted(VALID))
def test_results_are_json_ready_and_rerun_identically(name: str) -> None:
    spec = METHODS[name]
    inputs = spec.prepare(VALID[name])
    result = spec.run(inputs, FIGURES)
    data = result.as_dict()
    json.dumps(data)  # no Decimal, no float surprises
    # A ledger re-run from the stored inputs and figures gives the same answer.
    assert spec.run(json.loads(json.dumps(inputs)), FinancialFigures.from_mapping(FIGURES.as_dict())).as_dict() == data


@pytest.mark.parametrize("name", sorted(VALID))
def test_unknown_fields_are_rejected_by_name(name: str) -> None:
    with pytest.raises(EngineInputError) as caught:
        METHODS[name].run({**VALID[name], "downtime": 1, "typo_field": 2}, FIGURES)
    assert "typo_field" in caught.value.errors


BAD_VALUES = st.sampled_from(
    [float("nan"), float("inf"), float("-inf"), "NaN", "Infinity", "-Infinity", "1e16", "abc", {"x": 1}]
)


def _fields(name: str) -> list[str]:
    fields = list(VALID[name])
    if name == "investment_roi":
        fields.append("cash_flows")
    return fields


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_invalid_input_raises_engine_input_error_naming_the_field(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(VALID)))
    field = data.draw(st.sampled_from(_fields(name)))
    bad = data.draw(BAD_VALUES)
    with pytest.raises(EngineInputError) as caught:
        METHODS[name].run({**VALID[name], field: bad}, FIGURES)
    assert any(key == field or key.startswith((f"{field}.", f"{field}[")) for key in caught.value.errors)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.decimals(allow_nan=True, allow_infinity=True).map(str),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=5), children, max_size=5),
    max_leaves=10,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(data=st.data())
def test_any_json_value_gives_a_result_or_engine_input_error(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(VALID)))
    field = data.draw(st.sampled_from([*_fields(name), "months", "trials", "seed", "benefits", "horizon"]))
    value = data.draw(json_values)
    try:
        result = METHODS[name].run({**VALID[name], field: value}, FIGURES)
    except EngineInputError as error:
        assert error.errors
    else:
        json.dumps(result.as_dict())


def test_cash_flow_form_is_reachable_through_the_registry() -> None:
    result = METHODS["investment_roi"].run(CASH_FLOW_FIELDS, FIGURES)
    assert result.as_dict()["period"] == "year"
