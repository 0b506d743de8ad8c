"""The executive overview and the real-time figures of this month.

The overview's headline figures each come with last month and their target beside them,
the business value index with the inputs that explain it, and the alerts still open.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from dashboards.selectors.figures import (
    CENT,
    ZERO,
    TenantFigures,
    add_months,
    fiscal_year_start,
    money,
    months_between,
    percent,
    tenant_figures,
)
from roi.engine import METHODS
from roi.models import Stream
from roi.selectors import VALUE_STREAMS

INDEX_STREAMS = {
    "incident_prevention": "incident_prevention",
    "automation": "automation_roi",
    "performance": "performance_improvement",
}


def business_value_index(data: TenantFigures) -> dict[str, Any] | None:
    """The index over each stream's attribution window, with the inputs that explain it."""
    if data.figures is None:
        return None
    inputs: dict[str, Any] = {}
    for stream, name in INDEX_STREAMS.items():
        window_days = getattr(data.figures, f"{name}_time_window")
        window_months = max(1, round(window_days / 30))
        first = add_months(data.this_month, -(window_months - 1))
        value = sum((data.month(m).value[stream] for m in months_between(first, data.this_month)), ZERO)
        # Whole months stand for the window: scale back to the window's length in days.
        inputs[f"{name}_value"] = str(value * Decimal(window_days) / (Decimal(window_months) * Decimal("30.4167")))
    result = METHODS["business_value_index"].run(inputs, data.figures).as_dict()
    return {"value": result["business_value_index"], "method": "business_value_index", "inputs": inputs, **result}


def open_alerts() -> list[dict[str, Any]]:
    """The stored alerts still open or acknowledged, newest first (one query).

    Alerts are evaluated by the alert tasks (dashboards.alerts), not on each page view, so
    the overview, the API and the e-mails all name the same alerts.
    """
    from dashboards.alerts import alert_as_dict, alerts_unresolved  # alerts reads these selectors

    return [alert_as_dict(alert) for alert in alerts_unresolved()]


def executive_overview(*, data: TenantFigures | None = None) -> dict[str, Any]:
    """The executive headline figures, each with last month and its target beside it."""
    data = data or tenant_figures(newest=True)
    this, last = data.this_month, add_months(data.this_month, -1)
    fy_start = fiscal_year_start(data.today, data.tenant.fiscal_year_start_month)
    fy_value = data.value_between(fy_start, this)
    fy_cost = data.cost_between(fy_start, this)
    fy_roi = percent(fy_value - fy_cost, fy_cost)
    mtd, previous = data.month(this), data.month(last)
    run_rate = previous.value[Stream.AUTOMATION]
    index = business_value_index(data)
    newest = data.newest
    return {
        "as_of": newest.isoformat() if newest else None,
        "currency": data.tenant.currency,
        "month": f"{this:%Y-%m}",
        "fiscal_year_start": f"{fy_start:%Y-%m}",
        "month_to_date_value": money(mtd.total),
        "fiscal_ytd_value": money(fy_value),
        "fiscal_ytd_cost": money(fy_cost),
        "fiscal_ytd_roi_percent": None if fy_roi is None else str(fy_roi),
        "active_automation_value": money(run_rate),
        "incidents_prevented": mtd.count[Stream.INCIDENT_PREVENTION],
        "prevention_value": money(mtd.value[Stream.INCIDENT_PREVENTION]),
        "downtime_cost_month_to_date": money(mtd.value[Stream.DOWNTIME]),
        "business_value_index": None if index is None else index["value"],
        "business_value_index_detail": index,
        "open_alerts": open_alerts(),
        "comparisons": {
            "month_to_date_value": {
                "last_month": money(previous.total),
                "target": money(data.alerts["monthly_value_target"]),
            },
            "prevention_value": {
                "last_month": money(previous.value[Stream.INCIDENT_PREVENTION]),
                "target": money(data.alerts["incident_prevention_target"]),
            },
            "incidents_prevented": {"last_month": previous.count[Stream.INCIDENT_PREVENTION]},
            "active_automation_value": {"last_month": money(data.month(add_months(this, -2)).value[Stream.AUTOMATION])},
            "fiscal_ytd_roi_percent": {"target": str(data.alerts["roi_target"])},
        },
    }


def real_time() -> dict[str, Any]:
    """The running figures of this month, and the newest event counted."""
    data = tenant_figures(months_back=1, context=False, newest=True)
    month = data.month(data.this_month)
    newest = data.newest
    return {
        "as_of": newest.isoformat() if newest else None,
        "currency": data.tenant.currency,
        "month": f"{data.this_month:%Y-%m}",
        "streams": {stream: money(month.value[stream]) for stream in VALUE_STREAMS},
        "month_to_date_value": money(month.total),
        "downtime_cost_month_to_date": money(month.value[Stream.DOWNTIME]),
        "incidents_prevented": month.count[Stream.INCIDENT_PREVENTION],
        "hours_saved": str(month.hours_saved.quantize(CENT)),
    }
