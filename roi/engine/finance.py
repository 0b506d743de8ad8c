"""The dashboards' money maths: ROI, value per unit of cost, run-rates, budget variance.

Every dashboard figure set (the overview's fiscal year to date, the trends' running totals,
the comparative breakdown, the budget page, each investment against its case) computes
with these, so a figure means the same wherever it shows. The selectors pick the months
and read the rollups; nothing here knows about months, tenants or the database.

Amounts stay unrounded: the caller rounds each shown figure once (`round_money`). Only the
ratios (`percent`, `value_per_cost`) are rounded here, as they are defined rounded.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from .cash_flows import payback
from .money import HUNDRED, MONTHS_PER_YEAR, ZERO, exact, round_money, round_rate


@exact
def percent(part: Decimal, whole: Decimal) -> Decimal | None:
    """`part` as a percentage of `whole`, to 4 places; None when `whole` is zero (undefined)."""
    return None if not whole else round_rate(part / whole * HUNDRED)


def roi_percent(value: Decimal, cost: Decimal) -> Decimal | None:
    """Return on cost in percent, `(value - cost) / cost`; None without cost.

    The one ROI formula: the overview's fiscal year to date, the trends' running ROI, the
    comparative rows and each investment to date all use it.
    """
    return percent(value - cost, cost)


@exact
def value_per_cost(value: Decimal, cost: Decimal) -> Decimal | None:
    """What each unit of cost brought back (2.50: 2.50 of value per 1 of cost), to the cent; None without cost."""
    return round_money(value / cost) if cost else None


@exact
def mean(amounts: Sequence[Decimal]) -> Decimal:
    """The mean of `amounts` (a run-rate, a monthly mean), zero when there are none."""
    return sum(amounts, ZERO) / len(amounts) if amounts else ZERO


@dataclass(frozen=True, slots=True)
class Spread:
    """The mean of some counts and their population standard deviation, unrounded."""

    mean: Decimal
    sigma: Decimal


@exact
def spread(counts: Sequence[int]) -> Spread:
    """How `counts` (say, incidents a week) spread around their mean; zero for none."""
    if not counts:
        return Spread(ZERO, ZERO)
    average = Decimal(sum(counts)) / len(counts)
    variance = sum(((Decimal(n) - average) ** 2 for n in counts), ZERO) / len(counts)
    return Spread(average, variance.sqrt())


@exact
def mean_of_sum(total: Decimal | None, count: int | None) -> Decimal | None:
    """A mean kept as a sum and a count beside it (a rollup's); None when nothing was counted."""
    return (total or ZERO) / count if count else None


@dataclass(frozen=True, slots=True)
class ValueAndCost:
    """Value against cost over some months, unrounded, with the ratios they give."""

    value: Decimal
    cost: Decimal

    @property
    def net(self) -> Decimal:
        return self.value - self.cost

    @property
    def roi_percent(self) -> Decimal | None:
        return roi_percent(self.value, self.cost)

    @property
    def value_per_cost(self) -> Decimal | None:
        return value_per_cost(self.value, self.cost)


def value_and_cost(values: Iterable[Decimal], costs: Iterable[Decimal]) -> ValueAndCost:
    """Months' value and cost added up: a fiscal year to date, a period, a label's window."""
    return ValueAndCost(sum(values, ZERO), sum(costs, ZERO))


def running_totals(months: Iterable[tuple[Decimal, Decimal]]) -> list[ValueAndCost]:
    """Value and cost accumulated month by month from `(value, cost)` pairs (the trends' cumulative ROI)."""
    totals, value, cost = [], ZERO, ZERO
    for month_value, month_cost in months:
        value += month_value
        cost += month_cost
        totals.append(ValueAndCost(value, cost))
    return totals


# --- The IT budget against cost -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BudgetMonth:
    """One month of the fiscal year as the budget sees it.

    `actual` is the cost booked (None for a month not counted yet); `committed` the cost
    the investments' business cases commit in it; `current` marks this month, still filling.
    """

    committed: Decimal
    actual: Decimal | None
    current: bool = False


@dataclass(frozen=True, slots=True)
class BudgetMonthOutlook:
    """A month's budget, actual and forecast cost, and its variance (positive: under budget)."""

    budget: Decimal | None
    actual: Decimal | None
    forecast: Decimal | None
    variance: Decimal | None


@dataclass(frozen=True, slots=True)
class BudgetOutlook:
    """The fiscal year's budget against cost to date and against the forecast for the year, unrounded."""

    monthly_budget: Decimal | None
    months: tuple[BudgetMonthOutlook, ...]
    cost_to_date: Decimal
    budget_to_date: Decimal | None
    variance_to_date: Decimal | None
    budget_used_percent: Decimal | None
    forecast_year_cost: Decimal
    forecast_variance: Decimal | None
    forecast_used_percent: Decimal | None


@exact
def monthly_budget(annual_budget: Decimal) -> Decimal:
    """A fiscal year's budget spread evenly over its twelve months, unrounded."""
    return annual_budget / MONTHS_PER_YEAR


@exact
def budget_outlook(
    *, annual_budget: Decimal | None, months: Sequence[BudgetMonth], cloud_run_rate: Decimal
) -> BudgetOutlook:
    """The budget spread evenly over the year's months, against actual cost and the forecast.

    A month not counted yet is forecast at its committed cost plus the cloud run-rate; this
    month at the larger of its cost to date and that figure. A month's variance is against
    its forecast where it has one, else its actual. Percentages are of the annual budget
    (None without one, or when it is zero).
    """
    monthly = None if annual_budget is None else monthly_budget(annual_budget)
    outlook = []
    spent = forecast_total = budget_to_date = ZERO
    for month in months:
        forecast = None
        if month.current:
            forecast = max(month.actual or ZERO, month.committed + cloud_run_rate)
        elif month.actual is None:
            forecast = month.committed + cloud_run_rate
        expected = forecast if forecast is not None else month.actual or ZERO
        if month.actual is not None:
            spent += month.actual
            if monthly is not None:
                budget_to_date += monthly
        forecast_total += expected
        variance = None if monthly is None else monthly - expected
        outlook.append(BudgetMonthOutlook(monthly, month.actual, forecast, variance))
    has_budget = annual_budget is not None
    return BudgetOutlook(
        monthly_budget=monthly,
        months=tuple(outlook),
        cost_to_date=spent,
        budget_to_date=budget_to_date if has_budget else None,
        variance_to_date=budget_to_date - spent if has_budget else None,
        budget_used_percent=percent(spent, annual_budget) if annual_budget else None,
        forecast_year_cost=forecast_total,
        forecast_variance=annual_budget - forecast_total if annual_budget is not None else None,
        forecast_used_percent=percent(forecast_total, annual_budget) if annual_budget else None,
    )


# --- An investment against its business case ------------------------------------------


@dataclass(frozen=True, slots=True)
class InvestmentToDate:
    """What an investment cost and brought since it started, against what its case promised, unrounded."""

    cost: Decimal
    value: Decimal
    promised: Decimal
    roi_percent: Decimal | None
    promised_roi_percent: Decimal | None
    payback_months: Decimal | None  # None before its first month, or while not paid back

    @property
    def value_gap(self) -> Decimal:
        return self.value - self.promised


@exact
def investment_to_date(
    *,
    upfront_cost: Decimal,
    monthly_cost: Decimal,
    promised_monthly_benefit: Decimal,
    month_costs: Sequence[Decimal],
    month_values: Sequence[Decimal],
) -> InvestmentToDate:
    """An investment over its elapsed months: `month_costs` booked and `month_values` attributed, month by month.

    Payback is the engine's `payback` on what happened: the upfront cost at month 0, then
    each month's value less the monthly cost.
    """
    elapsed = len(month_values)
    cost, value = sum(month_costs, ZERO), sum(month_values, ZERO)
    promised = promised_monthly_benefit * elapsed
    flows = [-upfront_cost, *(amount - monthly_cost for amount in month_values)]
    return InvestmentToDate(
        cost=cost,
        value=value,
        promised=promised,
        roi_percent=roi_percent(value, cost),
        promised_roi_percent=roi_percent(promised, cost),
        payback_months=payback(flows) if elapsed else None,
    )
