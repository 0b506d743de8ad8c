"""Reports in admin: read-only evidence; subscriptions kept by platform admins until tenants get a page for them."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from dashboards.models import Report, ReportSubscription
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
