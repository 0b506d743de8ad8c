"""performance_impact and customer_experience: the spec's examples and both bases."""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pytest

from roi.engine import METHODS, FinancialFigures
from roi.engine.money import EngineInputError
from roi.engine.performance import CustomerExperience, PerformanceImpact, customer_experience, performance_impact


def run_performance_impact(inputs: Mapping[str, Any], figures: FinancialFigures) -> PerformanceImpact:
    """The registry's performance_impact, its result read as the method's own type."""
    result = METHODS["performance_impact"].run(inputs, figures)
    assert isinstance(result, PerformanceImpact)
    return result


def run_customer_experience(inputs: Mapping[str, Any], figures: FinancialFigures) -> CustomerExperience:
    """The registry's customer_experience, its result read as the method's own type."""
    result = METHODS["customer_experience"].run(inputs, figures)
    assert isinstance(result, CustomerExperience)
    return result


def figures(**changes: object) -> FinancialFigures:
    values: dict[str, object] = {
        "annual_recurring_revenue": Decimal(56000000),
        "customer_count": Decimal(2000),
        "customer_lifetime_value": Decimal(10000),
    }
    values.update(changes)
    return FinancialFigures(**values)  # type: ignore[arg-type]


def test_200ms_with_the_default_kpi_is_worth_100000_a_month() -> None:
    result = run_performance_impact({"response_time_improvement_ms": 200}, figures())
    assert result.monthly_revenue_impact == Decimal("100000.00")
    assert result.basis == "per_100ms"


@pytest.mark.parametrize(
    ("improvement", "per_100ms", "expected"),
    [
        (Decimal(50), Decimal(50000), Decimal("25000.00")),
        (Decimal(-30), Decimal(50000), Decimal("-15000.00")),  # slower service: negative
        (Decimal(200), Decimal(10000), Decimal("20000.00")),
    ],
)
def test_per_100ms_basis(improvement: Decimal, per_100ms: Decimal, expected: Decimal) -> None:
    result = performance_impact(
        figures=figures(revenue_impact_per_100ms=per_100ms), response_time_improvement_ms=improvement
    )
    assert result.monthly_revenue_impact == expected


def test_a_conversion_lift_uses_monthly_recurring_revenue() -> None:
    # 56,000,000 / 12 * 2.3 / 100
    result = run_performance_impact({"response_time_improvement_ms": 200, "conversion_rate_lift": "2.3"}, figures())
    assert result.basis == "conversion"
    assert result.monthly_revenue_impact == Decimal("107333.33")


def test_customer_experience_reproduces_the_spec_example() -> None:
    result = run_customer_experience({"response_time_change_ms": -200, "availability_change": "0.05"}, figures())
    assert result.satisfaction_impact == Decimal("5.5")
    assert result.churn_reduction == Decimal("0.0055")
    assert result.churn_value == Decimal("110000.00")
    assert result.as_dict()["churn_value"] == "110000.00"


def test_customer_experience_coefficients_are_configurable() -> None:
    result = customer_experience(
        figures=figures(satisfaction_per_100ms=Decimal(-5)),
        response_time_change_ms=Decimal(100),
        availability_change=Decimal(0),
    )
    assert result.satisfaction_impact == Decimal(-5)
    assert result.churn_value == Decimal("-100000.00")


def test_customer_experience_needs_at_least_one_change() -> None:
    with pytest.raises(EngineInputError) as caught:
        run_customer_experience({}, figures())
    assert "response_time_change_ms" in caught.value.errors


def hundred_a_minute() -> FinancialFigures:
    # ARR 52,560,000: MRR 4,380,000.
    return figures(
        annual_recurring_revenue=Decimal(52560000), customer_count=Decimal(500), customer_lifetime_value=Decimal(2000)
    )


@pytest.mark.parametrize(
    ("inputs", "impact", "basis"),
    [
        ({"response_time_improvement_ms": -50}, "-25000.00", "per_100ms"),  # slower: a loss, shown
        ({"response_time_improvement_ms": "0"}, "0.00", "per_100ms"),
        ({"response_time_improvement_ms": "12.5"}, "6250.00", "per_100ms"),
        ({"conversion_rate_lift": "0.5"}, "21900.00", "conversion"),  # 4,380,000 * 0.5 / 100
        ({"response_time_improvement_ms": 300, "conversion_rate_lift": "-0.1"}, "-4380.00", "conversion"),
    ],
)
def test_performance_impact_on_other_figures(inputs: dict[str, object], impact: str, basis: str) -> None:
    result = run_performance_impact(inputs, hundred_a_minute())
    assert result.as_dict() == {"monthly_revenue_impact": impact, "basis": basis}


def test_customer_experience_when_service_got_worse() -> None:
    # +150 ms and -0.02 points: 1.5 * -2.5 + -0.02 * 10 = -3.95 points
    result = run_customer_experience(
        {"response_time_change_ms": 150, "availability_change": "-0.02"}, hundred_a_minute()
    )
    assert result.satisfaction_impact == Decimal("-3.9500")
    assert result.churn_reduction == Decimal("-0.0040")  # -0.00395 shown to 4 places
    assert result.churn_value == Decimal("-3950.00")  # from the unrounded -0.00395 * 500 * 2,000
