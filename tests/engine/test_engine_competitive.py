"""competitive_advantage: the brief's speed figures and DORA tiers."""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pytest

from roi.engine import METHODS, FinancialFigures
from roi.engine.competitive import (
    DORA_REPORT_YEAR,
    CompetitiveAdvantage,
    change_failure_rate_tier,
    deployment_frequency_tier,
    lead_time_tier,
    recovery_time_tier,
)
from roi.engine.money import EngineInputError


def run_competitive_advantage(inputs: Mapping[str, Any], figures: FinancialFigures) -> CompetitiveAdvantage:
    """The registry's competitive_advantage, its result read as the method's own type."""
    result = METHODS["competitive_advantage"].run(inputs, figures)
    assert isinstance(result, CompetitiveAdvantage)
    return result


def figures() -> FinancialFigures:
    return FinancialFigures(annual_recurring_revenue=Decimal(56000000), development_value_per_day=Decimal(2000))


def test_speed_score_and_time_to_market() -> None:
    result = run_competitive_advantage({"deployment_frequency": 8, "lead_time": 5, "recovery_time": 2}, figures())
    assert result.speed_advantage == Decimal(8)
    assert result.competitive_score == Decimal(80)
    assert result.time_to_market_value == Decimal("50000.00")  # (30 - 5) * 2,000
    assert result.change_failure_rate_tier is None
    assert result.dora_report_year == DORA_REPORT_YEAR == 2023


def test_score_is_capped_at_100_and_slow_lead_time_is_negative_value() -> None:
    result = run_competitive_advantage({"deployment_frequency": 60, "lead_time": 45, "recovery_time": 2}, figures())
    assert result.competitive_score == Decimal(100)
    assert result.time_to_market_value == Decimal("-30000.00")


@pytest.mark.parametrize(
    ("per_month", "tier"),
    [
        (Decimal(60), "elite"),
        (Decimal(30), "high"),
        (Decimal(5), "high"),
        (Decimal(4), "medium"),
        (Decimal(1), "medium"),
        (Decimal("0.5"), "low"),
    ],
)
def test_deployment_frequency_tiers(per_month: Decimal, tier: str) -> None:
    assert deployment_frequency_tier(per_month) == tier


@pytest.mark.parametrize(
    ("days", "tier"),
    [
        (Decimal("0.5"), "elite"),
        (Decimal(1), "high"),
        (Decimal(7), "high"),
        (Decimal(20), "medium"),
        (Decimal(45), "low"),
    ],
)
def test_lead_time_tiers(days: Decimal, tier: str) -> None:
    assert lead_time_tier(days) == tier


@pytest.mark.parametrize(
    ("hours", "tier"),
    [
        (Decimal("0.5"), "elite"),
        (Decimal(4), "high"),
        (Decimal(24), "medium"),
        (Decimal(168), "medium"),
        (Decimal(400), "low"),
    ],
)
def test_recovery_time_tiers(hours: Decimal, tier: str) -> None:
    assert recovery_time_tier(hours) == tier


@pytest.mark.parametrize(
    ("percent", "tier"),
    [(Decimal(3), "elite"), (Decimal(5), "elite"), (Decimal(8), "high"), (Decimal(15), "medium"), (Decimal(40), "low")],
)
def test_change_failure_rate_tiers(percent: Decimal, tier: str) -> None:
    assert change_failure_rate_tier(percent) == tier


# Boundaries of the 2023 Accelerate State of DevOps Report levels (elite / high / medium /
# low): deploys on demand (more than daily), daily to weekly, weekly to monthly; lead time
# under a day, a day to a week, a week to a month; recovery under an hour, under a day, a
# day to a week; change failure rate 5 %, 10 %, 15 % (low: 64 %).
@pytest.mark.parametrize(
    ("per_month", "tier"),
    [
        (Decimal("30.4167"), "elite"),  # just over daily (365/12 = 30.41666... a month)
        (Decimal("30.4166"), "high"),
        (Decimal(365) / 12, "high"),  # exactly daily is "between once per day and once per week"
        (Decimal(365) / 12 / 7, "high"),  # exactly weekly
        (Decimal("4.3452"), "medium"),  # just under weekly (4.34523...)
        (Decimal(1), "medium"),  # exactly monthly
        (Decimal("0.9999"), "low"),
        (Decimal(0), "low"),
    ],
)
def test_deployment_frequency_tier_boundaries(per_month: Decimal, tier: str) -> None:
    assert deployment_frequency_tier(per_month) == tier


@pytest.mark.parametrize(
    ("days", "tier"),
    [
        (Decimal(0), "elite"),
        (Decimal("0.9999"), "elite"),
        (Decimal(1), "high"),
        (Decimal(7), "high"),
        (Decimal("7.0001"), "medium"),
        (Decimal(30), "medium"),
        (Decimal("30.4166"), "medium"),
        (Decimal("30.4167"), "low"),  # beyond a month (365/12 days)
        (Decimal(180), "low"),
    ],
)
def test_lead_time_tier_boundaries(days: Decimal, tier: str) -> None:
    assert lead_time_tier(days) == tier


@pytest.mark.parametrize(
    ("hours", "tier"),
    [
        (Decimal("0.9999"), "elite"),
        (Decimal(1), "high"),
        (Decimal("23.9999"), "high"),
        (Decimal(24), "medium"),
        (Decimal(168), "medium"),
        (Decimal("168.0001"), "low"),
        (Decimal(24 * 30 * 6), "low"),
    ],
)
def test_recovery_time_tier_boundaries(hours: Decimal, tier: str) -> None:
    assert recovery_time_tier(hours) == tier


@pytest.mark.parametrize(
    ("percent", "tier"),
    [
        (Decimal(0), "elite"),
        (Decimal("5.0001"), "high"),
        (Decimal(10), "high"),
        (Decimal("10.0001"), "medium"),
        (Decimal("15.0001"), "low"),
        (Decimal(64), "low"),
        (Decimal(100), "low"),
    ],
)
def test_change_failure_rate_tier_boundaries(percent: Decimal, tier: str) -> None:
    assert change_failure_rate_tier(percent) == tier


def test_every_result_cites_the_report_year_and_tiers_all_four_keys() -> None:
    result = run_competitive_advantage(
        {"deployment_frequency": "45", "lead_time": "0.5", "recovery_time": "0.25", "change_failure_rate": "4"},
        FinancialFigures(annual_recurring_revenue=Decimal(1), development_value_per_day=Decimal(2000)),
    )
    assert result.dora_report_year == 2023
    assert {
        result.deployment_frequency_tier,
        result.lead_time_tier,
        result.recovery_time_tier,
        result.change_failure_rate_tier,
    } == {"elite"}
    assert result.speed_advantage == Decimal("45.0000")
    assert result.competitive_score == Decimal("100.0000")  # min(450, 100)
    assert result.time_to_market_value == Decimal("59000.00")  # (30 - 0.5) * 2,000


@pytest.mark.parametrize(
    ("inputs", "field"),
    [
        ({"lead_time": 1, "recovery_time": 1}, "deployment_frequency"),
        ({"deployment_frequency": 1, "lead_time": -1, "recovery_time": 1}, "lead_time"),
        ({"deployment_frequency": 1, "lead_time": 1, "recovery_time": "Infinity"}, "recovery_time"),
        (
            {"deployment_frequency": 1, "lead_time": 1, "recovery_time": 1, "change_failure_rate": 101},
            "change_failure_rate",
        ),
        ({"deployment_frequency": "many", "lead_time": 1, "recovery_time": 1}, "deployment_frequency"),
    ],
)
def test_it_rejects_bad_input_naming_the_field(inputs: dict[str, object], field: str) -> None:
    with pytest.raises(EngineInputError) as caught:
        run_competitive_advantage(inputs, FinancialFigures(annual_recurring_revenue=Decimal(1)))
    assert field in caught.value.errors
