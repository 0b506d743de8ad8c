"""Storing a FOCUS import: the file recorded once, its cells added to the tenant's monthly costs."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from governance import sql
from governance.ledger import Actor
from governance.stores import database_store
from governance.tenancy import current_tenant
from roi.csv_import import csv_text
from roi.engine.money import money_text
from roi.focus.parse import (
    CELL_COLUMNS,
    DEFAULT_DEPARTMENT_TAG,
    DEFAULT_PRODUCT_TAG,
    STORED,
    ZERO,
    CellKey,
    CellSum,
    Scope,
    focus_cells,
)
from roi.models import CostImport, CostMonth

UPSERT_CHUNK = 500
SCOPE_CHUNK = 200
REPLACE = "replace"
ADD = "add"
MODES = (REPLACE, ADD)


class FocusAlreadyImported(Exception):
    """This very file (same sha256) was imported before; nothing was stored again."""

    def __init__(self, previous: CostImport) -> None:
        super().__init__(
            f"This file was already imported on {previous.imported_at:%Y-%m-%d %H:%M} UTC "
            f"as import #{previous.pk} ({previous.file_name}, sha256 {previous.sha256[:12]}…); nothing was stored."
        )
        self.previous = previous


@dataclass
class FocusImportOutcome:
    cost_import: CostImport
    months: dict[str, CellSum] = field(default_factory=dict)
    mode: str = REPLACE
    replaced_imports: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.cost_import.pk,
            "file_name": self.cost_import.file_name,
            "sha256": self.cost_import.sha256,
            "rows": self.cost_import.rows,
            "currency": self.cost_import.currency,
            "mode": self.mode,
            "months": {
                month: {
                    "billed_cost": money_text(total.billed_cost),
                    "effective_cost": money_text(total.effective_cost),
                }
                for month, total in sorted(self.months.items())
            },
            "replaced_imports": self.replaced_imports,
            "notes": self.notes,
        }


def _lock_tenant_costs() -> None:
    # One import at a time per tenant: the already-imported check and the additive upsert
    # must not interleave with a concurrent import of the same file.
    database_store().lock_tenant(current_tenant().pk)


def focus_import(
    *,
    actor: Actor,
    file_name: str,
    data: bytes,
    department_tag: str = DEFAULT_DEPARTMENT_TAG,
    product_tag: str = DEFAULT_PRODUCT_TAG,
    mode: str = REPLACE,
) -> FocusImportOutcome:
    """Import one FOCUS export for the scope tenant: its costs summed per month and cell.

    Refuses the whole file on any invalid row (CsvRowsInvalid) and the same file a second
    time (FocusAlreadyImported). With mode `replace` (the default) the file's costs replace
    whatever earlier imports stored for the same provider, billing account and billing
    period, so a refreshed export of a month updates that month instead of doubling it;
    mode `add` adds them instead, for the further parts of one export split into files.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}")
    tenant = current_tenant()
    sha256 = hashlib.sha256(data).hexdigest()
    checked = focus_cells(
        csv_text(data),
        currency=tenant.currency,
        zone=ZoneInfo(tenant.time_zone),
        department_tag=department_tag.strip() or DEFAULT_DEPARTMENT_TAG,
        product_tag=product_tag.strip() or DEFAULT_PRODUCT_TAG,
    )
    rows, cells = checked.rows, checked.cells
    months: dict[str, CellSum] = defaultdict(CellSum)
    for key, cell in cells.items():
        total = months[f"{key[3]:%Y-%m}"]
        total.billed_cost += cell.billed_cost
        total.effective_cost += cell.effective_cost
        total.rows += cell.rows
    with transaction.atomic():
        _lock_tenant_costs()
        previous = CostImport.objects.filter(sha256=sha256).first()
        if previous is not None:
            raise FocusAlreadyImported(previous)
        cost_import = CostImport.objects.create(
            tenant=tenant,
            file_name=file_name[:255],
            sha256=sha256,
            rows=rows,
            months=sorted(months),
            currency=tenant.currency,
            billed_cost=sum((m.billed_cost for m in months.values()), ZERO).quantize(STORED),
            effective_cost=sum((m.effective_cost for m in months.values()), ZERO).quantize(STORED),
            imported_at=timezone.now(),
            actor=actor.label,
            actor_user=actor.user,
            actor_key=actor.api_key,
        )
        replaced = _clear_scopes(checked.scopes) if mode == REPLACE else []
        _add_to_cells(cells, cost_import)
    return FocusImportOutcome(cost_import, dict(months), mode, replaced, checked.notes)


def _scope_filter(scopes: list[Scope]) -> Q:
    # A bill is a billing account's billing period, whatever ProviderName its rows carry
    # (marketplace rows name the vendor); only files without BillingAccountId fall back to
    # the provider to tell their bills apart.
    condition = Q(pk__in=[])
    for provider, account, period in scopes:
        if account:
            condition |= Q(billing_account=account, billing_period=period)
        else:
            condition |= Q(provider=provider, billing_account="", billing_period=period)
    return condition


def _clear_scopes(scopes: set[Scope]) -> list[int]:
    """Delete the tenant's cells of the bills these (provider, billing account, billing period) scopes are from.

    Answers the imports whose cells were removed: the earlier files this one supersedes.
    """
    replaced: set[int] = set()
    ordered = sorted(scopes)
    for start in range(0, len(ordered), SCOPE_CHUNK):
        stale = CostMonth.objects.filter(_scope_filter(ordered[start : start + SCOPE_CHUNK]))
        replaced.update(stale.values_list("source_import_id", flat=True).distinct())
        stale.delete()
    return sorted(replaced)


def _add_to_cells(cells: Mapping[CellKey, CellSum], cost_import: CostImport) -> None:
    """One multi-row upsert per chunk that adds each cell's sums to the stored cell.

    Hand-written because the ORM has no additive upsert (`bulk_create`'s update_conflicts
    overwrites the stored sums); the cells' tenant is the scope's (`@tenant_id`).
    """
    table = CostMonth._meta.db_table
    sums = ("billed_cost", "effective_cost", "row_count")
    columns = ("tenant_id", *CELL_COLUMNS, *sums, "source_import_id")
    updates = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in sums)
    row = "(@tenant_id, " + ", ".join(["%s"] * (len(columns) - 1)) + ")"
    items = list(cells.items())
    for start in range(0, len(items), UPSERT_CHUNK):
        chunk = items[start : start + UPSERT_CHUNK]
        params: list[Any] = []
        for key, cell in chunk:
            params += key
            params += [cell.billed_cost.quantize(STORED), cell.effective_cost.quantize(STORED), cell.rows]
            params.append(cost_import.pk)
        # Table and column names are ours; every value is a parameter.
        sql.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([row] * len(chunk))} "  # noqa: S608
            f"ON CONFLICT (tenant_id, {', '.join(CELL_COLUMNS)}) "
            f"DO UPDATE SET {updates}, source_import_id = excluded.source_import_id",
            params,
        )
