"""The ledger's pages: the records, one record with its verification, and its one-page PDF."""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_http_methods

from dashboards.forms import LedgerFilterForm
from governance import roles
from governance.audit import audit_record
from governance.ledger import Actor, record_hash
from governance.models import AuditKind
from governance.pages import tenant_page
from governance.requests import TenantRequest
from roi import selectors as roi_selectors
from roi.ledger_verification import ledger_verify


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
