"""Ledger verification: the check itself (`ledger_verify`), and runs on request, inline when the
work is small, else as a worker task to poll.

Verifying a tenant with a few hundred thousand batch items takes longer than a request may
(the worker timeout), so past `LEDGER_VERIFY_INLINE_WORK` items the API records a run,
answers 202 with where to poll, and a Celery task verifies with progress.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from governance.anchors import anchor_append, anchor_breaks, anchor_latest
from governance.audit import audit_record
from governance.ledger import chain_breaks, json_ready
from governance.models import AuditKind, LedgerRecord
from governance.tenancy import current_tenant
from roi import selectors
from roi.engine import EngineInputError, FinancialFigures, method_for
from roi.figures import assumptions_flat, stored_flat, stored_kpi_sections, stored_model_groups
from roi.ingestion.records import BATCH_METHOD, batch_problems
from roi.ingestion.stored_checks import stored_row_problems
from roi.kinds import KINDS
from roi.models import LedgerVerificationRun, VerificationStatus

logger = logging.getLogger(__name__)


@dataclass
class Verification:
    checked: int = 0
    head_sequence: int = 0
    head_hash: str = ""
    failures: dict[int | str, dict[str, Any]] = field(default_factory=dict)
    anchor: dict[str, Any] | None = None
    # Records after this sequence were recomputed; those up to it were at the verified,
    # anchored head this run started from (0: a full verification). Every record is rehashed.
    verified_from: int = 0

    @property
    def ok(self) -> bool:
        return not self.failures

    def fail(self, record: LedgerRecord, reason: str) -> None:
        self.fail_at(record.pk, record.sequence, reason)

    def fail_at(self, record_id: int | None, sequence: int | None, reason: str) -> None:
        """A failure at a place in the chain, which may hold no record (a truncated tail, a missing record)."""
        key = record_id if record_id is not None else -(sequence or 0)
        entry = self.failures.setdefault(key, {"id": record_id, "sequence": sequence, "row": None, "reasons": []})
        entry["reasons"].append(reason)

    def fail_row(self, row: str, reason: str) -> None:
        """A failure of a stored row that answers to no ledger record (a rollup cell, an unvalued event)."""
        entry = self.failures.setdefault(row, {"id": None, "sequence": None, "row": row, "reasons": []})
        entry["reasons"].append(reason)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "head_sequence": self.head_sequence,
            "head_hash": self.head_hash,
            "anchor": self.anchor,
            "full": self.verified_from == 0,
            "verified_from": self.verified_from,
            # In chain order; failures at no place in the chain (a missing record) last.
            "failures": sorted(
                self.failures.values(), key=lambda failure: (failure["sequence"] is None, failure["sequence"] or 0)
            ),
        }


def _recompute_problems(record: LedgerRecord) -> list[str]:
    """Why `record` does not recompute from its own inputs and figures (empty: it does)."""
    try:
        spec = method_for(record.method, record.method_version)
        figures = FinancialFigures.from_mapping(record.figures)
        inputs = {key: value for key, value in record.inputs.items() if key != "assumptions"}
        recomputed = json_ready(spec.run(inputs, figures).as_dict())
    except EngineInputError as error:
        return [f"stored inputs or figures no longer valid: {error}"]
    if recomputed == record.result:
        return []
    differing = sorted(
        key for key in set(recomputed) | set(record.result) if recomputed.get(key) != record.result.get(key)
    )
    return [
        f"result does not recompute: {key} stored {record.result.get(key)!r}, recomputed {recomputed.get(key)!r}"
        for key in differing
    ]


def _expected_figures(record: LedgerRecord, cache: dict[tuple[int | None, int | None], Any]) -> dict[str, Any] | None:
    """The figures the record's model and KPI versions give with its assumptions (None: no versions)."""
    key = (record.model_version, record.kpi_version)
    if key not in cache:
        model = None if record.model_version is None else selectors.financial_model_version(record.model_version)
        kpis = None if record.kpi_version is None else selectors.business_kpis_version(record.kpi_version)
        cache[key] = (model, kpis)
    model, kpis = cache[key]
    if (record.model_version is not None and model is None) or (record.kpi_version is not None and kpis is None):
        return {"missing": True}
    flat = stored_flat(
        None if model is None else stored_model_groups(model),
        None if kpis is None else stored_kpi_sections(kpis),
        record.figures.get("time_zone", "UTC"),
    )
    try:
        flat.update(assumptions_flat(record.inputs.get("assumptions") or {})[0])
        return json_ready(FinancialFigures.from_mapping(flat).as_dict(include_derived=False))
    except EngineInputError:
        return {"invalid": True}


def ledger_verify(
    *, actor: str = "system", full: bool = False, progress: Callable[[int, int], None] | None = None
) -> Verification:
    """Recompute the scope tenant's records, check its chain and every stored row the pages sum.

    Incremental unless `full`: records up to the last head a verification anchored (and
    whose hash is still the anchored one) are not recomputed again, the costly part; every
    record is still rehashed and relinked, since the stored rows are checked against their
    items every time (rows are mutable) and an item is only as good as its record's hash.
    The chain is also held against the head last anchored outside the database (a cut tail
    or a rebuilt chain fails); a good run anchors the new head. `progress(done,
    total)` is told as records are recomputed. Every run lands in the audit log with its
    verdict and chain head, so auditors see when and by whom.
    """
    verification = Verification()
    tenant = current_tenant()
    records = list(LedgerRecord.objects.order_by("sequence"))
    by_id = {record.pk: record for record in records}
    anchored = anchor_latest(tenant_id=tenant.pk)
    verified = None if full else anchor_latest(tenant_id=tenant.pk, verified=True)
    if verified is not None and any(r.sequence == verified.sequence and r.hash == verified.hash for r in records):
        verification.verified_from = verified.sequence
    for chain_break in chain_breaks(records):
        verification.fail(by_id[chain_break.record_id], chain_break.reason)
    verification.anchor = None if anchored is None else asdict(anchored)
    for anchor_break in anchor_breaks(records, anchored):
        verification.fail_at(anchor_break.record_id or None, anchor_break.sequence, anchor_break.reason)
    for problem in stored_row_problems(records=records, zone=ZoneInfo(tenant.time_zone)):
        if problem.record_id is None:
            verification.fail_row(problem.row, problem.reason)
        else:
            held_by = by_id.get(problem.record_id)
            sequence = None if held_by is None else held_by.sequence
            verification.fail_at(problem.record_id, sequence, f"{problem.row}: {problem.reason}")
    versions_cache: dict[tuple[int | None, int | None], Any] = {}
    to_check = [record for record in records if record.sequence > verification.verified_from]
    for done, record in enumerate(to_check, start=1):
        verification.checked += 1
        if progress is not None:
            progress(done, len(to_check))
        if record.method == BATCH_METHOD:
            for reason in batch_problems(record):
                verification.fail(record, reason)
            continue
        for reason in _recompute_problems(record):
            verification.fail(record, reason)
        expected = _expected_figures(record, versions_cache)
        if expected is not None and expected != record.figures:
            verification.fail(
                record,
                f"figures differ from financial model v{record.model_version} / KPIs v{record.kpi_version} "
                "with the recorded assumptions",
            )
    if records:
        verification.head_sequence = records[-1].sequence
        verification.head_hash = records[-1].hash
    if verification.ok:
        # Only a good head is anchored: anchoring a broken one would legitimise it.
        anchor_append(tenant_id=tenant.pk, sequence=verification.head_sequence, head_hash=verification.head_hash)
    summary = verification.as_dict()
    audit_record(
        kind=AuditKind.LEDGER_VERIFIED,
        actor=actor,
        detail={key: summary[key] for key in ("ok", "checked", "head_sequence", "head_hash", "verified_from")}
        | {"failures": len(summary["failures"])},
    )
    return verification


def verification_work(*, full: bool) -> int:
    """About how many items a verification of the scope tenant recomputes and stored rows it checks."""
    tenant = current_tenant()
    verified = None if full else anchor_latest(tenant_id=tenant.pk, verified=True)
    since = 0 if verified is None else verified.sequence
    counts = LedgerRecord.objects.filter(sequence__gt=since).aggregate(
        records=Count("id"), batches=Count("id", filter=Q(method=BATCH_METHOD))
    )
    batch_items = sum(
        int(count or 0)
        for count in LedgerRecord.objects.filter(sequence__gt=since, method=BATCH_METHOD).values_list(
            "result__count", flat=True
        )
    )
    rows = sum(spec.model.objects.count() for spec in KINDS.values())
    return counts["records"] - counts["batches"] + batch_items + rows


@dataclass(frozen=True)
class VerificationAnswer:
    """A verification done in the request, or the run a worker will do."""

    verification: Verification | None = None
    run: LedgerVerificationRun | None = None


def verification_request(*, actor: str, full: bool) -> VerificationAnswer:
    """Verify the scope tenant's ledger now if the work is small, else queue a run for a worker."""
    if verification_work(full=full) <= settings.LEDGER_VERIFY_INLINE_WORK:
        return VerificationAnswer(verification=ledger_verify(actor=actor, full=full))
    run = LedgerVerificationRun.objects.create(
        tenant=current_tenant(), actor=actor, full=full, task_id=str(uuid.uuid4())
    )
    from roi.tasks import ledger_verification_run

    def send() -> None:
        try:
            ledger_verification_run.apply_async(
                kwargs={"tenant_id": run.tenant_id, "run_id": run.pk}, task_id=run.task_id
            )
        except Exception:  # the run stays queued and says so; the caller can ask again
            logger.exception("Could not queue ledger verification run %s", run.pk)

    transaction.on_commit(send)
    return VerificationAnswer(run=run)


def verification_run_execute(*, run_id: int, progress: Any) -> LedgerVerificationRun:
    """Do a queued run (in the worker): verify the scope tenant with progress and store the verdict."""
    run = LedgerVerificationRun.objects.get(pk=run_id)
    if run.status != VerificationStatus.QUEUED:
        return run  # a redelivered task: done already
    verification = ledger_verify(actor=run.actor, full=run.full, progress=progress)
    run.status = VerificationStatus.DONE
    run.result = verification.as_dict()
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "result", "finished_at"])
    return run


def verification_run_stopped(*, run_id: int) -> LedgerVerificationRun:
    """Record that a queued run could not finish (an error, a time limit), so polls say so."""
    run = LedgerVerificationRun.objects.get(pk=run_id)
    if run.status == VerificationStatus.QUEUED:
        run.status = VerificationStatus.ERROR
        run.result = {"error": "The verification stopped before it finished; ask for a new one."}
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "result", "finished_at"])
    return run


def verification_run_state(run: LedgerVerificationRun) -> dict[str, Any]:
    """What a poll answers: the run, its progress while it works, its result when done."""
    state: dict[str, Any] = {
        "id": run.pk,
        "status": run.status,
        "full": run.full,
        "requested_at": run.requested_at.isoformat(),
        "finished_at": None if run.finished_at is None else run.finished_at.isoformat(),
        "progress": None,
        "result": run.result,
    }
    if run.status == VerificationStatus.QUEUED and run.task_id:
        from celery.result import AsyncResult

        try:
            info = AsyncResult(run.task_id).info
        except Exception:  # the result backend is down: no progress, the run still answers
            info = None
        if isinstance(info, dict) and {"done", "total"} <= set(info):
            state["progress"] = {"done": int(info["done"]), "total": int(info["total"])}
    return state
