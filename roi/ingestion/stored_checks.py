"""Every stored figure the pages sum, held against the ledger item that proves it and the rollups that add it up.

The hash chain proves the ledger; the pages read event rows, service-months and monthly
rollups, which are ordinary tables someone with the database's keys can edit. This checks
the path from one to the other: each event's summed columns (its value, downtime cost,
hours saved and the inputs it was valued on) against its ledger item, that every ledger
item's event still exists, that each service-month adds up its samples, and that every
rollup cell is what the rollup rebuild computes from the rows beneath it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from governance.ledger import canonical_numbers, json_ready
from governance.models import LedgerRecord
from roi.ingestion.records import BATCH_METHOD
from roi.ingestion.rollup_deltas import ROLLUP_COLUMNS
from roi.ingestion.stores import written_fields
from roi.ingestion.valuation import ServiceMonthSums, service_month_sums
from roi.kinds import KINDS, KindSpec
from roi.models import MonthlyRollup, PerformanceMonth, PerformanceSample

PERFORMANCE_MONTH_KIND = "performance_month"  # the item kind `value_performance_months` records


@dataclass(frozen=True, slots=True)
class RowProblem:
    """A stored row that disagrees with the ledger or with what it rolls up.

    `record_id` is the ledger record the row answers to (None: it answers to none, as a
    rollup cell or an event without a valuation); `row` names it as an auditor finds it.
    """

    record_id: int | None
    row: str
    reason: str


ItemPlace = tuple[int, int]  # (ledger record id, item index)


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _same_value(stored: Any, recorded: Any) -> bool:
    """Equal as numbers (45 and 45.000000), as instants (+00:00 and Z), or as they are."""
    if stored == recorded:
        return True
    left, right = _number(stored), _number(recorded)
    if left is not None and right is not None:
        return left == right
    left_moment, right_moment = _moment(stored), _moment(recorded)
    return left_moment is not None and right_moment is not None and left_moment == right_moment


def _difference(stored: Any, recorded: Any, *, source: str = "ledger") -> str:
    """How a stored figure differs from the recorded one, with the amount when both are numbers."""
    text = f"stored {'nothing' if stored is None else stored}, {source} {'nothing' if recorded is None else recorded}"
    left, right = _number(stored), _number(recorded)
    if left is not None and right is not None:
        text += f" (difference {left - right:+})"
    return text


def _latest_items(records: Sequence[LedgerRecord]) -> dict[tuple[str, str], ItemPlace]:
    """Where each event (kind, external id) was last valued in the chain: the item its row must point at."""
    latest: dict[tuple[str, str], ItemPlace] = {}
    for record in records:
        if record.method != BATCH_METHOD:
            continue
        for index, item in enumerate(record.inputs.get("items", [])):
            if isinstance(item, Mapping):
                latest[(str(item.get("kind")), str(item.get("external_id")))] = (record.pk, index)
    return latest


class _Writes(dict[str, Any]):
    """A row that remembers which keys were written to it."""

    def __init__(self, row: Mapping[str, Any]) -> None:
        super().__init__(row)
        self.written: set[str] = set()

    def __setitem__(self, key: str, value: Any) -> None:
        self.written.add(key)
        super().__setitem__(key, value)


def _event_rows(spec: KindSpec) -> Iterator[dict[str, Any]]:
    """Every stored event of the kind as ingestion holds it (field name to value), streamed."""
    fields = written_fields(spec.model)
    names = ["external_id", *(f.name for f in fields if f.name != "external_id")]
    columns = ["external_id", *(f.attname for f in fields if f.name != "external_id")]
    for values in spec.model.objects.order_by().values_list(*columns).iterator(chunk_size=2000):
        yield dict(zip(names, values, strict=True))


def _event_problems(
    spec: KindSpec,
    event: dict[str, Any],
    by_id: Mapping[int, LedgerRecord],
    latest: Mapping[tuple[str, str], ItemPlace],
) -> list[RowProblem]:
    kind, external_id = spec.kind.value, event["external_id"]
    row = f"event {external_id}"
    record_id, index = event["ledger_record"], event["ledger_item"]
    last = latest.get((kind, external_id))
    if record_id is None or index is None:
        # Without a valuation, the valued columns must be as ingestion leaves an unvalued event.
        expected = _Writes(event)
        spec.apply(expected, None)
        return [
            RowProblem(last[0] if last else None, row, f"{name} has no ledger item: {_difference(event[name], None)}")
            for name in expected.written
            if not _same_value(event[name], expected[name])
        ]
    record = by_id.get(record_id)
    if record is None:
        return [RowProblem(record_id, row, f"its ledger record {record_id} does not exist")]
    items, results = record.inputs.get("items", []), record.result.get("items", [])
    if index >= len(items) or index >= len(results):
        return [RowProblem(record_id, row, f"points at ledger item {index}, which record #{record.sequence} lacks")]
    item, result = items[index], results[index]
    if (item.get("kind"), item.get("external_id")) != (kind, external_id):
        return [RowProblem(record_id, row, f"ledger item {index} is {item.get('kind')} {item.get('external_id')}")]
    problems = []
    if last is not None and last != (record_id, index):
        problems.append(
            RowProblem(
                record_id, row, f"points at item {index}, but ledger record {last[0]} item {last[1]} valued it since"
            )
        )
    if json_ready(event["valuation"]) != result:
        problems.append(RowProblem(record_id, row, f"its stored value differs from ledger item {index}"))
    expected = _Writes(event)
    spec.apply(expected, result)
    for name in expected.written:
        if not _same_value(event[name], expected[name]):
            problems.append(
                RowProblem(
                    record_id,
                    row,
                    f"{name} differs from ledger item {index}: {_difference(event[name], expected[name])}",
                )
            )
    asked = spec.valuation(event)
    method, inputs = asked if asked is not None else (None, {})
    if method != item.get("method"):
        problems.append(
            RowProblem(
                record_id,
                row,
                f"valued with {item.get('method')} in ledger item {index}, its stored fields ask for {method}",
            )
        )
    recorded = item.get("inputs") or {}
    for name in sorted(set(inputs) | set(recorded)):
        if not _same_value(inputs.get(name), recorded.get(name)):
            problems.append(
                RowProblem(
                    record_id,
                    row,
                    f"input {name} differs from ledger item {index}: "
                    + _difference(inputs.get(name), recorded.get(name)),
                )
            )
    return problems


def _performance_month_problems(
    by_id: Mapping[int, LedgerRecord], zone: ZoneInfo
) -> tuple[list[RowProblem], set[tuple[str, str]]]:
    problems: list[RowProblem] = []
    seen: set[tuple[str, str]] = set()
    rows = list(PerformanceMonth.objects.order_by("service", "month"))
    services = {row.service for row in rows} | set(
        PerformanceSample.objects.values_list("service", flat=True).distinct()
    )
    sums = service_month_sums(services, zone)
    for key in set(sums) - {(row.service, row.month) for row in rows}:
        problems.append(
            RowProblem(
                None, f"performance {key[0]} {key[1]:%Y-%m}", "samples stored, but no service-month adds them up"
            )
        )
    for row in rows:
        external_id = f"{row.service}|{row.month:%Y-%m}"
        seen.add((PERFORMANCE_MONTH_KIND, external_id))
        name = f"performance {row.service} {row.month:%Y-%m}"
        month_sums = sums.get((row.service, row.month), ServiceMonthSums())
        for column in ServiceMonthSums.COLUMNS:
            if getattr(row, column) != getattr(month_sums, column):
                problems.append(
                    RowProblem(
                        row.ledger_record_id,
                        name,
                        f"{column} is not the sum of its samples: "
                        + _difference(getattr(row, column), getattr(month_sums, column), source="samples"),
                    )
                )
        record = by_id.get(row.ledger_record_id) if row.ledger_record_id is not None else None
        if row.ledger_record_id is None or row.ledger_item is None:
            if row.value is not None:
                problems.append(RowProblem(None, name, f"value has no ledger item: {_difference(row.value, None)}"))
            continue
        if record is None:
            problems.append(
                RowProblem(row.ledger_record_id, name, f"its ledger record {row.ledger_record_id} does not exist")
            )
            continue
        stored = record.result.get("items", [])
        if row.ledger_item >= len(stored):
            problems.append(
                RowProblem(
                    record.pk, name, f"points at ledger item {row.ledger_item}, which record #{record.sequence} lacks"
                )
            )
            continue
        recorded = stored[row.ledger_item].get("monthly_revenue_impact")
        if not _same_value(row.value, recorded) or row.value is None:
            problems.append(
                RowProblem(
                    record.pk,
                    name,
                    f"value differs from ledger item {row.ledger_item}: {_difference(row.value, recorded)}",
                )
            )
    return problems, seen


def _month_name(month: date | datetime) -> str:
    return f"{month:%Y-%m}"


def rollup_cell_problems(zone: ZoneInfo) -> list[RowProblem]:
    """Every monthly rollup cell that is not what the rollup rebuild computes from the rows beneath it."""
    from roi.rollups import rollup_cells_from_events, rollup_cells_stored

    expected, stored = rollup_cells_from_events(zone), rollup_cells_stored()
    problems = []
    for key in sorted(set(expected) | set(stored)):
        month, stream, department, product = key
        row = f"monthly rollup {_month_name(month)} {stream} {department or '-'}/{product or '-'}"
        sums, held = expected.get(key, {}), stored.get(key, {})
        for column in ROLLUP_COLUMNS:
            # At the column's own scale: SQLite's sums come back with a long tail of zeros.
            scale = Decimal(1).scaleb(-getattr(MonthlyRollup._meta.get_field(column), "decimal_places", 0))
            held_amount = held.get(column, Decimal(0)).quantize(scale)
            summed = sums.get(column, Decimal(0)).quantize(scale)
            if held_amount != summed:
                problems.append(
                    RowProblem(
                        None,
                        row,
                        f"{column} stored {held_amount}, its rows add up to {summed} "
                        f"(difference {held_amount - summed:+})",
                    )
                )
    return problems


def stored_row_problems(*, records: Sequence[LedgerRecord], zone: ZoneInfo) -> list[RowProblem]:
    """Every event, service-month and rollup cell of the scope tenant that the ledger or its rows contradict.

    `records` is the tenant's whole ledger in chain order: an event pointing at a record not
    in it points at one that does not exist (event tables carry no foreign key, see Event),
    and a ledger item whose event is in no table names a deleted row.
    """
    by_id = {record.pk: record for record in records}
    latest = _latest_items(records)
    problems: list[RowProblem] = []
    seen: set[tuple[str, str]] = set()
    for spec in KINDS.values():
        for event in _event_rows(spec):
            seen.add((spec.kind.value, event["external_id"]))
            problems.extend(_event_problems(spec, event, by_id, latest))
    month_problems, months_seen = _performance_month_problems(by_id, zone)
    problems.extend(month_problems)
    seen |= months_seen
    for (kind, external_id), (record_id, index) in latest.items():
        if (kind, external_id) not in seen:
            problems.append(
                RowProblem(record_id, f"{kind} {external_id}", f"ledger item {index} has no stored row (deleted)")
            )
    problems.extend(rollup_cell_problems(zone))
    return problems


# --- The same rows for an auditor's export --------------------------------------------------


def _cells(spec: KindSpec, event: dict[str, Any], zone: ZoneInfo) -> list[list[Any]]:
    local = event["occurred_at"].astimezone(zone)
    month = f"{local:%Y-%m}"
    return [
        [month, stream, event["department"], event["product"], {c: str(a) for c, a in amounts.items() if a}]
        for stream, amounts in spec.contributions(event)
    ]


def _valued_columns(spec: KindSpec, event: Mapping[str, Any]) -> list[str]:
    """The columns valuation writes on this event (its kind's `apply`, asked rather than listed again)."""
    probe = _Writes(event)
    spec.apply(probe, None)
    return sorted(probe.written)


def _text(value: Any) -> Any:
    return None if value is None else canonical_numbers(value)


def stored_rows_for_export(*, zone: ZoneInfo) -> Iterator[dict[str, Any]]:
    """Every stored row the pages sum, as `bin/verify_ledger_export.py` checks it against the records.

    Each event gives its summed columns (those valuation writes), the inputs its stored
    fields ask to be valued with, the ledger item it points at, and what it adds to which
    rollup cell (each kind's own `contributions`); service-months their value and cell;
    then every rollup cell as stored. The verifier holds the columns and inputs against the
    items in the same export and adds the contributions up against the cells.
    """
    for spec in KINDS.values():
        for event in _event_rows(spec):
            asked = spec.valuation(event)
            yield {
                "row": "event",
                "kind": spec.kind.value,
                "external_id": event["external_id"],
                "ledger_record": event["ledger_record"],
                "ledger_item": event["ledger_item"],
                "values": {name: _text(event[name]) for name in _valued_columns(spec, event)},
                "inputs": None if asked is None else canonical_numbers(asked[1]),
                "cells": _cells(spec, event, zone),
            }
    for month in PerformanceMonth.objects.order_by("service", "month"):
        yield {
            "row": "event",
            "kind": PERFORMANCE_MONTH_KIND,
            "external_id": f"{month.service}|{month.month:%Y-%m}",
            "ledger_record": month.ledger_record_id,
            "ledger_item": month.ledger_item,
            "values": {"value": _text(month.value)},
            "inputs": None,
            "cells": [
                [
                    f"{month.month:%Y-%m}",
                    "performance",
                    month.department,
                    month.product,
                    {"value": _text(month.value or 0)},
                ]
            ],
        }
    from roi.rollups import rollup_cells_stored

    for (month_start, stream, department, product), amounts in sorted(rollup_cells_stored().items()):
        yield {
            "row": "rollup",
            "cell": [f"{month_start:%Y-%m}", stream, department, product],
            "values": {column: str(amount) for column, amount in amounts.items() if amount},
        }
