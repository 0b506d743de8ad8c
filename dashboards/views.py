"""Pages people look at."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import markdown
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods

from dashboards import reports
from dashboards.forms import FOCUS_KIND, ImportForm
from dashboards.models import ReportKind
from dashboards.tasks import report_deliver_after_commit
from governance import roles, selectors
from governance.ledger import Actor
from governance.pages import tenant_page
from governance.requests import SignedInRequest, TenantRequest
from roi.csv_import import CsvFileRefused, CsvRowsInvalid, csv_text, events_import_csv, upload_read
from roi.focus import FocusAlreadyImported, cost_imports_recent, focus_import

IMPORTERS = roles.at_least(roles.Role.ANALYST)


@login_required
def home(request: SignedInRequest) -> HttpResponse:
    """Land a member on their tenant; someone in several tenants picks one."""
    tenants = list(selectors.tenants_for_user(user=request.user))
    if len(tenants) == 1:
        return redirect("tenant-home", slug=tenants[0].slug)
    return render(request, "dashboards/choose_tenant.html", {"tenants": tenants})


@tenant_page()
def tenant_home(request: TenantRequest) -> HttpResponse:
    can_manage = bool(request.roles & (roles.MANAGE_TENANT | roles.AUDIT))
    context = {
        "can_manage": can_manage,
        "members": selectors.members_of(tenant=request.tenant) if can_manage else [],
        "api_keys": list(selectors.api_keys_list()) if can_manage else [],
        "can_import": bool(request.roles & IMPORTERS),
    }
    return render(request, "dashboards/tenant_home.html", context)


@cache
def methodology_html() -> str:
    """docs/methodology.md as HTML: the one text of every method, shown as written."""
    text = Path(settings.BASE_DIR, "docs", "methodology.md").read_text(encoding="utf-8")
    return markdown.markdown(text, extensions=["tables", "toc"])


@tenant_page()
def methodology(request: TenantRequest) -> HttpResponse:
    # Our own file, rendered by Markdown without raw user input: safe to mark as HTML.
    return render(request, "dashboards/methodology.html", {"methodology": mark_safe(methodology_html())})  # noqa: S308


@tenant_page(IMPORTERS)
def import_data(request: TenantRequest) -> HttpResponse:
    """Upload a CSV of events or a FOCUS cost export; shows what was stored or every row error."""
    form = ImportForm(request.POST or None, request.FILES or None)
    outcome: dict[str, Any] | None = None
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        outcome, errors = _import_upload(request, form.cleaned_data)
    elif request.method == "POST":
        errors = [f"{name}: {message}" for name, messages in form.errors.items() for message in messages]
    context = {"form": form, "outcome": outcome, "errors": errors, "cost_imports": cost_imports_recent()}
    return render(request, "dashboards/import.html", context, status=400 if errors else 200)


def _import_upload(request: TenantRequest, data: dict[str, Any]) -> tuple[dict[str, Any] | None, list[str]]:
    actor = Actor.of_user(request.user)
    try:
        raw = upload_read(data["file"])
        if data["kind"] == FOCUS_KIND:
            outcome = focus_import(
                actor=actor,
                file_name=data["file"].name or "upload.csv",
                data=raw,
                department_tag=data["department_tag"],
                product_tag=data["product_tag"],
                mode=data["mode"],
            )
            return outcome.as_dict() | {"kind": FOCUS_KIND}, []
        return events_import_csv(actor=actor, kind=data["kind"], text=csv_text(raw)).as_dict(), []
    except (CsvFileRefused, CsvRowsInvalid) as refused:
        return None, refused.messages
    except FocusAlreadyImported as duplicate:
        return None, [str(duplicate)]


@tenant_page()
@require_http_methods(["GET", "POST"])
def reports_page(request: TenantRequest) -> HttpResponse:
    """The tenant's reports with their downloads; finance admins generate one for a closed period."""
    can_generate = bool(request.roles & roles.MANAGE_MODEL)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        if not can_generate:
            raise PermissionDenied
        try:
            generated = reports.report_generate(
                actor=Actor.of_user(request.user),
                kind=request.POST.get("kind", ""),
                period=request.POST.get("period", "").strip(),
            )
        except reports.ReportRefused as refused:
            errors = refused.errors
        else:
            report_deliver_after_commit(generated.report)
            return redirect("reports", slug=request.tenant.slug)
    page = Paginator(reports.reports_list(), 50).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "can_generate": can_generate,
        "kinds": ReportKind.choices,
        "examples": reports.PERIOD_EXAMPLES,
        "errors": errors,
        "posted": request.POST,
    }
    return render(request, "dashboards/reports.html", context, status=400 if errors else 200)


@tenant_page()
def report_download(request: TenantRequest, report_id: int, file_format: str) -> FileResponse:
    return reports.report_file_response(report_id=report_id, file_format=file_format)
