"""The executive pages: overview, trends, comparative views, drill-downs and the ledger.

Each page renders the same selectors as the API, inside the tenant's scope, and links
every figure to the events and ledger records it is made of.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_http_methods

from dashboards import selectors
from dashboards.calculators import CALCULATORS, EDITABLE_FIGURES, Field, calculation_body, field_errors
from dashboards.forms import LedgerFilterForm, TrendsForm
from dashboards.selectors.service_levels import service_month_means
from governance import roles
from governance.audit import audit_record
from governance.ledger import Actor, record_hash
from governance.models import AuditKind
from governance.pages import tenant_page
from governance.requests import TenantRequest
from roi import proposals
from roi import selectors as roi_selectors
from roi.engine import EngineInputError
from roi.figures import KPI_SECTIONS, MODEL_GROUPS, kpi_rows, kpi_sections_from_form
from roi.models import (
    AutomationRun,
    ChangeProposal,
    Event,
    Incident,
    PerformanceMonth,
    ProposalStatus,
    ProposalTarget,
    Stream,
)
from roi.services import (
    business_kpis_update,
    calculation_run,
    figures_in_force,
    financial_model_update,
    ledger_verify,
)


@tenant_page()
def overview(request: TenantRequest) -> HttpResponse:
    return render(request, "dashboards/overview.html", {"figures": selectors.executive_overview()})


@tenant_page()
def overview_live(request: TenantRequest) -> HttpResponse:
    """The overview's figures alone, as the page shows them: what live.js swaps in to refresh them."""
    response = render(request, "dashboards/_overview_figures.html", {"figures": selectors.executive_overview()})
    response["Cache-Control"] = "no-store"
    return response


@tenant_page()
def overview_breakdown(request: TenantRequest) -> HttpResponse:
    """What the overview's value, fiscal-year ROI and index are made of, month by month and
    stream by stream: the same service, on a page of its own so the overview (and its live
    refresh) stays a page of tiles."""
    return render(request, "dashboards/overview_breakdown.html", {"figures": selectors.executive_overview()})


@tenant_page()
def trends(request: TenantRequest) -> HttpResponse:
    """The trends charts for `?months=&horizon=` (the API's bounds); bad values are a form error."""
    form = TrendsForm(request.GET)
    valid = form.is_valid()
    # An invalid request still shows the default window, beside the error that explains it.
    query = form.cleaned_data if valid else {}
    context = {"trends": selectors.trends(**query), "form": form}
    return render(request, "dashboards/trends.html", context, status=200 if valid else 400)


@tenant_page()
def comparative(request: TenantRequest) -> HttpResponse:
    """Value against cost by department, product or period, and the benchmarks (the API's service)."""
    by = request.GET.get("by", "department")
    errors: dict[str, str] = {}
    if by not in {"department", "product", "period"}:
        errors["by"] = "Choose department, product or before / after a date."
        by = "department"
    split = None
    if request.GET.get("date"):
        try:
            split = date.fromisoformat(request.GET["date"])
        except ValueError:
            errors["date"] = "Enter a date such as 2026-03-01."
    start, end = request.GET.get("start") or None, request.GET.get("end") or None
    try:
        comparison = selectors.comparative(by=by, split=split, start=start, end=end)
    except selectors.ComparativeRefused as refused:
        errors.update({name: " ".join(messages) for name, messages in refused.errors.items()})
        comparison = selectors.comparative(by=by, split=split)
    context = {"comparison": comparison, "by": by, "errors": errors}
    return render(request, "dashboards/comparative.html", context, status=400 if errors else 200)


DRILL_MODELS = {
    Stream.INCIDENT_PREVENTION: (Incident, {"prevented": True}),
    Stream.DOWNTIME: (Incident, {"prevented": False}),
    Stream.AUTOMATION: (AutomationRun, {}),
}


@tenant_page()
def drill_down(request: TenantRequest, stream: str, month: str) -> HttpResponse:
    """The events (or service-months) that make up one stream's figure in one month."""
    try:
        first = datetime.strptime(month, "%Y-%m").date()
    except ValueError:
        raise Http404("No such month.") from None
    zone = ZoneInfo(request.tenant.time_zone)
    start = datetime(first.year, first.month, 1, tzinfo=zone)
    end = datetime(*selectors.add_months(first, 1).timetuple()[:3], tzinfo=zone)
    rows: QuerySet[PerformanceMonth] | QuerySet[Event]
    if stream == Stream.PERFORMANCE:
        rows = PerformanceMonth.objects.filter(month=first).order_by("service")
        template = "dashboards/drill_performance.html"
    elif stream in DRILL_MODELS:
        model, conditions = DRILL_MODELS[Stream(stream)]
        rows = model.objects.filter(occurred_at__gte=start, occurred_at__lt=end, **conditions).order_by("-occurred_at")
        template = "dashboards/drill_events.html"
    else:
        raise Http404("No such stream.")
    page = Paginator(rows.select_related("ledger_record"), 100).get_page(request.GET.get("page"))
    context: dict[str, Any] = {"page": page, "stream": stream, "month": month}
    if stream == Stream.PERFORMANCE:
        context["means"] = [
            (service_month, service_month_means(service_month))
            for service_month in page
            if isinstance(service_month, PerformanceMonth)  # (every row is, on this stream)
        ]
    return render(request, template, context)


@tenant_page(roles.READ_LEDGER)
def ledger_list(request: TenantRequest) -> HttpResponse:
    """The ledger, newest first, filtered by method, actor and days; a bad filter is a form error."""
    form = LedgerFilterForm(request.GET)
    valid = form.is_valid()
    # An invalid filter shows no records rather than a list the auditor did not ask for.
    records = roi_selectors.ledger_records(**form.filters()) if valid else roi_selectors.ledger_records().none()
    page = Paginator(records, 50).get_page(request.GET.get("page"))
    # The JSON Lines export takes the days only: a method or actor filter would cut the chain.
    dates = urlencode({name: request.GET[name] for name in ("since", "until") if request.GET.get(name)})
    context = {"page": page, "form": form, "dates_query": dates}
    return render(request, "dashboards/ledger_list.html", context, status=200 if valid else 400)


@tenant_page(roles.READ_LEDGER)
@require_http_methods(["GET", "POST"])
def ledger_record(request: TenantRequest, record_id: int) -> HttpResponse:
    """One record with its inputs, versions and hash; POST re-verifies the whole chain."""
    record = get_object_or_404(roi_selectors.ledger_records(), pk=record_id)
    verification = None
    if request.method == "POST":
        result = ledger_verify(actor=Actor.of_user(request.user).label).as_dict()
        mine = [failure for failure in result["failures"] if failure["id"] == record.pk]
        verification = {"chain": result, "record_ok": not mine, "reasons": mine[0]["reasons"] if mine else []}
    return render(
        request,
        "dashboards/ledger_record.html",
        {
            "record": record,
            "hash_matches": record_hash(record) == record.hash,
            "verification": verification,
            "items": _record_items(record),
        },
    )


def _record_items(record: object) -> list[dict[str, object]]:
    """A batch record's items beside their results, for display (the first 200)."""
    inputs = getattr(record, "inputs", {}) or {}
    results = (getattr(record, "result", {}) or {}).get("items", [])
    return [
        {"index": index, "item": item, "result": result}
        for index, (item, result) in enumerate(zip(inputs.get("items", [])[:200], results[:200], strict=False))
    ]


# --- Calculators --------------------------------------------------------------------


@tenant_page(roles.CALCULATE)
def calculators(request: TenantRequest) -> HttpResponse:
    return render(request, "dashboards/calculators.html", {"calculators": CALCULATORS.values()})


@tenant_page(roles.CALCULATE)
@require_http_methods(["GET", "POST"])
def calculator(request: TenantRequest, method: str) -> HttpResponse:
    """One method's form; a submission is a ledger record, shown on its own page."""
    chosen = CALCULATORS.get(method)
    if chosen is None:
        raise Http404("No such calculator.")
    try:
        figures = figures_in_force()[0].as_dict(include_derived=False)
    except EngineInputError:
        figures = {}
    shown = {name: figures.get(name) for name in EDITABLE_FIGURES if name in figures}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            body = calculation_body(chosen, request.POST, shown)
            record = calculation_run(actor=Actor.of_user(request.user), method=method, body=body)
        except EngineInputError as error:
            errors = field_errors(chosen, error.errors)
        else:
            return redirect("ledger-record", slug=request.tenant.slug, record_id=record.pk)
    # A link may prefill the form (GET ?field=...), e.g. an investment's value at risk.
    given = request.POST if request.method == "POST" else request.GET
    mode = given.get("mode") or (chosen.modes[0][0] if chosen.modes else "")

    def rows(fields: tuple[Field, ...]) -> list[tuple[Field, str, list[str]]]:
        return [(field, given.get(field.name, field.example), errors.get(field.name, [])) for field in fields]

    return render(
        request,
        "dashboards/calculator.html",
        {
            "calculator": chosen,
            "common": rows(tuple(field for field in chosen.fields if not field.modes)),
            "modes": [
                (key, label, key == mode, rows(tuple(field for field in chosen.fields if key in field.modes)))
                for key, label in chosen.modes
            ],
            "figures": [(name, request.POST.get(f"assume_{name}", value)) for name, value in shown.items()],
            "errors": errors,
        },
        status=400 if errors else 200,
    )


@tenant_page(roles.READ_LEDGER)
def ledger_record_pdf(request: TenantRequest, record_id: int) -> HttpResponse:
    """A one-page PDF of a calculation for a prospect or a board member, with its id and hash."""
    from weasyprint import HTML

    record = get_object_or_404(roi_selectors.ledger_records(), pk=record_id)
    context = {
        "record": record,
        "tenant": request.tenant,
        "result_rows": _pdf_rows(record.result),
        "input_rows": _pdf_rows(record.inputs),
    }
    html = render_to_string("dashboards/ledger_record_pdf.html", context)
    pdf = HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf()
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="bizvalue-{record.method}-{record.sequence}.pdf"'
    audit_record(
        kind=AuditKind.EXPORT,
        actor=Actor.of_user(request.user).label,
        detail={"export": "ledger_record_pdf", "record": record.sequence},
        request=request,
    )
    return response


def _pdf_rows(values: object) -> list[tuple[str, object]]:
    """A record's inputs or result as (name, value) rows for its one-page PDF.

    Pairs, because a template's `result.items` reads an event batch's "items" key rather than
    the dict's method; and a list of records (a batch's items) is summed up as its count, so a
    batch of 10,000 events still fits one page (its page lists them).
    """
    if not isinstance(values, dict):
        return []
    return [
        (str(name), f"{len(value):,} items, listed on the record's page" if _is_list_of_records(value) else value)
        for name, value in values.items()
    ]


def _is_list_of_records(value: object) -> bool:
    return isinstance(value, list) and any(isinstance(element, dict) for element in value)


# --- Financial model and KPIs -------------------------------------------------------


@tenant_page()
@require_http_methods(["GET", "POST"])
def financial_model(request: TenantRequest) -> HttpResponse:
    """The model and KPIs in force, pending proposals with their diff, and every version.

    POST approves or rejects a pending proposal (finance admins; never one's own approval).
    """
    can_decide = bool(request.roles & roles.MANAGE_MODEL)
    decision_status, decision_error = 200, ""
    if request.method == "POST":
        if not can_decide:
            raise PermissionDenied
        decision_status, decision_error = _decide_proposal(request)
        if not decision_error:
            return redirect("financial-model", slug=request.tenant.slug)
    model = roi_selectors.financial_model_current()
    kpis = roi_selectors.business_kpis_current()
    pending = [
        {"proposal": proposal, "diff": proposals.proposal_diff(proposal)}
        for proposal in proposals.proposals_list(status=ProposalStatus.PENDING)
    ]
    context = {
        "pending": pending,
        "can_decide": can_decide,
        "decision_error": decision_error,
        "me": Actor.of_user(request.user).label,
        "dual_approval": proposals.dual_approval_required(),
        "model": model,
        "kpis": kpis,
        "model_history": roi_selectors.config_history(
            roi_selectors.financial_model_versions(), roi_selectors.MODEL_SECTIONS
        ),
        "kpi_history": roi_selectors.config_history(roi_selectors.business_kpis_versions(), roi_selectors.KPI_SECTIONS),
        "kpi_rows": kpi_rows(None if kpis is None else _kpi_sections_of(kpis)),
        "can_edit": bool(request.roles & roles.MANAGE_MODEL),
    }
    return render(request, "dashboards/financial_model.html", context, status=decision_status)


def _decide_proposal(request: TenantRequest) -> tuple[int, str]:
    """Approve or reject the posted proposal: (200, "") when done, else the status and why not."""
    raw_id = request.POST.get("proposal", "")
    # Scoped query: another tenant's proposal is a 404, like a missing one.
    proposal = get_object_or_404(ChangeProposal.objects, pk=int(raw_id) if raw_id.isdigit() else 0)
    actor = Actor.of_user(request.user)
    note = request.POST.get("note", "")
    try:
        if request.POST.get("action") == "approve":
            proposals.change_approve(proposal_id=proposal.pk, actor=actor, note=note)
        elif request.POST.get("action") == "reject":
            proposals.change_reject(proposal_id=proposal.pk, actor=actor, note=note)
        else:
            return 400, "Choose approve or reject."
    except proposals.ProposalRefused as refused:
        return refused.status, refused.message
    except EngineInputError as error:
        return 400, "; ".join(f"{name}: {' '.join(messages)}" for name, messages in error.errors.items())
    return 200, ""


@tenant_page(roles.MANAGE_MODEL)
@require_http_methods(["GET", "POST"])
def financial_model_edit(request: TenantRequest) -> HttpResponse:
    """A finance admin's form: every figure of the model, a reason, and when it takes effect."""
    model = roi_selectors.financial_model_current()
    groups = {name: dict(getattr(model, name) or {}) if model else {} for name in MODEL_GROUPS}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        submitted = {
            group: {name: request.POST.get(f"{group}.{name}", "").strip() or None for name in names}
            for group, names in MODEL_GROUPS.items()
        }
        errors = _config_change_submit(
            request,
            target=ProposalTarget.FINANCIAL_MODEL,
            payload=submitted,
            apply=lambda payload, **change: financial_model_update(groups=payload, **change),
        )
        if not errors:
            return redirect("financial-model", slug=request.tenant.slug)
        groups = submitted
    fields = [
        (group, [(name, request.POST.get(f"{group}.{name}", groups[group].get(name)) or "") for name in names])
        for group, names in MODEL_GROUPS.items()
    ]
    return render(
        request,
        "dashboards/financial_model_edit.html",
        {
            "fields": fields,
            "errors": errors,
            "reason": request.POST.get("change_reason", ""),
            "dual_approval": proposals.dual_approval_required(),
        },
        status=400 if errors else 200,
    )


def _config_change_submit(
    request: TenantRequest, *, target: ProposalTarget, payload: dict[str, Any], apply: Callable[..., object]
) -> dict[str, list[str]]:
    """A model or KPI change from a page's form: applied, or proposed under dual approval; its errors."""
    try:
        actor = Actor.of_user(request.user)
        change_reason = request.POST.get("change_reason", "")
        effective_from = _effective_from(request)
        if proposals.dual_approval_required():
            proposals.change_propose(
                target=target, payload=payload, actor=actor, change_reason=change_reason, effective_from=effective_from
            )
        else:
            apply(payload, actor=actor, change_reason=change_reason, effective_from=effective_from)
    except EngineInputError as error:
        return error.errors
    except ValueError:
        return {"effective_from": ["Use a date and time such as 2026-12-01T00:00."]}
    return {}


def _effective_from(request: TenantRequest) -> datetime | None:
    """The form's "effective from" in the tenant's time zone (blank: now); ValueError when unreadable."""
    effective = request.POST.get("effective_from") or None
    effective_from = datetime.fromisoformat(effective) if effective else None
    if effective_from is not None and effective_from.tzinfo is None:
        effective_from = effective_from.replace(tzinfo=ZoneInfo(request.tenant.time_zone))
    return effective_from


def _kpi_sections_of(kpis: object) -> dict[str, object]:
    return {section: getattr(kpis, section) for section in KPI_SECTIONS}


@tenant_page(roles.MANAGE_MODEL)
@require_http_methods(["GET", "POST"])
def business_kpis_edit(request: TenantRequest) -> HttpResponse:
    """A finance admin's form: every KPI target, alert threshold and attribution rule, a reason,
    and when it takes effect; the same service (and, when required, the same proposal for a
    second approver) as `PUT config/business-kpis`."""
    kpis = roi_selectors.business_kpis_current()
    rows = kpi_rows(None if kpis is None else _kpi_sections_of(kpis))
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        sections = kpi_sections_from_form(request.POST)
        errors = _config_change_submit(
            request,
            target=ProposalTarget.BUSINESS_KPIS,
            payload=sections,
            apply=lambda payload, **change: business_kpis_update(sections=payload, **change),
        )
        if not errors:
            return redirect("financial-model", slug=request.tenant.slug)
        for row in rows:
            row["value"] = request.POST.get(row["path"], "")
    return render(
        request,
        "dashboards/financial_model_kpis_edit.html",
        {
            "rows": rows,
            "errors": errors,
            "reason": request.POST.get("change_reason", ""),
            "effective_from": request.POST.get("effective_from", ""),
            "dual_approval": proposals.dual_approval_required(),
        },
        status=400 if errors else 200,
    )


@tenant_page()
def investments(request: TenantRequest) -> HttpResponse:
    return render(request, "dashboards/investments.html", {"overview": selectors.investments_overview()})
