"""Re-valuing stored events under the financial model versions in force at their times now.

After a model change, or a version back-dated with an earlier `effective_from`, events
keep the value they were given until they are revalued here. Nothing is rewritten in
place: each revalued event points to a new batch ledger record (the old records stay and
keep verifying), and the rollups move by the difference, exactly as ingestion moves them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models.functions import TruncMonth

from governance import periods
from governance.ledger import Actor, json_ready
from governance.tenancy import current_tenant
from roi.ingestion.batch import BatchOutcome
from roi.ingestion.records import _ledger
from roi.ingestion.rollup_deltas import RollupKey, _apply_rollup_deltas, _contribution_of_row, _rollup_deltas
from roi.ingestion.storage import _lock_tenant_ingestion, _upsert
from roi.ingestion.valuation import FiguresTimeline, _month, _value, _value_performance_months
from roi.kinds import KINDS, KindSpec
from roi.models import EventKind, PerformanceMonth, PerformanceSample

REVALUED_KINDS = (EventKind.INCIDENT, EventKind.AUTOMATION_RUN, EventKind.INVESTMENT)
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
    events = [_contribution_of_row(spec, row) for row in rows]
    old_money = [_money_of(event) for event in events]
    items, results, figures_used = _value(spec, events, timeline, BatchOutcome(kind=spec.kind.value))
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
    kept_items: list[dict[str, Any]] = []
    kept_results: list[dict[str, Any]] = []
    for _, event in changed:
        if event["ledger_item"] is not None:
            index, event["ledger_item"] = event["ledger_item"], len(kept_items)
            kept_items.append(items[index])
            kept_results.append(results[index])
    used = {item["figures"] for item in kept_items}
    record = (
        _ledger(actor, spec.kind.value, kept_items, kept_results, {ref: figures_used[ref] for ref in used})
        if kept_items
        else None
    )
    changed_events = [event for _, event in changed]
    _upsert(spec, changed_events, record)
    _apply_rollup_deltas(_rollup_deltas(spec, changed_events, [row for row, _ in changed], zone))
    report.revalued += len(changed)
    if record is not None:
        report.ledger_record_ids.append(record.pk)


def _revalue_performance_months(
    actor: Actor, since: datetime, timeline: FiguresTimeline, zone: ZoneInfo, report: Revaluation
) -> None:
    first_month = _month(since, zone)
    before = {(m.service, m.month): m.value for m in PerformanceMonth.objects.filter(month__gte=first_month)}
    sampled = (
        PerformanceSample.objects.filter(occurred_at__gte=since)
        .annotate(month=TruncMonth("occurred_at", tzinfo=zone))
        .values_list("service", "month")
        .distinct()
    )
    closed = periods.closed_months()
    touched = {key for key in set(before) | {(s, _as_date(m)) for s, m in sampled} if key[1] not in closed}
    if not touched:
        return
    # `_value_performance_months` reads (service, occurred_at) pairs; the month's first moment stands for it.
    months = [{"service": s, "occurred_at": datetime(m.year, m.month, 1, tzinfo=zone)} for s, m in touched]
    outcome = BatchOutcome(kind="performance_months")
    deltas: dict[RollupKey, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    _value_performance_months(actor, months, [], zone, timeline, deltas, outcome, keep_unchanged=True)
    _apply_rollup_deltas(deltas)
    if outcome.ledger_record is not None:
        report.ledger_record_ids.append(outcome.ledger_record.pk)
        report.performance_months_revalued = len(outcome.ledger_record.result["items"])
    after = {(m.service, m.month): m.value for m in PerformanceMonth.objects.filter(month__gte=first_month)}
    report.performance_months_changed_value = sum(1 for key, value in after.items() if before.get(key) != value)


def _as_date(month: date | datetime) -> date:
    return month.date() if isinstance(month, datetime) else month


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
        _lock_tenant_ingestion()
        timeline = FiguresTimeline(tenant.time_zone)
        closed = periods.closed_months()
        for kind in REVALUED_KINDS:
            spec = KINDS[kind.value]
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
