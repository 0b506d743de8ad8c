#!/usr/bin/env python3
"""Verify a BizValue ledger export (JSON Lines) without BizValue: Python 3.10+, standard library only.

Download the export as an auditor, from the ledger page ("Download for verification") or
the API (`GET /api/v1/ledger/export.jsonl?since=YYYY-MM-DD&until=YYYY-MM-DD`), then run:

    python3 verify_ledger_export.py bizvalue-ledger-acme.jsonl
    python3 verify_ledger_export.py --anchor <hash> march.jsonl   # chain on from an earlier export

For every line (one ledger record) it recomputes

    hash = sha256(previous_hash + canonical JSON of the record's hashed fields)

where canonical JSON is keys sorted, no spaces, UTF-8 as is (`json.dumps(value,
sort_keys=True, separators=(",", ":"), ensure_ascii=False)`), and the hashed fields are
every field of the line except `id` and `hash`. It checks that each record's
`previous_hash` is the hash of the line before, that sequences follow on without a gap,
and, for batch records (`event_batch`), that the Merkle root over their items and results
is the one recorded. The first record of a full export links to the genesis hash (64
zeros); a date-filtered export starts later, and the verifier prints its first record's
`previous_hash`, the anchor, to compare with the hash of the record before it in the app
(or with the last hash of the previous period's export, given as `--anchor`).

An export taken with `?rows=1` (whole ledger) also holds, after the records, every stored row
the pages sum: each event's summed columns and valuation inputs, the ledger item it points at
and what it adds to which monthly rollup cell; each performance service-month; each rollup
cell. The verifier then checks that each row's figures are the ones its ledger item records,
that every ledger item still has its row, and that every rollup cell is the sum of the rows'
contributions: an edited event value, a deleted event or an edited cell fails.

Each failure is printed with its line, sequence and record id; the exit status is 0 when
everything holds, 1 on any failure or when the export holds no record at all, 2 when the
file cannot be read.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterable, Iterator
from decimal import Decimal, InvalidOperation
from typing import Any, TextIO

GENESIS_HASH = "0" * 64
BATCH_METHOD = "event_batch"
# What a record's hash covers, as `governance.ledger.record_payload` builds it.
HASHED_FIELDS = (
    "tenant",
    "sequence",
    "method",
    "method_version",
    "model_version",
    "kpi_version",
    "inputs",
    "figures",
    "result",
    "currency",
    "actor",
    "created_at",
    "previous_hash",
)
NOT_HASHED = ("id", "hash")


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def record_hash(record: dict[str, Any]) -> str:
    payload = {name: record[name] for name in HASHED_FIELDS}
    return sha256(record["previous_hash"] + canonical_json(payload))


def merkle_root(leaves: list[str]) -> str:
    """Root of a binary Merkle tree over the leaf hashes (an odd node is carried up)."""
    if not leaves:
        return sha256("")
    level = leaves
    while len(level) > 1:
        level = [sha256(level[i] + level[i + 1]) if i + 1 < len(level) else level[i] for i in range(0, len(level), 2)]
    return level[0]


def batch_problems(record: dict[str, Any]) -> list[str]:
    """Why a batch record's Merkle root does not cover its items (nothing when it does)."""
    items = record["inputs"].get("items")
    results = record["result"].get("items")
    if items is None and results is None:
        return []  # an export without the items: nothing to check the root against
    if not isinstance(items, list) or not isinstance(results, list) or len(items) != len(results):
        return ["batch items and results differ in number"]
    problems = []
    if record["result"].get("count") != len(items):
        problems.append(f"batch count {record['result'].get('count')} but {len(items)} items")
    leaves = [
        sha256(canonical_json({"item": item, "result": result})) for item, result in zip(items, results, strict=True)
    ]
    if merkle_root(leaves) != record["result"].get("merkle_root"):
        problems.append("merkle_root does not match the batch's items and results")
    return problems


# Which result field each summed column of a valued row holds (BizValue's roi.kinds).
RESULT_OF_COLUMN = {
    "automation-runs": {"value": "total_value", "hours_saved": "time_saved_hours"},
    "performance_month": {"value": "monthly_revenue_impact"},
}


def number(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        return None


def same(stored: Any, recorded: Any) -> bool:
    """Equal as numbers ("45" and "45.000000") or as they are."""
    left, right = number(stored), number(recorded)
    return stored == recorded or (left is not None and right is not None and left == right)


def difference(stored: Any, recorded: Any) -> str:
    text = f"stored {stored}, ledger {recorded}"
    left, right = number(stored), number(recorded)
    if left is not None and right is not None:
        text += f" (difference {left - right:+})"
    return text


def expected_values(kind: str, item: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    """The summed columns a row valued by `item` must hold."""
    if kind == "incidents":
        prevented = "prevention_confidence" in item.get("inputs", {})
        return {
            "value": result.get("prevention_value") if prevented else None,
            "downtime_cost": None if prevented else result.get("total_impact"),
        }
    if kind in RESULT_OF_COLUMN:
        return {column: result.get(field) for column, field in RESULT_OF_COLUMN[kind].items()}
    return {"value": None}  # investments: valued, but nothing of the result is summed


def row_problems(batches: dict[Any, dict[str, Any]], rows: list[tuple[int, dict[str, Any]]]) -> list[tuple[int, str]]:
    """(line, why) for every stored row the records or the other rows contradict."""
    problems: list[tuple[int, str]] = []
    latest: dict[tuple[str, str], tuple[Any, int]] = {}
    for chain_id, chain_record in batches.items():
        for position, item in enumerate(chain_record["inputs"].get("items") or []):
            latest[(str(item.get("kind")), str(item.get("external_id")))] = (chain_id, position)
    seen: set[tuple[str, str]] = set()
    sums: dict[tuple[str, ...], dict[str, Decimal]] = {}
    cells: dict[tuple[str, ...], tuple[int, dict[str, Any]]] = {}
    for number_, row in rows:
        if row.get("row") == "rollup":
            cells[tuple(row["cell"])] = (number_, row["values"])
            continue
        kind, external_id = str(row["kind"]), str(row["external_id"])
        name = f"{kind} {external_id}"
        seen.add((kind, external_id))
        for *cell, amounts in row["cells"]:
            total = sums.setdefault(tuple(cell), {})
            for column, amount in amounts.items():
                total[column] = total.get(column, Decimal(0)) + (number(amount) or Decimal(0))
        record_id, index = row.get("ledger_record"), row.get("ledger_item")
        if record_id is None or index is None:
            for column, value in row["values"].items():
                if value is not None:
                    problems.append((number_, f"{name}: {column} {value} has no ledger item"))
            continue
        record = batches.get(record_id)
        if record is None:
            problems.append((number_, f"{name}: its ledger record {record_id} is not in the chain"))
            continue
        items, results = record["inputs"].get("items") or [], record["result"].get("items") or []
        if not isinstance(index, int) or not 0 <= index < min(len(items), len(results)):
            problems.append((number_, f"{name}: points at item {index}, which record {record_id} lacks"))
            continue
        item, result = items[index], results[index]
        if (item.get("kind"), item.get("external_id")) != (kind, external_id):
            problems.append((number_, f"{name}: item {index} of record {record_id} is another event"))
            continue
        if latest.get((kind, external_id)) != (record_id, index):
            problems.append((number_, f"{name}: points at item {index} of record {record_id}, not its latest"))
        for column, recorded in expected_values(kind, item, result).items():
            if not same(row["values"].get(column), recorded):
                problems.append(
                    (
                        number_,
                        f"{name}: {column} differs from item {index} of record {record_id}: "
                        + difference(row["values"].get(column), recorded),
                    )
                )
        asked, recorded_inputs = row.get("inputs") or {}, item.get("inputs") or {}
        for field in sorted(set(asked) | set(recorded_inputs)) if row.get("inputs") is not None else []:
            if not same(asked.get(field), recorded_inputs.get(field)):
                problems.append(
                    (
                        number_,
                        f"{name}: input {field} differs from item {index} of record {record_id}: "
                        + difference(asked.get(field), recorded_inputs.get(field)),
                    )
                )
    for (kind, external_id), (record_id, index) in latest.items():
        if (kind, external_id) not in seen:
            problems.append(
                (0, f"{kind} {external_id}: item {index} of record {record_id} has no stored row (deleted)")
            )
    for cell in sorted(set(sums) | set(cells)):
        number_, stored = cells.get(cell, (0, {}))
        added = sums.get(cell, {})
        for column in sorted(set(stored) | set(added)):
            held, summed = number(stored.get(column)) or Decimal(0), added.get(column, Decimal(0))
            if held != summed:
                month, stream, department, product = cell
                problems.append(
                    (
                        number_,
                        f"rollup {month} {stream} {department or '-'}/{product or '-'}: {column} stored "
                        f"{held}, its rows add up to {summed} (difference {held - summed:+})",
                    )
                )
    return problems


def read_records(lines: Iterable[str]) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
    """(line number, record or None, why not) for each non-blank line."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as error:
            yield number, None, f"not JSON: {error}"
            continue
        if not isinstance(record, dict):
            yield number, None, "not a JSON object"
            continue
        yield number, record, ""


def verify(lines: Iterable[str], *, anchor: str | None = None, out: TextIO = sys.stdout) -> int:
    """Check every record and link; print each failure and a summary; the number of failures."""
    failures = 0
    previous: dict[str, Any] | None = None
    first: dict[str, Any] | None = None
    count = 0

    def fail(number: int, record: dict[str, Any] | None, reason: str) -> None:
        nonlocal failures
        failures += 1
        where = f"line {number}"
        if record is not None:
            where += f", sequence {record.get('sequence')}, id {record.get('id')}"
        print(f"FAIL {where}: {reason}", file=out)

    batches: dict[Any, dict[str, Any]] = {}
    rows: list[tuple[int, dict[str, Any]]] = []
    for number, record, why_not in read_records(lines):
        if record is None:
            fail(number, None, why_not)
            previous = None  # the next link cannot be checked against an unreadable line
            continue
        if "row" in record:
            rows.append((number, record))
            continue
        if rows:
            fail(number, record, "a record after the stored rows (they come last)")
        missing = [name for name in (*HASHED_FIELDS, "hash") if name not in record]
        if missing:
            fail(number, record, f"fields missing: {', '.join(missing)}")
            previous = None
            continue
        extra = sorted(set(record) - set(HASHED_FIELDS) - set(NOT_HASHED))
        if extra:
            fail(number, record, f"fields the hash does not cover: {', '.join(extra)}")
        count += 1
        try:
            if record_hash(record) != record["hash"]:
                fail(number, record, "hash does not match the record's fields (edited)")
            if record["method"] == BATCH_METHOD:
                for problem in batch_problems(record):
                    fail(number, record, problem)
                batches[record.get("id")] = record
        except (TypeError, ValueError, AttributeError) as error:
            fail(number, record, f"malformed record: {error}")
        if first is None:
            first = record
            if record["sequence"] == 1 and record["previous_hash"] != GENESIS_HASH:
                fail(number, record, "the first record of the chain does not link to the genesis hash")
            if anchor is not None and record["previous_hash"] != anchor:
                fail(number, record, f"previous_hash {record['previous_hash']} is not the anchor given, {anchor}")
        elif previous is not None:
            if record["tenant"] != first["tenant"]:
                fail(number, record, f"another tenant ({record['tenant']}) than the first record's")
            if record["previous_hash"] != previous["hash"]:
                fail(
                    number,
                    record,
                    f"previous_hash does not match the hash of the line before (sequence {previous['sequence']})",
                )
            if record["sequence"] != previous["sequence"] + 1:
                fail(
                    number,
                    record,
                    f"expected sequence {previous['sequence'] + 1} after {previous['sequence']} "
                    "(records missing or reordered)",
                )
        previous = record

    if first is None:
        # An empty file proves nothing, and a cut or emptied download must not pass as verified.
        print("FAIL: no records in this export (an empty date range, or an empty file): nothing verified.", file=out)
        return failures + 1
    print(
        f"{count} records checked, sequence {first['sequence']} to {previous['sequence'] if previous else '?'}.",
        file=out,
    )
    if first["sequence"] == 1:
        print("Full chain: it starts at sequence 1, which must link to the genesis hash (64 zeros).", file=out)
    else:
        print(
            f"Partial export: it starts at sequence {first['sequence']}. Anchor (its previous_hash): "
            f"{first['previous_hash']}\n"
            f"  Compare it with the hash of the record with sequence {first['sequence'] - 1} in BizValue, "
            "or with the last hash of the export before this one (pass it as --anchor).",
            file=out,
        )
    if previous is not None:
        print(
            f"Last hash: {previous['hash']} (the next export's anchor; the chain head for a whole ledger)",
            file=out,
        )
    if rows:
        try:
            found = row_problems(batches, rows)
        except (TypeError, ValueError, AttributeError, KeyError) as error:
            found = [(0, f"malformed stored rows: {error}")]
        for number, problem in found:
            failures += 1
            print(f"FAIL {'line ' + str(number) if number else 'stored rows'}: {problem}", file=out)
        print(f"{len(rows)} stored rows checked against the records and the rollup cells.", file=out)
    else:
        print("No stored rows in this export (take it with ?rows=1 to check the figures the pages sum).", file=out)
    print("OK: every hash and link holds." if failures == 0 else f"{failures} failure(s).", file=out)
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Verify a BizValue ledger export (JSON Lines).")
    parser.add_argument("export", help="the .jsonl file, or - for standard input")
    parser.add_argument(
        "--anchor", help="hash the first record's previous_hash must equal (an earlier export's last hash)"
    )
    args = parser.parse_args(argv)
    try:
        if args.export == "-":
            failures = verify(sys.stdin, anchor=args.anchor)
        else:
            with open(args.export, encoding="utf-8") as lines:
                failures = verify(lines, anchor=args.anchor)
    except (OSError, UnicodeDecodeError) as error:
        print(f"cannot read {args.export}: {error}", file=sys.stderr)
        return 2
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
