"""The financial model snapshot: derived figures, the 0.5 % consistency rule, validation."""

from decimal import Decimal

import pytest

from roi.engine import FinancialFigures, revenue_consistency_errors
from roi.engine.figures import SeverityResponders
from roi.engine.money import EngineInputError

BRIEF_REVENUE_MODEL = {
    "annual_recurring_revenue": 56000000,
    "monthly_recurring_revenue": 4666667,
    "average_transaction_value": 250,
    "transactions_per_minute": 31.25,
    "revenue_per_minute": 933.33,
}


def test_monthly_recurring_revenue_is_arr_over_twelve() -> None:
    figures = FinancialFigures(annual_recurring_revenue=Decimal(56000000))
    assert figures.monthly_recurring_revenue.quantize(Decimal("0.01")) == Decimal("4666666.67")


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({}, Decimal("106.54")),  # ARR / 525,600
        (
            {"average_transaction_value": Decimal(250), "transactions_per_minute": Decimal("0.4262")},
            Decimal("106.55"),
        ),  # ATV * TPM when both given
        (
            {"revenue_per_minute_override": Decimal("933.33"), "override_reason": "peak pricing"},
            Decimal("933.33"),
        ),  # override wins
    ],
)
def test_revenue_per_minute_precedence(extra: dict[str, object], expected: Decimal) -> None:
    figures = FinancialFigures(annual_recurring_revenue=Decimal(56000000), **extra)  # type: ignore[arg-type]
    assert figures.revenue_per_minute.quantize(Decimal("0.01")) == expected


def test_severity_responders_default_to_the_spec() -> None:
    responders = SeverityResponders()
    assert [responders.for_severity(s) for s in ("sev1", "sev2", "sev3", "sev4")] == [5, 3, 2, 1]


def test_kpi_defaults_follow_the_spec() -> None:
    figures = FinancialFigures(annual_recurring_revenue=Decimal(1))
    assert figures.revenue_impact_per_100ms == 50000
    assert figures.cost_per_9 == 100000
    assert (
        figures.satisfaction_per_100ms,
        figures.satisfaction_per_availability_point,
        figures.churn_reduction_per_satisfaction_point,
    ) == (Decimal("-2.5"), 10, Decimal("0.001"))
    assert (figures.incident_prevention_weighting, figures.incident_prevention_time_window) == (Decimal("0.40"), 30)
    assert (figures.automation_roi_weighting, figures.automation_roi_time_window) == (Decimal("0.35"), 30)
    assert (figures.performance_improvement_weighting, figures.performance_improvement_time_window) == (
        Decimal("0.25"),
        90,
    )


def test_it_rejects_the_briefs_own_revenue_model() -> None:
    with pytest.raises(EngineInputError) as caught:
        FinancialFigures.from_mapping(BRIEF_REVENUE_MODEL)
    errors = caught.value.errors
    assert {
        "revenue_per_minute",
        "annual_recurring_revenue",
        "average_transaction_value",
        "transactions_per_minute",
    } <= set(errors)
    # MRR 4,666,667 is within 0.5 % of 56,000,000 / 12, so it is not blamed.
    assert "monthly_recurring_revenue" not in errors
    joined = " ".join(errors["revenue_per_minute"])
    assert "933.33" in joined and "106.54" in joined and "7,812.50" in joined


def test_consistency_function_names_each_field_and_both_values() -> None:
    errors = revenue_consistency_errors(
        annual_recurring_revenue=Decimal(56000000),
        monthly_recurring_revenue=Decimal(5000000),
    )
    assert set(errors) == {"monthly_recurring_revenue", "annual_recurring_revenue"}
    assert "5,000,000.00" in errors["monthly_recurring_revenue"][0]
    assert "4,666,666.67" in errors["monthly_recurring_revenue"][0]


@pytest.mark.parametrize(
    ("given", "ok"),
    [
        (Decimal("106.54"), True),
        (Decimal("107.07"), True),
        (Decimal("107.08"), False),
        (Decimal("106.02"), True),
        (Decimal("106.01"), False),
    ],
)
def test_consistency_tolerance_is_half_a_percent(given: Decimal, ok: bool) -> None:
    errors = revenue_consistency_errors(annual_recurring_revenue=Decimal(56000000), revenue_per_minute=given)
    assert (errors == {}) is ok


def test_a_consistent_request_is_accepted_and_derived_figures_dropped() -> None:
    figures = FinancialFigures.from_mapping(
        {
            "annual_recurring_revenue": "56000000",
            "monthly_recurring_revenue": "4666666.67",
            "revenue_per_minute": "106.54",
            "engineer_hourly_rate": 120,
        }
    )
    assert figures.engineer_hourly_rate == 120


def test_override_needs_a_reason() -> None:
    with pytest.raises(EngineInputError) as caught:
        FinancialFigures.from_mapping({"annual_recurring_revenue": 1, "revenue_per_minute_override": 5})
    assert "override_reason" in caught.value.errors


def test_revenue_profile_must_average_one() -> None:
    with pytest.raises(EngineInputError) as caught:
        FinancialFigures.from_mapping({"annual_recurring_revenue": 1, "revenue_profile": [2] * 168})
    assert "revenue_profile" in caught.value.errors
    flat = FinancialFigures.from_mapping({"annual_recurring_revenue": 1, "revenue_profile": [1] * 168})
    assert flat.revenue_profile == (Decimal(1),) * 168


def test_revenue_profile_must_have_168_weights() -> None:
    with pytest.raises(EngineInputError, match="168"):
        FinancialFigures.from_mapping({"annual_recurring_revenue": 1, "revenue_profile": [1] * 24})


def test_weightings_must_sum_to_one() -> None:
    with pytest.raises(EngineInputError) as caught:
        FinancialFigures.from_mapping({"annual_recurring_revenue": 1, "incident_prevention_weighting": "0.5"})
    assert {"incident_prevention_weighting", "automation_roi_weighting", "performance_improvement_weighting"} <= set(
        caught.value.errors
    )


def test_it_collects_every_field_error_at_once() -> None:
    with pytest.raises(EngineInputError) as caught:
        FinancialFigures.from_mapping(
            {
                "annual_recurring_revenue": "NaN",
                "engineer_hourly_rate": -1,
                "severity_responders": {"sev9": 1},
                "unknown_field": 1,
            }
        )
    assert {"annual_recurring_revenue", "engineer_hourly_rate", "severity_responders.sev9", "unknown_field"} <= set(
        caught.value.errors
    )


def test_as_dict_round_trips_through_from_mapping() -> None:
    figures = FinancialFigures(
        annual_recurring_revenue=Decimal(56000000),
        engineer_hourly_rate=Decimal(120),
        severity_responders=SeverityResponders(sev1=8),
        revenue_profile=(Decimal(1),) * 168,
        time_zone="Europe/Berlin",
    )
    stored = figures.as_dict()
    assert stored["monthly_recurring_revenue"] == "4666666.67"
    assert stored["revenue_per_minute"] == "106.54"
    assert FinancialFigures.from_mapping(stored) == figures


def test_with_assumptions_replaces_fields_for_one_calculation() -> None:
    figures = FinancialFigures(annual_recurring_revenue=Decimal(56000000))
    what_if = figures.with_assumptions({"engineer_hourly_rate": "150"})
    assert what_if.engineer_hourly_rate == 150
    assert figures.engineer_hourly_rate == 0
