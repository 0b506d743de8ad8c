"""The auditor's pages: the security log, the last ledger verification, CSV exports (log, ledger,
model history), the ledger's JSON Lines export for outside verification, closed periods.

Every export is itself an audit event, and every CSV cell is neutralised against formula
injection (governance.audit.csv_text).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from dashboards.forms import AuditFilterForm, LedgerFilterForm
from governance import periods, roles, selectors
from governance.audit import audit_events, audit_events_csv, audit_record, csv_text, last_verification
from governance.ledger import Actor
from governance.models import AuditEvent, AuditKind, ClosedPeriod, Tenant
from governance.pages import tenant_page
from governance.requests import TenantRequest
from roi import selectors as roi_selectors
from roi.ledger_export import ledger_export_response
from roi.ledger_verification import ledger_verify


def _day(day: date | None) -> datetime | None:
    return None if day is None else timezone.make_aware(datetime(day.year, day.month, day.day))


def _filtered_events(request: HttpRequest, form: AuditFilterForm) -> QuerySet[AuditEvent]:
    """The events the page's filters select; `form` must be valid."""
    kind = request.GET.get("kind") or None
    return audit_events(
        kind=kind if kind in AuditKind.values else None,
        since=_day(form.cleaned_data["since"]),
        until=_day(form.cleaned_data["until"]),
    )


def _csv_response(body: str, file_name: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{file_name}"'
    return response


@tenant_page(roles.AUDIT)
@require_http_methods(["GET", "POST"])
def audit(request: TenantRequest) -> HttpResponse:
    """Security events with filters, the last verification and its chain head; POST verifies now."""
    if request.method == "POST":
        ledger_verify(actor=Actor.of_user(request.user).label)
        return redirect("audit", slug=request.tenant.slug)
    form = AuditFilterForm(request.GET)
    # An impossible day re-shows the page with the field's error, and no events rather than all of them.
    events = _filtered_events(request, form) if form.is_valid() else audit_events().none()
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "filter_errors": form.errors,
        "kinds": AuditKind.choices,
        "kind": request.GET.get("kind", ""),
        "since": request.GET.get("since", ""),
        "until": request.GET.get("until", ""),
        "verification": last_verification(),
        "dual_approval": _dual_approval_status(request.tenant),
    }
    return render(request, "dashboards/audit.html", context, status=400 if form.errors else 200)


def _dual_approval_status(tenant: Tenant) -> dict[str, object]:
    """Whether model and KPI changes need a second approver, since when and by whom, for the auditor."""
    switched = selectors.dual_approval_last_change(tenant=tenant)
    approvers = [user.get_username() for user in selectors.model_approvers(tenant=tenant)]
    return {
        "on": tenant.require_dual_approval,
        "in_force": tenant.require_dual_approval and len(approvers) > 1,
        "since": tenant.created_at if switched is None else switched.occurred_at,
        "by": None if switched is None else switched.actor,
        "approvers": approvers,
    }


@tenant_page(roles.AUDIT)
def audit_events_export(request: TenantRequest) -> HttpResponse:
    """The filtered security events as CSV (itself recorded as an export)."""
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest(form.error_text(), content_type="text/plain; charset=utf-8")
    body = audit_events_csv(_filtered_events(request, form).iterator())
    audit_record(
        kind=AuditKind.EXPORT,
        actor=Actor.of_user(request.user).label,
        detail={"export": "audit_events_csv", "filters": dict(request.GET.items())},
        request=request,
    )
    return _csv_response(body, f"bizvalue-audit-{request.tenant.slug}.csv")


def _ledger_filter_form(request: HttpRequest) -> LedgerFilterForm:
    form = LedgerFilterForm(request.GET)
    form.is_valid()
    return form


@tenant_page(roles.READ_LEDGER)
def ledger_export(request: TenantRequest) -> HttpResponse:
    """The filtered ledger list as CSV, with each record's hash for reconciliation."""
    form = _ledger_filter_form(request)
    if form.errors:
        return HttpResponseBadRequest(form.error_text(), content_type="text/plain; charset=utf-8")
    records = roi_selectors.ledger_records(**form.filters())
    body = csv_text(
        ["sequence", "method", "method_version", "model_version", "kpi_version", "actor", "created_at", "hash"],
        (
            [r.sequence, r.method, r.method_version, r.model_version, r.kpi_version, r.actor, r.created_at, r.hash]
            for r in records.iterator()
        ),
    )
    audit_record(
        kind=AuditKind.EXPORT,
        actor=Actor.of_user(request.user).label,
        detail={"export": "ledger_csv", "filters": dict(request.GET.items())},
        request=request,
    )
    return _csv_response(body, f"bizvalue-ledger-{request.tenant.slug}.csv")


@tenant_page(roles.AUDIT)
def ledger_export_jsonl(request: TenantRequest) -> HttpResponseBase:
    """Every field each record's hash covers, one record a line, for `bin/verify_ledger_export.py`."""
    form = _ledger_filter_form(request)
    if form.errors:
        return HttpResponseBadRequest(form.error_text(), content_type="text/plain; charset=utf-8")
    filters = form.filters(dates_only=True)
    # The stored rows come with the whole ledger only: rollup cells add up every event.
    rows = request.GET.get("rows") == "1" and not any(filters.values())
    audit_record(
        kind=AuditKind.EXPORT,
        actor=Actor.of_user(request.user).label,
        detail={
            "export": "ledger_jsonl",
            "filters": {name: str(day) for name, day in filters.items() if day} | ({"rows": "1"} if rows else {}),
        },
        request=request,
    )
    return ledger_export_response(tenant=request.tenant, rows=rows, **filters)


MODEL_HISTORY_COLUMNS = [
    "config",
    "version",
    "changed_at",
    "effective_from",
    "changed_by",
    "proposed_by",
    "proposal",
    "change_reason",
    "field",
    "before",
    "after",
]


def _model_history_rows() -> Iterator[list[object]]:
    """One row per changed field of every version; a version that changed nothing still gets a row."""
    histories = (
        ("financial_model", roi_selectors.financial_model_versions(), roi_selectors.MODEL_SECTIONS),
        ("business_kpis", roi_selectors.business_kpis_versions(), roi_selectors.KPI_SECTIONS),
    )
    for name, versions, sections in histories:
        for version in roi_selectors.config_history(versions, sections):
            proposal = version["proposal"]
            who_and_why = [
                name,
                version["version"],
                version["changed_at"],
                version["effective_from"],
                version["changed_by"],
                proposal.proposed_by_label if proposal else "",
                proposal.pk if proposal else "",
                version["change_reason"],
            ]
            for change in version["changes"] or [{"field": "", "old": "", "new": ""}]:
                yield [*who_and_why, change["field"], change["old"], change["new"]]


@tenant_page(roles.AUDIT)
def model_history_export(request: TenantRequest) -> HttpResponse:
    """Every version of the financial model and KPIs as CSV, with who proposed, who approved and why."""
    body = csv_text(MODEL_HISTORY_COLUMNS, _model_history_rows())
    audit_record(
        kind=AuditKind.EXPORT,
        actor=Actor.of_user(request.user).label,
        detail={"export": "model_history_csv"},
        request=request,
    )
    return _csv_response(body, f"bizvalue-model-history-{request.tenant.slug}.csv")


@tenant_page(roles.MANAGE_MODEL | roles.AUDIT)
@require_http_methods(["GET", "POST"])
def periods_page(request: TenantRequest) -> HttpResponse:
    """Closed months, and (for finance admins) a button closing one."""
    error = ""
    if request.method == "POST":
        if not request.roles & roles.MANAGE_MODEL:
            raise PermissionDenied
        try:
            periods.period_close(
                month=periods.month_to_close(request.POST.get("month", "")), actor=Actor.of_user(request.user)
            )
            return redirect("periods", slug=request.tenant.slug)
        except ValidationError as invalid:
            error = "; ".join(invalid.messages)
    context = {
        "closed": ClosedPeriod.objects.all(),
        "can_close": bool(request.roles & roles.MANAGE_MODEL),
        "error": error,
        "current_month": f"{timezone.now():%Y-%m}",
    }
    return render(request, "dashboards/periods.html", context)
