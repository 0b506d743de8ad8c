"""PostgreSQL: COPY to a staging table, the new events inserted before the tenant's lock, one
INSERT ... ON CONFLICT per batch for the rest and for the rollups.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from governance.models import LedgerRecord
from governance.tenancy import current_tenant
from roi.engine.money import ZERO
from roi.ingestion.rollup_deltas import ROLLUP_COLUMNS
from roi.ingestion.stores import RollupKey, StagedBatch, written_fields
from roi.kinds import KindSpec
from roi.models import MonthlyRollup

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


def staged_fields(model: type[Any]) -> list[Any]:
    """The columns the client's batch fills; the ledger record and the times come at upsert."""
    return [f for f in written_fields(model) if f.name not in {"ledger_record", "updated_at"}]


def stage_table(model: type[Any]) -> str:
    columns = ",".join(f.column for f in staged_fields(model))
    # Named after its columns, so a connection that outlives a migration never uses a stale one.
    return f"ingest_stage_{model._meta.model_name}_{hashlib.sha256(columns.encode()).hexdigest()[:8]}"


def copy_types(fields: Sequence[Any]) -> list[str] | None:
    """The dumpers for `fields`, or None (psycopg picks per value) if one has no entry."""
    types = [COPY_TYPES.get(f.get_internal_type()) for f in fields]
    return None if None in types else types  # type: ignore[return-value]


class PostgresEventStore:
    def stage(self, spec: KindSpec, events: list[dict[str, Any]], result_texts: Sequence[str]) -> StagedBatch:
        """COPY the batch into this session's staging table for `spec`.

        The table is temporary (this connection's alone, no RLS, no indexes) and emptied at
        each commit; it has the event table's column types, so values convert exactly as an
        INSERT would convert them. `result_texts`, the JSON of the ledger's results, saves
        encoding each event's valuation a second time.
        """
        fields = staged_fields(spec.model)
        table = stage_table(spec.model)
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
                types = copy_types(fields)
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
        return StagedBatch(spec, events, table)

    def insert_new(self, staged: StagedBatch, record_id: int | None) -> set[str]:
        """Before the tenant's lock: INSERT the staged events not stored yet; their external ids.

        This is the bulk of a batch's writing, and it needs no lock. A new row cannot be
        counted twice: the unique (tenant, external_id) index lets one transaction insert a
        given event, and a concurrent batch holding the same event waits for that transaction
        to end, then finds it stored and replaces it under the lock (`replace_stored`), from
        the row as committed. Rows go in in external_id order, so two batches sharing events
        wait for each other in one direction only, never in a cycle; and a transaction holding
        the lock never waits for one that does not, since it only replaces rows that were
        committed. The rows point at the ledger record's id, reserved beforehand: the record
        itself is appended under the lock, before the commit that checks the (deferred)
        foreign key.
        """
        return set(self._upsert_from_stage(staged, record_id))

    def replace_stored(self, staged: StagedBatch, record: LedgerRecord | None, inserted: set[str]) -> dict[str, Any]:
        """Under the tenant's lock: replace the events that were stored; those rows as they were.

        Only the events `insert_new` found stored (none, for a batch of new events) are read,
        for their rollup contributions, and replaced with one INSERT ... ON CONFLICT DO UPDATE.
        """
        replacing = [e["external_id"] for e in staged.events if e["external_id"] not in inserted]
        if not replacing:
            return {}
        existing = {row.external_id: row for row in self.stored_rows(staged.spec, replacing)}
        self._upsert_from_stage(staged, None if record is None else record.pk, replacing=replacing)
        return existing

    def stored_rows(self, spec: KindSpec, external_ids: list[str]) -> QuerySet[Any]:
        # One array parameter rather than an IN list of up to 10,000 placeholders; the
        # (tenant, external_id) index answers it.
        return spec.model.objects.filter(RawSQL("external_id = ANY(%s)", (external_ids,), output_field=BooleanField()))

    def move_rollups(self, cells: Sequence[tuple[RollupKey, Mapping[str, Decimal]]]) -> None:
        table = MonthlyRollup._meta.db_table
        columns = ("tenant_id", "month", "stream", "department", "product", *ROLLUP_COLUMNS)
        updates = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in ROLLUP_COLUMNS)
        conflict = f"ON CONFLICT (tenant_id, month, stream, department, product) DO UPDATE SET {updates}"
        # One array per column: the statement's text is the same whatever the number of
        # cells, so the driver parses it once per process, not once per batch.
        keys = [key for key, _ in cells]
        arrays: list[list[Any]] = [[key[0] for key in keys], *([str(key[i]) for key in keys] for i in (1, 2, 3))]
        arrays += [[amounts.get(c, ZERO) for _, amounts in cells] for c in ROLLUP_COLUMNS]
        casts = ", ".join(
            ["%s::date[]", "%s::text[]", "%s::text[]", "%s::text[]"] + ["%s::numeric[]"] * len(ROLLUP_COLUMNS)
        )
        with connection.cursor() as cursor:
            # Table and column names are ours; every value is a parameter.
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) SELECT %s, * FROM unnest({casts}) {conflict}",  # noqa: S608
                [current_tenant().pk, *arrays],
            )

    def _upsert_from_stage(
        self, staged: StagedBatch, record_id: int | None, *, replacing: Sequence[str] | None = None
    ) -> list[str]:
        """INSERT the staged rows; the external ids of those inserted.

        Without `replacing`, only the rows whose external_id is not stored yet go in (the
        others are left as they are), in external_id order; with it, only the staged rows of
        those external ids, each replacing its stored row.
        """
        fields = staged_fields(staged.spec.model)
        columns = [f.column for f in fields]
        target = staged.spec.model._meta.db_table
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
                f"FROM {staged.table} {where} ON CONFLICT (tenant_id, external_id) {conflict} RETURNING external_id",
                [current_tenant().pk, now, now, record_id, *extra],
            )
            return [row[0] for row in cursor.fetchall()]
