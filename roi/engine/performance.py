"""performance_impact and customer_experience: what faster, more available service is worth."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .figures import FinancialFigures
from .inputs import InputReader
from .money import HUNDRED, ZERO, EngineResult, exact, round_money, round_rate

METHOD = "performance_impact"
METHOD_VERSION = 1
CUSTOMER_EXPERIENCE_METHOD = "customer_experience"
CUSTOMER_EXPERIENCE_METHOD_VERSION = 1

BASIS_PER_100MS = "per_100ms"
BASIS_CONVERSION = "conversion"
PERFORMANCE_INPUTS = ("response_time_improvement_ms", "conversion_rate_lift")
CUSTOMER_EXPERIENCE_INPUTS = ("response_time_change_ms", "availability_change")


@dataclass(frozen=True, slots=True)
class PerformanceImpact(EngineResult):
    """Monthly revenue effect of a response-time change; ``basis`` names the formula used."""

    monthly_revenue_impact: Decimal
    basis: str


@dataclass(frozen=True, slots=True)
class CustomerExperience(EngineResult):
    """Satisfaction points, churn reduction and its value for a latency/availability change."""

    satisfaction_impact: Decimal
    churn_reduction: Decimal
    churn_value: Decimal


@exact
def performance_impact(
    *,
    figures: FinancialFigures,
    response_time_improvement_ms: Decimal = ZERO,
    conversion_rate_lift: Decimal | None = None,
) -> PerformanceImpact:
    """Monthly revenue impact of a response-time improvement.

    Uses the measured conversion lift when there is one (it is evidence), else the
    tenant's per-100 ms KPI; a negative improvement (slower) gives a negative impact.
    """
    if conversion_rate_lift is not None:
        impact = figures.monthly_recurring_revenue * conversion_rate_lift / HUNDRED
        basis = BASIS_CONVERSION
    else:
        impact = response_time_improvement_ms / HUNDRED * figures.revenue_impact_per_100ms
        basis = BASIS_PER_100MS
    return PerformanceImpact(monthly_revenue_impact=round_money(impact), basis=basis)


@exact
def customer_experience(
    *,
    figures: FinancialFigures,
    response_time_change_ms: Decimal,
    availability_change: Decimal,
) -> CustomerExperience:
    """The brief's satisfaction and churn model, with its coefficients as KPI settings.

    ``response_time_change_ms`` is positive when slower; ``availability_change`` is in
    percentage points.
    """
    satisfaction = (
        response_time_change_ms / HUNDRED * figures.satisfaction_per_100ms
        + availability_change * figures.satisfaction_per_availability_point
    )
    churn_reduction = satisfaction * figures.churn_reduction_per_satisfaction_point
    churn_value = churn_reduction * figures.customer_count * figures.customer_lifetime_value
    return CustomerExperience(
        satisfaction_impact=round_rate(satisfaction),
        churn_reduction=round_rate(churn_reduction),
        churn_value=round_money(churn_value),
    )


def run(inputs: Mapping[str, Any], figures: FinancialFigures) -> PerformanceImpact:
    """Parse flat inputs and run ``performance_impact``."""
    reader = InputReader(inputs, allowed=PERFORMANCE_INPUTS)
    reader.declare_alternatives(("response_time_improvement_ms",), ("conversion_rate_lift",), exclusive=False)
    lift = reader.optional_decimal("conversion_rate_lift", allow_negative=True)
    improvement = reader.decimal("response_time_improvement_ms", required=lift is None, allow_negative=True)
    reader.finish()
    return performance_impact(figures=figures, response_time_improvement_ms=improvement, conversion_rate_lift=lift)


def run_customer_experience(inputs: Mapping[str, Any], figures: FinancialFigures) -> CustomerExperience:
    """Parse flat inputs and run ``customer_experience``."""
    reader = InputReader(inputs, allowed=CUSTOMER_EXPERIENCE_INPUTS)
    reader.declare_alternatives(("response_time_change_ms",), ("availability_change",), exclusive=False)
    change = reader.decimal("response_time_change_ms", default=ZERO, allow_negative=True)
    availability = reader.decimal("availability_change", default=ZERO, allow_negative=True)
    if not reader.has("response_time_change_ms") and not reader.has("availability_change"):
        reader.add_error("response_time_change_ms", "or availability_change is required")
    reader.finish()
    return customer_experience(figures=figures, response_time_change_ms=change, availability_change=availability)
