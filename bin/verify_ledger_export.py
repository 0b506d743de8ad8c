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

    for number, record, why_not in read_records(lines):
        if record is None:
            fail(number, None, why_not)
            previous = None  # the next link cannot be checked against an unreadable line
            continue
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
