"""Reports and alerts in admin: read-only evidence; report subscriptions kept by platform admins."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from dashboards.models import Alert, EscalationSettings, Report, ReportSubscription
from governance.admin import ReadOnlyTenantAdmin, SuperuserOnlyAdmin


@admin.register(Report)
class ReportAdmin(ReadOnlyTenantAdmin):
    list_display = ["tenant", "kind", "period", "model_version", "chain_head_sequence", "created_at", "emailed_at"]
    list_filter = ["kind"]
    search_fields = ["tenant__slug", "period"]
    # The files are downloaded through the tenant's pages, never as public media links.
    exclude = ["pdf", "xlsx", "csv"]


@admin.register(ReportSubscription)
class ReportSubscriptionAdmin(SuperuserOnlyAdmin):
    list_display = ["tenant", "user", "email", "kinds"]
    search_fields = ["tenant__slug", "email", "user__username"]
    raw_id_fields = ["user"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ReportSubscription]:
        return ReportSubscription.all_tenants.select_related("tenant", "user")


@admin.register(Alert)
class AlertAdmin(ReadOnlyTenantAdmin):
    """Alerts change through their lifecycle (API and page) only, so every step is in their history."""

    list_display = [
        "tenant",
        "rule",
        "period",
        "status",
        "escalation",
        "opened_at",
        "emailed_at",
        "webhook_delivered_at",
    ]
    list_filter = ["rule", "status"]
    search_fields = ["tenant__slug", "period"]


@admin.register(EscalationSettings)
class EscalationSettingsAdmin(ReadOnlyTenantAdmin):
    """Set by tenant admins over the API (`config/escalations`); the secret never shows."""

    list_display = ["tenant", "webhook_url", "updated_at", "updated_by_actor"]
    exclude = ["webhook_secret_ciphertext"]
