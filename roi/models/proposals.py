"""Proposed changes to the financial model or KPIs, waiting for a second finance admin (SOX).

A proposal holds the change exactly as it was sent (already validated), the version it
was made against, and who proposed and who decided; approving it makes the new version
through the same service as a direct change, so the rules cannot drift apart.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from governance.models import ApiKey, history_user
from governance.tenancy import HistoryGuardedManager, HistoryGuardedTenantManager, TenantOwned


class ProposalTarget(models.TextChoices):
    FINANCIAL_MODEL = "financial_model", "Financial model"
    BUSINESS_KPIS = "business_kpis", "Business KPIs"
    REVENUE_MODEL = "revenue_model", "Revenue model"


class ProposalStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"
    SUPERSEDED = "superseded", "Superseded"


class ChangeProposal(TenantOwned):
    """One proposed model or KPI change and its fate; every state it passes through is in history."""

    target = models.CharField(max_length=32, choices=ProposalTarget.choices)
    # Groups (model) or sections (KPIs) as sent; the revenue target holds {"revenue_model": {...}}.
    payload = models.JSONField()
    effective_from = models.DateTimeField(null=True, blank=True)
    change_reason = models.TextField()
    # The version in force when proposed (None: there was none); approval needs it unchanged.
    base_version = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=ProposalStatus.choices, default=ProposalStatus.PENDING)
    proposed_at = models.DateTimeField(default=timezone.now)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    proposed_by_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    proposed_by_label = models.CharField(max_length=200)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_by_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_by_label = models.CharField(max_length=200, blank=True)
    decision_note = models.TextField(blank=True)
    applied_version = models.PositiveIntegerField(null=True, blank=True)

    # Bulk paths would skip the history rows that show each step of the approval.
    objects: ClassVar[HistoryGuardedTenantManager[ChangeProposal]] = HistoryGuardedTenantManager()
    all_tenants: ClassVar[HistoryGuardedManager[ChangeProposal]] = HistoryGuardedManager()
    history = HistoricalRecords(get_user=history_user)

    class Meta:
        ordering = ["-proposed_at", "-id"]
        indexes = [models.Index(fields=["tenant", "status", "proposed_at"])]

    def __str__(self) -> str:
        return f"Proposal #{self.pk} ({self.get_target_display()}, {self.status})"

    @property
    def config_name(self) -> str:
        """The versioned config it changes: the revenue group is part of the financial model."""
        return "business_kpis" if self.target == ProposalTarget.BUSINESS_KPIS else "financial_model"
