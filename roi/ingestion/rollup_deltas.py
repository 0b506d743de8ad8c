"""Rollup deltas: what each event adds to or takes from its monthly rollup cells, applied in one upsert."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection

from governance.tenancy import current_tenant
from roi.engine.money import ZERO
from roi.ingestion.storage import _fields_of
from roi.kinds import KindSpec
from roi.models import MonthlyRollup

RollupKey = tuple[date, str, str, str]
ROLLUP_COLUMNS = (
    "value",
    "event_count",
    "downtime_minutes",
    "hours_saved",
    "response_time_ms_sum",
    "failures",
    "lead_time_seconds_sum",
    "lead_time_count",
    "restore_seconds_sum",
    "restore_count",
    "availability_percent_sum",
    "availability_count",
    "conversion_rate_sum",
    "conversion_rate_count",
)
# The columns that count rows (integers in the table); the others are decimal sums.
ROLLUP_COUNT_COLUMNS = frozenset(
    {"event_count", "failures", "lead_time_count", "restore_count", "availability_count", "conversion_rate_count"}
)


def _contribution_of_row(spec: KindSpec, row: Any) -> dict[str, Any]:
    return {f.name: getattr(row, f.attname) for f in _fields_of(spec.model)}


def _add_contributions(
    deltas: dict[RollupKey, dict[str, Decimal]],
    spec: KindSpec,
    events: Iterable[Mapping[str, Any]],
    sign: int,
    zone: ZoneInfo,
) -> None:
    """Add (sign +1) or take away (-1) what each event counts in its rollup cells."""
    months: dict[tuple[int, int], date] = {}
    for event in events:
        local = event["occurred_at"].astimezone(zone)
        month = months.get((local.year, local.month))
        if month is None:
            month = months[(local.year, local.month)] = date(local.year, local.month, 1)
        for stream, amounts in spec.contributions(event):  # type: ignore[arg-type]
            cell = deltas[(month, stream, event["department"], event["product"])]
            for column, amount in amounts.items():
                if amount:
                    cell[column] += amount if sign > 0 else -amount


def _rollup_deltas(
    spec: KindSpec, events: list[dict[str, Any]], old_rows: Iterable[Any], zone: ZoneInfo
) -> dict[RollupKey, dict[str, Decimal]]:
    deltas: dict[RollupKey, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    _add_contributions(deltas, spec, [_contribution_of_row(spec, row) for row in old_rows], -1, zone)
    _add_contributions(deltas, spec, events, +1, zone)
    return deltas


def _apply_rollup_deltas(deltas: Mapping[RollupKey, Mapping[str, Decimal]]) -> None:
    """One multi-row upsert that adds each delta to its cell (one statement per batch on PostgreSQL)."""
    cells = [(key, amounts) for key, amounts in deltas.items() if any(amounts.values())]
    if not cells:
        return
    tenant_id = current_tenant().pk
    table = MonthlyRollup._meta.db_table
    columns = ("tenant_id", "month", "stream", "department", "product", *ROLLUP_COLUMNS)
    updates = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in ROLLUP_COLUMNS)
    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
    conflict = f"ON CONFLICT (tenant_id, month, stream, department, product) DO UPDATE SET {updates}"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One array per column: the statement's text is the same whatever the number of
            # cells, so the driver parses it once per process, not once per batch.
            keys = [key for key, _ in cells]
            arrays: list[list[Any]] = [[key[0] for key in keys], *([str(key[i]) for key in keys] for i in (1, 2, 3))]
            arrays += [[amounts.get(c, ZERO) for _, amounts in cells] for c in ROLLUP_COLUMNS]
            casts = ", ".join(
                ["%s::date[]", "%s::text[]", "%s::text[]", "%s::text[]"] + ["%s::numeric[]"] * len(ROLLUP_COLUMNS)
            )
            # Table and column names are ours; every value is a parameter.
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) SELECT %s, * FROM unnest({casts}) {conflict}",  # noqa: S608
                [tenant_id, *arrays],
            )
            return
        for start in range(0, len(cells), 500):
            chunk = cells[start : start + 500]
            params: list[Any] = []
            for (month, stream, department, product), amounts in chunk:
                params += [tenant_id, month, stream, department, product]
                params += [amounts.get(c, ZERO) for c in ROLLUP_COLUMNS]
            # Table and column names are ours; every value is a parameter.
            sql = (
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([placeholders] * len(chunk))} {conflict}"  # noqa: S608
            )
            cursor.execute(sql, params)
