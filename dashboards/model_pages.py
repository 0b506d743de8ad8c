"""The financial model and KPI pages: what is in force, and editing it (directly or as a proposal)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from governance import roles
from governance.ledger import Actor
from governance.pages import tenant_page
from governance.requests import TenantRequest
from roi import proposals
from roi import selectors as roi_selectors
from roi.engine import EngineInputError
from roi.figures import MODEL_GROUPS, kpi_rows, kpi_sections_from_form, stored_kpi_sections
from roi.models import ChangeProposal, ProposalStatus, ProposalTarget
from roi.services import business_kpis_update, financial_model_update


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
        "kpi_rows": kpi_rows(None if kpis is None else stored_kpi_sections(kpis)),
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


@tenant_page(roles.MANAGE_MODEL)
@require_http_methods(["GET", "POST"])
def business_kpis_edit(request: TenantRequest) -> HttpResponse:
    """A finance admin's form: every KPI target, alert threshold and attribution rule, a reason,
    and when it takes effect; the same service (and, when required, the same proposal for a
    second approver) as `PUT config/business-kpis`."""
    kpis = roi_selectors.business_kpis_current()
    rows = kpi_rows(None if kpis is None else stored_kpi_sections(kpis))
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
