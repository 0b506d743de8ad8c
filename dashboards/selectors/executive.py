"""The executive overview and the real-time figures of this month.

The overview's headline figures each come with last month and their target beside them,
the business value index with the inputs that explain it, and the alerts still open.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from dashboards.selectors.figures import TenantFigures, tenant_figures
from governance import sql
from governance.fiscal import add_months, fiscal_year_start, months_between
from roi.engine import METHODS
from roi.engine.finance import ValueAndCost
from roi.engine.money import ZERO, money_text
from roi.models import Stream
from roi.selectors import VALUE_STREAMS

STREAM_LABELS = {"incident_prevention": "Incident prevention", "automation": "Automation", "performance": "Performance"}
INDEX_STREAMS = {
    "incident_prevention": "incident_prevention",
    "automation": "automation_roi",
    "performance": "performance_improvement",
}


def business_value_index(data: TenantFigures, month: date | None = None) -> dict[str, Any] | None:
    """The index over each stream's attribution window ending with `month` (default this
    month), with the inputs that explain it."""
    if data.figures is None:
        return None
    month = month or data.this_month
    inputs: dict[str, Any] = {}
    for stream, name in INDEX_STREAMS.items():
        window_days = getattr(data.figures, f"{name}_time_window")
        window_months = max(1, round(window_days / 30))
        first = add_months(month, -(window_months - 1))
        value = sum((data.month(m).value[stream] for m in months_between(first, month)), ZERO)
        # Whole months stand for the window: scale back to the window's length in days.
        inputs[f"{name}_value"] = str(value * Decimal(window_days) / (Decimal(window_months) * Decimal("30.4167")))
    result = METHODS["business_value_index"].run(inputs, data.figures).as_dict()
    streams = [
        {
            "stream": stream,
            "label": STREAM_LABELS[stream],
            "value": money_text(Decimal(inputs[f"{name}_value"])),
            "time_window": getattr(data.figures, f"{name}_time_window"),
            "target": money_text(getattr(data.figures, f"{name}_target")),
            "weighting": str(getattr(data.figures, f"{name}_weighting")),
            "score": result[f"{name}_score"],
        }
        for stream, name in INDEX_STREAMS.items()
    ]
    return {
        "value": result["business_value_index"],
        "method": "business_value_index",
        "month": f"{month:%Y-%m}",
        "inputs": inputs,
        "streams": streams,
        **result,
    }


def open_alerts() -> list[dict[str, Any]]:
    """The stored alerts still open or acknowledged, newest first (one query).

    Alerts are evaluated by the alert tasks (dashboards.alerts), not on each page view, so
    the overview, the API and the e-mails all name the same alerts.
    """
    from dashboards.alerts import alert_as_dict, alerts_unresolved  # alerts reads these selectors

    return [alert_as_dict(alert) for alert in alerts_unresolved()]


def open_alert_counts(*, month_start: datetime) -> tuple[int, int]:
    """How many alerts are unresolved now, and how many were at `month_start` (one statement).

    An alert was unresolved at a moment when it had opened before it and was not yet
    resolved; acknowledging does not resolve. The list the overview shows stops at 20, so
    the count is its own statement.
    """
    from dashboards.models import UNRESOLVED, Alert

    statuses = [str(status) for status in UNRESOLVED]
    moment = sql.adapt_datetime(month_start)
    # Hand-written: on every overview (bench/dashboard.py), where the ORM's compile cost more than the statement.
    statement = (
        f'SELECT SUM(CASE WHEN "status" IN ({", ".join(["%s"] * len(statuses))}) THEN 1 ELSE 0 END),'  # noqa: S608
        ' SUM(CASE WHEN "opened_at" < %s AND ("resolved_at" IS NULL OR "resolved_at" >= %s) THEN 1 ELSE 0 END)'
        f' FROM "{Alert._meta.db_table}" WHERE @tenant'
    )
    now, then = sql.select(statement, [*statuses, moment, moment], [None, None])[0]
    return int(now or 0), int(then or 0)


def fiscal_year_to_date(data: TenantFigures, month: date) -> tuple[date, ValueAndCost]:
    """The fiscal year's first month, and its value and cost to date, as they stand at the end of `month`."""
    start = fiscal_year_start(month, data.tenant.fiscal_year_start_month)
    return start, ValueAndCost(data.value_between(start, month), data.cost_between(start, month))


def executive_overview(*, data: TenantFigures | None = None) -> dict[str, Any]:
    """The executive headline figures, each with last month and its target beside it.

    "Last month" is always the whole previous calendar month (the rollups are monthly, so
    the same days of last month are not known); for the figures that are as-of a moment
    (fiscal ROI, the index, open alerts) it is where they stood at the end of last month.
    Targets are the tenant's KPI and alert targets in force.
    """
    data = data or tenant_figures(newest=True)
    this, last = data.this_month, add_months(data.this_month, -1)
    fy_start, to_date = fiscal_year_to_date(data, this)
    fy_roi, last_roi = to_date.roi_percent, fiscal_year_to_date(data, last)[1].roi_percent
    mtd, previous = data.month(this), data.month(last)
    run_rate = previous.value[Stream.AUTOMATION]
    index, last_index = business_value_index(data), business_value_index(data, last)
    open_now, open_then = open_alert_counts(
        month_start=datetime(this.year, this.month, 1, tzinfo=ZoneInfo(data.tenant.time_zone))
    )
    automation_target = None if data.figures is None else data.figures.automation_roi_target
    newest = data.newest
    return {
        "as_of": newest.isoformat() if newest else None,
        "currency": data.tenant.currency,
        "month": f"{this:%Y-%m}",
        "last_month": f"{last:%Y-%m}",
        "fiscal_year_start": f"{fy_start:%Y-%m}",
        "month_to_date_value": money_text(mtd.total),
        "month_to_date_streams": {stream: money_text(mtd.value[stream]) for stream in VALUE_STREAMS},
        "fiscal_ytd_value": money_text(to_date.value),
        "fiscal_ytd_cost": money_text(to_date.cost),
        "fiscal_ytd_roi_percent": None if fy_roi is None else str(fy_roi),
        "fiscal_ytd_months": [
            {
                "month": f"{m:%Y-%m}",
                **{stream: money_text(data.month(m).value[stream]) for stream in VALUE_STREAMS},
                "value": money_text(data.month(m).total),
                "cost": money_text(data.cost_in(m)),
            }
            for m in months_between(fy_start, this)
        ],
        "active_automation_value": money_text(run_rate),
        "incidents_prevented": mtd.count[Stream.INCIDENT_PREVENTION],
        "prevention_value": money_text(mtd.value[Stream.INCIDENT_PREVENTION]),
        "downtime_cost_month_to_date": money_text(mtd.value[Stream.DOWNTIME]),
        "business_value_index": None if index is None else index["value"],
        "business_value_index_detail": index,
        "open_alert_count": open_now,
        "open_alerts": open_alerts(),
        "comparisons": {
            "month_to_date_value": {
                "last_month": money_text(previous.total),
                "target": money_text(data.alerts["monthly_value_target"]),
            },
            "fiscal_ytd_roi_percent": {
                "last_month": None if last_roi is None else str(last_roi),
                "target": str(data.alerts["roi_target"]),
            },
            "active_automation_value": {
                "last_month": money_text(data.month(add_months(this, -2)).value[Stream.AUTOMATION]),
                "target": money_text(automation_target),
            },
            "incidents_prevented": {"last_month": previous.count[Stream.INCIDENT_PREVENTION], "target": None},
            "prevention_value": {
                "last_month": money_text(previous.value[Stream.INCIDENT_PREVENTION]),
                "target": money_text(data.alerts["incident_prevention_target"]),
            },
            "business_value_index": {
                "last_month": None if last_index is None else last_index["value"],
                # The index is the weighted share of each stream's target met: 100 is every target met.
                "target": None if index is None else "100",
            },
            "open_alert_count": {"last_month": open_then, "target": 0},
            "downtime_cost_month_to_date": {"last_month": money_text(previous.value[Stream.DOWNTIME]), "target": None},
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
        "streams": {stream: money_text(month.value[stream]) for stream in VALUE_STREAMS},
        "month_to_date_value": money_text(month.total),
        "downtime_cost_month_to_date": money_text(month.value[Stream.DOWNTIME]),
        "incidents_prevented": month.count[Stream.INCIDENT_PREVENTION],
        "hours_saved": money_text(month.hours_saved),  # hours, shown to two places like an amount
    }


def period_headline(data: TenantFigures, first: date, last: date) -> dict[str, Any]:
    """The headline figures of the months `first` to `last`, each beside the previous period of
    the same length and its target: the overview's figures and targets, over a whole period.

    The value, ROI and prevention targets are the overview's monthly targets times the months
    in the period; the run-rate is the period's last month of automation value and the index
    stands at its end, as the overview's do for this month.
    """
    months = months_between(first, last)
    count = len(months)
    before_last = add_months(first, -1)
    before_first = add_months(first, -count)
    automation_target = None if data.figures is None else data.figures.automation_roi_target

    def over(start: date, end: date) -> dict[str, Any]:
        span = months_between(start, end)
        period = ValueAndCost(data.value_between(start, end), data.cost_between(start, end))
        index = business_value_index(data, end)
        return {
            **{stream: sum((data.month(m).value[stream] for m in span), ZERO) for stream in VALUE_STREAMS},
            "total_value": period.value,
            "investment_cost": period.cost,
            "roi_percent": period.roi_percent,
            "incidents_prevented": sum(data.month(m).count[Stream.INCIDENT_PREVENTION] for m in span),
            "prevention_value": sum((data.month(m).value[Stream.INCIDENT_PREVENTION] for m in span), ZERO),
            "downtime_cost": sum((data.month(m).value[Stream.DOWNTIME] for m in span), ZERO),
            "automation_run_rate": data.month(end).value[Stream.AUTOMATION],
            "business_value_index": None if index is None else index["value"],
            "index": index,
        }

    now, then = over(first, last), over(before_first, before_last)
    targets: dict[str, Any] = {
        "total_value": data.alerts["monthly_value_target"] * count,
        "roi_percent": data.alerts["roi_target"],
        "prevention_value": data.alerts["incident_prevention_target"] * count,
        "automation_run_rate": automation_target,
        "business_value_index": None if now["index"] is None else "100",
    }
    counts = {"incidents_prevented", "business_value_index"}
    percents = {"roi_percent"}

    def shown(key: str, value: Any) -> Any:
        if value is None or key in counts:
            return value
        return str(value) if key in percents else money_text(value)

    keys = [*VALUE_STREAMS, "total_value", "investment_cost", "roi_percent", "incidents_prevented"]
    keys += ["prevention_value", "downtime_cost", "automation_run_rate", "business_value_index"]
    return {
        "start": f"{first:%Y-%m}",
        "end": f"{last:%Y-%m}",
        "previous_start": f"{before_first:%Y-%m}",
        "previous_end": f"{before_last:%Y-%m}",
        "figures": {
            key: {
                "value": shown(key, now[key]),
                "previous": shown(key, then[key]),
                "target": shown(key, targets.get(key)),
            }
            for key in keys
        },
        "business_value_index_inputs": None if now["index"] is None else now["index"]["inputs"],
    }
