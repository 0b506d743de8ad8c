"""Event ingestion: validate a batch whole, value it, record it, store it, roll it up.

One transaction per batch, through the public stages: `parse_batch` (batch), `value_events`
(valuation), `prepare_record` (records), `store_batch` (storage) and `rollups_move`
(rollup_deltas). The events go in keyed on (tenant, external_id), so a re-sent event
updates its row; the monthly rollups move by the difference between each event's old and
new contribution, in one more upsert; and one ledger record commits to every valuation of
the batch (its items, and their Merkle root), so `verify_ledger` recomputes each event's
value.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction

from governance import periods
from governance.ledger import Actor
from governance.tenancy import current_tenant
from roi.ingestion.batch import BatchOutcome, parse_batch
from roi.ingestion.records import prepare_record
from roi.ingestion.rollup_deltas import add_contributions, event_of_row, new_rollup_deltas, rollups_move
from roi.ingestion.storage import store_batch
from roi.ingestion.valuation import FiguresTimeline, value_events, value_performance_months
from roi.kinds import KINDS
from roi.models import EventKind
from roi.signals import events_ingested


def events_ingest(*, actor: Actor, kind: str, payload: Any) -> BatchOutcome:
    """Store one batch of events of `kind` for the scope tenant, valued and rolled up."""
    spec = KINDS[kind]
    events = parse_batch(kind, payload)
    periods.ensure_open(events=events, stored=spec.model.objects.all())
    tenant = current_tenant()
    zone = ZoneInfo(tenant.time_zone)
    outcome = BatchOutcome(kind=kind, received=len(events))
    with transaction.atomic():
        # First what needs no lock, so concurrent batches of one tenant do it side by side:
        # valuation, the ledger record's encoding and the new rows' rollup contributions.
        timeline = FiguresTimeline(tenant.time_zone)
        valuation = value_events(spec, events, timeline, outcome)
        record = prepare_record(kind, valuation)
        deltas = new_rollup_deltas()
        add_contributions(deltas, spec, events, +1, zone)
        stored = store_batch(actor=actor, spec=spec, events=events, record=record)
        # From here the tenant's lock is held: the replaced rows are as they were committed.
        add_contributions(deltas, spec, [event_of_row(spec, row) for row in stored.replaced.values()], -1, zone)
        if kind == EventKind.PERFORMANCE_SAMPLE:
            value_performance_months(actor, events, stored.replaced.values(), zone, timeline, deltas, outcome)
        rollups_move(deltas)
        events_ingested.send(sender=spec.model, tenant_id=tenant.pk, kind=kind)
    existing = stored.replaced
    outcome.created = sum(1 for e in events if e["external_id"] not in existing)
    outcome.updated = len(events) - outcome.created
    outcome.ledger_record = outcome.ledger_record or stored.record
    return outcome
