"""availability_economics: the spec's 99.9 % example and the invest/hold decision."""

from decimal import Decimal

import pytest

from roi.engine import METHODS, FinancialFigures
from roi.engine.availability import availability_economics


def figures() -> FinancialFigures:
    return FinancialFigures(annual_recurring_revenue=Decimal(56000000))


def test_three_nines_hold() -> None:
    result = METHODS["availability_economics"].run({"current_target": "99.9"}, figures())
    assert result.allowed_downtime_minutes_per_month == Decimal("43.8")
    assert result.downtime_cost_per_month == Decimal("4666.67")
    assert result.next_nine_target == Decimal("99.99")
    assert result.next_nine_annual_value == Decimal("50400.00")
    assert result.recommendation == "hold"


def test_target_defaults_to_the_kpi() -> None:
    assert METHODS["availability_economics"].run({}, figures()).current_target == Decimal("99.9")


@pytest.mark.parametrize(
    ("target", "cost_per_9", "recommendation"),
    [
        (Decimal("99"), None, "invest"),
        (Decimal("99.9"), Decimal(50000), "invest"),
        (Decimal("99.9"), Decimal(50400), "hold"),
        (Decimal("99.99"), None, "hold"),
    ],
)
def test_recommendation(target: Decimal, cost_per_9: Decimal | None, recommendation: str) -> None:
    result = availability_economics(figures=figures(), current_target=target, cost_per_9=cost_per_9)
    assert result.recommendation == recommendation


def test_downtime_cost_equals_unavailability_times_mrr() -> None:
    result = availability_economics(figures=figures(), current_target=Decimal("99.5"))
    assert result.downtime_cost_per_month == Decimal("23333.33")  # 0.005 * 4,666,666.67
