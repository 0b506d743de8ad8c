"""The store stage: a valued batch's rows written and its ledger record appended, under the tenant's lock.

The database's own half is its `EventStore` (`roi.ingestion.stores`). What needs no lock is
done first, so concurrent batches of one tenant do it side by side (on PostgreSQL the COPY
and the insert of the events not stored yet); then one batch at a time per tenant, to the
commit: the ledger append (which takes the tenant's lock), the read of the rows being
replaced, and their replacement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from governance.ledger import Actor
from governance.models import LedgerRecord
from governance.stores import database_store
from governance.tenancy import current_tenant
from roi.ingestion.records import PreparedRecord, append_record
from roi.ingestion.stores import event_store
from roi.kinds import KindSpec


@dataclass(frozen=True, slots=True)
class StoredBatch:
    """The store stage's output: the batch's ledger record, and the rows it replaced as they were."""

    record: LedgerRecord | None
    replaced: dict[str, Any]  # external_id -> the stored row before this batch


def lock_tenant_ingestion() -> None:
    """Hold, to the commit, the tenant's ingestion lock (the ledger chain's lock).

    One batch at a time per tenant from the read of the stored rows to the commit, so
    rollup deltas computed from the rows as they were read are never applied twice by
    concurrent re-sends of the same events.
    """
    database_store().lock_tenant(current_tenant().pk)


def store_batch(
    *, actor: Actor, spec: KindSpec, events: list[dict[str, Any]], record: PreparedRecord | None
) -> StoredBatch:
    """The store stage: upsert `events` (keyed on external_id) and append `record`, in the caller's transaction."""
    store = event_store()
    staged = store.stage(spec, events, result_texts=() if record is None else record.result_texts)
    # Rows written before the record points at it: its id is taken in advance where the
    # store writes rows before the lock (see PostgresEventStore.insert_new).
    record_id = None if record is None else database_store().reserve_id(LedgerRecord)
    inserted = store.insert_new(staged, record_id)
    if record is None:
        ledger_record = None
        lock_tenant_ingestion()
    else:
        ledger_record = append_record(actor, record, record_id=record_id)  # takes the lock, to the commit
    replaced = store.replace_stored(staged, ledger_record, inserted)
    return StoredBatch(ledger_record, replaced)
