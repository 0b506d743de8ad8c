"""The IT budget: set per fiscal year by a finance admin, read by everyone who reads the dashboards.

`it_budget_set` is the only writer; each change is a new version with who, when and why
(simple-history rows, append-only at the database), like the financial model.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from governance.fiscal import fiscal_year_start
from governance.ledger import Actor
from governance.tenancy import current_tenant
from roi.engine import EngineInputError
from roi.engine.money import round_money, to_decimal
from roi.models import ItBudget
from roi.selectors import config_history
from roi.services import change_reason_require, config_version_save

# Fiscal years a budget may be set for: wide enough for any plan, narrow enough to catch typos.
FIRST_FISCAL_YEAR = 2000
LAST_FISCAL_YEAR = 2100
BUDGET_SECTIONS = ("annual_amount",)


def it_budget_set(*, actor: Actor, fiscal_year: Any, annual_amount: Any, change_reason: str) -> ItBudget:
    """Set the scope tenant's IT budget for one fiscal year, as a new version of that year's budget.

    Raises EngineInputError naming each bad field, so the page and any API answer alike.
    """
    errors: dict[str, list[str]] = {}
    year: int | None = None
    try:
        year = int(str(fiscal_year).strip())
    except ValueError:
        errors["fiscal_year"] = ["must be a year such as 2026"]
    else:
        if not FIRST_FISCAL_YEAR <= year <= LAST_FISCAL_YEAR:
            errors["fiscal_year"] = [f"must be between {FIRST_FISCAL_YEAR} and {LAST_FISCAL_YEAR}"]
    amount: Decimal | None = None
    try:
        amount = to_decimal(annual_amount, "annual_amount")
    except EngineInputError as error:
        errors.update(error.errors)
    else:
        if amount != round_money(amount):
            errors["annual_amount"] = ["must have at most two decimal places"]
    try:
        change_reason_require(change_reason)
    except EngineInputError as error:
        errors.update(error.errors)
    if errors or year is None or amount is None:  # (both are set when nothing was refused)
        raise EngineInputError(errors=errors)
    with transaction.atomic():
        budget = ItBudget.objects.select_for_update().filter(fiscal_year=year).first()
        budget = budget or ItBudget(tenant=current_tenant(), fiscal_year=year)
        budget.annual_amount = amount
        config_version_save(budget, actor=actor, change_reason=change_reason, effective_from=None)
        return budget


def current_fiscal_year() -> int:
    """The scope tenant's fiscal year today, named (as budgets are) by the calendar year it starts in."""
    tenant = current_tenant()
    today = timezone.localdate(timezone=ZoneInfo(tenant.time_zone))
    return fiscal_year_start(today, tenant.fiscal_year_start_month).year


def it_budget_get(*, fiscal_year: int) -> ItBudget | None:
    """One fiscal year's budget in force (its latest version), or None when none is set."""
    return ItBudget.objects.filter(fiscal_year=fiscal_year).select_related("changed_by", "changed_by_key").first()


def it_budget_versions(*, fiscal_year: int) -> QuerySet[Any]:
    """Every version of one fiscal year's budget, newest first (history rows)."""
    # History managers are not tenant-scoped managers, so the tenant is named here.
    return ItBudget.history.filter(tenant=current_tenant(), fiscal_year=fiscal_year).order_by("-version", "-history_id")


def it_budget_history(*, fiscal_year: int) -> list[dict[str, Any]]:
    """One fiscal year's budget versions with who, when, why and what changed."""
    return config_history(it_budget_versions(fiscal_year=fiscal_year), BUDGET_SECTIONS)
