"""Event ingestion, one transaction per batch. `service` holds the entry point,
`events_ingest`; what each event kind is parsed into, valued with and adds up to is
declared in `roi.kinds` (`KINDS`, re-exported here); `batch` the whole-batch parsing
(`parse_batch`, `BatchInvalid`) and the `BatchOutcome`; `valuation` the figures in force and
the engine runs, performance per service-month included; `records` the batch's ledger record, its Merkle root and its
verification (`batch_problems`); `stored_checks` the stored rows the pages sum, held against
the ledger and the rollups (`stored_row_problems`); `storage` the upserts (COPY to
staging on PostgreSQL, `bulk_create` on SQLite) and the tenant's ingestion lock;
`rollup_deltas` the moves of the monthly rollups.
"""

from roi.ingestion.batch import BatchInvalid
from roi.ingestion.service import events_ingest
from roi.kinds import KINDS

__all__ = ["KINDS", "BatchInvalid", "events_ingest"]
