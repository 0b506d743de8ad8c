"""Ledger verification on request: inline when the work is small, else as a worker task to poll.

Verifying a tenant with a few hundred thousand batch items takes longer than a request may
(the worker timeout), so past `LEDGER_VERIFY_INLINE_WORK` items the API records a run,
answers 202 with where to poll, and a Celery task verifies with progress.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from governance.anchors import anchor_latest
from governance.models import LedgerRecord
from governance.tenancy import current_tenant
from roi.ingestion.records import BATCH_METHOD
from roi.kinds import KINDS
from roi.models import LedgerVerificationRun, VerificationStatus
from roi.services import Verification, ledger_verify

logger = logging.getLogger(__name__)


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
