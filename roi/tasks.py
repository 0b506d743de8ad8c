"""Celery tasks of the money side. A tenant task takes `tenant_id` and runs in that tenant's scope."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.db import transaction

from governance.models import Tenant
from governance.tasks import RETRY_TRANSIENT, in_tenant_scope
from roi.rollups import rollups_rebuild as rollups_rebuild_service

logger = logging.getLogger(__name__)


@shared_task(bind=True, **RETRY_TRANSIENT)
@in_tenant_scope
def rollups_rebuild(self: Any, *, tenant: Tenant) -> int:
    """Rebuild one tenant's rollups from its raw events; returns the cells that changed."""
    return rollups_rebuild_service().cells_changed


@shared_task
def rebuild_rollups_all_tenants() -> int:
    """Beat entry point (nightly): fan out one scoped rebuild per tenant."""
    tenant_ids = list(Tenant.objects.values_list("pk", flat=True))
    for tenant_id in tenant_ids:
        rollups_rebuild.delay(tenant_id=tenant_id)
    return len(tenant_ids)


# Progress is reported about every this many records recomputed (and at the last).
VERIFICATION_PROGRESS_EVERY = 20


@shared_task(bind=True)
@in_tenant_scope
def ledger_verification_run(self: Any, *, tenant: Tenant, run_id: int) -> str:
    """Verify one tenant's ledger for a queued run, reporting progress to the result backend."""
    from roi.ledger_verification import verification_run_execute, verification_run_stopped

    def progress(done: int, total: int) -> None:
        if done == total or done % VERIFICATION_PROGRESS_EVERY == 0:
            self.update_state(state="PROGRESS", meta={"done": done, "total": total})

    try:
        with transaction.atomic():  # a savepoint: a failure leaves the run's row writable
            return verification_run_execute(run_id=run_id, progress=progress).status
    except Exception:
        # Not re-raised (that would roll the verdict back): a poll must say the run stopped,
        # not "queued" for ever. The worker's log has the cause; the auditor asks again.
        logger.exception("Ledger verification run %s stopped", run_id)
        return verification_run_stopped(run_id=run_id).status
