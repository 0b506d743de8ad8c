"""availability_economics: the spec's 99.9 % example and the invest/hold decision."""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pytest

from roi.engine import METHODS, FinancialFigures
from roi.engine.availability import AvailabilityEconomics, availability_economics, downtime_minutes_allowed
from roi.engine.money import EngineInputError


def run_availability_economics(inputs: Mapping[str, Any], figures: FinancialFigures) -> AvailabilityEconomics:
    """The registry's availability_economics, its result read as the method's own type."""
    result = METHODS["availability_economics"].run(inputs, figures)
    assert isinstance(result, AvailabilityEconomics)
    return result


def figures() -> FinancialFigures:
    return FinancialFigures(annual_recurring_revenue=Decimal(56000000))


def test_three_nines_hold() -> None:
    result = run_availability_economics({"current_target": "99.9"}, figures())
    assert result.allowed_downtime_minutes_per_month == Decimal("43.8")
    assert result.downtime_cost_per_month == Decimal("4666.67")
    assert result.next_nine_target == Decimal("99.99")
    assert result.next_nine_annual_value == Decimal("50400.00")
    assert result.recommendation == "hold"


def test_target_defaults_to_the_kpi() -> None:
    assert run_availability_economics({}, figures()).current_target == Decimal("99.9")


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


# The "nines" table on a 43,800-minute month (a 365-day year / 12), for a business earning
# exactly 100 a minute (ARR 52,560,000, MRR 4,380,000); the next nine cuts downtime tenfold.
@pytest.mark.parametrize(
    ("target", "minutes", "monthly_cost", "next_target", "annual_value", "recommendation"),
    [
        ("0", "43800", "4380000.00", "90", "47304000.00", "invest"),
        ("99", "438", "43800.00", "99.9", "473040.00", "invest"),
        ("99.5", "219", "21900.00", "99.95", "236520.00", "invest"),
        ("99.9", "43.8", "4380.00", "99.99", "47304.00", "hold"),
        ("99.95", "21.9", "2190.00", "99.995", "23652.00", "hold"),
        ("99.99", "4.38", "438.00", "99.999", "4730.40", "hold"),
        ("99.999", "0.438", "43.80", "99.9999", "473.04", "hold"),
        ("100", "0", "0.00", "100", "0.00", "hold"),
    ],
)
def test_the_nines_table(
    target: str, minutes: str, monthly_cost: str, next_target: str, annual_value: str, recommendation: str
) -> None:
    figures = FinancialFigures(annual_recurring_revenue=Decimal(52560000))
    result = run_availability_economics({"current_target": target}, figures)
    assert result.allowed_downtime_minutes_per_month == Decimal(minutes)
    # a year of allowed downtime is twelve months of it: 99.9 % is 525.6 minutes (8.76 hours)
    assert result.allowed_downtime_minutes_per_month * 12 == (1 - Decimal(target) / 100) * 525600
    assert result.downtime_cost_per_month == Decimal(monthly_cost)
    assert result.next_nine_target == Decimal(next_target)
    assert result.next_nine_annual_value == Decimal(annual_value)
    assert result.recommendation == recommendation


@pytest.mark.parametrize(
    ("inputs", "field"),
    [
        ({"current_target": "100.0001"}, "current_target"),
        ({"current_target": -1}, "current_target"),
        ({"current_target": "NaN"}, "current_target"),
        ({"current_target": True}, "current_target"),
        ({"current_target": "99.9", "cost_per_9": -5}, "cost_per_9"),
        ({"current_target": "99.9", "cost_per_9": "1e16"}, "cost_per_9"),
    ],
)
def test_it_rejects_bad_input_naming_the_field(inputs: dict[str, object], field: str) -> None:
    with pytest.raises(EngineInputError) as caught:
        run_availability_economics(inputs, figures())
    assert field in caught.value.errors


@pytest.mark.parametrize(
    ("availability", "minutes"),
    [
        (Decimal("99.9"), Decimal("43.8")),
        (Decimal(100), Decimal(0)),
        (Decimal("99.99"), Decimal("4.38")),
        (Decimal(0), Decimal(43800)),
    ],
)
def test_downtime_allowed_is_the_unavailable_share_of_an_average_month(availability: Decimal, minutes: Decimal) -> None:
    assert downtime_minutes_allowed(availability) == minutes
