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
from django.db.models import QuerySet, Sum
from django.db.models.functions import TruncMonth

from governance.tenancy import current_tenant
from roi.ingestion.rollup_deltas import ROLLUP_COLUMNS, ROLLUP_COUNT_COLUMNS, RollupKey
from roi.ingestion.storage import lock_tenant_ingestion
from roi.ingestion.valuation import ServiceMonthSums, month_date, service_month_sums
from roi.kinds import KINDS
from roi.models import (
    MonthlyRollup,
    PerformanceMonth,
    PerformanceSample,
    Stream,
)

ZERO = Decimal(0)
Cells = dict[RollupKey, dict[str, Decimal]]


@dataclass(frozen=True)
class RollupRebuild:
    cells_before: int
    cells_after: int
    cells_changed: int
    performance_months_changed: int


def _grouped(events: QuerySet[Any], zone: ZoneInfo, **aggregates: Any) -> Iterable[dict[str, Any]]:
    """One row per local month, department and product, with `aggregates`."""
    return (
        events.annotate(month=TruncMonth("occurred_at", tzinfo=zone))
        .values("month", "department", "product")
        .annotate(**aggregates)
        .order_by()
    )


def _add(cells: Cells, month: date | datetime, stream: str, row: Mapping[str, Any], amounts: Mapping[str, Any]) -> None:
    cell = cells[(month_date(month), stream, row["department"], row["product"])]
    for column, amount in amounts.items():
        cell[column] += Decimal(amount or 0)


def rollup_cells_from_events(zone: ZoneInfo) -> Cells:
    """Every rollup cell of the scope tenant as its raw events add up (zero cells left out).

    One grouped query per kind, its aggregates those of the kind's declared contributions
    (`roi.kinds`, the same declarations ingestion moves the cells by).
    """
    cells: Cells = defaultdict(lambda: defaultdict(Decimal))
    for spec in KINDS.values():
        aggregates: dict[str, Any] = {}
        for index, contribution in enumerate(spec.rollup):
            aggregates.update(contribution.aggregates(f"c{index}_"))
        for row in _grouped(spec.model.objects.all(), zone, **aggregates):
            for index, contribution in enumerate(spec.rollup):
                _add(cells, row["month"], contribution.stream, row, contribution.totals(row, f"c{index}_"))
    # Performance money is valued per service and month, not per sample.
    months = PerformanceMonth.objects.values("month", "department", "product").annotate(value=Sum("value")).order_by()
    for month_row in months:
        _add(cells, month_row["month"], Stream.PERFORMANCE, month_row, {"value": month_row["value"]})
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
    sums = service_month_sums(services, zone)
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
        lock_tenant_ingestion()
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
