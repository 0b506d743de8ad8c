"""Periodic reports: figures of a closed fiscal period, frozen as PDF, XLSX and CSV, and e-mailed.

`periods` reads period labels on the fiscal calendar (`governance.fiscal`); `figures`
assembles a period's figures from the dashboard selectors; `tables` lays them out as the
board pack's sections; `spreadsheets` and `pdf` render the files; `selectors` reads stored
reports; `services` generates and delivers them. The views, the API, the tasks and the
command call these as `reports.<name>`, so the names they use are re-exported here.
"""

from dashboards.reports.figures import report_figures
from dashboards.reports.pdf import pdf_document, render_pdf
from dashboards.reports.periods import (
    PERIOD_EXAMPLES,
    PERIOD_PATTERNS,
    ReportRefused,
    period_months,
    periods_just_closed,
)
from dashboards.reports.selectors import MEDIA_TYPES, report_file_response, reports_list
from dashboards.reports.services import Generated, report_deliver, report_generate, report_make, report_recipients
from dashboards.reports.spreadsheets import cell, render_csv, render_xlsx

__all__ = [
    "MEDIA_TYPES",
    "PERIOD_EXAMPLES",
    "PERIOD_PATTERNS",
    "Generated",
    "ReportRefused",
    "cell",
    "pdf_document",
    "period_months",
    "periods_just_closed",
    "render_csv",
    "render_pdf",
    "render_xlsx",
    "report_deliver",
    "report_figures",
    "report_file_response",
    "report_generate",
    "report_make",
    "report_recipients",
    "reports_list",
]
