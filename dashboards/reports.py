"""Periodic reports: figures of a closed fiscal period, frozen as PDF, XLSX and CSV, and e-mailed.

The figures come from the dashboard selectors (`tenant_figures` and its methods), never a
second calculation, so a report and the dashboard cannot disagree about the same months.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.utils import timezone

from dashboards import selectors
from dashboards.models import Report, ReportFormat, ReportKind, ReportSubscription
from dashboards.selectors.costs import parse_month
from governance.anchors import anchor_chain_head_on_commit
from governance.ledger import Actor
from governance.models import LedgerRecord
from governance.tenancy import current_tenant
from roi.engine import EngineInputError
from roi.ingestion import KINDS
from roi.models import PerformanceMonth
from roi.selectors import VALUE_STREAMS, financial_model_current
from roi.services import calculation_run

TREND_MONTHS = 12
FORECAST_HORIZON = 6
# The longest attribution window the business value index looks back over.
INDEX_MONTHS = 13
# Years 1900 to 2999, as for event times (roi.event_fields): FY0236 would be no date at all.
_YEAR = r"(?P<year>(19|2\d)\d\d)"
PERIOD_PATTERNS = {
    ReportKind.MONTHLY: re.compile(rf"^{_YEAR}-(?P<month>\d{{2}})$"),
    ReportKind.QUARTERLY: re.compile(rf"^{_YEAR}-Q(?P<quarter>[1-4])$"),
    ReportKind.ANNUAL: re.compile(rf"^FY{_YEAR}$"),
}
PERIOD_EXAMPLES = {ReportKind.MONTHLY: "2026-10", ReportKind.QUARTERLY: "2026-Q3", ReportKind.ANNUAL: "FY2026"}


class ReportRefused(ValueError):
    """A report that cannot be made (unknown kind, malformed or unfinished period)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.errors = {field: [message]}


# --- The fiscal calendar ----------------------------------------------------------------


def fiscal_year_of(month: date, start_month: int) -> int:
    """The fiscal year a month belongs to, named by the calendar year it ends in (FY2026 ends in 2026)."""
    return month.year + 1 if start_month > 1 and month.month >= start_month else month.year


def _fiscal_index(month: date, start_month: int) -> int:
    return (month.month - start_month) % 12  # 0 = first month of the fiscal year


def period_months(*, kind: str, period: str, start_month: int) -> tuple[date, date]:
    """The first and last month of a period label on a fiscal calendar starting in `start_month`."""
    if kind not in ReportKind.values:
        raise ReportRefused("kind", f"must be one of {', '.join(ReportKind.values)}")
    found = PERIOD_PATTERNS[ReportKind(kind)].match(period or "")
    if found is None:
        raise ReportRefused("period", f"a {kind} period looks like {PERIOD_EXAMPLES[ReportKind(kind)]}")
    year = int(found["year"])
    if kind == ReportKind.MONTHLY:
        if not 1 <= int(found["month"]) <= 12:
            raise ReportRefused("period", "month must be 01 to 12")
        first = date(year, int(found["month"]), 1)
        return first, first
    fiscal_start = date(year - 1 if start_month > 1 else year, start_month, 1)
    if kind == ReportKind.QUARTERLY:
        first = selectors.add_months(fiscal_start, 3 * (int(found["quarter"]) - 1))
        return first, selectors.add_months(first, 2)
    return fiscal_start, selectors.add_months(fiscal_start, 11)


def period_label(*, kind: str, last_month: date, start_month: int) -> str:
    """The label of the period of `kind` that ends with `last_month`."""
    fiscal_year = fiscal_year_of(last_month, start_month)
    if kind == ReportKind.MONTHLY:
        return f"{last_month:%Y-%m}"
    if kind == ReportKind.QUARTERLY:
        return f"{fiscal_year}-Q{_fiscal_index(last_month, start_month) // 3 + 1}"
    return f"FY{fiscal_year}"


def periods_just_closed(*, today: date, start_month: int) -> dict[str, str]:
    """The most recent closed period of each kind: what the daily schedule makes sure exists.

    Always the latest closed one rather than "closed today", so a day the schedule missed
    is caught up the next day; generation is idempotent, so repeating costs nothing.
    """
    last = selectors.add_months(today.replace(day=1), -1)
    closing = {ReportKind.MONTHLY: 1, ReportKind.QUARTERLY: 3, ReportKind.ANNUAL: 12}
    found = {}
    for kind, length in closing.items():
        month = last
        while (_fiscal_index(month, start_month) + 1) % length:
            month = selectors.add_months(month, -1)
        found[kind.value] = period_label(kind=kind, last_month=month, start_month=start_month)
    return found


# --- Figures ------------------------------------------------------------------------------


def _months_back(first: date, this_month: date) -> int:
    return (this_month.year - first.year) * 12 + this_month.month - first.month


def _plain_investment(row: dict[str, Any]) -> dict[str, Any]:
    """An investment's row of the investments selector with its name and labels instead of the object."""
    investment = row["investment"]
    return {
        "name": investment.name,
        "department": investment.department,
        "product": investment.product,
        **{key: value for key, value in row.items() if key not in ("investment", "var_query")},
    }


def report_figures(*, kind: str, period: str) -> dict[str, Any]:
    """The sections of one closed period's board pack, each from the selector its page uses.

    The rollups are loaded once and cut off at the period's end (`closed_after`), so every
    section, whenever it is made, sees the period as it stood closed: the headline against
    the previous period and target (executive), value per month and the forecast (trends),
    department cost and ROI (comparative), budget and investments (investments), and the
    benchmarks over the twelve months to the period's end.
    """
    tenant = current_tenant()
    first, last = period_months(kind=kind, period=period, start_month=tenant.fiscal_year_start_month)
    today = timezone.localdate(timezone=ZoneInfo(tenant.time_zone))
    if last >= today.replace(day=1):
        raise ReportRefused("period", "has not closed yet: reports cover complete periods only")
    length = len(selectors.months_between(first, last))
    trend_first = min(first, selectors.add_months(last, -(TREND_MONTHS - 1)))
    # The previous period, and a year before it for the index's attribution windows.
    earliest = min(trend_first, selectors.add_months(first, -(length + INDEX_MONTHS)))
    loaded = selectors.tenant_figures(months_back=_months_back(earliest, today.replace(day=1)))
    data = loaded.closed_after(last)
    headline = selectors.period_headline(data, first, last)
    window = selectors.months_between(trend_first, last)
    shown = {name: item["value"] for name, item in headline["figures"].items()}
    return {
        "tenant": tenant.name,
        "currency": tenant.currency,
        "kind": kind,
        "period": period,
        "start": f"{first:%Y-%m}",
        "end": f"{last:%Y-%m}",
        "value_by_stream": {stream: shown[stream] for stream in VALUE_STREAMS},
        **{name: shown[name] for name in HEADLINE_FIGURES},
        "business_value_index_inputs": headline.pop("business_value_index_inputs"),
        "targets": {
            "value": headline["figures"]["total_value"]["target"],
            "roi_percent": headline["figures"]["roi_percent"]["target"],
            "prevention_value": headline["figures"]["prevention_value"]["target"],
        },
        "headline": headline,
        "trends": selectors.trend_series(data, window),
        "forecast": selectors.forecast(data, window, FORECAST_HORIZON),
        "departments": selectors.breakdown(data, "department", first, last),
        "budget": selectors.budget_against_cost(data),
        "investments": [_plain_investment(row) for row in selectors.investments_against_case(data)],
        "benchmarks": selectors.benchmarks(data),
    }


HEADLINE_FIGURES = (
    "total_value",
    "downtime_cost",
    "investment_cost",
    "roi_percent",
    "incidents_prevented",
    "prevention_value",
    "automation_run_rate",
    "business_value_index",
)
FIGURE_LABELS = {
    "incident_prevention": "Incident prevention",
    "automation": "Automation",
    "performance": "Performance",
    "total_value": "Total value",
    "downtime_cost": "Downtime cost",
    "investment_cost": "Cost (investments and cloud)",
    "roi_percent": "ROI (percent)",
    "incidents_prevented": "Incidents prevented",
    "prevention_value": "Prevention value",
    "automation_run_rate": "Automation run-rate (last month)",
    "business_value_index": "Business value index",
}


@dataclass(frozen=True)
class Section:
    """One section of the board pack as a table: a sheet of the XLSX, rows of the CSV."""

    name: str  # the CSV's section column
    title: str  # the XLSX sheet
    notes: list[tuple[str, Any]]  # single figures above the table
    header: list[str]
    rows: list[list[Any]]


def sections(figures: dict[str, Any]) -> list[Section]:
    """The board pack's sections as tables, in the order the PDF prints them."""
    headline = figures["headline"]
    found = [
        Section(
            "headline",
            "Headline",
            [
                ("period", f"{headline['start']} to {headline['end']}"),
                ("previous", f"{headline['previous_start']} to {headline['previous_end']}"),
            ],
            ["figure", "this period", "previous period", "target"],
            [[key, item["value"], item["previous"], item["target"]] for key, item in headline["figures"].items()],
        )
    ]
    streams = [
        *VALUE_STREAMS,
        "total",
        "downtime_cost",
        "cumulative_value",
        "cumulative_cost",
        "cumulative_roi_percent",
    ]
    found.append(
        Section(
            "trend",
            "Value by month",
            [],
            ["month", *streams],
            [[row["month"], *(row[k] for k in streams)] for row in figures["trends"]],
        )
    )
    forecast = figures["forecast"]
    bands = ["value", "low_80", "high_80", "low_95", "high_95"]
    found.append(
        Section(
            "forecast",
            "Forecast",
            [("method", forecast["method"]), ("mape", forecast["mape"])],
            ["month", *bands],
            [[point["month"], *(point[k] for k in bands)] for point in forecast["points"]],
        )
    )
    departments = figures["departments"]
    columns = [
        *VALUE_STREAMS,
        "total",
        "cloud_cost",
        "investment_cost",
        "cost",
        "net_value",
        "roi_percent",
        "value_per_cost",
    ]
    found.append(
        Section(
            "department",
            "Departments",
            [("months", f"{departments['start']} to {departments['end']}")],
            ["department", *columns],
            [[group["department"], *(group[k] for k in columns)] for group in departments["groups"]]
            + [["total", *(departments["totals"][k] for k in columns)]],
        )
    )
    budget = figures["budget"]
    annual = (budget["budget"] or {}).get("annual")
    found.append(
        Section(
            "budget",
            "IT budget",
            [
                ("fiscal_year", f"{budget['fiscal_year_start']} to {budget['fiscal_year_end']}"),
                ("annual_budget", annual),
            ]
            + [
                (k, budget[k])
                for k in (
                    "cost_to_date",
                    "budget_to_date",
                    "variance_to_date",
                    "forecast_year_cost",
                    "forecast_variance",
                )
            ],
            ["month", "budget", "actual", "forecast", "variance"],
            [[m["month"], m["budget"], m["actual"], m["forecast"], m["variance"]] for m in budget["months"]],
        )
    )
    columns = ["department", "product", "started", "months_elapsed", "cost_to_date", "value_to_date"]
    columns += [
        "promised_value_to_date",
        "value_gap",
        "roi_to_date_percent",
        "case_roi_percent",
        "payback_to_date_months",
    ]
    found.append(
        Section(
            "investment",
            "Investments",
            [],
            ["investment", *columns, "value_at_risk_95"],
            [
                [row["name"], *(row[k] for k in columns), (row["value_at_risk"] or {}).get("value_at_risk_95")]
                for row in figures["investments"]
            ],
        )
    )
    bench = figures["benchmarks"]
    dora = bench["dora"] or {}
    notes: list[tuple[str, Any]] = [("months", f"{bench['start']} to {bench['end']}")]
    notes += [
        (k, bench[k])
        for k in ("downtime_minutes", "downtime_cost", "downtime_cost_per_minute", "deployments", "failed_deployments")
    ]
    notes += [
        (f"{k} tier", dora.get(f"{k}_tier"))
        for k in ("deployment_frequency", "lead_time", "recovery_time", "change_failure_rate")
    ]
    found.append(
        Section(
            "benchmark",
            "Benchmarks",
            notes,
            ["source", "year", "cost_per_minute_usd", "note"],
            [[p["source"], p["year"], p["cost_per_minute_usd"], p["note"]] for p in bench["published"]],
        )
    )
    found.append(
        Section(
            "ledger",
            "Provenance",
            [
                ("model_version", figures.get("model_version")),
                ("record_ids", " ".join(str(pk) for pk in figures.get("ledger_record_ids", []))),
                ("chain_head_sequence", figures.get("chain_head_sequence")),
                ("chain_head_hash", figures.get("chain_head_hash")),
            ],
            [],
            [],
        )
    )
    return found


def figure_rows(figures: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """(section, figure, value): every figure of the report, as the CSV and the XLSX's first sheet print them."""
    rows: list[tuple[str, str, Any]] = [
        ("report", name, figures[name]) for name in ("tenant", "kind", "period", "start", "end", "currency")
    ]
    rows += [("value", stream, value) for stream, value in figures["value_by_stream"].items()]
    rows += [("value", name, figures[name]) for name in HEADLINE_FIGURES]
    rows += [("target", name, value) for name, value in figures["targets"].items()]
    for section in sections(figures):
        rows += [(section.name, name, value) for name, value in section.notes]
        for row in section.rows:
            rows += [
                (section.name, f"{row[0]} {column}", value)
                for column, value in zip(section.header[1:], row[1:], strict=True)
            ]
    return rows


# --- Files ----------------------------------------------------------------------------------

NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """A value safe for a spreadsheet: text that a spreadsheet would run as a formula gets a leading quote.

    Plain numbers (including negative ones) stay numbers; anything else starting with
    = + - @ or a control character is what CSV/formula injection uses (OWASP).
    """
    if value is None:
        return ""
    if isinstance(value, int | Decimal):
        return value
    text = str(value)
    if NUMBER.match(text):
        return Decimal(text)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def render_csv(figures: dict[str, Any]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "figure", "value"])
    for row in figure_rows(figures):
        writer.writerow([cell(item) for item in row])
    return out.getvalue().encode("utf-8")


def render_xlsx(figures: dict[str, Any]) -> bytes:
    """Every figure on the first sheet (as the CSV), then one sheet per section of the PDF."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    def sheet_cell(value: Any) -> Any:
        # A workbook cannot hold control characters (a label sent with one would be a 500).
        written = cell(value)
        return ILLEGAL_CHARACTERS_RE.sub("\ufffd", written) if isinstance(written, str) else written

    book = Workbook()
    sheet = book.active
    sheet.title = "Figures"
    sheet.append(["section", "figure", "value"])
    for row in figure_rows(figures):
        sheet.append([sheet_cell(item) for item in row])
    for section in sections(figures):
        sheet = book.create_sheet(section.title)
        for name, value in section.notes:
            sheet.append([sheet_cell(name), sheet_cell(value)])
        if section.header:
            if section.notes:
                sheet.append([])
            sheet.append([sheet_cell(name) for name in section.header])
            for row in section.rows:
                sheet.append([sheet_cell(item) for item in row])
    for sheet in book.worksheets:
        for written in sheet.iter_rows():
            for item in written:
                if isinstance(item.value, str):
                    item.data_type = "s"  # never a formula, whatever the text
                elif isinstance(item.value, Decimal) and item.value.as_tuple().exponent == -2:
                    item.number_format = "#,##0.00"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


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
        "period_months": len(selectors.months_between(parse_month(figures["start"]), parse_month(figures["end"]))),
    }
    html = render_to_string("dashboards/report_pdf.html", context)
    return HTML(string=html, base_url=str(settings.BASE_DIR)).render()


# --- Reads ----------------------------------------------------------------------------------

MEDIA_TYPES = {
    ReportFormat.PDF.value: "application/pdf",
    ReportFormat.XLSX.value: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ReportFormat.CSV.value: "text/csv",
}


def reports_list() -> QuerySet[Report]:
    """The scope tenant's reports, newest first."""
    return Report.objects.order_by("-created_at", "-pk")


def report_file_response(*, report_id: int, file_format: str) -> FileResponse:
    """One of a report's files as a download; another tenant's report is a 404 like a missing one."""
    if file_format not in MEDIA_TYPES:
        raise Http404("No such format.")
    report = get_object_or_404(reports_list(), pk=report_id)
    stored = report.file_for(file_format)
    name = stored.name.rsplit("/", 1)[-1]
    return FileResponse(stored.open("rb"), as_attachment=True, filename=name, content_type=MEDIA_TYPES[file_format])


# --- Services -------------------------------------------------------------------------------


def _ledger_ids(first: date, last: date, zone: ZoneInfo) -> list[int]:
    """Ledger records that hold the values of the period's events (one query per event kind)."""
    start = datetime(first.year, first.month, 1, tzinfo=zone)
    end = datetime(*selectors.add_months(last, 1).timetuple()[:3], tzinfo=zone)
    ids: set[int] = set()
    for spec in KINDS.values():
        ids.update(
            spec.model.objects.filter(occurred_at__gte=start, occurred_at__lt=end, ledger_record__isnull=False)
            .values_list("ledger_record_id", flat=True)
            .distinct()
        )
    ids.update(
        PerformanceMonth.objects.filter(month__gte=first, month__lte=last, ledger_record__isnull=False)
        .values_list("ledger_record_id", flat=True)
        .distinct()
    )
    return sorted(ids)


@dataclass(frozen=True)
class Generated:
    report: Report
    created: bool


def report_generate(*, actor: Actor, kind: str, period: str) -> Generated:
    """The report of a closed period under the model in force: the stored one, or a new one.

    The business value index is recorded as a ledger calculation of its own, so the one
    figure that is computed (not summed) is verifiable; everything else sums the values of
    the ledger records the report lists.
    """
    tenant = current_tenant()
    model = financial_model_current()
    model_version = 0 if model is None else model.version
    first, last = period_months(kind=kind, period=period, start_month=tenant.fiscal_year_start_month)
    existing = Report.objects.filter(kind=kind, period=period, model_version=model_version).first()
    if existing is not None:
        return Generated(existing, created=False)
    figures = report_figures(kind=kind, period=period)
    try:
        with transaction.atomic():
            ids = _ledger_ids(first, last, ZoneInfo(tenant.time_zone))
            inputs = figures.pop("business_value_index_inputs")
            if inputs is not None:
                try:
                    index = calculation_run(actor=actor, method="business_value_index", body=inputs)
                except EngineInputError:
                    index = None
                # Only a figure the ledger holds is printed: no record, no index.
                figures["business_value_index"] = None if index is None else index.result["business_value_index"]
                figures["headline"]["figures"]["business_value_index"]["value"] = figures["business_value_index"]
                if index is not None:
                    ids.append(index.pk)
            head = LedgerRecord.objects.order_by("-sequence").only("sequence", "hash").first()
            figures["model_version"] = model_version
            figures["ledger_record_ids"] = ids
            figures["chain_head_sequence"] = 0 if head is None else head.sequence
            figures["chain_head_hash"] = "" if head is None else head.hash
            report = Report(
                tenant=tenant,
                kind=kind,
                period=period,
                model_version=model_version,
                figures=figures,
                ledger_record_ids=ids,
                chain_head_sequence=figures["chain_head_sequence"],
                chain_head_hash=figures["chain_head_hash"],
                actor=actor.label,
            )
            stem = f"{tenant.slug}-{kind}-{period}-v{model_version}"
            report.pdf.save(f"{stem}.pdf", ContentFile(render_pdf(figures)), save=False)
            report.xlsx.save(f"{stem}.xlsx", ContentFile(render_xlsx(figures)), save=False)
            report.csv.save(f"{stem}.csv", ContentFile(render_csv(figures)), save=False)
            report.save(force_insert=True)
            # The head the report prints is anchored outside the database once it is committed,
            # so the chain behind a report can never be rewritten or cut unseen.
            anchor_chain_head_on_commit()
    except IntegrityError:
        # A concurrent run stored the same report first: that one is the report.
        return Generated(Report.objects.get(kind=kind, period=period, model_version=model_version), created=False)
    return Generated(report, created=True)


def report_recipients(*, kind: str) -> list[str]:
    """Subscribers' addresses for a kind of report, each once."""
    subscriptions = ReportSubscription.objects.select_related("user").order_by("pk")
    return sorted({s.address for s in subscriptions if s.wants(kind) and s.address})


def report_deliver(*, report: Report) -> int:
    """E-mail a report's PDF to its subscribers, once: a retried task does not send it again."""
    report = Report.objects.select_for_update().get(pk=report.pk)
    if report.emailed_at is not None:
        return 0
    recipients = report_recipients(kind=report.kind)
    figures = report.figures
    subject = f"{figures['tenant']}: {report.get_kind_display()} {report.period}"
    body = render_to_string("dashboards/report_email.txt", {"report": report, "figures": figures})
    with report.pdf.open("rb") as pdf:
        attachment = pdf.read()
    # One message per person, so subscribers do not see each other's addresses.
    messages = []
    for address in recipients:
        message = EmailMessage(subject=subject, body=body, to=[address])
        message.attach(report.pdf.name.rsplit("/", 1)[-1], attachment, "application/pdf")
        messages.append(message)
    sent = get_connection().send_messages(messages) if messages else 0
    report.emailed_at = timezone.now()
    report.save(update_fields=["emailed_at"])
    return sent or 0


def report_make(*, actor: Actor, kind: str, period: str) -> Generated:
    """Generate (or find) a report and make sure its subscribers have it: what every entry point calls."""
    generated = report_generate(actor=actor, kind=kind, period=period)
    report_deliver(report=generated.report)
    return generated
