"""Event ingestion, one transaction per batch, in five public stages:

    parse_batch (batch) -> value_events (valuation) -> prepare_record (records)
        -> store_batch (storage) -> rollups_move (rollup_deltas)

`service.events_ingest` composes them for the API, the CSV import and the webhooks;
`roi.revaluation` composes value, record, store and roll up again for stored events. `kinds`
holds what each event kind is parsed into, valued with and adds up to (`KINDS`); `stores` the
database's half of storing (an `EventStore` per database: COPY to staging on PostgreSQL,
`bulk_create` on SQLite); `stored_checks` the stored rows the pages sum, held against the
ledger and the rollups (`stored_row_problems`).
"""

from roi.ingestion.batch import BatchInvalid
from roi.ingestion.service import events_ingest
from roi.kinds import KINDS

__all__ = ["KINDS", "BatchInvalid", "events_ingest"]
