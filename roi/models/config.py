"""The money side's stored state: each tenant's versioned financial model and KPIs.

One row per tenant holds the version in force; every change is a new version (a new
history row, with who, when, what and why), so any past version can be read back and
any ledger record made under it re-checked.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from governance.models import ApiKey, history_user
from governance.tenancy import HistoryGuardedManager, HistoryGuardedTenantManager, TenantOwned


class VersionedConfig(TenantOwned):
    version = models.PositiveIntegerField(default=1)
    effective_from = models.DateTimeField(default=timezone.now)
    change_reason = models.TextField()
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    changed_by_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # Set when the version came from an approved proposal: `changed_by` approved it, the
    # proposal names who proposed it (segregation of duties).
    approved_proposal = models.ForeignKey(
        "roi.ChangeProposal", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    # Bulk paths would skip the history rows that make each version auditable.
    objects: ClassVar[HistoryGuardedTenantManager[Any]] = HistoryGuardedTenantManager()
    all_tenants: ClassVar[HistoryGuardedManager[Any]] = HistoryGuardedManager()

    class Meta:
        abstract = True


class FinancialModel(VersionedConfig):
    """Revenue, cost and impact figures, responders per severity, optional revenue profile."""

    revenue_model = models.JSONField()
    cost_model = models.JSONField()
    impact_model = models.JSONField()
    severity_responders = models.JSONField()
    revenue_profile = models.JSONField(null=True, blank=True)

    history = HistoricalRecords(get_user=history_user)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant"], name="one_financial_model_per_tenant")]

    def __str__(self) -> str:
        return f"Financial model v{self.version}"


class BusinessKpis(VersionedConfig):
    """KPI targets, alert thresholds and value attribution rules."""

    kpis = models.JSONField()
    alerts = models.JSONField()
    attribution_rules = models.JSONField()

    history = HistoricalRecords(get_user=history_user)

    class Meta:
        verbose_name_plural = "business KPIs"
        constraints = [models.UniqueConstraint(fields=["tenant"], name="one_kpi_set_per_tenant")]

    def __str__(self) -> str:
        return f"Business KPIs v{self.version}"
