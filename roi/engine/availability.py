"""availability_economics: what an availability target costs and whether another nine pays."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .figures import FinancialFigures
from .inputs import InputReader
from .money import (
    HUNDRED,
    MINUTES_PER_MONTH,
    MONTHS_PER_YEAR,
    ONE,
    EngineResult,
    exact,
    round_money,
    round_rate,
)

METHOD = "availability_economics"
METHOD_VERSION = 1

INVEST = "invest"
HOLD = "hold"
NINE_FACTOR = Decimal(10)  # one more nine allows a tenth of the downtime
INPUTS = ("current_target", "cost_per_9")


@dataclass(frozen=True, slots=True)
class AvailabilityEconomics(EngineResult):
    """Downtime allowed by a target, its monthly cost, and the case for the next nine."""

    current_target: Decimal
    allowed_downtime_minutes_per_month: Decimal
    downtime_cost_per_month: Decimal
    next_nine_target: Decimal
    next_nine_annual_value: Decimal
    cost_per_9: Decimal
    recommendation: str


@exact
def downtime_minutes_allowed(availability_percent: Decimal) -> Decimal:
    """The minutes an average month may be down at `availability_percent` (99.9: 43.8), unrounded."""
    return (ONE - availability_percent / HUNDRED) * MINUTES_PER_MONTH


@exact
def availability_economics(
    *,
    figures: FinancialFigures,
    current_target: Decimal,
    cost_per_9: Decimal | None = None,
) -> AvailabilityEconomics:
    """Monthly downtime cost at a target and whether the next nine is worth its price.

    "The next nine" cuts allowed downtime tenfold (99.9 → 99.99, 99.95 → 99.995), so
    it saves nine tenths of today's downtime cost.
    """
    price = figures.cost_per_9 if cost_per_9 is None else cost_per_9
    unavailable = ONE - current_target / HUNDRED
    allowed = downtime_minutes_allowed(current_target)
    cost_now = allowed * figures.revenue_per_minute
    next_unavailable = unavailable / NINE_FACTOR
    cost_next = next_unavailable * MINUTES_PER_MONTH * figures.revenue_per_minute
    annual_value = round_money(MONTHS_PER_YEAR * (cost_now - cost_next))
    return AvailabilityEconomics(
        current_target=round_rate(current_target),
        allowed_downtime_minutes_per_month=round_rate(allowed),
        downtime_cost_per_month=round_money(cost_now),
        next_nine_target=round_rate((ONE - next_unavailable) * HUNDRED),
        next_nine_annual_value=annual_value,
        cost_per_9=round_money(price),
        # Decided on the shown, rounded figure so the advice never contradicts the number.
        recommendation=INVEST if annual_value > price else HOLD,
    )


def run(inputs: Mapping[str, Any], figures: FinancialFigures) -> AvailabilityEconomics:
    """Parse flat inputs and run ``availability_economics``; the target defaults to the KPI."""
    reader = InputReader(inputs, allowed=INPUTS)
    target = reader.decimal("current_target", default=figures.availability_target, maximum=HUNDRED)
    price = reader.optional_decimal("cost_per_9")
    reader.finish()
    return availability_economics(figures=figures, current_target=target, cost_per_9=price)
