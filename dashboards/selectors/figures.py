"""What every dashboard figure is computed from (`TenantFigures`), and how it is loaded.

Everything reads monthly rollups (a few hundred rows per tenant, whatever the number of
events), the model and KPIs in force, and the tenant's investments; a fixed number of
queries per figure set, asserted in the tests.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from governance import sql
from governance.fiscal import add_months, fiscal_year_start, months_between
from governance.models import Tenant
from governance.tenancy import current_tenant
from roi.engine import EngineInputError
from roi.engine.money import ZERO
from roi.ingestion import KINDS
from roi.models import BusinessKpis, CostMonth, FinancialModel, Investment, MonthlyRollup
from roi.selectors import VALUE_STREAMS
from roi.services import figures_from_stored


@dataclass
class MonthFigures:
    """One month of one tenant: value per stream, downtime cost and counts."""

    value: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    count: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    failures: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # failed deployments
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
    department: str = ""
    product: str = ""

    def cost_in(self, month: date, zone: ZoneInfo) -> Decimal:
        """Cost booked in `month`: the upfront cost in the month it starts (in the tenant's
        time zone), then the monthly cost for each of its months.

        The one definition of an investment's cost: the overview's ROI and the comparative
        view's cost per department and product both count it this way.
        """
        local = self.started_at.astimezone(zone)
        first = date(local.year, local.month, 1)
        cost = self.upfront_cost if month == first else ZERO
        if first <= month <= add_months(first, self.months - 1):
            cost += self.monthly_cost
        return cost


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
    # Set by `closed_after`: `this_month` is then the month after a closed period, with nothing in it.
    closed: bool = False
    # `cost_in` by month: the overview asks for each fiscal month's cost three times. Not
    # copied by `closed_after` (`replace` makes a fresh one), whose cloud costs differ.
    _costs: dict[date, Decimal] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def last_counted_month(self) -> date:
        """The last month whose figures count: this month (to date), or the closed period's last."""
        return add_months(self.this_month, -1) if self.closed else self.this_month

    def closed_after(self, last: date) -> TenantFigures:
        """These figures as they stood when `last` closed, for reports of a closed period.

        The month after `last` becomes "this month" (so the forecast and the benchmarks
        take `last` as their last complete month) and nothing after `last` is counted, so
        a report's sections never mix in months after its period. `today` is `last`, so
        the budget's fiscal year is the period's.
        """
        return replace(
            self,
            today=last,
            this_month=add_months(last, 1),
            months={month: figures for month, figures in self.months.items() if month <= last},
            cloud_costs={month: cost for month, cost in self.cloud_costs.items() if month <= last},
            closed=True,
        )

    def month(self, month: date) -> MonthFigures:
        return self.months.get(month) or MonthFigures()

    def value_between(self, start: date, end: date) -> Decimal:
        return sum((self.month(m).total for m in months_between(start, end)), ZERO)

    def cost_in(self, month: date) -> Decimal:
        """Cost booked in `month`: investments (upfront when they start, then monthly) plus
        the cloud and infrastructure cost imported from FOCUS files."""
        if month not in self._costs:
            zone = ZoneInfo(self.tenant.time_zone)
            investments = sum((investment.cost_in(month, zone) for investment in self.investments), ZERO)
            self._costs[month] = investments + self.cloud_costs.get(month, ZERO)
        return self._costs[month]

    def cost_between(self, start: date, end: date) -> Decimal:
        return sum((self.cost_in(m) for m in months_between(start, end)), ZERO)


# --- Loading: a fixed handful of hand-written statements (governance.sql) -------------
#
# Hand-written because every dashboard request reads these (bench/dashboard.py): the ORM's
# per-query compilation cost more than the statements themselves. `@tenant` is the scope
# tenant's condition, written by governance.sql (and RLS applies on PostgreSQL as for the ORM).

MODEL_COLUMNS = ("revenue_model", "cost_model", "impact_model", "severity_responders", "revenue_profile")
KPI_COLUMNS = ("kpis", "alerts", "attribution_rules")


def table_name(model: Any) -> str:
    """A model's table, quoted for a hand-written statement."""
    return f'"{model._meta.db_table}"'


def model_field(model: Any, name: str) -> Any:
    """A model's field, so `sql.select` converts that column as the ORM would."""
    return model._meta.get_field(name)


def _newest_columns() -> tuple[list[str], list[Any]]:
    """Per event kind, its newest occurred_at, read backwards off the (tenant, occurred_at) index."""
    columns = [
        f'(SELECT "occurred_at" FROM {table_name(spec.model)} WHERE @tenant'  # noqa: S608
        ' ORDER BY "occurred_at" DESC LIMIT 1)'
        for spec in KINDS.values()
    ]
    return columns, [model_field(spec.model, "occurred_at") for spec in KINDS.values()]


def _context_sql(*, config: bool, newest: bool) -> tuple[str, list[Any]]:
    """One row: the model and KPIs in force (left-joined, either may be missing) and/or each
    kind's newest event. Returns the SQL and the fields of its columns."""
    columns: list[str] = []
    fields: list[Any] = []
    joins = ""
    if config:
        columns += ['m."id"', *(f'm."{c}"' for c in MODEL_COLUMNS), 'k."id"', *(f'k."{c}"' for c in KPI_COLUMNS)]
        fields += [None, *(model_field(FinancialModel, c) for c in MODEL_COLUMNS)]
        fields += [None, *(model_field(BusinessKpis, c) for c in KPI_COLUMNS)]
        joins = (
            f" LEFT JOIN {table_name(FinancialModel)} m ON m.@tenant"
            f" LEFT JOIN {table_name(BusinessKpis)} k ON k.@tenant"
        )
    if newest:
        newest_columns, newest_fields = _newest_columns()
        columns += newest_columns
        fields += newest_fields
    return f"SELECT {', '.join(columns)} FROM (SELECT 1 AS one) one{joins}", fields  # noqa: S608


ROLLUPS_SQL = (
    'SELECT "month", "stream", SUM("value"), SUM("event_count"), SUM("downtime_minutes"), SUM("hours_saved"),'  # noqa: S608
    f' SUM("failures") FROM {table_name(MonthlyRollup)} WHERE @tenant AND "month" >= %s AND "month" <= %s'
    ' GROUP BY "month", "stream"'
)
ROLLUPS_FIELDS = [
    model_field(MonthlyRollup, name)
    for name in ("month", "stream", "value", "event_count", "downtime_minutes", "hours_saved", "failures")
]
INVESTMENTS_SQL = (
    'SELECT "started_at", "months", "upfront_cost", "monthly_cost", "department", "product"'  # noqa: S608
    f' FROM {table_name(Investment)} WHERE @tenant ORDER BY "started_at"'
)
INVESTMENTS_FIELDS = [
    model_field(Investment, name)
    for name in ("started_at", "months", "upfront_cost", "monthly_cost", "department", "product")
]
COSTS_SQL = (
    f'SELECT "month", SUM("effective_cost") FROM {table_name(CostMonth)}'  # noqa: S608
    ' WHERE @tenant AND "month" >= %s AND "month" <= %s GROUP BY "month"'
)
COSTS_FIELDS = [model_field(CostMonth, "month"), model_field(CostMonth, "effective_cost")]


def _rollup_months(first: date, last: date) -> dict[date, MonthFigures]:
    months: dict[date, MonthFigures] = {}
    rows = sql.select(ROLLUPS_SQL, [sql.adapt_date(first), sql.adapt_date(last)], ROLLUPS_FIELDS)
    for month_of, stream, value, count, downtime, hours, failures in rows:
        month = months.get(month_of)
        if month is None:  # not setdefault: it would build a MonthFigures for every row
            month = months[month_of] = MonthFigures()
        month.value[stream] += value or ZERO
        month.count[stream] += int(count or 0)  # SUM of an integer column: numeric on PostgreSQL
        month.downtime_minutes += downtime or ZERO
        month.hours_saved += hours or ZERO
        month.failures[stream] += int(failures or 0)
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
        statement, fields = _context_sql(config=context, newest=newest)
        row = sql.select(statement, [], fields)[0]
        if context:
            split = 1 + len(MODEL_COLUMNS)
            if row[0] is not None:
                model = dict(zip(MODEL_COLUMNS, row[1:split], strict=True))
            if row[split] is not None:
                kpis = dict(zip(KPI_COLUMNS, row[split + 1 : split + 1 + len(KPI_COLUMNS)], strict=True))
            row = row[split + 1 + len(KPI_COLUMNS) :]
        if newest:
            moment = max((value for value in row if value is not None), default=None)
    months = _rollup_months(first, this_month)
    figures = None
    investments: list[InvestmentCost] = []
    cloud_costs: dict[date, Decimal] = {}
    if context:
        try:
            figures = figures_from_stored(model=model, kpis=kpis)
        except EngineInputError:
            figures = None
        investments = [InvestmentCost(*row) for row in sql.select(INVESTMENTS_SQL, [], INVESTMENTS_FIELDS)]
        cloud_costs = dict(
            (month, total)
            for month, total in sql.select(COSTS_SQL, [sql.adapt_date(first), sql.adapt_date(this_month)], COSTS_FIELDS)
        )
    alerts = {key: Decimal(value) for key, value in ((kpis or {}).get("alerts") or {}).items() if value is not None}
    alerts.setdefault("monthly_value_target", Decimal(100000))
    alerts.setdefault("roi_target", Decimal(300))
    alerts.setdefault("roi_decline_points", Decimal(10))
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
    statement, fields = _context_sql(config=False, newest=True)
    row = sql.select(statement, [], fields)[0]
    return max((moment for moment in row if moment is not None), default=None)
