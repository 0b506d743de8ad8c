"""A closed period's figures for the board pack, each from the dashboard selector its page uses.

The figures come from the dashboard selectors (`tenant_figures` and its methods), never a
second calculation, so a report and the dashboard cannot disagree about the same months.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from dashboards import selectors
from dashboards.reports.periods import ReportRefused, period_months
from governance.fiscal import add_months, months_apart, months_between
from governance.tenancy import current_tenant
from roi.selectors import VALUE_STREAMS

TREND_MONTHS = 12
FORECAST_HORIZON = 6
# The longest attribution window the business value index looks back over.
INDEX_MONTHS = 13


def _plain_investment(row: dict[str, Any]) -> dict[str, Any]:
    """An investment's row of the investments selector with its name and labels instead of the object."""
    investment = row["investment"]
    return {
        "name": investment.name,
        "department": investment.department,
        "product": investment.product,
        **{key: value for key, value in row.items() if key not in ("investment", "var_query")},
    }


def report_figures(*, kind: str, period: str) -> dict[str, Any]:
    """The sections of one closed period's board pack, each from the selector its page uses.

    The rollups are loaded once and cut off at the period's end (`closed_after`), so every
    section, whenever it is made, sees the period as it stood closed: the headline against
    the previous period and target (executive), value per month and the forecast (trends),
    department cost and ROI (comparative), budget and investments (investments), and the
    benchmarks over the twelve months to the period's end.
    """
    tenant = current_tenant()
    first, last = period_months(kind=kind, period=period, start_month=tenant.fiscal_year_start_month)
    today = timezone.localdate(timezone=ZoneInfo(tenant.time_zone))
    if last >= today.replace(day=1):
        raise ReportRefused("period", "has not closed yet: reports cover complete periods only")
    length = len(months_between(first, last))
    trend_first = min(first, add_months(last, -(TREND_MONTHS - 1)))
    # The previous period, and a year before it for the index's attribution windows.
    earliest = min(trend_first, add_months(first, -(length + INDEX_MONTHS)))
    loaded = selectors.tenant_figures(months_back=months_apart(earliest, today))
    data = loaded.closed_after(last)
    headline = selectors.period_headline(data, first, last)
    window = months_between(trend_first, last)
    shown = {name: item["value"] for name, item in headline["figures"].items()}
    return {
        "tenant": tenant.name,
        "currency": tenant.currency,
        "kind": kind,
        "period": period,
        "start": f"{first:%Y-%m}",
        "end": f"{last:%Y-%m}",
        "value_by_stream": {stream: shown[stream] for stream in VALUE_STREAMS},
        **{name: shown[name] for name in HEADLINE_FIGURES},
        "business_value_index_inputs": headline.pop("business_value_index_inputs"),
        "targets": {
            "value": headline["figures"]["total_value"]["target"],
            "roi_percent": headline["figures"]["roi_percent"]["target"],
            "prevention_value": headline["figures"]["prevention_value"]["target"],
        },
        "headline": headline,
        "trends": selectors.trend_series(data, window),
        "forecast": selectors.forecast(data, window, FORECAST_HORIZON),
        "departments": selectors.breakdown(data, "department", first, last),
        "budget": selectors.budget_against_cost(data),
        "investments": [_plain_investment(row) for row in selectors.investments_against_case(data)],
        "benchmarks": selectors.benchmarks(data),
    }


HEADLINE_FIGURES = (
    "total_value",
    "downtime_cost",
    "investment_cost",
    "roi_percent",
    "incidents_prevented",
    "prevention_value",
    "automation_run_rate",
    "business_value_index",
)
FIGURE_LABELS = {
    "incident_prevention": "Incident prevention",
    "automation": "Automation",
    "performance": "Performance",
    "total_value": "Total value",
    "downtime_cost": "Downtime cost",
    "investment_cost": "Cost (investments and cloud)",
    "roi_percent": "ROI (percent)",
    "incidents_prevented": "Incidents prevented",
    "prevention_value": "Prevention value",
    "automation_run_rate": "Automation run-rate (last month)",
    "business_value_index": "Business value index",
}
