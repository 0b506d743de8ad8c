"""Reports the dashboards produce, and who receives them."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from governance.tenancy import TenantOwned


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
