"""Trends over time: monthly value per stream, cumulative value and ROI, and the forecast."""

from __future__ import annotations

from datetime import date
from typing import Any

from dashboards.selectors.figures import TenantFigures, tenant_figures
from governance.fiscal import add_months, months_between
from roi.engine import METHODS
from roi.engine.finance import running_totals
from roi.engine.money import money_text
from roi.models import Stream
from roi.selectors import VALUE_STREAMS

# The bounds the API and the page both accept for `months` and `horizon`.
MONTHS_DEFAULT, MONTHS_MIN, MONTHS_MAX = 24, 3, 60
HORIZON_DEFAULT, HORIZON_MIN, HORIZON_MAX = 6, 1, 24


def trends(*, months: int = MONTHS_DEFAULT, horizon: int = HORIZON_DEFAULT) -> dict[str, Any]:
    """Monthly value per stream, cumulative value and ROI, and the forecast of the total.

    ROI is the overview's fiscal-year ROI formula (`roi.engine.finance.roi_percent`), applied to
    the value and cost accumulated since the first month shown, so the two never disagree
    on what ROI means. Reads the rollups once (`tenant_figures`), whatever `months` is.
    """
    data = tenant_figures(months_back=months)
    window = months_between(add_months(data.this_month, -(months - 1)), data.this_month)
    return {
        "currency": data.tenant.currency,
        "months": trend_series(data, window),
        "forecast": forecast(data, window, horizon),
    }


def trend_series(data: TenantFigures, window: list[date]) -> list[dict[str, Any]]:
    """Each month of `window`: value per stream, total, downtime cost, and value, cost and ROI
    accumulated since the window's first month (the trends page's table, and a report's)."""
    series = []
    cumulative = running_totals((data.month(month).total, data.cost_in(month)) for month in window)
    for month, to_date in zip(window, cumulative, strict=True):
        figures = data.month(month)
        roi = to_date.roi_percent
        series.append(
            {
                "month": f"{month:%Y-%m}",
                **{stream: money_text(figures.value[stream]) for stream in VALUE_STREAMS},
                "total": money_text(figures.total),
                "downtime_cost": money_text(figures.value[Stream.DOWNTIME]),
                "cumulative_value": money_text(to_date.value),
                "cumulative_cost": money_text(to_date.cost),
                "cumulative_roi_percent": None if roi is None else str(roi),
            }
        )
    return series


def forecast(data: TenantFigures, window: list[date], horizon: int) -> dict[str, Any]:
    """The `forecast` method on complete months only (the current one is still filling).

    `history` lists the months the method was fitted on, so a chart draws exactly the
    series the forecast continues.
    """
    complete = [m for m in window if m < data.this_month]
    # Leading months without any value are before the tenant started sending events.
    while complete and not data.month(complete[0]).total:
        complete.pop(0)
    if len(complete) < 3:
        return {
            "method": None,
            "mape": None,
            "points": [],
            "history": [],
            "note": "A forecast needs at least three complete months of value.",
        }
    inputs = {
        "series": [str(data.month(m).total) for m in complete],
        "horizon": horizon,
        "last_month": f"{complete[-1]:%Y-%m}",
    }
    result = METHODS["forecast"].run(inputs, data.figures).as_dict()
    return {
        "method": result["method"],
        "mape": result["mape"],
        "history": [{"month": f"{m:%Y-%m}", "value": money_text(data.month(m).total)} for m in complete],
        "points": [
            {key: point[key] for key in ("month", "value", "low_80", "high_80", "low_95", "high_95")}
            for point in result["points"]
        ],
    }
