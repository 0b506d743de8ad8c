"""Budget and investments: the fiscal year's IT budget against actual and forecast cost, and each
investment's ROI, payback and value to date against its business case, with its value at risk."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.db.models import Sum

from dashboards.selectors.figures import InvestmentCost, TenantFigures, tenant_figures
from governance.fiscal import add_months, fiscal_year_start, months_between
from roi.budgets import it_budget_get
from roi.engine import EngineInputError
from roi.engine.finance import BudgetMonth, budget_outlook, investment_to_date, mean
from roi.engine.money import ZERO, decimal_or_none, money_text
from roi.engine.risk import Triangular, value_at_risk
from roi.models import Investment, MonthlyRollup
from roi.selectors import VALUE_STREAMS

# The business case's monthly benefit as a three-point range for value at risk: cases
# fall short more often and further than they overshoot, so the range leans low.
BENEFIT_LOW = Decimal("0.5")
BENEFIT_HIGH = Decimal("1.2")
# A fixed seed and trial count: the same case always gives the same figure, and the
# value-at-risk calculator, given the same inputs, reproduces it and records it.
VAR_SEED = 20260101
VAR_TRIALS = 10_000


def investments_overview() -> dict[str, Any]:
    """The fiscal year's budget against actual and forecast cost by month, and each investment
    against its business case: what it promised by now, what it did, and its value at risk.

    Value is attributed by label: the value streams of the investment's department and
    product (where it names them) since the month it started.
    """
    data = tenant_figures(months_back=24)
    return {
        "currency": data.tenant.currency,
        **budget_against_cost(data),
        "investments": investments_against_case(data),
    }


def budget_against_cost(data: TenantFigures) -> dict[str, Any]:
    """This fiscal year's IT budget, month by month, beside actual cost to date and forecast cost.

    Actual cost is `TenantFigures.cost_in`, the definition the overview's fiscal-YTD cost
    uses. The forecast is each month's committed investment cost (upfront and monthly, from
    the business cases) plus imported cloud cost at its run-rate: the mean of the last
    three complete months that have any. This month shows its actual to date, and its
    forecast is the larger of that and the committed-plus-run-rate figure. For a closed
    period (`TenantFigures.closed_after`) every month up to its last is actual, the rest
    forecast.
    """
    fy_start = fiscal_year_start(data.today, data.tenant.fiscal_year_start_month)
    fy_months = months_between(fy_start, add_months(fy_start, 11))  # the fiscal year's twelve months
    budget = it_budget_get(fiscal_year=fy_start.year)
    annual = budget.annual_amount if budget else None
    recent = [m for m in (add_months(data.this_month, -n) for n in (1, 2, 3)) if m in data.cloud_costs]
    cloud_run_rate = mean([data.cloud_costs[m] for m in recent])
    zone = ZoneInfo(data.tenant.time_zone)
    outlook = budget_outlook(
        annual_budget=annual,
        months=[
            BudgetMonth(
                committed=sum((investment.cost_in(month, zone) for investment in data.investments), ZERO),
                actual=data.cost_in(month) if month <= data.last_counted_month else None,
                current=month == data.this_month and not data.closed,
            )
            for month in fy_months
        ],
        cloud_run_rate=cloud_run_rate,
    )
    months = [
        {
            "month": f"{month:%Y-%m}",
            "budget": money_text(figures.budget),
            "actual": money_text(figures.actual),
            "forecast": money_text(figures.forecast),
            # Positive: under budget. Against actual once the month is over, else its forecast.
            "variance": money_text(figures.variance),
            "past": month < data.this_month,
        }
        for month, figures in zip(fy_months, outlook.months, strict=True)
    ]
    return {
        "fiscal_year": fy_start.year,
        "fiscal_year_start": f"{fy_start:%Y-%m}",
        "fiscal_year_end": f"{fy_months[-1]:%Y-%m}",
        "this_month": f"{data.this_month:%Y-%m}",
        "budget": None
        if budget is None
        else {"annual": money_text(annual), "monthly": money_text(outlook.monthly_budget), "version": budget.version},
        "months": months,
        "cost_to_date": money_text(outlook.cost_to_date),
        "budget_to_date": money_text(outlook.budget_to_date),
        "variance_to_date": money_text(outlook.variance_to_date),
        "budget_used_percent": _text(outlook.budget_used_percent),
        "forecast_year_cost": money_text(outlook.forecast_year_cost),
        "forecast_variance": money_text(outlook.forecast_variance),
        "forecast_used_percent": _text(outlook.forecast_used_percent),
        "cloud_run_rate": money_text(cloud_run_rate),
        "cloud_run_rate_months": [f"{m:%Y-%m}" for m in sorted(recent)],
    }


def _text(ratio: Decimal | None) -> str | None:
    return None if ratio is None else str(ratio)


def _labelled_value() -> dict[tuple[date, str, str], Decimal]:
    """Value per month, department and product, from the rollups (one statement)."""
    labelled: dict[tuple[date, str, str], Decimal] = defaultdict(Decimal)
    rows = (
        MonthlyRollup.objects.filter(stream__in=VALUE_STREAMS)
        .values("month", "department", "product")
        .annotate(value=Sum("value"))
    )
    for row in rows:
        labelled[(row["month"], row["department"], row["product"])] += row["value"] or ZERO
    return labelled


def investments_against_case(data: TenantFigures) -> list[dict[str, Any]]:
    """Each investment against its business case, up to the last month `data` counts."""
    zone = ZoneInfo(data.tenant.time_zone)
    labelled = _labelled_value()
    rows = []
    for investment in Investment.objects.order_by("started_at"):
        local = investment.started_at.astimezone(zone)
        first = date(local.year, local.month, 1)
        elapsed = max(0, min(investment.months, len(months_between(first, data.last_counted_month))))
        schedule = InvestmentCost(
            investment.started_at, investment.months, investment.upfront_cost, investment.monthly_cost
        )
        value_by_month: defaultdict[date, Decimal] = defaultdict(Decimal)
        for (month, department, product), amount in labelled.items():
            if (not investment.department or department == investment.department) and (
                not investment.product or product == investment.product
            ):
                value_by_month[month] += amount
        months = [add_months(first, n) for n in range(elapsed)]
        to_date = investment_to_date(
            upfront_cost=investment.upfront_cost,
            monthly_cost=investment.monthly_cost,
            promised_monthly_benefit=investment.expected_monthly_benefit,
            month_costs=[schedule.cost_in(month, zone) for month in months],
            month_values=[value_by_month[month] for month in months],
        )
        paid_back = to_date.payback_months
        case = investment.valuation or {}
        risk = investment_value_at_risk(investment)
        rows.append(
            {
                "investment": investment,
                "started": f"{first:%Y-%m}",
                "months_elapsed": elapsed,
                "cost_to_date": money_text(to_date.cost),
                "value_to_date": money_text(to_date.value),
                "promised_value_to_date": money_text(to_date.promised),
                "value_gap": money_text(to_date.value_gap),
                "roi_to_date_percent": _text(to_date.roi_percent),
                "promised_roi_to_date_percent": _text(to_date.promised_roi_percent),
                "payback_to_date_months": None if paid_back is None else str(paid_back.quantize(Decimal("0.1"))),
                "case_roi_percent": case.get("roi_percent"),
                "case_npv": case.get("npv"),
                "case_payback_months": case.get("payback_months"),
                **risk,
            }
        )
    return rows


def value_at_risk_inputs(investment: Investment) -> dict[str, str | None]:
    """The value-at-risk calculator's inputs for an investment's business case (as form fields)."""
    benefit = investment.expected_monthly_benefit
    return {
        "upfront_cost": money_text(investment.upfront_cost),
        "monthly_cost": money_text(investment.monthly_cost),
        # Rounded to the cent here, so the calculator is given exactly what was computed with.
        "monthly_benefit_low": money_text(benefit * BENEFIT_LOW),
        "monthly_benefit_mode": money_text(benefit),
        "monthly_benefit_high": money_text(benefit * BENEFIT_HIGH),
        "months": str(investment.months),
        "trials": str(VAR_TRIALS),
        "seed": str(VAR_SEED),
    }


def _amount(text: str | None) -> Decimal:
    amount = decimal_or_none(text)
    assert amount is not None, "value_at_risk_inputs shows every amount"
    return amount


def investment_value_at_risk(investment: Investment) -> dict[str, Any]:
    """The engine's `value_at_risk` on an investment's case, with the fixed seed; and its inputs,
    so the calculator can reproduce the figure and record it in the ledger."""
    inputs = value_at_risk_inputs(investment)
    try:
        result = value_at_risk(
            upfront_cost=_amount(inputs["upfront_cost"]),
            monthly_cost=_amount(inputs["monthly_cost"]),
            monthly_benefit=Triangular(
                _amount(inputs["monthly_benefit_low"]),
                _amount(inputs["monthly_benefit_mode"]),
                _amount(inputs["monthly_benefit_high"]),
            ),
            months=investment.months,
            seed=VAR_SEED,
            trials=VAR_TRIALS,
        )
    except EngineInputError:
        return {"var_query": urlencode(inputs), "value_at_risk": None}
    return {
        "var_query": urlencode(inputs),
        "value_at_risk": {
            "mean_npv": money_text(result.mean_npv),
            "p5_npv": money_text(result.p5_npv),
            "value_at_risk_95": money_text(result.value_at_risk_95),
            "probability_of_loss_percent": str((result.probability_of_loss * 100).quantize(Decimal("0.1"))),
        },
    }
