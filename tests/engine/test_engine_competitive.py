"""competitive_advantage: the brief's speed figures and DORA tiers."""

from decimal import Decimal

import pytest

from roi.engine import METHODS, FinancialFigures
from roi.engine.competitive import (
    DORA_REPORT_YEAR,
    change_failure_rate_tier,
    deployment_frequency_tier,
    lead_time_tier,
    recovery_time_tier,
)


def figures() -> FinancialFigures:
    return FinancialFigures(annual_recurring_revenue=Decimal(56000000), development_value_per_day=Decimal(2000))


def test_speed_score_and_time_to_market() -> None:
    result = METHODS["competitive_advantage"].run(
        {"deployment_frequency": 8, "lead_time": 5, "recovery_time": 2}, figures()
    )
    assert result.speed_advantage == Decimal(8)
    assert result.competitive_score == Decimal(80)
    assert result.time_to_market_value == Decimal("50000.00")  # (30 - 5) * 2,000
    assert result.change_failure_rate_tier is None
    assert result.dora_report_year == DORA_REPORT_YEAR == 2023


def test_score_is_capped_at_100_and_slow_lead_time_is_negative_value() -> None:
    result = METHODS["competitive_advantage"].run(
        {"deployment_frequency": 60, "lead_time": 45, "recovery_time": 2}, figures()
    )
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
