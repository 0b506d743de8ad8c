"""Comparisons: the tenant's value by department, product or period, and beside published benchmarks.

By department or product over the fiscal year to date, or the monthly mean before and after
a date; downtime cost per minute and DORA tiers over the last 12 complete months.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from dashboards.selectors.figures import (
    CENT,
    ZERO,
    _field,
    _table,
    add_months,
    fiscal_year_start,
    money,
    months_between,
    tenant_figures,
)
from governance import sql
from governance.tenancy import current_tenant
from roi.engine import METHODS, EngineInputError
from roi.models import MonthlyRollup, Stream
from roi.selectors import VALUE_STREAMS


def _grouped_sql(by: str) -> str:
    """Value per `by` label and stream over a range of months (fiscal year to date)."""
    return (
        f'SELECT "{by}", "stream", SUM("value") FROM {_table(MonthlyRollup)}'  # noqa: S608
        f' WHERE "tenant_id" = %s AND "month" >= %s AND "month" <= %s GROUP BY "{by}", "stream"'
    )


GROUPED_SQL_DEPARTMENT, GROUPED_SQL_PRODUCT = _grouped_sql("department"), _grouped_sql("product")
GROUPED_FIELDS = [_field(MonthlyRollup, "department"), _field(MonthlyRollup, "stream"), _field(MonthlyRollup, "value")]


def comparative(*, by: str, split: date | None = None) -> dict[str, Any]:
    """Fiscal year-to-date value by department or product, or monthly value before/after a date."""
    tenant = current_tenant()
    if by in {"department", "product"}:
        today = timezone.localdate(timezone=ZoneInfo(tenant.time_zone))
        this_month = today.replace(day=1)
        fy_start = fiscal_year_start(today, tenant.fiscal_year_start_month)
        groups: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        for label, stream, value in sql.select(
            (GROUPED_SQL_DEPARTMENT if by == "department" else GROUPED_SQL_PRODUCT),
            [tenant.pk, sql.adapt_date(fy_start), sql.adapt_date(this_month)],
            GROUPED_FIELDS,
        ):
            groups[label or "(none)"][stream] += value or ZERO
        breakdown = [
            {
                by: label,
                **{stream: money(values[stream]) for stream in VALUE_STREAMS},
                "total": money(sum((values[s] for s in VALUE_STREAMS), ZERO)),
                "downtime_cost": money(values[Stream.DOWNTIME]),
            }
            for label, values in sorted(groups.items())
        ]
        return {
            "by": by,
            "currency": tenant.currency,
            "start": f"{fy_start:%Y-%m}",
            "end": f"{this_month:%Y-%m}",
            "groups": breakdown,
        }
    data = tenant_figures(months_back=24, context=False)
    split_month = (split or add_months(data.this_month, -6)).replace(day=1)
    complete = [m for m in months_between(add_months(data.this_month, -24), add_months(data.this_month, -1))]
    before = [m for m in complete if m < split_month]
    after = [m for m in complete if m > split_month]

    def mean(months: list[date], stream: str | None = None) -> str | None:
        if not months:
            return None
        values = [data.month(m).total if stream is None else data.month(m).value[stream] for m in months]
        return money(sum(values, ZERO) / len(values))

    return {
        "by": "period",
        "currency": tenant.currency,
        "split": f"{split_month:%Y-%m}",
        "before": {
            "months": len(before),
            "mean_monthly_value": mean(before),
            **{s: mean(before, s) for s in VALUE_STREAMS},
        },
        "after": {
            "months": len(after),
            "mean_monthly_value": mean(after),
            **{s: mean(after, s) for s in VALUE_STREAMS},
        },
    }


def benchmarks() -> dict[str, Any]:
    """The tenant's downtime cost per minute and DORA tiers over the last 12 complete months."""
    from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q

    from dashboards.benchmarks import DOWNTIME_BENCHMARKS
    from roi.models import Deployment

    data = tenant_figures(months_back=12)
    first, last = add_months(data.this_month, -12), add_months(data.this_month, -1)
    window = months_between(first, last)
    cost = sum((data.month(m).value[Stream.DOWNTIME] for m in window), ZERO)
    minutes = sum((data.month(m).downtime_minutes for m in window), ZERO)
    deployments = sum((data.month(m).count[Stream.DEPLOYMENTS] for m in window), 0)
    zone = ZoneInfo(data.tenant.time_zone)
    start = datetime(first.year, first.month, 1, tzinfo=zone)
    end = datetime(data.this_month.year, data.this_month.month, 1, tzinfo=zone)
    timing = Deployment.objects.filter(occurred_at__gte=start, occurred_at__lt=end).aggregate(
        failure_count=Count("id", filter=Q(failed=True)),
        lead=Avg(ExpressionWrapper(F("deployed_at") - F("committed_at"), output_field=DurationField())),
        restore=Avg(
            ExpressionWrapper(F("restored_at") - F("deployed_at"), output_field=DurationField()),
            filter=Q(failed=True),
        ),
    )
    dora = None
    if deployments and data.figures is not None:
        inputs: dict[str, Any] = {"deployment_frequency": str(Decimal(deployments) / Decimal(len(window)))}
        if timing["lead"] is not None:
            inputs["lead_time"] = str(Decimal(timing["lead"].total_seconds()) / Decimal(86400))
        if timing["restore"] is not None:
            inputs["recovery_time"] = str(Decimal(timing["restore"].total_seconds()) / Decimal(3600))
        inputs["change_failure_rate"] = str(Decimal(timing["failure_count"]) / Decimal(deployments) * 100)
        try:
            dora = {"inputs": inputs, **METHODS["competitive_advantage"].run(inputs, data.figures).as_dict()}
        except EngineInputError as error:
            dora = {"inputs": inputs, "errors": error.errors}
    return {
        "currency": data.tenant.currency,
        "industry": data.tenant.get_industry_display(),
        "start": f"{first:%Y-%m}",
        "end": f"{last:%Y-%m}",
        "downtime_minutes": str(minutes.quantize(CENT)),
        "downtime_cost": money(cost),
        "downtime_cost_per_minute": money(cost / minutes) if minutes else None,
        "published": [
            {"source": b.source, "year": b.year, "cost_per_minute_usd": money(b.cost_per_minute_usd), "note": b.note}
            for b in DOWNTIME_BENCHMARKS
        ],
        "dora": dora,
    }
