"""Cloud and SaaS costs from FinOps FOCUS exports, summed per month and cost cell.

A FOCUS file holds one row per charge (often millions a month); dashboards need costs per
month by service, department and product, so an import keeps only those sums. Each import
is recorded with the file's sha256, which is how the same file is refused a second time.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from governance.models import ApiKey
from governance.tenancy import TenantOwned
from roi.models.events import DecimalSize

# Line items carry sub-cent amounts (per-second compute, per-request APIs); sums keep six
# places so a million tiny charges do not round away, and answers round to the cent.
COST = DecimalSize(max_digits=24, decimal_places=6)


class CostImport(TenantOwned):
    """One FOCUS file imported: what it was, who sent it, what it added up to."""

    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    rows = models.PositiveIntegerField()
    months = models.JSONField(default=list, help_text="The months (YYYY-MM) the file's charges fall in.")
    currency = models.CharField(max_length=3)
    billed_cost = models.DecimalField(**COST)
    effective_cost = models.DecimalField(**COST)
    imported_at = models.DateTimeField()
    actor = models.CharField(max_length=200)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-imported_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["tenant", "sha256"], name="costimport_unique_file")]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.sha256[:12]})"


class CostMonth(TenantOwned):
    """The summed charges of one month and cost cell, from one provider's bill for one period.

    `source_import` is the import that wrote the cell (or last added to it, with mode add).
    """

    # Which bill the charges are from: a later import of the same provider, billing account
    # and billing period replaces these cells instead of adding to them.
    provider = models.CharField(max_length=200, default="")
    billing_account = models.CharField(max_length=200, default="")
    billing_period = models.DateField(help_text="UTC date the billing period starts (BillingPeriodStart).")
    month = models.DateField()
    service_name = models.CharField(max_length=200, default="")
    service_category = models.CharField(max_length=100, default="")
    # Tag values run to 256 characters at AWS, Azure and OCI.
    department = models.CharField(max_length=256, default="")
    product = models.CharField(max_length=256, default="")
    sub_account = models.CharField(max_length=200, default="")
    charge_category = models.CharField(max_length=50, default="")
    billed_cost = models.DecimalField(**COST, default=0)
    effective_cost = models.DecimalField(**COST, default=0)
    row_count = models.BigIntegerField(default=0)
    source_import = models.ForeignKey(CostImport, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["month", "service_name"]
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "tenant",
                    "provider",
                    "billing_account",
                    "billing_period",
                    "month",
                    "service_name",
                    "service_category",
                    "department",
                    "product",
                    "sub_account",
                    "charge_category",
                ],
                name="costmonth_unique_cell",
            )
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.service_name} {self.department}/{self.product}"
