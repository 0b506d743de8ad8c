from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from dashboards import (
    alert_pages,
    alerts_api,
    audit_pages,
    budget_pages,
    calculator_pages,
    cost_pages,
    ledger_pages,
    model_pages,
    service_level_pages,
)
from dashboards import api as dashboard_api
from dashboards import pages as dashboard_pages
from dashboards import views as dashboard_views
from governance import audit_api, credentials_api, mfa, tenant_api
from roi import api as roi_api
from roi import budgets_api, calculations_api, costs_api, events_api, ledger_api, metrics_api, proposals_api

api_v1 = [
    path("tenant", tenant_api.TenantView.as_view(), name="tenant"),
    path("tenant/settings", tenant_api.TenantSettingsView.as_view(), name="tenant-settings"),
    path("members", tenant_api.MemberListView.as_view(), name="member-list"),
    path("members/<str:username>", tenant_api.MemberDetailView.as_view(), name="member-detail"),
    path("keys", credentials_api.ApiKeyListView.as_view(), name="apikey-list"),
    path("keys/<int:key_id>", credentials_api.ApiKeyDetailView.as_view(), name="apikey-detail"),
    path("config/financial-model", roi_api.FinancialModelView.as_view(), name="financial-model"),
    path("config/revenue-model", roi_api.RevenueModelView.as_view(), name="revenue-model"),
    path("config/business-kpis", roi_api.BusinessKpisView.as_view(), name="business-kpis"),
    path("config/it-budget", budgets_api.ItBudgetView.as_view(), name="it-budget"),
    path("config/proposals", proposals_api.ProposalListView.as_view(), name="proposal-list"),
    path(
        "config/proposals/<int:proposal_id>/approve",
        proposals_api.ProposalApproveView.as_view(),
        name="proposal-approve",
    ),
    path(
        "config/proposals/<int:proposal_id>/reject", proposals_api.ProposalRejectView.as_view(), name="proposal-reject"
    ),
    path("config/integrations/<str:tool>", credentials_api.IntegrationSecretView.as_view(), name="integration-secret"),
    *(
        path(f"calculate/{slug}", calculations_api.calculation_view(method).as_view(), name=f"calculate-{slug}")
        for slug, method in calculations_api.CALCULATION_PATHS.items()
    ),
    *(
        path(f"events/{kind}", events_api.events_view(kind).as_view(), name=f"events-{kind}")
        for kind in events_api.SERIALIZERS
    ),
    path("dashboard/executive", dashboard_api.ExecutiveView.as_view(), name="dashboard-executive"),
    path("dashboard/real-time", dashboard_api.RealTimeView.as_view(), name="dashboard-real-time"),
    path("dashboard/trends", dashboard_api.TrendsView.as_view(), name="dashboard-trends"),
    path("dashboard/comparative", dashboard_api.ComparativeView.as_view(), name="dashboard-comparative"),
    path("dashboard/service-levels", dashboard_api.ServiceLevelsView.as_view(), name="dashboard-service-levels"),
    path("costs/focus", costs_api.FocusImportView.as_view(), name="costs-focus"),
    path("costs/monthly", costs_api.MonthlyCostsView.as_view(), name="costs-monthly"),
    path("metrics/business-impact", metrics_api.BusinessImpactView.as_view(), name="business-impact"),
    path("ledger/", ledger_api.LedgerListView.as_view(), name="ledger-list"),
    path("ledger/verify", ledger_api.LedgerVerifyView.as_view(), name="ledger-verify"),
    path("ledger/verify/<int:run_id>", ledger_api.LedgerVerificationView.as_view(), name="ledger-verification"),
    path("ledger/export.jsonl", ledger_api.LedgerExportView.as_view(), name="ledger-export-jsonl"),
    path("audit/events", audit_api.AuditEventListView.as_view(), name="audit-events"),
    path("periods/<str:month>/close", audit_api.PeriodCloseView.as_view(), name="period-close"),
    path("ledger/<int:record_id>/", ledger_api.LedgerDetailView.as_view(), name="ledger-detail"),
    path("reports", dashboard_api.ReportListView.as_view(), name="report-list"),
    path("alerts", alerts_api.AlertListView.as_view(), name="alert-list"),
    path("alerts/<int:alert_id>/acknowledge", alerts_api.AlertAcknowledgeView.as_view(), name="alert-acknowledge"),
    path("alerts/<int:alert_id>/resolve", alerts_api.AlertResolveView.as_view(), name="alert-resolve"),
    path("config/escalations", alerts_api.EscalationSettingsView.as_view(), name="escalation-settings"),
    path(
        "reports/<int:report_id>/<str:file_format>",
        dashboard_api.ReportDownloadView.as_view(),
        name="report-download",
    ),
]

urlpatterns = [
    path("", dashboard_views.home, name="home"),
    path("t/<slug:slug>/", dashboard_pages.overview, name="tenant-home"),
    path("t/<slug:slug>/live/", dashboard_pages.overview_live, name="overview-live"),
    path("t/<slug:slug>/overview/breakdown/", dashboard_pages.overview_breakdown, name="overview-breakdown"),
    path("t/<slug:slug>/settings/", dashboard_views.tenant_home, name="tenant-settings-page"),
    path("t/<slug:slug>/trends/", dashboard_pages.trends, name="trends"),
    path("t/<slug:slug>/service-levels/", service_level_pages.service_levels, name="service-levels"),
    path("t/<slug:slug>/comparative/", dashboard_pages.comparative, name="comparative"),
    path("t/<slug:slug>/comparative/label/", cost_pages.label_drill, name="comparative-label"),
    path("t/<slug:slug>/comparative/events/", cost_pages.label_events, name="comparative-events"),
    path("t/<slug:slug>/costs/", cost_pages.cost_drill, name="cost-drill"),
    path("t/<slug:slug>/investments/", dashboard_pages.investments, name="investments"),
    path("t/<slug:slug>/investments/budget/", budget_pages.it_budget, name="it-budget"),
    path("t/<slug:slug>/drill/<str:stream>/<str:month>/", dashboard_pages.drill_down, name="drill-down"),
    path("t/<slug:slug>/ledger/", ledger_pages.ledger_list, name="ledger"),
    path("t/<slug:slug>/ledger/export.csv", audit_pages.ledger_export, name="ledger-export"),
    path("t/<slug:slug>/ledger/export.jsonl", audit_pages.ledger_export_jsonl, name="ledger-export-jsonl"),
    path("t/<slug:slug>/audit/", audit_pages.audit, name="audit"),
    path("t/<slug:slug>/audit/events.csv", audit_pages.audit_events_export, name="audit-export"),
    path("t/<slug:slug>/audit/model-history.csv", audit_pages.model_history_export, name="model-history-export"),
    path("t/<slug:slug>/periods/", audit_pages.periods_page, name="periods"),
    path("t/<slug:slug>/ledger/<int:record_id>/", ledger_pages.ledger_record, name="ledger-record"),
    path("t/<slug:slug>/ledger/<int:record_id>/pdf", ledger_pages.ledger_record_pdf, name="ledger-record-pdf"),
    path("t/<slug:slug>/reports/", dashboard_views.reports_page, name="reports"),
    path("t/<slug:slug>/alerts/", alert_pages.alerts_page, name="alerts"),
    path("t/<slug:slug>/alerts/escalations/", alert_pages.escalations_page, name="alert-escalations"),
    path(
        "t/<slug:slug>/reports/<int:report_id>/<str:file_format>",
        dashboard_views.report_download,
        name="report-download",
    ),
    path("t/<slug:slug>/model/", model_pages.financial_model, name="financial-model"),
    path("t/<slug:slug>/model/edit/", model_pages.financial_model_edit, name="financial-model-edit"),
    path("t/<slug:slug>/model/kpis/edit/", model_pages.business_kpis_edit, name="business-kpis-edit"),
    path("t/<slug:slug>/calculate/", calculator_pages.calculators, name="calculators"),
    path("t/<slug:slug>/calculate/<str:method>/", calculator_pages.calculator, name="calculator"),
    path("t/<slug:slug>/methodology/", dashboard_views.methodology, name="methodology"),
    path("t/<slug:slug>/import/", dashboard_views.import_data, name="import-data"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/mfa/setup/", mfa.mfa_setup, name="mfa-setup"),
    path("accounts/mfa/verify/", mfa.mfa_verify, name="mfa-verify"),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("api/v1/webhooks/", include("roi.webhook_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script from its own URL: no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
]

handler400 = "governance.errors.bad_request"
handler403 = "governance.errors.permission_denied"
handler404 = "governance.errors.not_found"
handler500 = "governance.errors.server_error"
