"""Re-valuing stored events under the financial model versions in force at their times now.

After a model change, or a version back-dated with an earlier `effective_from`, events
keep the value they were given until they are revalued here. Nothing is rewritten in
place: each revalued event points to a new batch ledger record (the old records stay and
keep verifying), and the rollups move by the difference, exactly as ingestion moves them:
through the same stages (`value_events`, `prepare_record`, `store_batch`, `rollups_move`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models.functions import TruncMonth

from governance import periods
from governance.ledger import Actor, json_ready
from governance.tenancy import current_tenant
from roi.ingestion.batch import BatchOutcome, Valuation
from roi.ingestion.records import prepare_record
from roi.ingestion.rollup_deltas import event_of_row, new_rollup_deltas, rollup_deltas, rollups_move
from roi.ingestion.storage import lock_tenant_ingestion, store_batch
from roi.ingestion.valuation import FiguresTimeline, local_month, month_date, value_events, value_performance_months
from roi.kinds import KINDS, KindSpec
from roi.models import PerformanceMonth, PerformanceSample

CHUNK = 2000


@dataclass
class Revaluation:
    """What a revaluation did: events looked at, re-recorded, changed in value; new records."""

    examined: int = 0
    revalued: int = 0
    changed_value: int = 0
    performance_months_revalued: int = 0
    performance_months_changed_value: int = 0
    ledger_record_ids: list[int] = field(default_factory=list)


def _money_of(event: dict[str, Any]) -> tuple[Any, Any]:
    # Real incidents carry their money as downtime cost; everything else as value.
    return event.get("value"), event.get("downtime_cost")


def _revalue_chunk(
    actor: Actor, spec: KindSpec, rows: list[Any], timeline: FiguresTimeline, zone: ZoneInfo, report: Revaluation
) -> None:
    events = [event_of_row(spec, row) for row in rows]
    old_money = [_money_of(event) for event in events]
    valuation = value_events(spec, events, timeline, BatchOutcome(kind=spec.kind.value))
    changed: list[tuple[Any, dict[str, Any]]] = []
    for row, event, money in zip(rows, events, old_money, strict=True):
        if row.model_version == event["model_version"] and json_ready(row.valuation) == json_ready(event["valuation"]):
            continue
        changed.append((row, event))
        report.changed_value += money != _money_of(event)
    report.examined += len(rows)
    if not changed:
        return
    # The new record holds only the changed events' items; renumber them to match.
    kept = Valuation()
    for _, event in changed:
        if event["ledger_item"] is not None:
            index, event["ledger_item"] = event["ledger_item"], len(kept.items)
            kept.items.append(valuation.items[index])
            kept.results.append(valuation.results[index])
    for reference in {item["figures"] for item in kept.items}:
        kept.figures_used[reference] = valuation.figures_used[reference]
    changed_events = [event for _, event in changed]
    stored = store_batch(actor=actor, spec=spec, events=changed_events, record=prepare_record(spec.kind.value, kept))
    rollups_move(rollup_deltas(spec, changed_events, [row for row, _ in changed], zone))
    report.revalued += len(changed)
    if stored.record is not None:
        report.ledger_record_ids.append(stored.record.pk)


def _revalue_performance_months(
    actor: Actor, since: datetime, timeline: FiguresTimeline, zone: ZoneInfo, report: Revaluation
) -> None:
    first_month = local_month(since, zone)
    before = {(m.service, m.month): m.value for m in PerformanceMonth.objects.filter(month__gte=first_month)}
    sampled = (
        PerformanceSample.objects.filter(occurred_at__gte=since)
        .annotate(month=TruncMonth("occurred_at", tzinfo=zone))
        .values_list("service", "month")
        .distinct()
    )
    closed = periods.closed_months()
    touched = {key for key in set(before) | {(s, month_date(m)) for s, m in sampled} if key[1] not in closed}
    if not touched:
        return
    # `value_performance_months` reads (service, occurred_at) pairs; the month's first moment stands for it.
    months = [{"service": s, "occurred_at": datetime(m.year, m.month, 1, tzinfo=zone)} for s, m in touched]
    outcome = BatchOutcome(kind="performance_months")
    deltas = new_rollup_deltas()
    value_performance_months(actor, months, [], zone, timeline, deltas, outcome, keep_unchanged=True)
    rollups_move(deltas)
    if outcome.ledger_record is not None:
        report.ledger_record_ids.append(outcome.ledger_record.pk)
        report.performance_months_revalued = len(outcome.ledger_record.result["items"])
    after = {(m.service, m.month): m.value for m in PerformanceMonth.objects.filter(month__gte=first_month)}
    report.performance_months_changed_value = sum(1 for key, value in after.items() if before.get(key) != value)


def events_revalue(*, actor: Actor, since: datetime) -> Revaluation:
    """Value the scope tenant's events that occurred on or after `since` under the versions in force now.

    Events whose valuation or model version would not change are left alone (their
    record still proves them), so running it twice adds nothing. Events stored without a
    value because there was no model yet get one.
    """
    tenant = current_tenant()
    zone = ZoneInfo(tenant.time_zone)
    report = Revaluation()
    with transaction.atomic():
        lock_tenant_ingestion()
        timeline = FiguresTimeline(tenant.time_zone)
        closed = periods.closed_months()
        for spec in (spec for spec in KINDS.values() if spec.valued_each):
            # Ids first, rows chunk by chunk: the table is written while it is walked.
            ids = list(
                spec.model.objects.filter(occurred_at__gte=since)
                .order_by("occurred_at", "pk")
                .values_list("pk", flat=True)
            )
            for start in range(0, len(ids), CHUNK):
                rows = list(spec.model.objects.filter(pk__in=ids[start : start + CHUNK]).order_by("occurred_at", "pk"))
                rows = [row for row in rows if not periods.is_closed(row.occurred_at, closed)]  # closed stays put
                _revalue_chunk(actor, spec, rows, timeline, zone, report)
        _revalue_performance_months(actor, since, timeline, zone, report)
    return report
