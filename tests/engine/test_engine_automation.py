"""automation_value: the brief's monthly figure corrected, and negative savings reported."""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from roi.engine import METHODS, FinancialFigures
from roi.engine.automation import METHOD, METHOD_VERSION, AutomationValue, automation_value


def run_automation_value(inputs: Mapping[str, Any], figures: FinancialFigures) -> AutomationValue:
    """The registry's automation_value, its result read as the method's own type."""
    result = METHODS["automation_value"].run(inputs, figures)
    assert isinstance(result, AutomationValue)
    return result


def figures(**changes: object) -> FinancialFigures:
    values: dict[str, object] = {
        "annual_recurring_revenue": Decimal(56000000),
        "it_staff_hourly_rate": Decimal(75),
        "cost_per_error": Decimal(200),
        "compliance_value_per_check": Decimal(1000),
    }
    values.update(changes)
    return FinancialFigures(**values)  # type: ignore[arg-type]


def test_method_is_named_and_versioned() -> None:
    assert (METHOD, METHOD_VERSION) == ("automation_value", 1)


def test_the_briefs_month_is_worth_4000_not_4500() -> None:
    # given 40 hours saved at 75 and 12,000 a year of compliance (1,000 a month, one check)
    result = run_automation_value(
        {"manual_time_equivalent": 40 * 3600, "execution_time": 0, "compliance_checks": 1}, figures()
    )
    assert result.cost_savings == Decimal("3000.00")
    assert result.compliance_value == Decimal("1000.00")
    assert result.total_value == Decimal("4000.00")


@pytest.mark.parametrize(
    ("manual", "execution", "runs", "hours", "savings"),
    [
        (Decimal(3600), Decimal(60), Decimal(1), Decimal("0.9833"), Decimal("73.75")),
        (Decimal(900), Decimal(30), Decimal(100), Decimal("24.1667"), Decimal("1812.50")),
        (Decimal(60), Decimal(120), Decimal(10), Decimal("-0.1667"), Decimal("-12.50")),  # slower: reported
    ],
)
def test_time_and_cost_savings(
    manual: Decimal, execution: Decimal, runs: Decimal, hours: Decimal, savings: Decimal
) -> None:
    result = automation_value(figures=figures(), manual_time_equivalent=manual, execution_time=execution, runs=runs)
    assert result.time_saved_hours == hours
    assert result.cost_savings == savings


def test_errors_avoided_are_valued_at_cost_per_error() -> None:
    result = automation_value(
        figures=figures(), manual_time_equivalent=Decimal(0), execution_time=Decimal(0), errors_avoided=Decimal(7)
    )
    assert result.error_reduction_value == Decimal("1400.00")
    assert result.total_value == Decimal("1400.00")


amounts = st.decimals(min_value=0, max_value=10**7, places=3)


@given(
    manual=amounts,
    execution=amounts,
    runs=st.integers(0, 10**5),
    errors=st.integers(0, 10**4),
    checks=st.integers(0, 10**4),
)
def test_total_is_the_sum_of_its_parts(
    manual: Decimal, execution: Decimal, runs: int, errors: int, checks: int
) -> None:
    result = automation_value(
        figures=figures(),
        manual_time_equivalent=manual,
        execution_time=execution,
        runs=Decimal(runs),
        errors_avoided=Decimal(errors),
        compliance_checks=Decimal(checks),
    )
    parts = result.cost_savings + result.error_reduction_value + result.compliance_value
    assert abs(result.total_value - parts) <= Decimal("0.01")


def test_other_figures_worked_by_hand() -> None:
    figures_ = figures(
        it_staff_hourly_rate=Decimal(80), cost_per_error=Decimal(250), compliance_value_per_check=Decimal(30)
    )
    result = run_automation_value(
        {
            "manual_time_equivalent": "1800",
            "execution_time": "60",
            "runs": "25",
            "errors_avoided": 3,
            "compliance_checks": 4,
        },
        figures_,
    )
    assert result.time_saved_hours == Decimal("12.0833")  # 25 * 1,740 s / 3,600
    assert result.cost_savings == Decimal("966.67")  # 12.08333... * 80
    assert result.error_reduction_value == Decimal("750.00")
    assert result.compliance_value == Decimal("120.00")
    assert result.total_value == Decimal("1836.67")  # summed unrounded: 1,836.666...


def test_a_slower_automation_is_a_reported_loss() -> None:
    result = run_automation_value(
        {"manual_time_equivalent": 60, "execution_time": 90, "runs": 10}, figures(it_staff_hourly_rate=Decimal(80))
    )
    assert (result.time_saved_hours, result.cost_savings, result.total_value) == (
        Decimal("-0.0833"),
        Decimal("-6.67"),
        Decimal("-6.67"),
    )
