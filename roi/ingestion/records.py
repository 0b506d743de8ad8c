"""The record stage: a batch's ledger record, every item with its result under one Merkle root;
and the verification of such records.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from governance.ledger import (
    Actor,
    canonical_json,
    canonical_json_many,
    canonical_json_spliced,
    json_ready,
    ledger_append,
)
from governance.models import LedgerRecord
from roi.engine import EngineInputError, FinancialFigures, method_for
from roi.ingestion.batch import Valuation

BATCH_METHOD = "event_batch"
BATCH_METHOD_VERSION = 1


# --- Merkle root ------------------------------------------------------------------------


def leaf_hash(item: Mapping[str, Any], result: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json({"item": item, "result": result}).encode()).hexdigest()


def merkle_root(leaves: Sequence[str]) -> str:
    """Root of a binary Merkle tree over the leaf hashes (an odd node is carried up)."""
    if not leaves:
        return hashlib.sha256(b"").hexdigest()
    level = list(leaves)
    while len(level) > 1:
        paired = [
            hashlib.sha256((level[i] + level[i + 1]).encode()).hexdigest() if i + 1 < len(level) else level[i]
            for i in range(0, len(level), 2)
        ]
        level = paired
    return level[0]


@dataclass(frozen=True, slots=True)
class PreparedRecord:
    """The record stage's output: a batch's ledger record, encoded before any lock.

    Each item and result is written as canonical JSON once (`item_texts`, `result_texts`),
    and that text serves three times: in its leaf hash, spliced into the record's inputs and
    result for the record's own hash, and (results) as the events' stored valuation.
    """

    kind: str
    valuation: Valuation
    item_texts: list[str]
    result_texts: list[str]


def prepare_record(kind: str, valuation: Valuation) -> PreparedRecord | None:
    """The record stage: the batch's ledger record made ready to append (None: nothing was valued)."""
    if not valuation.items:
        return None
    return PreparedRecord(
        kind=kind,
        valuation=valuation,
        item_texts=canonical_json_many(valuation.items),
        result_texts=canonical_json_many(valuation.results),
    )


def append_record(actor: Actor, prepared: PreparedRecord, *, record_id: int | None = None) -> LedgerRecord:
    """Append the batch record: every item with its result, and their Merkle root.

    The leaf hashes are of exactly `leaf_hash`'s text, which verification recomputes
    independently. Items and results are JSON-ready already (strings, ints, booleans, None),
    as `value_events` builds them. `record_id`: an id reserved for the record in advance.
    """
    items, results = prepared.valuation.items, prepared.valuation.results
    leaves = [
        hashlib.sha256(f'{{"item":{item},"result":{result}}}'.encode()).hexdigest()
        for item, result in zip(prepared.item_texts, prepared.result_texts, strict=True)
    ]
    inputs = {"kind": prepared.kind, "items": items}
    result = {"items": results, "count": len(items), "merkle_root": merkle_root(leaves)}
    return ledger_append(
        actor=actor,
        method=BATCH_METHOD,
        method_version=BATCH_METHOD_VERSION,
        model_version=None,
        kpi_version=None,
        inputs=inputs,
        figures={
            reference: figures.as_dict(include_derived=False)
            for reference, figures in prepared.valuation.figures_used.items()
        },
        result=result,
        encoded={
            "inputs": canonical_json_spliced(inputs, {"items": f"[{','.join(prepared.item_texts)}]"}),
            "result": canonical_json_spliced(result, {"items": f"[{','.join(prepared.result_texts)}]"}),
        },
        record_id=record_id,
    )


# --- Verification of batch records ----------------------------------------------------


def batch_problems(record: LedgerRecord) -> list[str]:
    """Why a batch record does not recompute (empty: every item does, and the root holds)."""
    problems: list[str] = []
    figures = {}
    try:
        figures = {ref: FinancialFigures.from_mapping(data) for ref, data in record.figures.items()}
    except EngineInputError as error:
        return [f"stored figures no longer valid: {error}"]
    items = record.inputs.get("items", [])
    stored = record.result.get("items", [])
    if len(items) != len(stored):
        return ["items and results differ in number"]
    leaves = []
    for index, (item, result) in enumerate(zip(items, stored, strict=True)):
        try:
            # The version the item was valued with, as for calculation records: a newer
            # version of a method must not make older batches fail verification.
            spec = method_for(item["method"], item.get("method_version"))
            recomputed = json_ready(spec.run(item["inputs"], figures[item["figures"]]).as_dict())
        except (EngineInputError, KeyError) as error:
            problems.append(f"item {index} ({item.get('external_id')}): cannot recompute: {error}")
            continue
        if recomputed != result:
            problems.append(f"item {index} ({item.get('external_id')}): result does not recompute")
        leaves.append(leaf_hash(item, result))
    if merkle_root(leaves) != record.result.get("merkle_root"):
        problems.append("merkle_root does not match the items")
    return problems
