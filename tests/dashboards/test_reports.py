"""Reports: figures of a closed fiscal period, traceable to the ledger, as PDF, XLSX and CSV."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dashboards import reports, selectors
from dashboards.models import Report, ReportSubscription
from governance.ledger import Actor
from governance.models import LedgerRecord, Tenant
from governance.tenancy import tenant_scope
from roi.ledger_verification import ledger_verify

SYSTEM = Actor.system("test")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_report(tenant: Tenant, *, period: str = "2020-01", text: str = "figures") -> Report:
    """A report row with small files, for tests about listing and downloading rather than making."""
    with tenant_scope(tenant):
        report = Report(
            tenant=tenant, kind="monthly", period=period, figures={"total_value": "1.00"}, actor="system:test"
        )
        for name in ("pdf", "xlsx", "csv"):
            report.file_for(name).save(f"{tenant.slug}-{period}.{name}", ContentFile(text.encode()), save=False)
        report.save()
    return report


def pdf_text(report: Report) -> str:
    from pypdf import PdfReader

    with report.pdf.open("rb") as stored:
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(stored.read())).pages)
    # The PDF wraps long hashes and lists; compare without whitespace.
    return "".join(text.split())


def csv_figures(report: Report) -> dict[tuple[str, str], str]:
    with report.csv.open("rb") as stored:
        rows = list(csv.reader(io.StringIO(stored.read().decode())))
    assert rows[0] == ["section", "figure", "value"]
    return {(str(section), str(figure)): value for section, figure, value in rows[1:]}


def xlsx_figures(report: Report) -> dict[tuple[str, str], object]:
    from openpyxl import load_workbook

    with report.xlsx.open("rb") as stored:
        sheet = load_workbook(io.BytesIO(stored.read()))["Figures"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("section", "figure", "value")
    return {(str(section), str(figure)): value for section, figure, value in rows[1:]}


@pytest.fixture
def last_month_report(acme, history):
    _this_month, last_month = history
    with tenant_scope(acme):
        generated = reports.report_make(actor=SYSTEM, kind="monthly", period=f"{last_month:%Y-%m}")
        expected = selectors.executive_overview()
    return generated, expected


# --- The fiscal calendar (no database) ---------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "period", "start_month", "months"),
    [
        ("monthly", "2026-10", 4, (date(2026, 10, 1), date(2026, 10, 1))),
        ("quarterly", "2026-Q1", 4, (date(2025, 4, 1), date(2025, 6, 1))),
        ("quarterly", "2026-Q4", 4, (date(2026, 1, 1), date(2026, 3, 1))),
        ("quarterly", "2026-Q3", 1, (date(2026, 7, 1), date(2026, 9, 1))),
        ("annual", "FY2026", 4, (date(2025, 4, 1), date(2026, 3, 1))),
        ("annual", "FY2026", 1, (date(2026, 1, 1), date(2026, 12, 1))),
    ],
)
def test_period_labels_follow_the_fiscal_calendar(kind, period, start_month, months):
    assert reports.period_months(kind=kind, period=period, start_month=start_month) == months


@pytest.mark.parametrize(
    ("today", "start_month", "closed"),
    [
        (date(2026, 7, 1), 4, {"monthly": "2026-06", "quarterly": "2027-Q1", "annual": "FY2026"}),
        (date(2026, 8, 20), 4, {"monthly": "2026-07", "quarterly": "2027-Q1", "annual": "FY2026"}),
        (date(2026, 4, 2), 4, {"monthly": "2026-03", "quarterly": "2026-Q4", "annual": "FY2026"}),
        (date(2027, 1, 1), 1, {"monthly": "2026-12", "quarterly": "2026-Q4", "annual": "FY2026"}),
        (date(2026, 11, 27), 1, {"monthly": "2026-10", "quarterly": "2026-Q3", "annual": "FY2025"}),
    ],
)
def test_the_periods_just_closed_are_the_latest_complete_ones(today, start_month, closed):
    assert reports.periods_just_closed(today=today, start_month=start_month) == closed


@pytest.mark.parametrize(
    ("kind", "period", "field"),
    [("weekly", "2026-10", "kind"), ("monthly", "2026-13", "period"), ("quarterly", "2026-Q5", "period")],
)
def test_it_refuses_malformed_periods(kind, period, field):
    with pytest.raises(reports.ReportRefused) as refused:
        reports.period_months(kind=kind, period=period, start_month=1)
    assert field in refused.value.errors


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("-12.50", Decimal("-12.50")),
        ("Acme", "Acme"),
        (None, ""),
    ],
)
def test_spreadsheet_cells_never_start_a_formula(value, written):
    assert reports.cell(value) == written


# --- Making a report ------------------------------------------------------------------------


def test_a_monthly_report_holds_the_dashboard_figures_for_the_month(last_month_report):
    generated, expected = last_month_report
    figures = generated.report.figures
    assert generated.created
    assert figures["total_value"] == expected["comparisons"]["month_to_date_value"]["last_month"]
    assert figures["automation_run_rate"] == expected["active_automation_value"]
    assert Decimal(figures["total_value"]) > 0
    assert figures["investment_cost"] == "1100.00"  # upfront 1,000 and the first month's 100


def in_pdf(tenant: Tenant, amount: str | None) -> str:
    """An amount as the PDF prints it: in the tenant's currency and locale, without whitespace."""
    from dashboards.templatetags.bizvalue import money

    with tenant_scope(tenant):
        return "".join(money(amount, tenant.currency).split())


def test_the_pdf_prints_the_figures_the_ledger_ids_and_the_chain_head(acme, last_month_report):
    report = last_month_report[0].report
    text = pdf_text(report)
    assert in_pdf(acme, report.figures["total_value"]) in text
    assert in_pdf(acme, report.figures["automation_run_rate"]) in text
    assert in_pdf(acme, report.figures["investment_cost"]) in text
    assert report.chain_head_hash and report.chain_head_hash in text
    assert report.ledger_record_ids
    assert "Ledgerrecords:" + ",".join(str(pk) for pk in report.ledger_record_ids) in text
    assert "<svg" not in text  # the chart is drawn, not printed as markup


def test_the_report_lists_the_ledger_records_it_is_made_of(acme, last_month_report):
    report = last_month_report[0].report
    with tenant_scope(acme):
        records = {r.pk: r for r in LedgerRecord.objects.filter(pk__in=report.ledger_record_ids)}
        head = LedgerRecord.objects.order_by("-sequence").first()
        assert ledger_verify().ok  # the index calculation the report added is verifiable
    assert set(records) == set(report.ledger_record_ids)
    assert {r.method for r in records.values()} == {"event_batch", "business_value_index"}
    index = next(r for r in records.values() if r.method == "business_value_index")
    assert index.result["business_value_index"] == report.figures["business_value_index"]
    assert (report.chain_head_sequence, report.chain_head_hash) == (head.sequence, head.hash)


def test_xlsx_and_csv_hold_the_same_figures(last_month_report):
    report = last_month_report[0].report
    from_csv, from_xlsx = csv_figures(report), xlsx_figures(report)
    assert from_csv[("value", "total_value")] == report.figures["total_value"]
    assert from_csv[("ledger", "chain_head_hash")] == report.chain_head_hash
    assert set(from_csv) == set(from_xlsx)
    for key, value in from_csv.items():
        in_xlsx = from_xlsx[key]
        if isinstance(in_xlsx, int | float):  # a number cell: the same amount
            assert Decimal(str(in_xlsx)) == Decimal(value), key
        else:
            assert (in_xlsx or "") == value, key


def test_generating_twice_gives_the_same_report(acme, last_month_report):
    first = last_month_report[0].report
    with tenant_scope(acme):
        records = LedgerRecord.objects.count()
        again = reports.report_make(actor=SYSTEM, kind="monthly", period=first.period)
        assert not again.created and again.report.pk == first.pk
        assert Report.objects.count() == 1
        assert LedgerRecord.objects.count() == records


def test_spreadsheets_neutralise_formulas_in_text(acme, history):
    Tenant.objects.filter(pk=acme.pk).update(name='=HYPERLINK("http://evil.example","Acme")')
    acme.refresh_from_db()
    with tenant_scope(acme):
        report = reports.report_generate(actor=SYSTEM, kind="monthly", period=f"{history[1]:%Y-%m}").report
    assert csv_figures(report)[("report", "tenant")] == "'" + acme.name
    assert xlsx_figures(report)[("report", "tenant")] == "'" + acme.name


def test_spreadsheets_replace_characters_a_workbook_cannot_hold(acme, history):
    Tenant.objects.filter(pk=acme.pk).update(name="Acme\x01 Corp")
    acme.refresh_from_db()
    with tenant_scope(acme):
        report = reports.report_generate(actor=SYSTEM, kind="monthly", period=f"{history[1]:%Y-%m}").report
    assert xlsx_figures(report)[("report", "tenant")] == "Acme\ufffd Corp"


def test_it_refuses_a_period_that_has_not_closed(acme, history):
    with tenant_scope(acme), pytest.raises(reports.ReportRefused, match="has not closed"):
        reports.report_generate(actor=SYSTEM, kind="monthly", period=f"{history[0]:%Y-%m}")


def test_subscribers_get_the_pdf_once(acme, bob, history):
    bob.email = "bob@acme.example"
    bob.save()
    with tenant_scope(acme):
        ReportSubscription.objects.create(user=bob)
        ReportSubscription.objects.create(email="board@acme.example", kinds=["monthly"])
        ReportSubscription.objects.create(email="annual-only@acme.example", kinds=["annual"])
        report = reports.report_make(actor=SYSTEM, kind="monthly", period=f"{history[1]:%Y-%m}").report
        reports.report_make(actor=SYSTEM, kind="monthly", period=report.period)  # nothing more is sent
    assert sorted(message.to[0] for message in mail.outbox) == ["board@acme.example", "bob@acme.example"]
    assert all(len(message.to) == 1 for message in mail.outbox)
    [(name, content, media_type)] = mail.outbox[0].attachments
    assert name.endswith(".pdf") and media_type == "application/pdf" and content.startswith(b"%PDF")
    assert report.figures["total_value"] in mail.outbox[0].body


def test_the_command_makes_a_report(acme, history, capsys):
    period = f"{history[1]:%Y-%m}"
    call_command("make_report", "acme", "--kind", "monthly", "--period", period)
    call_command("make_report", "acme", "--kind", "monthly", "--period", period)
    out = capsys.readouterr().out
    assert "created" in out and "already existed" in out
    with tenant_scope(acme):
        assert Report.objects.count() == 1


# --- API and pages ---------------------------------------------------------------------------


def test_a_finance_admin_generates_a_report_over_the_api(api_as, acme, history):
    admin = api_as(acme, "finance_admin")
    body = {"kind": "monthly", "period": f"{history[1]:%Y-%m}"}
    created = admin.post("/api/v1/reports", body, format="json")
    assert created.status_code == 201, created.content
    again = admin.post("/api/v1/reports", body, format="json")
    assert again.status_code == 200 and again.json()["id"] == created.json()["id"]
    listed = api_as(acme, "viewer").get("/api/v1/reports").json()
    assert [report["id"] for report in listed["results"]] == [created.json()["id"]]


def test_the_api_refuses_an_open_period_with_a_400(api_as, acme, history):
    response = api_as(acme, "finance_admin").post(
        "/api/v1/reports", {"kind": "monthly", "period": f"{history[0]:%Y-%m}"}, format="json"
    )
    assert response.status_code == 400
    assert "period" in response.json()["errors"]


@pytest.mark.parametrize(
    ("file_format", "media_type"),
    [("pdf", "application/pdf"), ("xlsx", "application/vnd.openxmlformats"), ("csv", "text/csv")],
)
def test_a_viewer_downloads_each_format(api_as, acme, file_format, media_type):
    report = stored_report(acme, text=f"the {file_format}")
    client = api_as(acme, "viewer")
    response = client.get(f"/api/v1/reports/{report.pk}/{file_format}", HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200
    assert response["Content-Type"].startswith(media_type)
    assert b"".join(response.streaming_content) == f"the {file_format}".encode()


def test_an_unknown_format_is_404(api_as, acme):
    report = stored_report(acme)
    assert api_as(acme, "viewer").get(f"/api/v1/reports/{report.pk}/docx").status_code == 404


def test_the_reports_page_lists_with_a_bounded_number_of_queries(client, bob, acme, django_assert_max_num_queries):
    client.force_login(bob)
    stored_report(acme, period="2019-12")
    with CaptureQueriesContext(connection) as one_report:
        client.get("/t/acme/reports/")
    for month in range(1, 8):
        stored_report(acme, period=f"2020-{month:02d}")
    with django_assert_max_num_queries(len(one_report.captured_queries)):
        page = client.get("/t/acme/reports/")
    assert page.status_code == 200
    assert page.content.decode().count("/t/acme/reports/") >= 8 * 3
    assert 'name="period"' not in page.content.decode()  # a viewer gets no generate form


def test_a_viewer_may_not_generate_from_the_page(client, bob, acme):
    client.force_login(bob)
    assert client.post("/t/acme/reports/", {"kind": "monthly", "period": "2020-01"}).status_code == 403


def test_a_finance_admin_generates_from_the_page(client, alice, acme, history):
    client.force_login(alice)
    response = client.post("/t/acme/reports/", {"kind": "monthly", "period": f"{history[1]:%Y-%m}"})
    assert response.status_code == 302
    with tenant_scope(acme):
        report = Report.objects.get()
    download = client.get(f"/t/acme/reports/{report.pk}/pdf")
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF")


def test_the_page_shows_why_a_period_is_refused(client, alice, acme):
    client.force_login(alice)
    response = client.post("/t/acme/reports/", {"kind": "quarterly", "period": "2026-10"})
    assert response.status_code == 400
    assert "2026-Q3" in response.content.decode()


def test_listing_reports_reads_only_the_tenants_rows(acme, globex):
    stored_report(acme)
    stored_report(globex)
    with tenant_scope(globex):
        assert [r.tenant_id for r in reports.reports_list()] == [globex.pk]
