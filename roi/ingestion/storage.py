"""Storing a batch's rows: the upsert paths, and the per-tenant ingestion lock.

On PostgreSQL the batch is COPYed into a temporary staging table; the events not stored
yet are inserted from it before the tenant's lock is taken (`_insert_new`), and only the
ones that were stored are read and replaced under it (`_replace_stored`), with the ledger
append and the rollup deltas. SQLite reads and upserts everything under the lock.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL
from django.utils import timezone

from governance.models import LedgerRecord
from governance.tenancy import current_tenant
from roi.kinds import KindSpec

UPSERT_CHUNK = 1000


def _lock_tenant_ingestion() -> None:
    # One batch at a time per tenant from the read of the stored rows to the commit, so
    # rollup deltas computed from the rows as they were read are never applied twice by
    # concurrent re-sends of the same events. The same row lock as the ledger chain's.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM governance_tenant WHERE id = %s FOR NO KEY UPDATE", [current_tenant().pk])


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
