"""The report as a PDF board pack, laid out from an HTML template by WeasyPrint."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.template.loader import render_to_string

from dashboards.models import ReportKind
from dashboards.reports.figures import FIGURE_LABELS
from governance.fiscal import months_between
from governance.months import parse_month
from governance.tenancy import current_tenant

PERCENT_FIGURES = {"roi_percent"}
COUNT_FIGURES = {"incidents_prevented", "business_value_index"}


def render_pdf(figures: dict[str, Any]) -> bytes:
    """The board pack: one section a page (the wide tables on landscape pages), charts as inline SVG."""
    return pdf_document(figures).write_pdf()


def pdf_document(figures: dict[str, Any]) -> Any:
    """The board pack laid out on A4 pages (a WeasyPrint document), before it is written."""
    from weasyprint import HTML

    headline_rows = [
        {
            "key": key,
            "label": FIGURE_LABELS[key],
            "unit": "percent" if key in PERCENT_FIGURES else "count" if key in COUNT_FIGURES else "money",
            **item,
        }
        for key, item in figures["headline"]["figures"].items()
    ]
    context = {
        "figures": figures,
        "kind_label": ReportKind(figures["kind"]).label,
        "slug": current_tenant().slug,
        "headline_rows": headline_rows,
        "period_months": len(months_between(parse_month(figures["start"]), parse_month(figures["end"]))),
    }
    html = render_to_string("dashboards/report_pdf.html", context)
    return HTML(string=html, base_url=str(settings.BASE_DIR)).render()
