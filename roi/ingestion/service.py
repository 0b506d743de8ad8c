"""Event ingestion: validate a batch whole, value it, upsert it, roll it up, ledger it.

One transaction per batch. The events go in keyed on (tenant, external_id), so a re-sent
event updates its row; the monthly rollups move by the difference between each event's old
and new contribution, in one more upsert; and one ledger record commits to every valuation
of the batch (its items, and their Merkle root), so `verify_ledger` recomputes each event's
value.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction

from governance import periods
from governance.ledger import Actor
from governance.tenancy import current_tenant
from roi.ingestion.batch import BatchOutcome, parse_batch
from roi.ingestion.records import _canonical_texts, _ledger
from roi.ingestion.rollup_deltas import RollupKey, _add_contributions, _apply_rollup_deltas, _contribution_of_row
from roi.ingestion.storage import (
    _insert_new,
    _lock_tenant_ingestion,
    _replace_stored,
    _reserve_ledger_id,
    _stage,
    _stored_rows,
    _upsert,
)
from roi.ingestion.valuation import FiguresTimeline, _value, _value_performance_months
from roi.kinds import KINDS
from roi.models import EventKind
from roi.signals import events_ingested


def events_ingest(*, actor: Actor, kind: str, payload: Any) -> BatchOutcome:
    """Store one batch of events of `kind` for the scope tenant, valued and rolled up."""
    spec = KINDS[kind]
    events = parse_batch(kind, payload)
    periods.ensure_open(events=events, stored=spec.model.objects)
    tenant = current_tenant()
    zone = ZoneInfo(tenant.time_zone)
    outcome = BatchOutcome(kind=kind, received=len(events))
    with transaction.atomic():
        # First what needs no lock, so concurrent batches of one tenant do it side by side:
        # valuation, the ledger record's hashing, the new rows' rollup contributions and,
        # on PostgreSQL, the COPY of the rows into a staging table.
        timeline = FiguresTimeline(tenant.time_zone)
        items, results, figures_used = _value(spec, events, timeline, outcome)
        deltas: dict[RollupKey, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        _add_contributions(deltas, spec, events, +1, zone)
        texts = _canonical_texts(items, results)
        staged = _stage(spec, events, result_texts=texts[1])
        record_id: int | None = None
        inserted: set[str] = set()
        if staged is not None:
            # On PostgreSQL the events not stored yet go in now, still without the lock,
            # pointing at the ledger record's id taken in advance (see _insert_new).
            record_id = _reserve_ledger_id() if items else None
            inserted = _insert_new(spec, staged, record_id)
        # Then one batch at a time per tenant (the ledger append takes the tenant's lock,
        # and it is held to the commit): the rows replaced as they are now, their
        # replacement, the deltas.
        record = _ledger(actor, kind, items, results, figures_used, texts=texts, record_id=record_id) if items else None
        if record is None:
            _lock_tenant_ingestion()  # else taken already: ledger_append locks the same row, to the commit
        if staged is not None:
            existing = _replace_stored(spec, events, staged, record, inserted)
        else:
            existing = {row.external_id: row for row in _stored_rows(spec, [e["external_id"] for e in events])}
            _upsert(spec, events, record)
        _add_contributions(deltas, spec, [_contribution_of_row(spec, row) for row in existing.values()], -1, zone)
        if kind == EventKind.PERFORMANCE_SAMPLE:
            _value_performance_months(actor, events, existing.values(), zone, timeline, deltas, outcome)
        _apply_rollup_deltas(deltas)
        events_ingested.send(sender=spec.model, tenant_id=tenant.pk, kind=kind)
    outcome.created = sum(1 for e in events if e["external_id"] not in existing)
    outcome.updated = len(events) - outcome.created
    outcome.ledger_record = outcome.ledger_record or record
    return outcome
