"""Reports and alerts the dashboards produce, and who receives them."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from governance.models import history_user
from governance.tenancy import HistoryGuardedManager, HistoryGuardedTenantManager, TenantOwned


class ReportKind(models.TextChoices):
    MONTHLY = "monthly", "Monthly value report"
    QUARTERLY = "quarterly", "Quarterly ROI summary"
    ANNUAL = "annual", "Annual impact assessment"


class ReportFormat(models.TextChoices):
    PDF = "pdf", "PDF"
    XLSX = "xlsx", "Excel workbook"
    CSV = "csv", "CSV"


def report_file_path(report: Report, filename: str) -> str:
    # Under the tenant's id: files are served only through a tenant-scoped view, never a
    # public media URL, but a shared folder per tenant keeps backups and clean-ups simple.
    return f"reports/{report.tenant_id}/{filename}"


class Report(TenantOwned):
    """One period's figures, frozen with the ledger records and chain head they came from.

    Unique per kind, period and financial model version, so generating again returns the
    same report instead of a copy whose figures might quietly differ.
    """

    kind = models.CharField(max_length=16, choices=ReportKind.choices)
    period = models.CharField(max_length=16, help_text="2026-10, 2026-Q3 or FY2026, on the fiscal calendar.")
    # 0 when the tenant had no financial model: NULL would make every such report unique.
    model_version = models.PositiveIntegerField(default=0)
    figures = models.JSONField()
    ledger_record_ids = models.JSONField(default=list)
    chain_head_sequence = models.PositiveBigIntegerField(default=0)
    chain_head_hash = models.CharField(max_length=64, blank=True)
    pdf = models.FileField(upload_to=report_file_path, max_length=255)
    xlsx = models.FileField(upload_to=report_file_path, max_length=255)
    csv = models.FileField(upload_to=report_file_path, max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    actor = models.CharField(max_length=200)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "kind", "period", "model_version"], name="report_unique_period_version"
            )
        ]
        indexes = [models.Index(fields=["tenant", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.period} (model v{self.model_version})"

    def file_for(self, file_format: str) -> models.fields.files.FieldFile:
        return getattr(self, ReportFormat(file_format).value)


class ReportSubscription(TenantOwned):
    """A member, or an outside address such as the board's secretary, who receives reports by e-mail."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    email = models.EmailField(blank=True)
    kinds = models.JSONField(default=list, help_text="Report kinds to receive; empty means every kind.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "user"], condition=models.Q(user__isnull=False), name="report_subscription_user"
            ),
            models.UniqueConstraint(
                fields=["tenant", "email"], condition=~models.Q(email=""), name="report_subscription_email"
            ),
            models.CheckConstraint(
                condition=models.Q(user__isnull=False) | ~models.Q(email=""), name="report_subscription_someone"
            ),
        ]

    def __str__(self) -> str:
        return self.address

    @property
    def address(self) -> str:
        return self.email or (self.user.email if self.user else "")

    def wants(self, kind: str) -> bool:
        return not self.kinds or kind in self.kinds


# --- Alerts and escalations -------------------------------------------------------------


class AlertRule(models.TextChoices):
    VALUE_BELOW_TARGET = "value_below_target", "Monthly value below target"
    ROI_BELOW_TARGET = "roi_below_target", "ROI below target"
    ROI_DECLINE = "roi_decline", "ROI decline"
    PREVENTION_BELOW_TARGET = "prevention_below_target", "Incident prevention below target"
    INCIDENT_SURGE = "incident_surge", "Incident surge"


class Escalation(models.TextChoices):
    NOTIFY_CFO = "notify_cfo", "Notify the CFO"
    BOARD_REVIEW = "board_review", "Board review"
    EXECUTIVE_ALERT = "executive_alert", "Executive alert"


class AlertStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved"


UNRESOLVED = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)


class Alert(TenantOwned):
    """One breach of a KPI rule in one period, with its lifecycle and its deliveries.

    At most one unresolved alert per rule and period, enforced by a partial unique index,
    so evaluations racing each other cannot fire twice. Every change is a history row.
    """

    rule = models.CharField(max_length=32, choices=AlertRule.choices)
    period = models.CharField(max_length=16, help_text="2026-10 (month), FY2026 (fiscal year) or 2026-W47 (ISO week).")
    escalation = models.CharField(max_length=20, choices=Escalation.choices)
    status = models.CharField(max_length=16, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    unit = models.CharField(max_length=8, help_text="money, percent or count")
    measured = models.DecimalField(max_digits=24, decimal_places=4)
    threshold = models.DecimalField(max_digits=24, decimal_places=4)
    message = models.CharField(max_length=300)
    detail = models.JSONField(default=dict, blank=True)
    opened_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_by_actor = models.CharField(max_length=200, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_by_actor = models.CharField(max_length=200, blank=True)
    # Delivery: set once sent, so a retried or redelivered task does not send again.
    emailed_at = models.DateTimeField(null=True, blank=True)
    email_attempts = models.PositiveSmallIntegerField(default=0)
    webhook_delivered_at = models.DateTimeField(null=True, blank=True)
    webhook_attempts = models.PositiveSmallIntegerField(default=0)

    # Bulk paths would skip the history rows that record each state change.
    objects: ClassVar[HistoryGuardedTenantManager[Alert]] = HistoryGuardedTenantManager()
    all_tenants: ClassVar[HistoryGuardedManager[Alert]] = HistoryGuardedManager()
    history = HistoricalRecords(get_user=history_user)

    class Meta:
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "rule", "period"],
                condition=~models.Q(status="resolved"),
                name="alert_one_unresolved_per_rule_period",
            )
        ]
        indexes = [models.Index(fields=["tenant", "status", "opened_at"])]

    def __str__(self) -> str:
        return f"{self.get_rule_display()} {self.period} ({self.get_status_display()})"

    @property
    def resolved_by_a_person(self) -> bool:
        return self.status == AlertStatus.RESOLVED and not self.resolved_by_actor.startswith("system:")


class EscalationSettings(TenantOwned):
    """Who receives each escalation (members by role or by name), and an optional chat webhook.

    `recipients` maps an escalation to `{"roles": [...], "users": [user ids]}`; only current
    members with an e-mail address receive anything. `rule_escalations` maps an alert rule
    to the escalation it raises; a rule not named there raises the brief's default. The
    webhook's signing secret is stored encrypted (governance.secrets), bound to the tenant.
    """

    recipients = models.JSONField(default=dict, blank=True)
    rule_escalations = models.JSONField(default=dict, blank=True)
    webhook_url = models.URLField(max_length=500, blank=True)
    webhook_secret_ciphertext = models.TextField(blank=True, editable=False)
    webhook_secret_key_id = models.CharField(max_length=32, blank=True, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by_actor = models.CharField(max_length=200, blank=True)

    history = HistoricalRecords(excluded_fields=["webhook_secret_ciphertext"], get_user=history_user)

    class Meta:
        verbose_name_plural = "escalation settings"
        constraints = [models.UniqueConstraint(fields=["tenant"], name="one_escalation_settings_per_tenant")]

    def __str__(self) -> str:
        return "Escalation settings"
