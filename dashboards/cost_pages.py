"""Drill-downs of the comparative view: a department's or product's months, the events of one
of its months, and the cost rows a cost sums (the budget page's monthly costs open it too).

Thin: the query string becomes a `LabelFilter` (or a form error, 400), the selectors in
`dashboards.selectors.costs` read, the template shows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from dashboards.pages import DRILL_MODELS
from dashboards.selectors.costs import LABELS, LabelFilter, cost_drill_down, label_months
from governance.fiscal import add_months, fiscal_year_start, months_between
from governance.months import parse_month
from governance.pages import tenant_page
from governance.requests import TenantRequest
from roi.models import Event, PerformanceMonth, Stream

MAX_MONTHS = 60


def _selection(
    request: TenantRequest, *, label_required: bool, one_month: bool = False
) -> tuple[LabelFilter, dict[str, str]]:
    """The slice the query string names: `department=` or `product=` (empty is "no label"),
    `start` and `end` months (default: the fiscal year to date, or this month for
    `one_month`). Errors name the field."""
    tenant = request.tenant
    today = timezone.localdate(timezone=ZoneInfo(tenant.time_zone))
    errors: dict[str, str] = {}
    named = [name for name in LABELS if name in request.GET]
    by = named[0] if len(named) == 1 else None
    if len(named) > 1:
        errors["department"] = "Choose a department or a product, not both."
    elif by is None and label_required:
        errors["department"] = "Choose a department or a product."
    months = {}
    first = today if one_month else fiscal_year_start(today, tenant.fiscal_year_start_month)
    for name, default in (("start", first), ("end", today)):
        text = request.GET.get(name, "")
        try:
            months[name] = parse_month(text) if text else default.replace(day=1)
        except ValueError:
            errors[name] = "Enter a month such as 2026-03."
            months[name] = default.replace(day=1)
    if "start" not in errors and "end" not in errors:
        if months["end"] < months["start"]:
            errors["end"] = "The end month comes before the start month."
        elif len(months_between(months["start"], months["end"])) > MAX_MONTHS:
            errors["end"] = f"Choose at most {MAX_MONTHS} months."
    label = request.GET.get(by, "") if by else ""
    return LabelFilter(by=by, label=label, start=months["start"], end=months["end"]), errors


@tenant_page()
def cost_drill(request: TenantRequest) -> HttpResponse:
    """The imported cost cells (each with its import) and the investments (each with its business
    case) that a comparative cost, or the budget page's cost of a month, sums."""
    selection, errors = _selection(request, label_required=False)
    context: dict[str, Any] = {"selection": selection, "errors": errors}
    if not errors:
        costs = cost_drill_down(selection)
        context["costs"] = costs
        context["page"] = Paginator(costs["cells"], 100).get_page(request.GET.get("page"))
    return render(request, "dashboards/cost_drill.html", context, status=400 if errors else 200)


@tenant_page()
def label_drill(request: TenantRequest) -> HttpResponse:
    """One department's or product's value per stream and cost, month by month."""
    selection, errors = _selection(request, label_required=True)
    context: dict[str, Any] = {"selection": selection, "errors": errors}
    if not errors:
        context["months"] = label_months(selection)
    return render(request, "dashboards/label_drill.html", context, status=400 if errors else 200)


@tenant_page()
def label_events(request: TenantRequest) -> HttpResponse:
    """The events (or service-months) of one stream, month and department or product: what a
    label's monthly value adds up, each with the ledger record that proves it."""
    selection, errors = _selection(request, label_required=True, one_month=True)
    stream = request.GET.get("stream", "")
    if stream != Stream.PERFORMANCE and stream not in DRILL_MODELS:
        errors["stream"] = "Choose incident_prevention, automation or performance."
    if selection.start != selection.end:
        errors["start"] = "Choose one month (start and end the same)."
    context: dict[str, Any] = {"selection": selection, "errors": errors, "stream": stream}
    if not errors:
        labelled = {selection.by or "department": selection.label}  # a label is required above
        rows: QuerySet[PerformanceMonth] | QuerySet[Event]
        if stream == Stream.PERFORMANCE:
            rows = PerformanceMonth.objects.filter(month=selection.start, **labelled).order_by("service", "pk")
        else:
            zone = ZoneInfo(request.tenant.time_zone)
            first, after = selection.start, add_months(selection.start, 1)
            model, conditions = DRILL_MODELS[Stream(stream)]
            rows = model.objects.filter(
                occurred_at__gte=datetime(first.year, first.month, 1, tzinfo=zone),
                occurred_at__lt=datetime(after.year, after.month, 1, tzinfo=zone),
                **conditions,
                **labelled,
            ).order_by("-occurred_at", "-pk")
        context["page"] = Paginator(rows.select_related("ledger_record"), 100).get_page(request.GET.get("page"))
    return render(request, "dashboards/label_events.html", context, status=400 if errors else 200)
