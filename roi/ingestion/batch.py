"""A batch of events: parsed and validated whole (the parse stage), its valuation, and what came of storing it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from governance.models import LedgerRecord
from roi.engine import FinancialFigures
from roi.engine.money import ZERO, money_text
from roi.kinds import KINDS

MAX_BATCH = 10_000


class BatchInvalid(Exception):
    """A batch with errors, keyed "<index>.<field>"; nothing of it was stored."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(f"{len(errors)} invalid field(s)")
        self.errors = errors


# --- The batch --------------------------------------------------------------------------


@dataclass
class BatchOutcome:
    kind: str
    received: int = 0
    created: int = 0
    updated: int = 0
    valued: int = 0
    unvalued: int = 0
    total_value: Decimal = ZERO
    ledger_record: LedgerRecord | None = None
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "received": self.received,
            "created": self.created,
            "updated": self.updated,
            "valued": self.valued,
            "unvalued": self.unvalued,
            "total_value": money_text(self.total_value),
            "ledger_record": None if self.ledger_record is None else self.ledger_record.pk,
            "notes": self.notes,
        }


@dataclass(frozen=True, slots=True)
class Valuation:
    """The value stage's output: the ledger item and engine result of each valued event, and
    the figures they were valued with (by reference). Each valued event's `ledger_item` is
    its index in `items`."""

    items: list[dict[str, Any]] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    figures_used: dict[str, FinancialFigures] = field(default_factory=dict)


def parse_batch(kind: str, payload: Any) -> list[dict[str, Any]]:
    """The parse stage: every item parsed, or BatchInvalid with the errors of all of them ("<index>.<field>")."""
    spec = KINDS[kind]
    items = payload if isinstance(payload, list) else [payload]
    if not items:
        raise BatchInvalid({"body": ["Send one event object or a list of them."]})
    if len(items) > MAX_BATCH:
        raise BatchInvalid({"body": [f"At most {MAX_BATCH} events a request; this one has {len(items)}."]})
    errors: dict[str, list[str]] = {}
    events: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            errors[f"{index}"] = ["must be an object"]
            continue
        event, item_errors = spec.parse(item)
        for name, messages in item_errors.items():
            errors[f"{index}.{name}"] = messages
        external_id = event.get("external_id")
        if external_id:
            if external_id in seen:
                errors.setdefault(f"{index}.external_id", []).append(
                    f"appears twice in this batch (first at index {seen[external_id]})"
                )
            seen[external_id] = index
        events.append(event)
    if errors:
        raise BatchInvalid(errors)
    return events
