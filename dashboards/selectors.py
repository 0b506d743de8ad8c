"""What the dashboards show, computed once for the API and the pages alike.

Everything reads monthly rollups (a few hundred rows per tenant, whatever the number of
events), the model and KPIs in force, and the tenant's investments; a fixed number of
queries per figure set, asserted in the tests.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Sum
from django.utils import timezone

from governance import sql
from governance.models import Tenant
from governance.tenancy import current_tenant
from roi.engine import METHODS, EngineInputError
from roi.ingestion import KINDS
from roi.models import BusinessKpis, CostMonth, FinancialModel, Investment, MonthlyRollup, Stream
from roi.selectors import VALUE_STREAMS
from roi.services import figures_from_stored

ZERO = Decimal(0)
CENT = Decimal("0.01")
INDEX_STREAMS = {
    "incident_prevention": "incident_prevention",
    "automation": "automation_roi",
    "performance": "performance_improvement",
}


def money(value: Decimal | None) -> str | None:
    return None if value is None else str(value.quantize(CENT))


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def months_between(start: date, end: date) -> list[date]:
    months, month = [], start
    while month <= end:
        months.append(month)
        month = add_months(month, 1)
    return months


def fiscal_year_start(today: date, start_month: int) -> date:
    year = today.year if today.month >= start_month else today.year - 1
    return date(year, start_month, 1)


@dataclass
class MonthFigures:
    """One month of one tenant: value per stream, downtime cost and counts."""

    value: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    count: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    downtime_minutes: Decimal = ZERO
    hours_saved: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return sum((self.value[stream] for stream in VALUE_STREAMS), ZERO)


@dataclass(frozen=True, slots=True)
class InvestmentCost:
    """What an investment costs, and when: all the overview's ROI needs of it."""

    started_at: datetime
    months: int
    upfront_cost: Decimal
    monthly_cost: Decimal


@dataclass
class TenantFigures:
    """The rollups of a window of months, with the tenant's calendar, targets and costs."""

    tenant: Tenant
    today: date
    this_month: date
    months: dict[date, MonthFigures]
    investments: list[InvestmentCost]
    cloud_costs: dict[date, Decimal]
    alerts: dict[str, Decimal]
    figures: Any  # FinancialFigures in force, or None without a model
    newest: datetime | None = None  # the newest event counted, when loaded (`newest=True`)

    def month(self, month: date) -> MonthFigures:
        return self.months.get(month) or MonthFigures()

    def value_between(self, start: date, end: date) -> Decimal:
        return sum((self.month(m).total for m in months_between(start, end)), ZERO)

    def cost_in(self, month: date) -> Decimal:
        """Cost booked in `month`: investments (upfront when they start, then monthly) plus
        the cloud and infrastructure cost imported from FOCUS files."""
        zone = ZoneInfo(self.tenant.time_zone)
        total = ZERO
        for investment in self.investments:
            local = investment.started_at.astimezone(zone)
            first = date(local.year, local.month, 1)
            last = add_months(first, investment.months - 1)
            if month == first:
                total += investment.upfront_cost
            if first <= month <= last:
                total += investment.monthly_cost
        return total + self.cloud_costs.get(month, ZERO)

    def cost_between(self, start: date, end: date) -> Decimal:
        return sum((self.cost_in(m) for m in months_between(start, end)), ZERO)


# --- Loading: a fixed handful of hand-written statements (governance.sql) -------------
#
# Every dashboard request reads the same few things; written as SQL once, they skip the
# ORM's per-query compilation, which cost more than the statements themselves. Each one
# names the tenant in its WHERE clause (and RLS applies on PostgreSQL as for the ORM).

MODEL_COLUMNS = ("revenue_model", "cost_model", "impact_model", "severity_responders", "revenue_profile")
KPI_COLUMNS = ("kpis", "alerts", "attribution_rules")


def _table(model: Any) -> str:
    return f'"{model._meta.db_table}"'


def _field(model: Any, name: str) -> Any:
    return model._meta.get_field(name)


def _newest_columns() -> tuple[list[str], list[Any]]:
    """Per event kind, its newest occurred_at, read backwards off the (tenant, occurred_at) index."""
    columns = [
        f'(SELECT "occurred_at" FROM {_table(spec.model)} WHERE "tenant_id" = %s'  # noqa: S608
        ' ORDER BY "occurred_at" DESC LIMIT 1)'
        for spec in KINDS.values()
    ]
    return columns, [_field(spec.model, "occurred_at") for spec in KINDS.values()]


def _context_sql(*, config: bool, newest: bool) -> tuple[str, list[Any], int]:
    """One row: the model and KPIs in force (left-joined, either may be missing) and/or each
    kind's newest event. Returns the SQL, the fields of its columns and the tenant params."""
    columns: list[str] = []
    fields: list[Any] = []
    joins, params = "", 0
    if config:
        columns += ['m."id"', *(f'm."{c}"' for c in MODEL_COLUMNS), 'k."id"', *(f'k."{c}"' for c in KPI_COLUMNS)]
        fields += [None, *(_field(FinancialModel, c) for c in MODEL_COLUMNS)]
        fields += [None, *(_field(BusinessKpis, c) for c in KPI_COLUMNS)]
        joins = (
            f' LEFT JOIN {_table(FinancialModel)} m ON m."tenant_id" = %s'
            f' LEFT JOIN {_table(BusinessKpis)} k ON k."tenant_id" = %s'
        )
        params += 2
    if newest:
        newest_columns, newest_fields = _newest_columns()
        columns += newest_columns
        fields += newest_fields
        params += len(newest_columns)
    return f"SELECT {', '.join(columns)} FROM (SELECT 1 AS one) one{joins}", fields, params  # noqa: S608


ROLLUPS_SQL = (
    'SELECT "month", "stream", SUM("value"), SUM("event_count"), SUM("downtime_minutes"), SUM("hours_saved")'  # noqa: S608
    f' FROM {_table(MonthlyRollup)} WHERE "tenant_id" = %s AND "month" >= %s AND "month" <= %s'
    ' GROUP BY "month", "stream"'
)
ROLLUPS_FIELDS = [
    _field(MonthlyRollup, name)
    for name in ("month", "stream", "value", "event_count", "downtime_minutes", "hours_saved")
]
INVESTMENTS_SQL = (
    'SELECT "started_at", "months", "upfront_cost", "monthly_cost"'  # noqa: S608
    f' FROM {_table(Investment)} WHERE "tenant_id" = %s ORDER BY "started_at"'
)
INVESTMENTS_FIELDS = [_field(Investment, name) for name in ("started_at", "months", "upfront_cost", "monthly_cost")]
COSTS_SQL = (
    f'SELECT "month", SUM("effective_cost") FROM {_table(CostMonth)}'  # noqa: S608
    ' WHERE "tenant_id" = %s AND "month" >= %s AND "month" <= %s GROUP BY "month"'
)
COSTS_FIELDS = [_field(CostMonth, "month"), _field(CostMonth, "effective_cost")]


def _rollup_months(tenant: Tenant, first: date, last: date) -> dict[date, MonthFigures]:
    months: dict[date, MonthFigures] = {}
    rows = sql.select(ROLLUPS_SQL, [tenant.pk, sql.adapt_date(first), sql.adapt_date(last)], ROLLUPS_FIELDS)
    for month_of, stream, value, count, downtime, hours in rows:
        month = months.setdefault(month_of, MonthFigures())
        month.value[stream] += value or ZERO
        month.count[stream] += int(count or 0)  # SUM of an integer column: numeric on PostgreSQL
        month.downtime_minutes += downtime or ZERO
        month.hours_saved += hours or ZERO
    return months


def tenant_figures(*, months_back: int = 24, context: bool = True, newest: bool = False) -> TenantFigures:
    """Load the rollup window and context every dashboard figure is computed from.

    `context` loads the model and KPIs in force (the figures and targets), the investments
    and the imported cloud cost; without it only the rollups are read (figures None,
    default targets). `newest` also reads each event kind's newest moment (`as_of`). At
    most four statements, whatever the data size.
    """
    tenant = current_tenant()
    today = timezone.localdate(timezone=ZoneInfo(tenant.time_zone))
    this_month = today.replace(day=1)
    first = min(add_months(this_month, -months_back), fiscal_year_start(today, tenant.fiscal_year_start_month))
    moment = None
    model = kpis = None
    if context or newest:
        statement, fields, tenant_params = _context_sql(config=context, newest=newest)
        row = sql.select(statement, [tenant.pk] * tenant_params, fields)[0]
        if context:
            split = 1 + len(MODEL_COLUMNS)
            if row[0] is not None:
                model = dict(zip(MODEL_COLUMNS, row[1:split], strict=True))
            if row[split] is not None:
                kpis = dict(zip(KPI_COLUMNS, row[split + 1 : split + 1 + len(KPI_COLUMNS)], strict=True))
            row = row[split + 1 + len(KPI_COLUMNS) :]
        if newest:
            moment = max((value for value in row if value is not None), default=None)
    months = _rollup_months(tenant, first, this_month)
    figures = None
    investments: list[InvestmentCost] = []
    cloud_costs: dict[date, Decimal] = {}
    if context:
        try:
            figures = figures_from_stored(model=model, kpis=kpis)
        except EngineInputError:
            figures = None
        investments = [InvestmentCost(*row) for row in sql.select(INVESTMENTS_SQL, [tenant.pk], INVESTMENTS_FIELDS)]
        cloud_costs = dict(
            (month, total)
            for month, total in sql.select(
                COSTS_SQL, [tenant.pk, sql.adapt_date(first), sql.adapt_date(this_month)], COSTS_FIELDS
            )
        )
    alerts = {key: Decimal(value) for key, value in ((kpis or {}).get("alerts") or {}).items() if value is not None}
    alerts.setdefault("monthly_value_target", Decimal(100000))
    alerts.setdefault("roi_target", Decimal(300))
    alerts.setdefault("incident_prevention_target", Decimal(50000))
    return TenantFigures(
        tenant=tenant,
        today=today,
        this_month=this_month,
        months=months,
        investments=investments,
        cloud_costs=cloud_costs,
        alerts=alerts,
        figures=figures,
        newest=moment,
    )


def as_of() -> datetime | None:
    """When the newest event counted occurred: each kind's newest, all in one statement."""
    statement, fields, tenant_params = _context_sql(config=False, newest=True)
    row = sql.select(statement, [current_tenant().pk] * tenant_params, fields)[0]
    return max((moment for moment in row if moment is not None), default=None)


def percent(part: Decimal, whole: Decimal) -> Decimal | None:
    return None if not whole else (part / whole * 100).quantize(Decimal("0.0001"))


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


def trends(*, months: int = 24, horizon: int = 6) -> dict[str, Any]:
    """Monthly value per stream, cumulative value and ROI, and the forecast of the total."""
    data = tenant_figures(months_back=months)
    window = months_between(add_months(data.this_month, -(months - 1)), data.this_month)
    series, cumulative_value, cumulative_cost = [], ZERO, ZERO
    for month in window:
        figures = data.month(month)
        cumulative_value += figures.total
        cumulative_cost += data.cost_in(month)
        series.append(
            {
                "month": f"{month:%Y-%m}",
                **{stream: money(figures.value[stream]) for stream in VALUE_STREAMS},
                "total": money(figures.total),
                "downtime_cost": money(figures.value[Stream.DOWNTIME]),
                "cumulative_value": money(cumulative_value),
                "cumulative_cost": money(cumulative_cost),
                "cumulative_roi_percent": (
                    None if not cumulative_cost else str(percent(cumulative_value - cumulative_cost, cumulative_cost))
                ),
            }
        )
    return {"currency": data.tenant.currency, "months": series, "forecast": forecast(data, window, horizon)}


def forecast(data: TenantFigures, window: list[date], horizon: int) -> dict[str, Any]:
    """The `forecast` method on complete months only (the current one is still filling)."""
    complete = [m for m in window if m < data.this_month]
    # Leading months without any value are before the tenant started sending events.
    while complete and not data.month(complete[0]).total:
        complete.pop(0)
    if len(complete) < 3:
        return {
            "method": None,
            "mape": None,
            "points": [],
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
        "points": [
            {key: point[key] for key in ("month", "value", "low_80", "high_80", "low_95", "high_95")}
            for point in result["points"]
        ],
    }


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
