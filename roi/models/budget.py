"""The tenant's IT budget: one amount per fiscal year, every change a new version.

The annual amount is spread evenly over the fiscal year's twelve months (the dashboards
say so where they show it). Like the financial model, each change is a new history row
with who, when and why, so last quarter's budget-versus-actual can be re-read as it was.
"""

from __future__ import annotations

from django.db import models
from simple_history.models import HistoricalRecords

from governance.models import history_user
from roi.models.config import VersionedConfig
from roi.models.events import MONEY


class ItBudget(VersionedConfig):
    """The IT budget of one fiscal year, named by the calendar year it starts in."""

    fiscal_year = models.PositiveSmallIntegerField(help_text="The calendar year the fiscal year starts in.")
    annual_amount = models.DecimalField(**MONEY, help_text="Spread evenly over the fiscal year's twelve months.")

    history = HistoricalRecords(get_user=history_user)

    class Meta:
        verbose_name = "IT budget"
        ordering = ["-fiscal_year"]
        constraints = [models.UniqueConstraint(fields=["tenant", "fiscal_year"], name="one_it_budget_per_fiscal_year")]

    def __str__(self) -> str:
        return f"IT budget FY{self.fiscal_year} v{self.version}"
