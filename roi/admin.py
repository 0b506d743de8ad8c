"""Financial models and KPIs in admin: read-only, since every change must be a new version
with a reason (made through the API or the pages, by a finance admin)."""

from django.contrib import admin

from governance.admin import NoRevertHistoryAdmin, ReadOnlyTenantAdmin
from roi.models import BusinessKpis, ChangeProposal, CostImport, CostMonth, FinancialModel, ItBudget


@admin.register(FinancialModel)
class FinancialModelAdmin(NoRevertHistoryAdmin, ReadOnlyTenantAdmin):
    list_display = ["tenant", "version", "effective_from", "changed_at", "changed_by", "change_reason"]
    search_fields = ["tenant__slug", "change_reason"]


@admin.register(BusinessKpis)
class BusinessKpisAdmin(NoRevertHistoryAdmin, ReadOnlyTenantAdmin):
    list_display = ["tenant", "version", "effective_from", "changed_at", "changed_by", "change_reason"]
    search_fields = ["tenant__slug", "change_reason"]


@admin.register(ChangeProposal)
class ChangeProposalAdmin(NoRevertHistoryAdmin, ReadOnlyTenantAdmin):
    """Proposals are decided by a second finance admin in the app, never here."""

    list_display = ["id", "tenant", "target", "status", "proposed_by_label", "decided_by_label", "proposed_at"]
    list_filter = ["status", "target"]
    search_fields = ["tenant__slug", "change_reason", "proposed_by_label"]


@admin.register(CostImport)
class CostImportAdmin(ReadOnlyTenantAdmin):
    list_display = ["tenant", "file_name", "rows", "imported_at"]
    search_fields = ["tenant__slug", "file_name", "sha256"]


@admin.register(CostMonth)
class CostMonthAdmin(ReadOnlyTenantAdmin):
    list_display = [
        "tenant",
        "month",
        "billing_account",
        "billing_period",
        "service_name",
        "department",
        "product",
        "effective_cost",
    ]
    list_filter = ["month"]
    search_fields = ["tenant__slug", "service_name"]


@admin.register(ItBudget)
class ItBudgetAdmin(NoRevertHistoryAdmin, ReadOnlyTenantAdmin):
    """Read-only like the model: a budget change is a new version with a reason, made in the app."""

    list_display = ["tenant", "fiscal_year", "annual_amount", "version", "changed_at", "changed_by", "change_reason"]
    list_filter = ["fiscal_year"]
    search_fields = ["tenant__slug", "change_reason"]
