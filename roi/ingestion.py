"""Event ingestion: validate a batch whole, value it, upsert it, roll it up, ledger it.

One transaction per batch. The events go in keyed on (tenant, external_id), so a re-sent
event updates its row; the monthly rollups move by the difference between each event's old
and new contribution, in one more upsert; and one ledger record commits to every valuation
of the batch (its items, and their Merkle root), so `verify_ledger` recomputes each event's
value.

On PostgreSQL the batch is COPYed into a temporary staging table; the events not stored
yet are inserted from it before the tenant's lock is taken (`_insert_new`), and only the
ones that were stored are read and replaced under it (`_replace_stored`), with the ledger
append and the rollup deltas. SQLite reads and upserts everything under the lock.
"""

from __future__ import annotations

import bisect
import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import BooleanField, Count, Sum
from django.db.models.expressions import RawSQL
from django.utils import timezone

from governance import periods, sql
from governance.ledger import (
    Actor,
    canonical_json,
    canonical_json_many,
    canonical_json_spliced,
    json_ready,
    ledger_append,
)
from governance.models import LedgerRecord
from governance.tenancy import current_tenant
from roi import event_fields
from roi.engine import METHODS, EngineInputError, FinancialFigures, method_for
from roi.figures import stored_flat
from roi.models import (
    AutomationRun,
    BusinessKpis,
    Deployment,
    EventKind,
    FinancialModel,
    Incident,
    Investment,
    MonthlyRollup,
    PerformanceMonth,
    PerformanceSample,
    Stream,
)
from roi.signals import events_ingested

MAX_BATCH = 10_000
BATCH_METHOD = "event_batch"
BATCH_METHOD_VERSION = 1
UPSERT_CHUNK = 1000
ZERO = Decimal(0)


class BatchInvalid(Exception):
    """A batch with errors, keyed "<index>.<field>"; nothing of it was stored."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(f"{len(errors)} invalid field(s)")
        self.errors = errors


@dataclass(frozen=True)
class KindSpec:
    kind: EventKind
    model: type[Any]
    parse: event_fields.Parser
    # Engine method and its inputs for one parsed event (None: not valued one by one).
    valuation: Callable[[dict[str, Any]], tuple[str, dict[str, Any]] | None]
    apply: Callable[[dict[str, Any], dict[str, Any] | None], None]
    contributions: Callable[[dict[str, Any]], list[tuple[str, dict[str, Decimal]]]]


def _s(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


# --- Per kind: what to value, how the result lands on the event, what it adds up to ----


def _incident_valuation(event: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    downtime = event["estimated_downtime_minutes"] if event["prevented"] else event["downtime_minutes"]
    if downtime is None:
        return None  # still open: valued when it is resolved
    inputs = {
        "downtime_minutes": _s(downtime),
        "severity": event["severity"],
        "affected_revenue_share": _s(event["affected_revenue_share"]),
        "affected_customers": event["affected_customers"],
        "public": event["public"],
        "started_at": event["started_at"].isoformat(),
    }
    if event["prevented"]:
        inputs["prevention_confidence"] = _s(event["prevention_confidence"])
    return "incident_cost", inputs


def _incident_apply(event: dict[str, Any], result: dict[str, Any] | None) -> None:
    if result is None:
        event["value"] = event["downtime_cost"] = None
    elif event["prevented"]:
        event["value"], event["downtime_cost"] = Decimal(result["prevention_value"]), None
    else:
        event["value"], event["downtime_cost"] = None, Decimal(result["total_impact"])


def _incident_contributions(event: dict[str, Any]) -> list[tuple[str, dict[str, Decimal]]]:
    if event["prevented"]:
        return [(Stream.INCIDENT_PREVENTION, {"value": event["value"] or ZERO, "event_count": Decimal(1)})]
    return [
        (
            Stream.DOWNTIME,
            {
                "value": event["downtime_cost"] or ZERO,
                "event_count": Decimal(1),
                "downtime_minutes": event["downtime_minutes"] or ZERO,
            },
        )
    ]


def _automation_valuation(event: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return "automation_value", {
        "manual_time_equivalent": _s(event["manual_time_equivalent"]),
        "execution_time": _s(event["execution_time"]),
        "runs": event["runs"],
        "errors_avoided": event["errors_avoided"],
        "compliance_checks": event["compliance_checks"],
    }


def _automation_apply(event: dict[str, Any], result: dict[str, Any] | None) -> None:
    event["value"] = None if result is None else Decimal(result["total_value"])
    event["hours_saved"] = None if result is None else Decimal(result["time_saved_hours"])


def _automation_contributions(event: dict[str, Any]) -> list[tuple[str, dict[str, Decimal]]]:
    return [
        (
            Stream.AUTOMATION,
            {"value": event["value"] or ZERO, "event_count": Decimal(1), "hours_saved": event["hours_saved"] or ZERO},
        )
    ]


def _investment_valuation(event: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return "investment_roi", {
        "upfront_cost": _s(event["upfront_cost"]),
        "monthly_cost": _s(event["monthly_cost"]),
        "monthly_benefit": _s(event["expected_monthly_benefit"]),
        "months": event["months"],
    }


def _no_valuation(event: dict[str, Any]) -> None:
    return None


def _keep_result_only(event: dict[str, Any], result: dict[str, Any] | None) -> None:
    event["value"] = None


def _performance_contributions(event: dict[str, Any]) -> list[tuple[str, dict[str, Decimal]]]:
    # Money for performance is set per service and month (see _value_performance_months).
    return [(Stream.PERFORMANCE, {"event_count": Decimal(1), "response_time_ms_sum": event["response_time_ms"]})]


def _deployment_contributions(event: dict[str, Any]) -> list[tuple[str, dict[str, Decimal]]]:
    return [(Stream.DEPLOYMENTS, {"event_count": Decimal(1), "failures": Decimal(1 if event["failed"] else 0)})]


def _investment_contributions(event: dict[str, Any]) -> list[tuple[str, dict[str, Decimal]]]:
    return [(Stream.INVESTMENT, {"event_count": Decimal(1), "value": event["upfront_cost"]})]


KINDS: dict[str, KindSpec] = {
    spec.kind.value: spec
    for spec in (
        KindSpec(
            EventKind.INCIDENT,
            Incident,
            event_fields.parse_incident,
            _incident_valuation,
            _incident_apply,
            _incident_contributions,
        ),
        KindSpec(
            EventKind.AUTOMATION_RUN,
            AutomationRun,
            event_fields.parse_automation_run,
            _automation_valuation,
            _automation_apply,
            _automation_contributions,
        ),
        KindSpec(
            EventKind.PERFORMANCE_SAMPLE,
            PerformanceSample,
            event_fields.parse_performance_sample,
            _no_valuation,
            _keep_result_only,
            _performance_contributions,
        ),
        KindSpec(
            EventKind.DEPLOYMENT,
            Deployment,
            event_fields.parse_deployment,
            _no_valuation,
            _keep_result_only,
            _deployment_contributions,
        ),
        KindSpec(
            EventKind.INVESTMENT,
            Investment,
            event_fields.parse_investment,
            _investment_valuation,
            _keep_result_only,
            _investment_contributions,
        ),
    )
}


# --- Figures in force at a moment ------------------------------------------------------


class FiguresTimeline:
    """The model and KPI versions of the tenant, to find the ones in force at any moment.

    Loaded once per batch (a handful of rows); each pair of versions is turned into
    `FinancialFigures` once.
    """

    def __init__(self, time_zone: str) -> None:
        self.time_zone = time_zone
        # Read with hand-written SQL (`governance.sql`): compiling the two ORM queries cost
        # more than running them, once per batch.
        tenant_id = [current_tenant().pk]
        models = sql.instances(FinancialModel.history.model, "tenant_id = %s", tenant_id)
        kpis = sql.instances(BusinessKpis.history.model, "tenant_id = %s", tenant_id)
        self.models = sorted(models, key=lambda v: (v.effective_from, v.version, -v.history_id))
        self.kpis = sorted(kpis, key=lambda v: (v.effective_from, v.version, -v.history_id))
        self._model_times = [v.effective_from for v in self.models]
        self._kpi_times = [v.effective_from for v in self.kpis]
        self._figures: dict[str, FinancialFigures] = {}
        # With one model version and at most one KPI version (the usual case), the same
        # figures are in force at every moment: found once, not once per event.
        self._constant: tuple[str, int | None, FinancialFigures] | None = None
        if len(self.models) == 1 and len(self.kpis) <= 1:
            self._constant = self.at(self.models[0].effective_from)

    @staticmethod
    def _pick(versions: list[Any], times: list[datetime], moment: datetime) -> Any | None:
        if not versions:
            return None
        index = bisect.bisect_right(times, moment) - 1
        # Events older than the first version use the first version.
        return versions[max(index, 0)]

    def at(self, moment: datetime) -> tuple[str, int | None, FinancialFigures] | None:
        """(reference, model version, figures) in force at `moment`; None without a model."""
        if self._constant is not None:
            return self._constant
        model = self._pick(self.models, self._model_times, moment)
        if model is None:
            return None
        kpis = self._pick(self.kpis, self._kpi_times, moment)
        reference = f"m{model.version}-k{kpis.version if kpis else 0}"
        if reference not in self._figures:
            groups = {
                "revenue_model": model.revenue_model,
                "cost_model": model.cost_model,
                "impact_model": model.impact_model,
                "severity_responders": model.severity_responders,
                "revenue_profile": model.revenue_profile,
            }
            sections = (
                None
                if kpis is None
                else {"kpis": kpis.kpis, "alerts": kpis.alerts, "attribution_rules": kpis.attribution_rules}
            )
            self._figures[reference] = FinancialFigures.from_mapping(stored_flat(groups, sections, self.time_zone))
        return reference, model.version, self._figures[reference]

    def baseline_response_time(self) -> Decimal | None:
        """The KPI baseline in force now, if the tenant set one."""
        if not self.kpis:
            return None
        raw = (self.kpis[-1].kpis.get("performance") or {}).get("baseline_response_time")
        return None if raw is None else Decimal(raw)


# --- Merkle root ------------------------------------------------------------------------


def leaf_hash(item: Mapping[str, Any], result: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json({"item": item, "result": result}).encode()).hexdigest()


def merkle_root(leaves: Sequence[str]) -> str:
    """Root of a binary Merkle tree over the leaf hashes (an odd node is carried up)."""
    if not leaves:
        return hashlib.sha256(b"").hexdigest()
    level = list(leaves)
    while len(level) > 1:
        paired = [
            hashlib.sha256((level[i] + level[i + 1]).encode()).hexdigest() if i + 1 < len(level) else level[i]
            for i in range(0, len(level), 2)
        ]
        level = paired
    return level[0]


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
            "total_value": str(self.total_value.quantize(Decimal("0.01"))),
            "ledger_record": None if self.ledger_record is None else self.ledger_record.pk,
            "notes": self.notes,
        }


def parse_batch(kind: str, payload: Any) -> list[dict[str, Any]]:
    """Every item parsed, or BatchInvalid with the errors of all of them ("<index>.<field>")."""
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


def _month(moment: datetime, zone: ZoneInfo) -> date:
    local = moment.astimezone(zone)
    return date(local.year, local.month, 1)


def _lock_tenant_ingestion() -> None:
    # One batch at a time per tenant from the read of the stored rows to the commit, so
    # rollup deltas computed from the rows as they were read are never applied twice by
    # concurrent re-sends of the same events. The same row lock as the ledger chain's.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM governance_tenant WHERE id = %s FOR NO KEY UPDATE", [current_tenant().pk])


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


def _value(
    spec: KindSpec, events: list[dict[str, Any]], timeline: FiguresTimeline, outcome: BatchOutcome
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, FinancialFigures]]:
    items: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    figures_used: dict[str, FinancialFigures] = {}
    errors: dict[str, list[str]] = {}
    # What each event asks for, then one engine call per method and figures in force
    # (`run_many`, the same results as one `run` per event), then the events in order.
    asked: list[tuple[str, dict[str, Any], str, int | None] | None] = []
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for index, event in enumerate(events):
        event["ledger_item"] = event["model_version"] = event["valuation"] = None
        wanted = spec.valuation(event)
        in_force = timeline.at(event["occurred_at"]) if wanted else None
        if wanted is None or in_force is None:
            asked.append(None)
            spec.apply(event, None)
            if wanted is not None:
                outcome.unvalued += 1
            continue
        method, inputs = wanted
        reference, model_version, figures = in_force
        figures_used[reference] = figures
        asked.append((method, inputs, reference, model_version))
        groups[(method, reference)].append(index)
    answers: dict[int, dict[str, Any] | EngineInputError] = {}
    for (method, reference), indexes in groups.items():
        valued = METHODS[method].run_many([asked[i][1] for i in indexes], figures_used[reference])  # type: ignore[index]
        answers.update(zip(indexes, valued, strict=True))
    kind = spec.kind.value
    versions = {method: METHODS[method].version for method, _ in groups}
    for index, event in enumerate(events):
        request = asked[index]
        if request is None:
            continue
        method, inputs, reference, model_version = request
        result = answers[index]
        if isinstance(result, EngineInputError):
            for name, messages in result.errors.items():
                errors[f"{index}.{name}"] = messages
            continue
        event["ledger_item"] = len(items)
        event["model_version"] = model_version
        event["valuation"] = result
        items.append(
            {
                "kind": kind,
                "external_id": event["external_id"],
                "method": method,
                "method_version": versions[method],
                "figures": reference,
                "inputs": inputs,
            }
        )
        results.append(result)
        spec.apply(event, result)
        outcome.valued += 1
        outcome.total_value += event.get("value") or ZERO
    if errors:
        raise BatchInvalid(errors)
    if outcome.unvalued:
        outcome.notes.append(
            f"{outcome.unvalued} event(s) stored without a value: set the financial model, then run revalue."
        )
    return items, results, figures_used


def _ledger(
    actor: Actor,
    kind: str,
    items: list[dict[str, Any]],
    results: list[dict[str, Any]],
    figures_used: Mapping[str, FinancialFigures],
    *,
    texts: tuple[list[str], list[str]] | None = None,
    record_id: int | None = None,
) -> LedgerRecord:
    """Append the batch record: every item with its result, and their Merkle root.

    Each item and result is written as canonical JSON once, and that text serves three
    times: in its leaf hash (exactly `leaf_hash`'s text, which verification recomputes
    independently), and spliced into the canonical JSON of the record's inputs and result
    for the record's own hash. Items and results are JSON-ready already (strings, ints,
    booleans, None), as `_value` builds them.
    """
    item_texts, result_texts = texts or _canonical_texts(items, results)
    leaves = [
        hashlib.sha256(f'{{"item":{item},"result":{result}}}'.encode()).hexdigest()
        for item, result in zip(item_texts, result_texts, strict=True)
    ]
    inputs = {"kind": kind, "items": items}
    result = {"items": results, "count": len(items), "merkle_root": merkle_root(leaves)}
    return ledger_append(
        actor=actor,
        method=BATCH_METHOD,
        method_version=BATCH_METHOD_VERSION,
        model_version=None,
        kpi_version=None,
        inputs=inputs,
        figures={reference: figures.as_dict(include_derived=False) for reference, figures in figures_used.items()},
        result=result,
        encoded={
            "inputs": canonical_json_spliced(inputs, {"items": f"[{','.join(item_texts)}]"}),
            "result": canonical_json_spliced(result, {"items": f"[{','.join(result_texts)}]"}),
        },
        record_id=record_id,
    )


def _canonical_texts(items: list[dict[str, Any]], results: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """The canonical JSON of each ledger item and of each result, written once per batch."""
    return canonical_json_many(items), canonical_json_many(results)


MODEL_FIELDS: dict[type[Any], list[Any]] = {}


def _fields_of(model: type[Any]) -> list[Any]:
    """The columns an upsert writes (all but the key, the tenant and the first-received time)."""
    if model not in MODEL_FIELDS:
        MODEL_FIELDS[model] = [
            f for f in model._meta.concrete_fields if not f.primary_key and f.name not in {"tenant", "received_at"}
        ]
    return MODEL_FIELDS[model]


def _upsert(
    spec: KindSpec, events: list[dict[str, Any]], record: LedgerRecord | None, *, staged: str | None = None
) -> None:
    """Insert the events, or update those whose external_id is stored: one statement per batch."""
    if connection.vendor == "postgresql":
        table = staged or _stage(spec, events)
        if table is not None:
            _upsert_from_stage(
                spec, table, None if record is None else record.pk, replacing=[e["external_id"] for e in events]
            )
            return
    tenant = current_tenant()
    now = timezone.now()
    fields = _fields_of(spec.model)
    rows = []
    for event in events:
        values = {f.attname: event.get(f.name) for f in fields if f.name not in {"ledger_record", "updated_at"}}
        values["ledger_record_id"] = record.pk if record is not None and event["ledger_item"] is not None else None
        values["updated_at"] = now
        rows.append(spec.model(tenant=tenant, received_at=now, **values))
    spec.model.objects.bulk_create(
        rows,
        batch_size=UPSERT_CHUNK,
        update_conflicts=True,
        unique_fields=["tenant", "external_id"],
        update_fields=[f.name for f in fields if f.name != "external_id"],
    )


# --- PostgreSQL: COPY into a staging table, then one INSERT ... ON CONFLICT -------------


def _staged_fields(model: type[Any]) -> list[Any]:
    """The columns the client's batch fills; the ledger record and the times come at upsert."""
    return [f for f in _fields_of(model) if f.name not in {"ledger_record", "updated_at"}]


def _stage_table(model: type[Any]) -> str:
    columns = ",".join(f.column for f in _staged_fields(model))
    # Named after its columns, so a connection that outlives a migration never uses a stale one.
    return f"ingest_stage_{model._meta.model_name}_{hashlib.sha256(columns.encode()).hexdigest()[:8]}"


def _stage(spec: KindSpec, events: list[dict[str, Any]], *, result_texts: Sequence[str] = ()) -> str | None:
    """COPY the batch into this session's staging table for `spec` (PostgreSQL; None elsewhere).

    The table is temporary (this connection's alone, no RLS, no indexes) and emptied at
    each commit; it has the event table's column types, so values convert exactly as an
    INSERT would convert them. `result_texts`, the JSON of the ledger's results, saves
    encoding each event's valuation a second time.
    """
    if connection.vendor != "postgresql":
        return None
    fields = _staged_fields(spec.model)
    table = _stage_table(spec.model)
    columns = ", ".join(f.column for f in fields)
    with connection.cursor() as cursor:
        # Table and column names are ours; no value is interpolated.
        # One round trip for both (no parameters, so the driver sends them as one simple
        # query); the DELETE clears rows of an earlier batch in this same transaction.
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {table} ON COMMIT DELETE ROWS AS "  # noqa: S608
            f"SELECT {columns} FROM {spec.model._meta.db_table} WITH NO DATA; DELETE FROM {table}"
        )
        names = [f.name for f in fields]
        json_columns = [index for index, f in enumerate(fields) if f.get_internal_type() == "JSONField"]
        valuation = names.index("valuation")
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            types = _copy_types(fields)
            if types is not None:
                copy.set_types(types)
            for event in events:
                row = [event.get(name) for name in names]
                for index in json_columns:
                    if row[index] is None:
                        continue
                    item = event.get("ledger_item") if index == valuation else None
                    row[index] = result_texts[item] if item is not None and result_texts else json.dumps(row[index])
                copy.write_row(row)
    return table


# The COPY's dumper per column, named up front so psycopg does not look one up for every
# value it writes (about a third of the COPY's client time). JSON goes as the text it is.
COPY_TYPES = {
    "CharField": "text",
    "DateTimeField": "timestamptz",
    "DecimalField": "numeric",
    "PositiveIntegerField": "int8",
    "BooleanField": "bool",
    "JSONField": "text",
}


def _copy_types(fields: Sequence[Any]) -> list[str] | None:
    """The dumpers for `fields`, or None (psycopg picks per value) if one has no entry."""
    types = [COPY_TYPES.get(f.get_internal_type()) for f in fields]
    return None if None in types else types  # type: ignore[return-value]


def _upsert_from_stage(
    spec: KindSpec, table: str, record_id: int | None, *, replacing: Sequence[str] | None = None
) -> list[str]:
    """INSERT the staged rows; the external ids of those inserted.

    Without `replacing`, only the rows whose external_id is not stored yet go in (the
    others are left as they are), in external_id order; with it, only the staged rows of
    those external ids, each replacing its stored row.
    """
    fields = _staged_fields(spec.model)
    columns = [f.column for f in fields]
    target = spec.model._meta.db_table
    if replacing is None:
        where, conflict, extra = "ORDER BY external_id", "DO NOTHING", []
    else:
        updated = [c for c in [*columns, "ledger_record_id", "updated_at"] if c != "external_id"]
        where = "WHERE external_id = ANY(%s)"
        conflict = "DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in updated)
        extra = [list(replacing)]
    now = timezone.now()
    with connection.cursor() as cursor:
        # Table and column names are ours; every value is a parameter.
        cursor.execute(
            f"INSERT INTO {target} (tenant_id, received_at, updated_at, ledger_record_id, {', '.join(columns)}) "  # noqa: S608
            f"SELECT %s, %s, %s, CASE WHEN ledger_item IS NULL THEN NULL ELSE %s::bigint END, {', '.join(columns)} "
            f"FROM {table} {where} ON CONFLICT (tenant_id, external_id) {conflict} RETURNING external_id",
            [current_tenant().pk, now, now, record_id, *extra],
        )
        return [row[0] for row in cursor.fetchall()]


def _reserve_ledger_id() -> int:
    """The id the batch's ledger record will have, taken from its sequence before the record is written."""
    table = LedgerRecord._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [table])
        return int(cursor.fetchone()[0])


def _insert_new(spec: KindSpec, table: str, record_id: int | None) -> set[str]:
    """PostgreSQL, before the tenant's lock: INSERT the staged events not stored yet; their external ids.

    This is the bulk of a batch's writing, and it needs no lock. A new row cannot be
    counted twice: the unique (tenant, external_id) index lets one transaction insert a
    given event, and a concurrent batch holding the same event waits for that transaction
    to end, then finds it stored and replaces it under the lock (`_replace_stored`), from
    the row as committed. Rows go in in external_id order, so two batches sharing events
    wait for each other in one direction only, never in a cycle; and a transaction holding
    the lock never waits for one that does not, since it only replaces rows that were
    committed. The rows point at the ledger record's id, reserved beforehand: the record
    itself is appended under the lock, before the commit that checks the (deferred)
    foreign key.
    """
    return set(_upsert_from_stage(spec, table, record_id))


def _replace_stored(
    spec: KindSpec, events: list[dict[str, Any]], table: str, record: LedgerRecord | None, inserted: set[str]
) -> dict[str, Any]:
    """PostgreSQL, under the tenant's ingestion lock: replace the events that were stored; those rows as they were.

    Only the events `_insert_new` found stored (none, for a batch of new events) are read,
    for their rollup contributions, and replaced with one INSERT ... ON CONFLICT DO UPDATE.
    """
    replacing = [e["external_id"] for e in events if e["external_id"] not in inserted]
    if not replacing:
        return {}
    existing = {row.external_id: row for row in _stored_rows(spec, replacing)}
    _upsert_from_stage(spec, table, None if record is None else record.pk, replacing=replacing)
    return existing


def _stored_rows(spec: KindSpec, ids: list[str]) -> Any:
    """The stored events of these external ids (read under the tenant's ingestion lock)."""
    if connection.vendor == "postgresql":
        # One array parameter rather than an IN list of up to 10,000 placeholders; the
        # (tenant, external_id) index answers it.
        return spec.model.objects.filter(RawSQL("external_id = ANY(%s)", (ids,), output_field=BooleanField()))
    return spec.model.objects.filter(external_id__in=ids)


RollupKey = tuple[date, str, str, str]
ROLLUP_COLUMNS = ("value", "event_count", "downtime_minutes", "hours_saved", "response_time_ms_sum", "failures")


def _contribution_of_row(spec: KindSpec, row: Any) -> dict[str, Any]:
    return {f.name: getattr(row, f.attname) for f in _fields_of(spec.model)}


def _add_contributions(
    deltas: dict[RollupKey, dict[str, Decimal]],
    spec: KindSpec,
    events: Iterable[Mapping[str, Any]],
    sign: int,
    zone: ZoneInfo,
) -> None:
    """Add (sign +1) or take away (-1) what each event counts in its rollup cells."""
    months: dict[tuple[int, int], date] = {}
    for event in events:
        local = event["occurred_at"].astimezone(zone)
        month = months.get((local.year, local.month))
        if month is None:
            month = months[(local.year, local.month)] = date(local.year, local.month, 1)
        for stream, amounts in spec.contributions(event):  # type: ignore[arg-type]
            cell = deltas[(month, stream, event["department"], event["product"])]
            for column, amount in amounts.items():
                if amount:
                    cell[column] += amount if sign > 0 else -amount


def _rollup_deltas(
    spec: KindSpec, events: list[dict[str, Any]], old_rows: Iterable[Any], zone: ZoneInfo
) -> dict[RollupKey, dict[str, Decimal]]:
    deltas: dict[RollupKey, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    _add_contributions(deltas, spec, [_contribution_of_row(spec, row) for row in old_rows], -1, zone)
    _add_contributions(deltas, spec, events, +1, zone)
    return deltas


def _apply_rollup_deltas(deltas: Mapping[RollupKey, Mapping[str, Decimal]]) -> None:
    """One multi-row upsert that adds each delta to its cell (one statement per batch on PostgreSQL)."""
    cells = [(key, amounts) for key, amounts in deltas.items() if any(amounts.values())]
    if not cells:
        return
    tenant_id = current_tenant().pk
    table = MonthlyRollup._meta.db_table
    columns = ("tenant_id", "month", "stream", "department", "product", *ROLLUP_COLUMNS)
    updates = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in ROLLUP_COLUMNS)
    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
    conflict = f"ON CONFLICT (tenant_id, month, stream, department, product) DO UPDATE SET {updates}"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One array per column: the statement's text is the same whatever the number of
            # cells, so the driver parses it once per process, not once per batch.
            keys = [key for key, _ in cells]
            arrays: list[list[Any]] = [[key[0] for key in keys], *([str(key[i]) for key in keys] for i in (1, 2, 3))]
            arrays += [[amounts.get(c, ZERO) for _, amounts in cells] for c in ROLLUP_COLUMNS]
            casts = ", ".join(
                ["%s::date[]", "%s::text[]", "%s::text[]", "%s::text[]"] + ["%s::numeric[]"] * len(ROLLUP_COLUMNS)
            )
            # Table and column names are ours; every value is a parameter.
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) SELECT %s, * FROM unnest({casts}) {conflict}",  # noqa: S608
                [tenant_id, *arrays],
            )
            return
        for start in range(0, len(cells), 500):
            chunk = cells[start : start + 500]
            params: list[Any] = []
            for (month, stream, department, product), amounts in chunk:
                params += [tenant_id, month, stream, department, product]
                params += [amounts.get(c, ZERO) for c in ROLLUP_COLUMNS]
            # Table and column names are ours; every value is a parameter.
            sql = (
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([placeholders] * len(chunk))} {conflict}"  # noqa: S608
            )
            cursor.execute(sql, params)


# --- Performance: valued per service and month ------------------------------------------


def _value_performance_months(
    actor: Actor,
    events: list[dict[str, Any]],
    old_rows: Iterable[Any],
    zone: ZoneInfo,
    timeline: FiguresTimeline,
    deltas: dict[RollupKey, dict[str, Decimal]],
    outcome: BatchOutcome,
    *,
    keep_unchanged: bool = False,
) -> None:
    """Re-value every service-month the batch touched, and move the money in the rollups.

    With `keep_unchanged` (revaluation), a month whose samples and value are as they were
    keeps the ledger item that already proves it, so re-running adds no records.
    """
    touched = {(e["service"], _month(e["occurred_at"], zone)) for e in events}
    touched |= {(r.service, _month(r.occurred_at, zone)) for r in old_rows}
    services = {service for service, _ in touched}
    sums = _service_month_sums(services, zone)
    months = {(m.service, m.month): m for m in PerformanceMonth.objects.filter(service__in=services)}
    baseline_kpi = timeline.baseline_response_time()
    first_month_mean = {}
    for (service, _month_start), (total, count, _, _) in sorted(sums.items(), key=lambda pair: pair[0][1]):
        first_month_mean.setdefault(service, total / count)

    items: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    figures_used: dict[str, FinancialFigures] = {}
    valued_rows: list[tuple[PerformanceMonth, int | None]] = []
    for service, month in sorted(touched):
        total, count, department, product = sums.get((service, month), (ZERO, 0, "", ""))
        row = months.get((service, month)) or PerformanceMonth(tenant=current_tenant(), service=service, month=month)
        old_value, old_labels = row.value or ZERO, (row.department, row.product)
        before = (row.value, row.samples, row.response_time_ms_sum, *old_labels, row.ledger_record_id, row.ledger_item)
        row.samples, row.response_time_ms_sum = count, total
        row.department, row.product = department, product
        baseline = baseline_kpi if baseline_kpi is not None else first_month_mean.get(service)
        in_force = timeline.at(datetime(month.year, month.month, 1, tzinfo=zone))
        row.value, row.ledger_item = None, None
        if count and baseline is not None and in_force is not None:
            reference, _, figures = in_force
            inputs = {"response_time_improvement_ms": str(baseline - total / count)}
            result = METHODS["performance_impact"].run(inputs, figures).as_dict()
            value = Decimal(result["monthly_revenue_impact"])
            if keep_unchanged and before[5] is not None and before[:5] == (value, count, total, department, product):
                row.value, row.ledger_item = before[0], before[6]
                continue
            figures_used[reference] = figures
            row.value = value
            row.ledger_item = len(items)
            items.append(
                {
                    "kind": "performance_month",
                    "external_id": f"{service}|{month:%Y-%m}",
                    "method": "performance_impact",
                    "method_version": METHODS["performance_impact"].version,
                    "figures": reference,
                    "inputs": inputs,
                }
            )
            results.append(result)
        valued_rows.append((row, row.ledger_item))
        deltas[(month, Stream.PERFORMANCE, *old_labels)]["value"] -= old_value
        deltas[(month, Stream.PERFORMANCE, department, product)]["value"] += row.value or ZERO
    record = _ledger(actor, "performance_months", items, results, figures_used) if items else None
    for row, item in valued_rows:
        row.ledger_record = record if item is not None else None
        row.save()
    if record is not None:
        outcome.ledger_record = record
        outcome.total_value = sum((Decimal(r["monthly_revenue_impact"]) for r in results), ZERO)


def _service_month_sums(services: set[str], zone: ZoneInfo) -> dict[tuple[str, date], tuple[Decimal, int, str, str]]:
    """Sum and count of response times per service and month, with the latest labels seen."""
    from django.db.models.functions import TruncMonth

    rows = (
        PerformanceSample.objects.filter(service__in=services)
        .annotate(month=TruncMonth("measured_at", tzinfo=zone))
        .values("service", "month", "department", "product")
        .annotate(total=Sum("response_time_ms"), count=Count("id"))
    )
    sums: dict[tuple[str, date], tuple[Decimal, int, str, str]] = {}
    for row in rows:
        month = row["month"].date() if isinstance(row["month"], datetime) else row["month"]
        key = (row["service"], date(month.year, month.month, 1))
        total, count, _, _ = sums.get(key, (ZERO, 0, "", ""))
        sums[key] = (total + Decimal(row["total"]), count + row["count"], row["department"], row["product"])
    return sums


# --- Verification of batch records ----------------------------------------------------


def batch_problems(record: LedgerRecord) -> list[str]:
    """Why a batch record does not recompute (empty: every item does, and the root holds)."""
    problems: list[str] = []
    figures = {}
    try:
        figures = {ref: FinancialFigures.from_mapping(data) for ref, data in record.figures.items()}
    except EngineInputError as error:
        return [f"stored figures no longer valid: {error}"]
    items = record.inputs.get("items", [])
    stored = record.result.get("items", [])
    if len(items) != len(stored):
        return ["items and results differ in number"]
    leaves = []
    for index, (item, result) in enumerate(zip(items, stored, strict=True)):
        try:
            # The version the item was valued with, as for calculation records: a newer
            # version of a method must not make older batches fail verification.
            spec = method_for(item["method"], item.get("method_version"))
            recomputed = json_ready(spec.run(item["inputs"], figures[item["figures"]]).as_dict())
        except (EngineInputError, KeyError) as error:
            problems.append(f"item {index} ({item.get('external_id')}): cannot recompute: {error}")
            continue
        if recomputed != result:
            problems.append(f"item {index} ({item.get('external_id')}): result does not recompute")
        leaves.append(leaf_hash(item, result))
    if merkle_root(leaves) != record.result.get("merkle_root"):
        problems.append("merkle_root does not match the items")
    return problems


EVENT_MODELS = (Incident, AutomationRun, Investment)


def event_value_problems(records: Sequence[LedgerRecord]) -> dict[int, list[str]]:
    """Events whose stored valuation differs from the ledger item that holds it."""
    by_id = {record.pk: record for record in records}
    problems: dict[int, list[str]] = defaultdict(list)
    for model in EVENT_MODELS:
        rows = model.objects.filter(ledger_record__isnull=False).values_list(
            "external_id", "ledger_record_id", "ledger_item", "valuation"
        )
        for external_id, record_id, item, valuation in rows.iterator(chunk_size=2000):
            record = by_id.get(record_id)
            if record is None or item is None:
                continue
            stored = record.result.get("items", [])
            if item >= len(stored) or json_ready(valuation) != stored[item]:
                problems[record_id].append(f"event {external_id}: its stored value differs from ledger item {item}")
    for row in PerformanceMonth.objects.filter(ledger_record__isnull=False):
        record = by_id.get(row.ledger_record_id)
        stored = [] if record is None else record.result.get("items", [])
        if row.ledger_item is None or row.ledger_item >= len(stored):
            continue
        if str(row.value) != stored[row.ledger_item]["monthly_revenue_impact"]:
            problems[row.ledger_record_id].append(
                f"performance {row.service} {row.month:%Y-%m}: stored value differs from its ledger item"
            )
    return problems
