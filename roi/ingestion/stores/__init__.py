"""Where a batch's rows and rollup moves are written: one `EventStore` per database, chosen once.

PostgreSQL (`stores.postgresql`) COPYs a batch into a staging table and inserts the events
not stored yet before the tenant's lock, replacing only the stored ones under it; SQLite
(`stores.sqlite`) upserts the whole batch with `bulk_create`, its transaction holding the
database's one write lock from its start (`governance.stores.sqlite`). `event_store` picks
the default database's store; no other module asks which database it is, and the raw SQL
of the write path lives only in these implementation modules.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet

from governance.models import LedgerRecord
from roi.kinds import KindSpec

# A monthly rollup cell: (month, stream, department, product).
RollupKey = tuple[date, str, str, str]

MODEL_FIELDS: dict[type[Any], list[Any]] = {}


def written_fields(model: type[Any]) -> list[Any]:
    """The columns an upsert writes (all but the key, the tenant and the first-received time)."""
    if model not in MODEL_FIELDS:
        MODEL_FIELDS[model] = [
            f for f in model._meta.concrete_fields if not f.primary_key and f.name not in {"tenant", "received_at"}
        ]
    return MODEL_FIELDS[model]


@dataclass(frozen=True, slots=True)
class StagedBatch:
    """A batch handed to the store: its kind, its events, and (PostgreSQL) the staging table holding them."""

    spec: KindSpec
    events: list[dict[str, Any]]
    table: str | None = None


class EventStore(Protocol):
    """The database's half of storing a batch and moving the rollups."""

    def stage(self, spec: KindSpec, events: list[dict[str, Any]], result_texts: Sequence[str]) -> StagedBatch:
        """Make the batch ready to write, before any lock; `result_texts` is each ledger result's JSON."""

    def insert_new(self, staged: StagedBatch, record_id: int | None) -> set[str]:
        """Before the tenant's lock: insert what needs no lock; the external ids inserted."""

    def replace_stored(self, staged: StagedBatch, record: LedgerRecord | None, inserted: set[str]) -> dict[str, Any]:
        """Under the tenant's lock: write the rest of the batch; the rows it replaced, as they were."""

    def stored_rows(self, spec: KindSpec, external_ids: list[str]) -> QuerySet[Any]:
        """The stored events of these external ids."""

    def move_rollups(self, cells: Sequence[tuple[RollupKey, Mapping[str, Decimal]]]) -> None:
        """Add each cell's amounts to its stored rollup cell (made if missing)."""


@functools.cache
def event_store() -> EventStore:
    """The event store of the default database (the one place that asks which database it is)."""
    if connections[DEFAULT_DB_ALIAS].vendor == "postgresql":
        from roi.ingestion.stores.postgresql import PostgresEventStore

        return PostgresEventStore()
    from roi.ingestion.stores.sqlite import SqliteEventStore

    return SqliteEventStore()
