"""SQLite: the whole batch upserted with `bulk_create`, under the write lock its transaction holds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from governance.models import LedgerRecord
from governance.tenancy import current_tenant
from roi.engine.money import ZERO
from roi.ingestion.rollup_deltas import ROLLUP_COLUMNS
from roi.ingestion.stores import RollupKey, StagedBatch, written_fields
from roi.kinds import KindSpec
from roi.models import MonthlyRollup

UPSERT_CHUNK = 1000
ROLLUP_CHUNK = 500


class SqliteEventStore:
    def stage(self, spec: KindSpec, events: list[dict[str, Any]], result_texts: Sequence[str]) -> StagedBatch:
        return StagedBatch(spec, events)

    def insert_new(self, staged: StagedBatch, record_id: int | None) -> set[str]:
        # Nothing to gain before the lock: the transaction holds the database's write lock already.
        return set()

    def replace_stored(self, staged: StagedBatch, record: LedgerRecord | None, inserted: set[str]) -> dict[str, Any]:
        spec, events = staged.spec, staged.events
        existing = {row.external_id: row for row in self.stored_rows(spec, [e["external_id"] for e in events])}
        tenant = current_tenant()
        now = timezone.now()
        fields = written_fields(spec.model)
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
        return existing

    def stored_rows(self, spec: KindSpec, external_ids: list[str]) -> QuerySet[Any]:
        return spec.model.objects.filter(external_id__in=external_ids)

    def move_rollups(self, cells: Sequence[tuple[RollupKey, Mapping[str, Decimal]]]) -> None:
        tenant_id = current_tenant().pk
        table = MonthlyRollup._meta.db_table
        columns = ("tenant_id", "month", "stream", "department", "product", *ROLLUP_COLUMNS)
        updates = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in ROLLUP_COLUMNS)
        placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
        conflict = f"ON CONFLICT (tenant_id, month, stream, department, product) DO UPDATE SET {updates}"
        with connection.cursor() as cursor:
            for start in range(0, len(cells), ROLLUP_CHUNK):
                chunk = cells[start : start + ROLLUP_CHUNK]
                params: list[Any] = []
                for (month, stream, department, product), amounts in chunk:
                    params += [tenant_id, month, stream, department, product]
                    params += [amounts.get(c, ZERO) for c in ROLLUP_COLUMNS]
                # Table and column names are ours; every value is a parameter.
                values = ", ".join([placeholders] * len(chunk))
                cursor.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES {values} {conflict}", params)  # noqa: S608
