"""Rollup deltas: what each event adds to or takes from its monthly rollup cells, and the
roll-up stage that applies them (`rollups_move`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from roi.ingestion.stores import RollupKey, event_store, written_fields
from roi.kinds import KindSpec

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


# What the rollups move by: per cell, per column, the amount to add (negative to take away).
RollupDeltas = dict[RollupKey, dict[str, Decimal]]


def new_rollup_deltas() -> RollupDeltas:
    return defaultdict(lambda: defaultdict(Decimal))


def event_of_row(spec: KindSpec, row: Any) -> dict[str, Any]:
    """A stored event as the dict a parsed one is: for its rollup contributions, or to value it again."""
    return {f.name: getattr(row, f.attname) for f in written_fields(spec.model)}


def add_contributions(
    deltas: RollupDeltas,
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
        for stream, amounts in spec.contributions(event):
            cell = deltas[(month, stream, event["department"], event["product"])]
            for column, amount in amounts.items():
                if amount:
                    cell[column] += amount if sign > 0 else -amount


def rollup_deltas(
    spec: KindSpec, events: list[dict[str, Any]], old_rows: Iterable[Any], zone: ZoneInfo
) -> RollupDeltas:
    """The moves of replacing `old_rows` (stored rows) with `events`."""
    deltas = new_rollup_deltas()
    add_contributions(deltas, spec, [event_of_row(spec, row) for row in old_rows], -1, zone)
    add_contributions(deltas, spec, events, +1, zone)
    return deltas


def rollups_move(deltas: Mapping[RollupKey, Mapping[str, Decimal]]) -> None:
    """The roll-up stage: add each delta to its stored cell, in one upsert per batch (on PostgreSQL)."""
    cells = [(key, amounts) for key, amounts in deltas.items() if any(amounts.values())]
    if cells:
        event_store().move_rollups(cells)
