"""A ledger verification asked for over the API and run by a worker: its state, progress and result."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from governance.tenancy import TenantOwned


class VerificationStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    DONE = "done", "Done"
    ERROR = "error", "Error"


class LedgerVerificationRun(TenantOwned):
    """One verification of a tenant's ledger, too large to answer within the request.

    The worker's progress lives in Celery's result backend (it writes inside the
    verification's own transaction, so no progress row would be visible); the verdict
    lands here, where only the tenant's own members can read it.
    """

    full = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=VerificationStatus.choices, default=VerificationStatus.QUEUED)
    task_id = models.CharField(max_length=64, blank=True, default="")
    actor = models.CharField(max_length=300)
    requested_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "requested_at"], name="verifyrun_tenant_requested")]

    def __str__(self) -> str:
        return f"Ledger verification {self.pk} ({self.status})"
