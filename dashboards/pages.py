"""The executive pages: overview, trends, comparative views, investments and drill-downs.

The ledger's pages are in `ledger_pages`, the calculators in `calculator_pages`, the
financial model and KPIs in `model_pages`.

Each page renders the same selectors as the API, inside the tenant's scope, and links
every figure to the events and ledger records it is made of.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import render

from dashboards import selectors
from dashboards.forms import TrendsForm
from dashboards.selectors.service_levels import service_month_means
from governance.fiscal import add_months
from governance.months import parse_month
from governance.pages import tenant_page
from governance.requests import TenantRequest
from roi.models import AutomationRun, Event, Incident, PerformanceMonth, Stream


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
        first = parse_month(month)
    except ValueError:
        raise Http404("No such month.") from None
    zone = ZoneInfo(request.tenant.time_zone)
    start = datetime(first.year, first.month, 1, tzinfo=zone)
    end = datetime(*add_months(first, 1).timetuple()[:3], tzinfo=zone)
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


@tenant_page()
def investments(request: TenantRequest) -> HttpResponse:
    return render(request, "dashboards/investments.html", {"overview": selectors.investments_overview()})
