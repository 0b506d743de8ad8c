"""What a cost figure is made of: a label's months, and the cost rows a cost sums.

A department's (or product's) value and cost on the comparative page link here: its
value and cost month by month (from the rollups and the cost table), and the imported
cost cells with the import that wrote each, beside the investments the label carries.
The budget page's actual and forecast cost of a month link to the same cost drill-down.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import QuerySet, Sum
from django.utils import timezone

from dashboards.selectors.figures import InvestmentCost
from governance.fiscal import months_between
from governance.tenancy import current_tenant
from roi.engine.money import ZERO, money_text
from roi.models import CostMonth, Investment, MonthlyRollup
from roi.selectors import VALUE_STREAMS

LABELS = ("department", "product")


@dataclass(frozen=True, slots=True)
class LabelFilter:
    """A slice of the comparative view: one department or product ("" is none) over whole months.

    `by` None is every label: the cost drill-down of a total.
    """

    by: str | None
    label: str
    start: date
    end: date

    def conditions(self) -> dict[str, Any]:
        conditions: dict[str, Any] = {"month__gte": self.start, "month__lte": self.end}
        if self.by is not None:
            conditions[self.by] = self.label
        return conditions


def _investment_costs(selection: LabelFilter, *, zone: ZoneInfo, this_month: date) -> list[dict[str, Any]]:
    """The label's investments with what each cost in the window (the overview's definition),
    and how much of that falls in months not yet begun: cost committed by the business case."""
    investments = Investment.objects.order_by("started_at", "pk")
    if selection.by is not None:
        investments = investments.filter(**{selection.by: selection.label})
    window = months_between(selection.start, selection.end)
    rows = []
    for investment in investments:
        cost = InvestmentCost(
            investment.started_at,
            investment.months,
            investment.upfront_cost,
            investment.monthly_cost,
            investment.department,
            investment.product,
        )
        by_month = {month: cost.cost_in(month, zone) for month in window}
        in_window = sum(by_month.values(), ZERO)
        if in_window:
            committed = sum((amount for month, amount in by_month.items() if month > this_month), ZERO)
            rows.append({"investment": investment, "cost": in_window, "committed": committed})
    return rows


def cost_drill_down(selection: LabelFilter) -> dict[str, Any]:
    """The cost cells (each with its import) and investments a cost figure sums, and their totals.

    The comparative view's cost of a label and the budget page's actual cost of a month are
    both this total (the same definition as `TenantFigures.cost_in`). For months not yet
    begun, the investments' cost is what their business cases commit; the budget page's
    forecast adds cloud cost at its run-rate, which is not a cost row and is not here.
    Three statements and a page of cells: the cells' sum, the investments, and the page.
    """
    zone = ZoneInfo(current_tenant().time_zone)
    this_month = timezone.localdate(timezone=zone).replace(day=1)
    cells: QuerySet[CostMonth] = (
        CostMonth.objects.filter(**selection.conditions())
        .select_related("source_import")
        .order_by("month", "service_name", "pk")
    )
    cloud = CostMonth.objects.filter(**selection.conditions()).aggregate(total=Sum("effective_cost"))["total"] or ZERO
    investments = _investment_costs(selection, zone=zone, this_month=this_month)
    invested = sum((row["cost"] for row in investments), ZERO)
    committed = sum((row["committed"] for row in investments), ZERO)
    window = months_between(selection.start, selection.end)
    return {
        "cells": cells,
        "investments": [
            {
                "investment": row["investment"],
                "cost": money_text(row["cost"]),
                "committed": money_text(row["committed"]),
            }
            for row in investments
        ],
        "cloud_cost": money_text(cloud),
        "investment_cost": money_text(invested),
        "committed_cost": money_text(committed),
        "cost": money_text(cloud + invested),
        "this_month": f"{this_month:%Y-%m}" if selection.start <= this_month <= selection.end else None,
        "months_ahead": [f"{month:%Y-%m}" for month in window if month > this_month],
    }


def label_months(selection: LabelFilter) -> list[dict[str, Any]]:
    """A label's value per stream and cost, month by month over the window (rollups and cost table).

    `selection.by` must name a label here (a label's months, not the whole tenant's).
    """
    by = selection.by or "department"
    value: dict[date, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    rollups = (
        MonthlyRollup.objects.filter(**selection.conditions(), stream__in=VALUE_STREAMS)
        .values("month", "stream")
        .annotate(value=Sum("value"))
    )
    for row in rollups:
        value[row["month"]][row["stream"]] += row["value"] or ZERO
    cloud = {
        row["month"]: row["cost"] or ZERO
        for row in CostMonth.objects.filter(**selection.conditions())
        .values("month")
        .annotate(cost=Sum("effective_cost"))
    }
    zone = ZoneInfo(current_tenant().time_zone)
    investments = [
        InvestmentCost(i.started_at, i.months, i.upfront_cost, i.monthly_cost, i.department, i.product)
        for i in Investment.objects.filter(**{by: selection.label})
    ]
    months = []
    for month in months_between(selection.start, selection.end):
        streams = value.get(month, {})
        cost = cloud.get(month, ZERO) + sum((i.cost_in(month, zone) for i in investments), ZERO)
        total = sum((streams.get(s, ZERO) for s in VALUE_STREAMS), ZERO)
        months.append(
            {
                "month": f"{month:%Y-%m}",
                **{s: money_text(streams.get(s, ZERO)) for s in VALUE_STREAMS},
                "total": money_text(total),
                "cost": money_text(cost),
                "net_value": money_text(total - cost),
            }
        )
    return months
