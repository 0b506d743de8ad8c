"""Investments: each one's business case beside its cost and value to date, and the year's cost."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Sum

from dashboards.selectors.figures import (
    ZERO,
    add_months,
    fiscal_year_start,
    money,
    months_between,
    percent,
    tenant_figures,
)
from roi.models import Investment, MonthlyRollup
from roi.selectors import VALUE_STREAMS


def investments_overview() -> dict[str, Any]:
    """Each investment's business case beside its cost and attributed value to date, and the
    fiscal year's cost by month with a run-rate forecast to the year's end.

    Value is attributed by label: the value streams of the investment's department and
    product (where it names them) since the month it started.
    """
    data = tenant_figures(months_back=24)
    zone = ZoneInfo(data.tenant.time_zone)
    labelled = defaultdict(Decimal)
    rows = (
        MonthlyRollup.objects.filter(stream__in=VALUE_STREAMS)
        .values("month", "department", "product")
        .annotate(value=Sum("value"))
    )
    for row in rows:
        labelled[(row["month"], row["department"], row["product"])] += row["value"] or ZERO
    investments = []
    for investment in Investment.objects.order_by("started_at"):
        local = investment.started_at.astimezone(zone)
        first = date(local.year, local.month, 1)
        elapsed = max(0, min(investment.months, len(months_between(first, data.this_month))))
        cost = investment.upfront_cost + investment.monthly_cost * elapsed
        value = sum(
            (
                amount
                for (month, department, product), amount in labelled.items()
                if month >= first
                and (not investment.department or department == investment.department)
                and (not investment.product or product == investment.product)
            ),
            ZERO,
        )
        case = investment.valuation or {}
        investments.append(
            {
                "investment": investment,
                "months_elapsed": elapsed,
                "cost_to_date": money(cost),
                "value_to_date": money(value),
                "roi_to_date_percent": None if not cost else str(percent(value - cost, cost)),
                "case_roi_percent": case.get("roi_percent"),
                "case_npv": case.get("npv"),
                "case_payback_months": case.get("payback_months"),
            }
        )
    fy_start = fiscal_year_start(data.today, data.tenant.fiscal_year_start_month)
    fy_months = months_between(fy_start, add_months(fy_start, 11))
    actual = [m for m in fy_months if m <= data.this_month]
    recent = [data.cost_in(m) for m in actual[-4:-1]] or [data.cost_in(data.this_month)]
    run_rate = sum(recent, ZERO) / len(recent)
    months = [
        {
            "month": f"{m:%Y-%m}",
            "cost": money(data.cost_in(m)) if m <= data.this_month else None,
            "forecast": money(run_rate) if m > data.this_month else None,
        }
        for m in fy_months
    ]
    spent = sum((data.cost_in(m) for m in actual), ZERO)
    return {
        "currency": data.tenant.currency,
        "investments": investments,
        "fiscal_year_start": f"{fy_start:%Y-%m}",
        "months": months,
        "cost_to_date": money(spent),
        "forecast_year_cost": money(spent + run_rate * (len(fy_months) - len(actual))),
        "run_rate": money(run_rate),
    }
