"""investment_roi: ROI, NPV, payback and IRR of an investment case.

Two input forms: monthly (``upfront_cost``, ``monthly_cost``, ``monthly_benefit`` or a
``benefits`` list, ``months``) and explicit ``cash_flows`` per year or month, as business
cases and Forrester TEI studies are written. Risk adjustment follows the TEI habit:
benefits are reduced by ``benefit_risk_adjustment``, costs raised by ``cost_risk_adjustment``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .cash_flows import internal_rate, monthly_rate, payback, present_value
from .figures import FinancialFigures
from .inputs import InputReader
from .money import (
    HUNDRED,
    ONE,
    ZERO,
    EngineInputError,
    EngineResult,
    exact,
    round_money,
    round_rate,
    round_rate_or_none,
)

METHOD = "investment_roi"
# v2: an IRR outside the grid below is searched for instead of reported as null (v1), so
# the IRR is null only when the flows never change sign or no rate at all zeroes the NPV.
METHOD_VERSION = 2

DEFAULT_ANNUAL_DISCOUNT_RATE = Decimal("0.10")
MAX_DISCOUNT_RATE = ONE
MAX_MONTHS = 600
MAX_PERIODS = 601  # index 0 plus 600 months
PERIOD_YEAR = "year"
PERIOD_MONTH = "month"

MONTHLY_INPUTS = (
    "upfront_cost",
    "monthly_cost",
    "monthly_benefit",
    "benefits",
    "months",
    "annual_discount_rate",
    "benefit_risk_adjustment",
    "cost_risk_adjustment",
)
CASH_FLOW_INPUTS = (
    "cash_flows",
    "annual_discount_rate",
    "benefit_risk_adjustment",
    "cost_risk_adjustment",
)


@dataclass(frozen=True, slots=True)
class InvestmentRoi(EngineResult):
    """Monthly-form result; ``None`` marks a figure that is undefined (e.g. no payback)."""

    total_benefits: Decimal
    total_costs: Decimal
    roi_percent: Decimal | None
    npv: Decimal
    pv_benefits: Decimal
    pv_costs: Decimal
    roi_percent_discounted: Decimal | None
    payback_months: Decimal | None
    irr_annual: Decimal | None


@dataclass(frozen=True, slots=True)
class CashFlowRoi(EngineResult):
    """Explicit cash-flow result; payback is counted in ``period`` units."""

    period: str
    total_benefits: Decimal
    total_costs: Decimal
    roi_percent: Decimal | None
    npv: Decimal
    pv_benefits: Decimal
    pv_costs: Decimal
    roi_percent_discounted: Decimal | None
    payback_periods: Decimal | None
    irr_annual: Decimal | None


def _ratio_percent(numerator: Decimal, denominator: Decimal) -> Decimal | None:
    return None if denominator.is_zero() else numerator / denominator * HUNDRED


@exact
def investment_roi(
    *,
    upfront_cost: Decimal,
    monthly_cost: Decimal,
    months: int,
    monthly_benefit: Decimal | None = None,
    benefits: Sequence[Decimal] | None = None,
    annual_discount_rate: Decimal = DEFAULT_ANNUAL_DISCOUNT_RATE,
    benefit_risk_adjustment: Decimal = ZERO,
    cost_risk_adjustment: Decimal = ZERO,
    method_version: int = METHOD_VERSION,
) -> InvestmentRoi:
    """ROI, NPV, payback and IRR of a monthly investment case.

    Undiscounted ROI is what the brief asks for; the discounted, risk-adjusted figures
    are what a CFO compares across cases, so both are given.
    """
    if (monthly_benefit is None) == (benefits is None):
        raise EngineInputError("monthly_benefit", "give either monthly_benefit or benefits")
    if benefits is not None and len(benefits) != months:
        raise EngineInputError("benefits", f"must have one value per month ({months})")
    if not 1 <= months <= MAX_MONTHS:
        raise EngineInputError("months", f"must be between 1 and {MAX_MONTHS}")
    benefit_factor = ONE - benefit_risk_adjustment
    cost_factor = ONE + cost_risk_adjustment
    raw_benefits = list(benefits) if benefits is not None else [monthly_benefit or ZERO] * months
    benefit_flows = [ZERO] + [benefit * benefit_factor for benefit in raw_benefits]
    cost_flows = [upfront_cost * cost_factor] + [monthly_cost * cost_factor] * months
    return _evaluate_monthly(
        benefit_flows=benefit_flows,
        cost_flows=cost_flows,
        rate=monthly_rate(annual_discount_rate),
        method_version=method_version,
    )


def _evaluate_monthly(
    *, benefit_flows: list[Decimal], cost_flows: list[Decimal], rate: Decimal, method_version: int
) -> InvestmentRoi:
    evaluation = _evaluate(benefit_flows=benefit_flows, cost_flows=cost_flows, rate=rate, method_version=method_version)
    irr = evaluation.irr
    return InvestmentRoi(
        total_benefits=round_money(evaluation.total_benefits),
        total_costs=round_money(evaluation.total_costs),
        roi_percent=round_rate_or_none(evaluation.roi_percent),
        npv=round_money(evaluation.npv),
        pv_benefits=round_money(evaluation.pv_benefits),
        pv_costs=round_money(evaluation.pv_costs),
        roi_percent_discounted=round_rate_or_none(evaluation.roi_percent_discounted),
        payback_months=round_rate_or_none(evaluation.payback),
        irr_annual=None if irr is None else round_rate((ONE + irr) ** 12 - ONE),
    )


@dataclass(frozen=True, slots=True)
class _Evaluation:
    total_benefits: Decimal
    total_costs: Decimal
    roi_percent: Decimal | None
    npv: Decimal
    pv_benefits: Decimal
    pv_costs: Decimal
    roi_percent_discounted: Decimal | None
    payback: Decimal | None
    irr: Decimal | None


def _evaluate(
    *, benefit_flows: list[Decimal], cost_flows: list[Decimal], rate: Decimal, method_version: int
) -> _Evaluation:
    net_flows = [benefit - cost for benefit, cost in zip(benefit_flows, cost_flows, strict=True)]
    total_benefits = sum(benefit_flows, ZERO)
    total_costs = sum(cost_flows, ZERO)
    pv_benefits = present_value(benefit_flows, rate)
    pv_costs = present_value(cost_flows, rate)
    npv = pv_benefits - pv_costs
    return _Evaluation(
        total_benefits=total_benefits,
        total_costs=total_costs,
        roi_percent=_ratio_percent(total_benefits - total_costs, total_costs),
        npv=npv,
        pv_benefits=pv_benefits,
        pv_costs=pv_costs,
        roi_percent_discounted=_ratio_percent(npv, pv_costs),
        payback=payback(net_flows),
        irr=internal_rate(net_flows, beyond_grid=method_version >= 2),
    )


@exact
def cash_flow_roi(
    *,
    period: str,
    costs: Sequence[Decimal],
    benefits: Sequence[Decimal],
    annual_discount_rate: Decimal = DEFAULT_ANNUAL_DISCOUNT_RATE,
    benefit_risk_adjustment: Decimal = ZERO,
    cost_risk_adjustment: Decimal = ZERO,
    method_version: int = METHOD_VERSION,
) -> CashFlowRoi:
    """NPV, discounted ROI and payback of explicit per-period cash flows.

    Index 0 is the initial period and is not discounted; index t is discounted by
    (1 + rate per period)^t, the convention of TEI studies and most business cases.
    """
    if period not in (PERIOD_YEAR, PERIOD_MONTH):
        raise EngineInputError("cash_flows.period", "must be year or month")
    if len(costs) != len(benefits):
        raise EngineInputError("cash_flows.benefits", "must have as many items as costs")
    if not 1 <= len(costs) <= MAX_PERIODS:
        raise EngineInputError("cash_flows.costs", f"must have between 1 and {MAX_PERIODS} items")
    rate = annual_discount_rate if period == PERIOD_YEAR else monthly_rate(annual_discount_rate)
    evaluation = _evaluate(
        benefit_flows=[benefit * (ONE - benefit_risk_adjustment) for benefit in benefits],
        cost_flows=[cost * (ONE + cost_risk_adjustment) for cost in costs],
        rate=rate,
        method_version=method_version,
    )
    irr = evaluation.irr
    periods_per_year = 1 if period == PERIOD_YEAR else 12
    return CashFlowRoi(
        period=period,
        total_benefits=round_money(evaluation.total_benefits),
        total_costs=round_money(evaluation.total_costs),
        roi_percent=round_rate_or_none(evaluation.roi_percent),
        npv=round_money(evaluation.npv),
        pv_benefits=round_money(evaluation.pv_benefits),
        pv_costs=round_money(evaluation.pv_costs),
        roi_percent_discounted=round_rate_or_none(evaluation.roi_percent_discounted),
        payback_periods=round_rate_or_none(evaluation.payback),
        irr_annual=None if irr is None else round_rate((ONE + irr) ** periods_per_year - ONE),
    )


def read_common(reader: InputReader) -> tuple[Decimal, Decimal, Decimal]:
    """Read the discount rate and the two risk adjustments shared by both forms."""
    rate = reader.decimal("annual_discount_rate", default=DEFAULT_ANNUAL_DISCOUNT_RATE, maximum=MAX_DISCOUNT_RATE)
    benefit_risk = reader.share("benefit_risk_adjustment", default=ZERO)
    cost_risk = reader.share("cost_risk_adjustment", default=ZERO)
    return rate, benefit_risk, cost_risk


def read_months(reader: InputReader, benefits: list[Decimal] | None) -> int:
    """Read ``months``, which defaults to the length of a ``benefits`` list."""
    default = len(benefits) if benefits is not None else None
    months = reader.integer("months", default=default, minimum=1, maximum=MAX_MONTHS)
    if benefits is not None and reader.has("months") and len(benefits) != months:
        reader.add_error("benefits", f"must have one value per month ({months})")
    return months


def run(inputs: Mapping[str, Any], figures: FinancialFigures) -> InvestmentRoi | CashFlowRoi:
    """Parse flat inputs (monthly form, or ``cash_flows``) and run the current version."""
    return _run(inputs, METHOD_VERSION)


def run_v1(inputs: Mapping[str, Any], figures: FinancialFigures) -> InvestmentRoi | CashFlowRoi:
    """Version 1, kept so records made with it still recompute: an IRR outside the
    -99.99 % to 1,000,000 % a period grid is null."""
    return _run(inputs, 1)


def _run(inputs: Mapping[str, Any], method_version: int) -> InvestmentRoi | CashFlowRoi:
    if isinstance(inputs, Mapping) and "cash_flows" in inputs:
        return _run_cash_flows(inputs, method_version)
    reader = InputReader(inputs, allowed=MONTHLY_INPUTS)
    # `months` comes with monthly_benefit; a benefits list has one value per month.
    reader.declare_alternatives(("monthly_benefit", "months"), ("benefits",), exclusive=True)
    upfront = reader.decimal("upfront_cost", required=True)
    monthly_cost = reader.decimal("monthly_cost", default=ZERO)
    benefits = reader.decimal_list("benefits", min_length=1, max_length=MAX_MONTHS, required=False)
    monthly_benefit = reader.optional_decimal("monthly_benefit")
    if (monthly_benefit is None) == (benefits is None) and "benefits" not in reader.errors:
        reader.add_error("monthly_benefit", "give either monthly_benefit or benefits")
    months = read_months(reader, benefits)
    rate, benefit_risk, cost_risk = read_common(reader)
    reader.finish()
    return investment_roi(
        upfront_cost=upfront,
        monthly_cost=monthly_cost,
        months=months,
        monthly_benefit=monthly_benefit,
        benefits=benefits,
        annual_discount_rate=rate,
        benefit_risk_adjustment=benefit_risk,
        cost_risk_adjustment=cost_risk,
        method_version=method_version,
    )


def _run_cash_flows(inputs: Mapping[str, Any], method_version: int) -> CashFlowRoi:
    reader = InputReader(inputs, allowed=CASH_FLOW_INPUTS)
    rate, benefit_risk, cost_risk = read_common(reader)
    raw = inputs.get("cash_flows")
    if not isinstance(raw, Mapping):
        reader.add_error("cash_flows", "must be an object with period, costs and benefits")
        reader.finish()
        raise AssertionError("unreachable")  # finish() raised
    flows = InputReader(raw, allowed=("period", "costs", "benefits"))
    period = flows.choice("period", (PERIOD_YEAR, PERIOD_MONTH), required=True)
    costs = flows.decimal_list("costs", min_length=1, max_length=MAX_PERIODS)
    benefits = flows.decimal_list("benefits", min_length=1, max_length=MAX_PERIODS)
    if costs is not None and benefits is not None and len(costs) != len(benefits):
        flows.add_error("benefits", "must have as many items as costs")
    for name, messages in flows.errors.items():
        for message in messages:
            reader.add_error(f"cash_flows.{name}", message)
    reader.finish()
    assert period is not None and costs is not None and benefits is not None
    return cash_flow_roi(
        period=period,
        costs=costs,
        benefits=benefits,
        annual_discount_rate=rate,
        benefit_risk_adjustment=benefit_risk,
        cost_risk_adjustment=cost_risk,
        method_version=method_version,
    )
