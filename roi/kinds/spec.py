"""`KindSpec`: everything about one event kind, from which its parser, serializer, schema, CSV
import, rollup deltas and rollup rebuild are derived."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from governance.ledger import canonical_numbers
from roi.event_fields import FieldReader
from roi.kinds.contributions import Contribution
from roi.kinds.fields import COMMON_FIELDS, Field
from roi.models import EventKind
from roi.models.events import Event as EventModel

if TYPE_CHECKING:
    from roi.demo.events import Span

Event = dict[str, Any]
Errors = dict[str, list[str]]
# The engine method and its inputs for one parsed event (None: not valued one by one).
Valuation = Callable[[Event], tuple[str, dict[str, Any]] | None]
# How the engine's result (None: no valuation) lands on the event's columns.
Apply = Callable[[Event, dict[str, Any] | None], None]
# Rules across fields, and the `deferred` fields, read once the others are: (reader, event so far).
Check = Callable[[FieldReader, Event], None]
# A kind's part of the demo story: its events over the span, as a client would send them.
DemoGenerator = Callable[[random.Random, "Span"], list[dict[str, Any]]]


def ledger_number(value: Decimal | None) -> str | None:
    """A number as the ledger records it ("1000", not "1E+3" as str() writes it)."""
    return None if value is None else canonical_numbers(value)


def no_valuation(event: Event) -> None:
    return None


def value_left_empty(event: Event, result: dict[str, Any] | None) -> None:
    """For a kind valued as a whole (performance) or not at all: the event's own value stays empty."""
    event["value"] = None


def no_check(reader: FieldReader, event: Event) -> None:
    return None


@dataclass(frozen=True)
class KindSpec:
    """One event kind: its model, the fields a client sends, how it is valued and what it adds up to.

    Adding a kind is one module in `roi.kinds` declaring one of these (listed in `KINDS`),
    its model in `roi.models.events` and the migration.
    """

    kind: EventKind
    model: type[EventModel]
    # Its own fields, after `COMMON_FIELDS`, in the order the API lists them.
    own_fields: tuple[Field, ...]
    occurred_at: str  # the field that places the event in time (and picks the figures that value it)
    # What it adds to the monthly rollups (`roi.kinds.contributions`).
    rollup: tuple[Contribution, ...]
    valuation: Valuation = no_valuation
    apply: Apply = value_left_empty
    check: Check = no_check
    # Columns valuation writes beside `value`, which the API shows after the fields.
    outputs: tuple[str, ...] = ()
    demo: DemoGenerator | None = None
    fields: tuple[Field, ...] = field(init=False)
    field_names: frozenset[str] = field(init=False)
    fields_by_name: Mapping[str, Field] = field(init=False)
    _read_first: tuple[tuple[str, Callable[[FieldReader], Any]], ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        fields = (*COMMON_FIELDS, *self.own_fields)
        object.__setattr__(self, "fields", fields)
        object.__setattr__(self, "field_names", frozenset(f.name for f in fields))
        object.__setattr__(self, "fields_by_name", {f.name: f for f in fields})
        object.__setattr__(self, "_read_first", tuple((f.name, f.reading()) for f in fields if not f.deferred))

    @property
    def valued_each(self) -> bool:
        """Whether each event is valued on its own (so revalued when the figures in force change)."""
        return self.valuation is not no_valuation

    def parse(self, data: Mapping[str, Any]) -> tuple[Event, Errors]:
        """One event object as typed values, with every error collected under its field's name."""
        reader = FieldReader(data, self.field_names)
        event = {name: read(reader) for name, read in self._read_first}
        self.check(reader, event)
        event["occurred_at"] = event[self.occurred_at]
        return event, reader.errors

    def contributions(self, event: Mapping[str, Any]) -> list[tuple[str, dict[str, Decimal]]]:
        """(stream, {rollup column: amount}) for each rollup stream the event counts in."""
        return [
            (c.stream, {column: read(event) for column, read in c.readers}) for c in self.rollup if c.applies_to(event)
        ]
