"""Rebuilding a tenant's monthly rollups from its raw events, with grouped SQL aggregates.

Ingestion keeps rollups current by moving cells by deltas; if a cell ever drifts (a
bug, a hand edit, a restore), this recomputes every cell from the events themselves and
replaces the tenant's rows in one transaction. It also recomputes the sample sums of
each service-month; their values are valuations with ledger proofs, so only revaluation
changes those.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth

from governance.tenancy import current_tenant
from roi.ingestion.kinds import seconds
from roi.ingestion.rollup_deltas import ROLLUP_COLUMNS, ROLLUP_COUNT_COLUMNS, RollupKey
from roi.ingestion.storage import _lock_tenant_ingestion
from roi.ingestion.valuation import ServiceMonthSums, _service_month_sums, sample_sums
from roi.models import (
    AutomationRun,
    Deployment,
    Incident,
    Investment,
    MonthlyRollup,
    PerformanceMonth,
    PerformanceSample,
    Stream,
)
from roi.models.rollups import PERFORMANCE_SUM_COLUMNS

ZERO = Decimal(0)
Cells = dict[RollupKey, dict[str, Decimal]]


@dataclass(frozen=True)
class RollupRebuild:
    cells_before: int
    cells_after: int
    cells_changed: int
    performance_months_changed: int


def _as_date(month: date | datetime) -> date:
    return month.date() if isinstance(month, datetime) else month


def _grouped(events: QuerySet[Any], zone: ZoneInfo, *extra: str, **aggregates: Any) -> Iterable[Mapping[str, Any]]:
    """One row per local month, department, product (and `extra` columns), with `aggregates`."""
    return (
        events.annotate(month=TruncMonth("occurred_at", tzinfo=zone))
        .values("month", "department", "product", *extra)
        .annotate(**aggregates)
        .order_by()
    )


def _add(cells: Cells, month: date | datetime, stream: str, row: Mapping[str, Any], amounts: Mapping[str, Any]) -> None:
    cell = cells[(_as_date(month), stream, row["department"], row["product"])]
    for column, amount in amounts.items():
        cell[column] += Decimal(amount or 0)


def _duration(end: str, start: str) -> ExpressionWrapper:
    """end - start as a duration the database sums exactly (an interval, or microseconds on SQLite)."""
    return ExpressionWrapper(F(end) - F(start), output_field=DurationField())


def rollup_cells_from_events(zone: ZoneInfo) -> Cells:
    """Every rollup cell of the scope tenant as its raw events add up (zero cells left out)."""
    cells: Cells = defaultdict(lambda: defaultdict(Decimal))
    incidents = _grouped(
        Incident.objects.all(),
        zone,
        "prevented",
        n=Count("id"),
        value=Sum("value"),
        cost=Sum("downtime_cost"),
        minutes=Sum("downtime_minutes"),
    )
    for row in incidents:
        if row["prevented"]:
            _add(cells, row["month"], Stream.INCIDENT_PREVENTION, row, {"value": row["value"], "event_count": row["n"]})
        else:
            amounts = {"value": row["cost"], "event_count": row["n"], "downtime_minutes": row["minutes"]}
            _add(cells, row["month"], Stream.DOWNTIME, row, amounts)
    runs = _grouped(AutomationRun.objects.all(), zone, n=Count("id"), value=Sum("value"), hours=Sum("hours_saved"))
    for row in runs:
        amounts = {"value": row["value"], "event_count": row["n"], "hours_saved": row["hours"]}
        _add(cells, row["month"], Stream.AUTOMATION, row, amounts)
    for row in _grouped(PerformanceSample.objects.all(), zone, **sample_sums()):
        amounts = {column: row[column] for column in PERFORMANCE_SUM_COLUMNS if column != "samples"}
        _add(cells, row["month"], Stream.PERFORMANCE, row, {"event_count": row["samples"], **amounts})
    months = PerformanceMonth.objects.values("month", "department", "product").annotate(value=Sum("value")).order_by()
    for row in months:
        _add(cells, row["month"], Stream.PERFORMANCE, row, {"value": row["value"]})
    has_commit = Q(committed_at__isnull=False)
    restored = Q(failed=True, restored_at__isnull=False)
    deployments = _grouped(
        Deployment.objects.all(),
        zone,
        n=Count("id"),
        failures=Count("id", filter=Q(failed=True)),
        lead=Sum(_duration("deployed_at", "committed_at"), filter=has_commit),
        leads=Count("id", filter=has_commit),
        restore=Sum(_duration("restored_at", "deployed_at"), filter=restored),
        restores=Count("id", filter=restored),
    )
    for row in deployments:
        amounts = {
            "event_count": row["n"],
            "failures": row["failures"],
            "lead_time_seconds_sum": seconds(row["lead"]) if row["lead"] is not None else ZERO,
            "lead_time_count": row["leads"],
            "restore_seconds_sum": seconds(row["restore"]) if row["restore"] is not None else ZERO,
            "restore_count": row["restores"],
        }
        _add(cells, row["month"], Stream.DEPLOYMENTS, row, amounts)
    investments = _grouped(Investment.objects.all(), zone, n=Count("id"), value=Sum("upfront_cost"))
    for row in investments:
        _add(cells, row["month"], Stream.INVESTMENT, row, {"event_count": row["n"], "value": row["value"]})
    return {
        key: {column: amounts.get(column, ZERO) for column in ROLLUP_COLUMNS}
        for key, amounts in cells.items()
        if any(amounts.values())
    }


def rollup_cells_stored() -> Cells:
    """The scope tenant's rollup cells as stored (zero cells left out)."""
    cells: Cells = {}
    for row in MonthlyRollup.objects.all():
        amounts = {column: Decimal(getattr(row, column)) for column in ROLLUP_COLUMNS}
        if any(amounts.values()):
            cells[(row.month, row.stream, row.department, row.product)] = amounts
    return cells


def _same(left: Mapping[str, Decimal] | None, right: Mapping[str, Decimal] | None) -> bool:
    return all(((left or {}).get(c) or ZERO) == ((right or {}).get(c) or ZERO) for c in ROLLUP_COLUMNS)


def _performance_month_sums_rebuild(zone: ZoneInfo) -> int:
    """Sample counts, sums and labels of every service-month from the samples; returns rows fixed."""
    services = set(PerformanceSample.objects.values_list("service", flat=True).distinct())
    services |= set(PerformanceMonth.objects.values_list("service", flat=True).distinct())
    sums = _service_month_sums(services, zone)
    rows = {(m.service, m.month): m for m in PerformanceMonth.objects.all()}
    changed: list[PerformanceMonth] = []
    for key in set(sums) | set(rows):
        month_sums = sums.get(key, ServiceMonthSums())
        row = rows.get(key) or PerformanceMonth(tenant=current_tenant(), service=key[0], month=key[1])
        if row.pk is not None and month_sums.stored(row):
            continue
        month_sums.store(row)
        changed.append(row)
    PerformanceMonth.objects.bulk_create([row for row in changed if row.pk is None])
    PerformanceMonth.objects.bulk_update(
        [row for row in changed if row.pk is not None], [*ServiceMonthSums.COLUMNS, "department", "product"]
    )
    return len(changed)


def _columns(amounts: Mapping[str, Decimal]) -> dict[str, Any]:
    return {c: int(amounts.get(c, ZERO)) if c in ROLLUP_COUNT_COLUMNS else amounts.get(c, ZERO) for c in ROLLUP_COLUMNS}


def rollups_rebuild() -> RollupRebuild:
    """Recompute the scope tenant's rollups from raw events and replace its rows, atomically.

    Ingestion is held off for the tenant meanwhile, so no delta lands between the
    recomputation and the replacement.
    """
    tenant = current_tenant()
    zone = ZoneInfo(tenant.time_zone)
    with transaction.atomic():
        _lock_tenant_ingestion()
        performance_months_changed = _performance_month_sums_rebuild(zone)
        expected = rollup_cells_from_events(zone)
        stored = rollup_cells_stored()
        changed = sum(1 for key in set(expected) | set(stored) if not _same(expected.get(key), stored.get(key)))
        before = MonthlyRollup.objects.count()
        MonthlyRollup.objects.all().delete()
        MonthlyRollup.objects.bulk_create(
            [
                MonthlyRollup(
                    tenant=tenant,
                    month=month,
                    stream=stream,
                    department=department,
                    product=product,
                    **_columns(amounts),
                )
                for (month, stream, department, product), amounts in expected.items()
            ],
            batch_size=500,
        )
    return RollupRebuild(
        cells_before=before,
        cells_after=len(expected),
        cells_changed=changed,
        performance_months_changed=performance_months_changed,
    )
