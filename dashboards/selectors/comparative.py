"""Comparisons: value against cost by department, product or period, and beside published benchmarks.

By department or product over chosen months, the fiscal year to date unless chosen (value
per stream, cost, net value, ROI and value per unit of cost, with the cost no label claims
in a row of its own so the totals equal the overview's), or the monthly means before and after a date; downtime cost
per minute and DORA tiers beside published figures. One service, `comparative`, answers
the page and the API alike.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from dashboards.benchmarks import DOWNTIME_BENCHMARKS
from dashboards.selectors.figures import TenantFigures, model_field, table_name, tenant_figures
from governance import sql
from governance.fiscal import add_months, fiscal_year_start, months_between
from governance.months import parse_month
from governance.tenancy import current_tenant
from roi.engine import METHODS, EngineInputError
from roi.engine.finance import ValueAndCost, mean, value_and_cost
from roi.engine.money import ZERO, money_text, round_money
from roi.models import CostMonth, MonthlyRollup, Stream
from roi.selectors import VALUE_STREAMS

BREAKDOWNS = ("department", "product")
MAX_MONTHS_BACK = 60

# The statements below are hand-written (governance.sql): the comparative endpoint is one of
# bench/dashboard.py's, where the ORM's compile cost more than these grouped reads.


def _value_sql(by: str) -> str:
    """Value per `by` label and stream over a range of months."""
    return (
        f'SELECT "{by}", "stream", SUM("value") FROM {table_name(MonthlyRollup)}'  # noqa: S608
        f' WHERE @tenant AND "month" >= %s AND "month" <= %s GROUP BY "{by}", "stream"'
    )


def _cost_sql(by: str) -> str:
    """Imported cloud cost per `by` label over a range of months: the overview's cloud cost, split."""
    return (
        f'SELECT "{by}", SUM("effective_cost") FROM {table_name(CostMonth)}'  # noqa: S608
        f' WHERE @tenant AND "month" >= %s AND "month" <= %s GROUP BY "{by}"'
    )


# Lead time and time to restore over a range of months, from the deployments' rollup cells:
# sums of seconds and how many deployments each sum is over, so the means are exact.
DORA_TIMING_SQL = (
    'SELECT SUM("lead_time_seconds_sum"), SUM("lead_time_count"), SUM("restore_seconds_sum"), SUM("restore_count")'  # noqa: S608
    f' FROM {table_name(MonthlyRollup)} WHERE @tenant AND "stream" = %s AND "month" >= %s AND "month" <= %s'
)
DORA_TIMING_FIELDS = [
    model_field(MonthlyRollup, "lead_time_seconds_sum"),
    None,
    model_field(MonthlyRollup, "restore_seconds_sum"),
    None,
]
VALUE_SQL = {by: _value_sql(by) for by in BREAKDOWNS}
VALUE_FIELDS = [
    model_field(MonthlyRollup, "department"),
    model_field(MonthlyRollup, "stream"),
    model_field(MonthlyRollup, "value"),
]
COST_SQL = {by: _cost_sql(by) for by in BREAKDOWNS}
COST_FIELDS = [model_field(CostMonth, "department"), model_field(CostMonth, "effective_cost")]


@dataclass
class GroupFigures:
    """One department's or product's value per stream and cost over the period, unrounded."""

    value: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    cloud_cost: Decimal = ZERO
    investment_cost: Decimal = ZERO

    def add(self, other: GroupFigures) -> None:
        for stream, amount in other.value.items():
            self.value[stream] += amount
        self.cloud_cost += other.cloud_cost
        self.investment_cost += other.investment_cost

    def as_dict(self) -> dict[str, Any]:
        figures = value_and_cost((self.value[s] for s in VALUE_STREAMS), (self.cloud_cost, self.investment_cost))
        roi, per_cost = figures.roi_percent, figures.value_per_cost
        return {
            **{stream: money_text(self.value[stream]) for stream in VALUE_STREAMS},
            "total": money_text(figures.value),
            "downtime_cost": money_text(self.value[Stream.DOWNTIME]),
            "cloud_cost": money_text(self.cloud_cost),
            "investment_cost": money_text(self.investment_cost),
            "cost": money_text(figures.cost),
            "net_value": money_text(figures.net),
            "roi_percent": None if roi is None else str(roi),
            # What each unit of cost brought back: 2.50 is 2.50 of value per 1 of cost.
            "value_per_cost": None if per_cost is None else str(per_cost),
        }


class ComparativeRefused(ValueError):
    """A comparison that cannot be made, with `{field: [message]}` for a 400 or a form error."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


def _window(today: date, fiscal_start_month: int, start: str | None, end: str | None) -> tuple[date, date]:
    """The months a breakdown covers: `start` and `end` (YYYY-MM), the fiscal year to date by default."""
    this_month = today.replace(day=1)
    months: dict[str, date] = {}
    errors: dict[str, list[str]] = {}
    for name, text, default in (
        ("start", start, fiscal_year_start(today, fiscal_start_month)),
        ("end", end, this_month),
    ):
        try:
            months[name] = parse_month(text) if text else default
        except ValueError:
            errors[name] = ["Enter a month such as 2026-03."]
    if not errors:
        if months["end"] > this_month:
            errors["end"] = ["Choose this month or an earlier one."]
        elif months["start"] > months["end"]:
            errors["start"] = ["The start month comes after the end month."]
        elif months["start"] < add_months(this_month, -MAX_MONTHS_BACK):
            errors["start"] = [f"Choose a month at most {MAX_MONTHS_BACK} months back."]
    if errors:
        raise ComparativeRefused(errors)
    return months["start"], months["end"]


def comparative(
    *, by: str, split: date | None = None, start: str | None = None, end: str | None = None
) -> dict[str, Any]:
    """The comparison `by` department, product or period, with the benchmarks, for the page and the API.

    A breakdown covers the months `start` to `end` (YYYY-MM; the fiscal year to date unless
    chosen); ComparativeRefused names a field that cannot be used. Reads the rollups, the
    cost table and the investments (`tenant_figures`), two grouped statements for a
    breakdown, and one bounded aggregate of recent deployments: a fixed number of
    statements whatever the data size.
    """
    tenant = current_tenant()
    today = timezone.localdate(timezone=ZoneInfo(tenant.time_zone))
    first, last = _window(today, tenant.fiscal_year_start_month, start, end)
    data = tenant_figures(months_back=max(24, len(months_between(first, today.replace(day=1)))))
    answer = breakdown(data, by, first, last) if by in BREAKDOWNS else _periods(data, split)
    return {**answer, "benchmarks": benchmarks(data)}


def breakdown(data: TenantFigures, by: str, first: date, last: date) -> dict[str, Any]:
    """Value, cost, net value, ROI and value per unit of cost per label over the months `first` to `last`."""
    tenant, zone = data.tenant, ZoneInfo(data.tenant.time_zone)
    window = months_between(first, last)
    params = [sql.adapt_date(first), sql.adapt_date(last)]
    groups: dict[str, GroupFigures] = defaultdict(GroupFigures)
    for label, stream, value in sql.select(VALUE_SQL[by], params, VALUE_FIELDS):
        groups[label].value[stream] += value or ZERO
    for label, cost in sql.select(COST_SQL[by], params, COST_FIELDS):
        groups[label].cloud_cost += cost or ZERO
    for investment in data.investments:
        cost = sum((investment.cost_in(month, zone) for month in window), ZERO)
        if cost:
            groups[getattr(investment, by)].investment_cost += cost
    totals = GroupFigures()
    rows = []
    # Labelled groups by name, then what no label claims: the row that makes totals reconcile.
    for label in sorted(groups, key=lambda name: (name == "", name)):
        totals.add(groups[label])
        rows.append({by: label or "(none)", "label": label, "attributed": label != "", **groups[label].as_dict()})
    return {
        "by": by,
        "currency": tenant.currency,
        "start": f"{first:%Y-%m}",
        "end": f"{last:%Y-%m}",
        "groups": rows,
        "totals": totals.as_dict(),
    }


def _periods(data: TenantFigures, split: date | None) -> dict[str, Any]:
    """Monthly means of value and cost over the complete months before and after a month."""
    split_month = (split or add_months(data.this_month, -6)).replace(day=1)
    complete = months_between(add_months(data.this_month, -24), add_months(data.this_month, -1))

    def side(months: list[date]) -> dict[str, Any]:
        if not months:
            empty: dict[str, Any] = {s: None for s in VALUE_STREAMS}
            return {"months": 0, "mean_monthly_value": None, "mean_monthly_cost": None, "roi_percent": None, **empty}
        values = [data.month(m).total for m in months]
        costs = [data.cost_in(m) for m in months]
        roi = ValueAndCost(sum(values, ZERO), sum(costs, ZERO)).roi_percent
        return {
            "months": len(months),
            "mean_monthly_value": money_text(mean(values)),
            "mean_monthly_cost": money_text(mean(costs)),
            "roi_percent": None if roi is None else str(roi),
            **{s: money_text(mean([data.month(m).value[s] for m in months])) for s in VALUE_STREAMS},
        }

    return {
        "by": "period",
        "currency": data.tenant.currency,
        "split": f"{split_month:%Y-%m}",
        "before": side([m for m in complete if m < split_month]),
        "after": side([m for m in complete if m > split_month]),
    }


def dora_timing(first: date, last: date) -> dict[str, Any]:
    """Mean lead time (days) and failed deployments' mean time to restore (hours) over the
    months `first` to `last`, and how many deployments each is over, from the rollups in one
    statement (a mean is None where no deployment counts).
    """
    params = [Stream.DEPLOYMENTS.value, sql.adapt_date(first), sql.adapt_date(last)]
    [(lead, leads, restore, restores)] = sql.select(DORA_TIMING_SQL, params, DORA_TIMING_FIELDS)
    leads, restores = int(leads or 0), int(restores or 0)  # SUM of an integer column: numeric on PostgreSQL
    return {
        "lead_time_deployments": leads,
        "restored_deployments": restores,
        "lead_time_days": (lead or ZERO) / leads / 86400 if leads else None,
        "restore_hours": (restore or ZERO) / restores / 3600 if restores else None,
    }


def benchmarks(data: TenantFigures | None = None) -> dict[str, Any]:
    """The tenant's downtime cost per minute and DORA tiers, beside published figures.

    Downtime and the four DORA inputs (deployment frequency, lead time, time to restore,
    change failure rate) come from the rollups of the same last 12 complete months.
    """
    data = data or tenant_figures(months_back=12)
    first, last = add_months(data.this_month, -12), add_months(data.this_month, -1)
    window = months_between(first, last)
    cost = sum((data.month(m).value[Stream.DOWNTIME] for m in window), ZERO)
    minutes = sum((data.month(m).downtime_minutes for m in window), ZERO)
    deployments = sum((data.month(m).count[Stream.DEPLOYMENTS] for m in window), 0)
    failures = sum((data.month(m).failures[Stream.DEPLOYMENTS] for m in window), 0)
    timing = dora_timing(first, last)
    dora = None
    if deployments and data.figures is not None:
        inputs: dict[str, Any] = {"deployment_frequency": str(Decimal(deployments) / Decimal(len(window)))}
        if timing["lead_time_days"] is not None:
            inputs["lead_time"] = str(timing["lead_time_days"])
        if timing["restore_hours"] is not None:
            inputs["recovery_time"] = str(timing["restore_hours"])
        inputs["change_failure_rate"] = str(Decimal(failures) / Decimal(deployments) * 100)
        try:
            dora = {"inputs": inputs, **METHODS["competitive_advantage"].run(inputs, data.figures).as_dict()}
        except EngineInputError as error:
            dora = {"inputs": inputs, "errors": error.errors}
    return {
        "currency": data.tenant.currency,
        "industry": data.tenant.get_industry_display(),
        "company_size": data.tenant.get_company_size_display(),
        "business_model": data.tenant.get_business_model_display(),
        "customer_segments": list(data.tenant.customer_segments),
        "start": f"{first:%Y-%m}",
        "end": f"{last:%Y-%m}",
        "downtime_minutes": str(round_money(minutes)),
        "downtime_cost": money_text(cost),
        "downtime_cost_per_minute": money_text(cost / minutes) if minutes else None,
        "published": [
            {
                "source": b.source,
                "year": b.year,
                "cost_per_minute_usd": money_text(b.cost_per_minute_usd),
                "currency": "USD",
                "note": b.note,
            }
            for b in DOWNTIME_BENCHMARKS
        ],
        "deployments": deployments,
        "failed_deployments": failures,
        "lead_time_deployments": timing["lead_time_deployments"],
        "restored_deployments": timing["restored_deployments"],
        "dora": dora,
    }
