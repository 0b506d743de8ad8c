"""The board pack: a closed period's report, section by section, from the selectors the pages use."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from dashboards import reports, selectors
from dashboards.templatetags.bizvalue import percent
from governance.fiscal import add_months, fiscal_year_start
from governance.tenancy import tenant_scope
from roi.budgets import it_budget_set
from roi.engine.money import money_text
from roi.ingestion import events_ingest
from tests.dashboards.conftest import SYSTEM, automation_runs, month_start
from tests.dashboards.test_comparative import deployments
from tests.dashboards.test_reports import in_pdf, pdf_text

SECTIONS = (
    "1.Headlinefigures",
    "2.Valueperstream",
    "3.Forecast",
    "4.Cost,ROIandvalueperunitofcostbydepartment",
    "5.Investmentsagainsttheirbusinesscase",
    "6.Benchmarks",
    "7.Methodologyandprovenance",
)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def year_of_history(acme, history):
    """Automation in each of the five months before last (a forecast needs three), deployments
    last month, and an IT budget for the fiscal year of last month."""
    this_month, last_month = history
    with tenant_scope(acme):
        month = last_month
        for back in range(1, 6):
            month = month_start(month - timedelta(days=1))
            events_ingest(actor=SYSTEM, kind="automation-runs", payload=automation_runs(f"m{back}", 2 + back, month))
        events_ingest(actor=SYSTEM, kind="deployments", payload=deployments(last_month))
        fiscal_year = fiscal_year_start(last_month.date(), acme.fiscal_year_start_month).year
        it_budget_set(actor=SYSTEM, fiscal_year=fiscal_year, annual_amount=120000, change_reason="board pack")
    return this_month, last_month


@pytest.fixture
def pack(acme, year_of_history):
    _this_month, last_month = year_of_history
    with tenant_scope(acme):
        report = reports.report_make(actor=SYSTEM, kind="monthly", period=f"{last_month:%Y-%m}").report
    return report, pdf_text(report)


def test_every_section_is_in_the_pdf_on_its_own_page(pack):
    from pypdf import PdfReader

    report, _text = pack
    with report.pdf.open("rb") as stored:
        pages = ["".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(stored.read())).pages]
    starts = [next(n for n, page in enumerate(pages) if heading in page) for heading in SECTIONS]
    assert starts == sorted(starts) and len(set(starts)) == len(SECTIONS)  # a page break before each section


def test_the_headline_is_the_overviews_last_month_with_its_previous_month_and_target(acme, pack):
    report, text = pack
    with tenant_scope(acme):
        overview = selectors.executive_overview()
        page_before = selectors.executive_overview(
            data=selectors.tenant_figures().closed_after(add_months(selectors.tenant_figures().this_month, -2))
        )
    headline = report.figures["headline"]["figures"]
    comparisons = overview["comparisons"]
    # The overview's "last month" is the report's month; its targets are the report's.
    assert headline["total_value"]["value"] == comparisons["month_to_date_value"]["last_month"]
    assert headline["total_value"]["target"] == comparisons["month_to_date_value"]["target"]
    assert headline["prevention_value"]["target"] == comparisons["prevention_value"]["target"]
    assert headline["roi_percent"]["target"] == comparisons["fiscal_ytd_roi_percent"]["target"]
    assert headline["automation_run_rate"]["value"] == overview["active_automation_value"]
    assert headline["automation_run_rate"]["previous"] == comparisons["active_automation_value"]["last_month"]
    assert headline["business_value_index"]["value"] == comparisons["business_value_index"]["last_month"]
    # The previous period is the month before, as the overview saw it then.
    before = page_before["comparisons"]
    assert headline["total_value"]["previous"] == before["month_to_date_value"]["last_month"]
    assert headline["business_value_index"]["previous"] == before["business_value_index"]["last_month"]
    for key in ("total_value", "investment_cost", "automation_run_rate", "prevention_value"):
        for column in ("value", "previous", "target"):
            assert in_pdf(acme, headline[key][column]) in text, (key, column)
    with tenant_scope(acme):
        assert "".join(percent(headline["roi_percent"]["target"]).split()) in text


def test_value_by_month_and_the_forecast_are_the_trends_pages(acme, pack, year_of_history):
    report, text = pack
    with tenant_scope(acme):
        page = selectors.trends(months=13)  # the page's window, from the report's first month to this one
    # Every month to the report's end is the page's row (the page also has this month).
    assert report.figures["trends"] == page["months"][:-1]
    assert report.figures["forecast"] == page["forecast"]
    assert report.figures["forecast"]["points"], "five months of history make a forecast"
    for row in report.figures["trends"]:
        if Decimal(row["total"]):
            assert row["month"] + "●" * (row["month"] >= report.figures["start"]) in text
            assert in_pdf(acme, row["automation"]) in text
    for point in report.figures["forecast"]["points"]:
        for key in ("value", "low_80", "high_80", "low_95", "high_95"):
            assert in_pdf(acme, point[key]) in text, (point["month"], key)
    assert "<svg" not in text and "<polygon" not in text  # the charts are drawn


def test_departments_are_the_comparative_pages_for_the_period(acme, pack):
    report, text = pack
    with tenant_scope(acme):
        page = selectors.comparative(by="department", start=report.figures["start"], end=report.figures["end"])
    departments = report.figures["departments"]
    assert departments["groups"] == page["groups"] and departments["totals"] == page["totals"]
    assert {group["department"] for group in departments["groups"]} >= {"finance", "ops"}
    # The departments add up to the headline: one definition of value and cost.
    assert departments["totals"]["total"] == report.figures["total_value"]
    assert departments["totals"]["cost"] == report.figures["investment_cost"]
    for group in departments["groups"]:
        assert group["department"] in text
        for key in ("total", "cost", "net_value"):
            assert in_pdf(acme, group[key]) in text, (group["department"], key)


def test_investments_and_budget_are_the_investments_pages_at_the_periods_end(acme, pack, year_of_history):
    report, text = pack
    _this_month, last_month = year_of_history
    with tenant_scope(acme):
        closed = selectors.tenant_figures().closed_after(last_month.date())
        expected = selectors.investments_against_case(closed)
        page = selectors.investments_overview()
    [rpa] = report.figures["investments"]
    assert rpa["name"] == "RPA platform" and rpa["months_elapsed"] == 1
    assert rpa["cost_to_date"] == expected[0]["cost_to_date"] == "1100.00"
    assert rpa["value_to_date"] == expected[0]["value_to_date"]
    budget = report.figures["budget"]
    assert budget["budget"]["annual"] == page["budget"]["annual"] == "120000.00"
    # Months up to the period's end are actual cost, as the page has them; the rest forecast.
    closed_months = {m["month"]: m for m in budget["months"] if m["month"] <= report.figures["end"]}
    assert closed_months and all(m["actual"] is not None and m["forecast"] is None for m in closed_months.values())
    assert all(m["actual"] is None for m in budget["months"] if m["month"] > report.figures["end"])
    page_months = {m["month"]: m for m in page["months"]}
    assert all(page_months[month]["actual"] == m["actual"] for month, m in closed_months.items())
    for amount in (rpa["cost_to_date"], rpa["value_to_date"], budget["budget"]["annual"], budget["cost_to_date"]):
        assert in_pdf(acme, amount) in text
    assert "RPAplatform" in text


def test_benchmarks_are_the_comparative_pages_with_their_sources(acme, pack):
    report, text = pack
    with tenant_scope(acme):
        page = selectors.comparative(by="department")["benchmarks"]
    bench = report.figures["benchmarks"]
    assert bench == page  # the report's twelve months end where the page's do: last month
    assert bench["deployments"] == 10 and bench["dora"]["deployment_frequency_tier"]
    for published in bench["published"]:
        assert "".join(published["source"].split()) in text
        assert in_pdf(acme, published["cost_per_minute_usd"]) in text
    for key in ("deployment_frequency_tier", "change_failure_rate_tier"):
        assert "".join(bench["dora"][key].split()) in text


def test_the_benchmarks_name_the_customer_segments_when_the_tenant_has_some(acme, year_of_history):
    acme.customer_segments = ["enterprise", "mid-market"]
    acme.save(update_fields=["customer_segments"])
    _this_month, last_month = year_of_history
    with tenant_scope(acme):
        report = reports.report_make(actor=SYSTEM, kind="monthly", period=f"{last_month:%Y-%m}").report
    assert report.figures["benchmarks"]["customer_segments"] == ["enterprise", "mid-market"]
    assert "customersegments:enterprise,mid-market." in pdf_text(report)


def test_the_provenance_names_the_model_the_chain_head_and_how_to_verify(acme, acme_model, pack):
    report, text = pack
    assert report.figures["model_version"] == report.model_version == acme_model.version
    assert f"Financialmodelversionv{report.model_version}" in text
    assert f"#{report.chain_head_sequence}{report.chain_head_hash}" in text
    assert "pythonmanage.pyverify_ledger" in text


def test_xlsx_has_one_sheet_per_section(pack):
    from openpyxl import load_workbook

    report, _text = pack
    with report.xlsx.open("rb") as stored:
        book = load_workbook(io.BytesIO(stored.read()))
    assert book.sheetnames == [
        "Figures",
        "Headline",
        "Value by month",
        "Forecast",
        "Departments",
        "IT budget",
        "Investments",
        "Benchmarks",
        "Provenance",
    ]
    rows = list(book["Departments"].iter_rows(values_only=True))
    total = next(row for row in rows if row[0] == "total")
    header = next(row for row in rows if row[0] == "department")
    assert Decimal(str(total[header.index("total")])) == Decimal(report.figures["total_value"])


def test_a_made_pack_never_changes_when_a_past_month_gets_late_events(acme, pack, year_of_history):
    # given a pack for last month
    report, _text = pack
    with report.pdf.open("rb") as stored:
        pdf = stored.read()
    _this_month, last_month = year_of_history
    # when last month gets late events
    with tenant_scope(acme):
        events_ingest(actor=SYSTEM, kind="automation-runs", payload=automation_runs("late", 5, last_month))
        again = reports.report_make(actor=SYSTEM, kind="monthly", period=report.period)
        fresh = reports.report_figures(kind="monthly", period=report.period)
    # then the stored pack is the one made, figures and files alike
    assert not again.created and again.report.pk == report.pk
    assert again.report.figures == report.figures
    with again.report.pdf.open("rb") as stored:
        assert stored.read() == pdf
    assert Decimal(fresh["total_value"]) > Decimal(report.figures["total_value"])  # the late events are real


def test_events_after_the_period_never_reach_its_figures(acme, year_of_history):
    this_month, last_month = year_of_history
    with tenant_scope(acme):
        before = reports.report_figures(kind="monthly", period=f"{last_month:%Y-%m}")
        events_ingest(actor=SYSTEM, kind="automation-runs", payload=automation_runs("after", 7, this_month))
        events_ingest(actor=SYSTEM, kind="deployments", payload=deployments(this_month, prefix="after"))
        after = reports.report_figures(kind="monthly", period=f"{last_month:%Y-%m}")
    assert after == before


def test_another_tenants_pack_is_404_and_holds_none_of_acmes_figures(
    acme, globex, charlie, client, api_as, pack, year_of_history
):
    report, _text = pack
    client.force_login(charlie)
    assert client.get(f"/t/globex/reports/{report.pk}/pdf").status_code == 404
    assert client.get(f"/t/acme/reports/{report.pk}/pdf").status_code in (403, 404)
    assert api_as(globex, "viewer").get(f"/api/v1/reports/{report.pk}/pdf").status_code == 404
    with tenant_scope(globex):
        theirs = reports.report_generate(actor=SYSTEM, kind="monthly", period=report.period).report
    figures = theirs.figures
    assert figures["total_value"] == "0.00" and figures["investments"] == []
    assert figures["departments"]["groups"] == [] and figures["benchmarks"]["deployments"] == 0
    assert all(Decimal(row["total"]) == 0 for row in figures["trends"])
    assert theirs.pdf.name != report.pdf.name and "RPAplatform" not in pdf_text(theirs)


def test_a_quarter_compares_with_the_quarter_before(acme, year_of_history):
    _this_month, _last_month = year_of_history
    now = timezone.localdate()
    with tenant_scope(acme):
        closed = reports.periods_just_closed(today=now, start_month=acme.fiscal_year_start_month)["quarterly"]
        figures = reports.report_figures(kind="quarterly", period=closed)
        first, last = reports.period_months(kind="quarterly", period=closed, start_month=acme.fiscal_year_start_month)
        data = selectors.tenant_figures(months_back=12)
    headline = figures["headline"]
    assert (headline["start"], headline["end"]) == (f"{first:%Y-%m}", f"{last:%Y-%m}")
    assert headline["previous_end"] == f"{add_months(first, -1):%Y-%m}"
    previous = data.value_between(add_months(first, -3), add_months(first, -1))
    assert headline["figures"]["total_value"]["previous"] == money_text(previous)
    assert headline["figures"]["total_value"]["target"] == money_text(data.alerts["monthly_value_target"] * 3)


def test_no_table_or_chart_runs_off_an_a4_page(acme, pack):
    from weasyprint.formatting_structure.boxes import ReplacedBox, TableBox

    report, _text = pack
    with tenant_scope(acme):
        document = reports.pdf_document(report.figures)
    checked = 0
    for number, page in enumerate(document.pages, start=1):
        right = page.width - page._page_box.margin_right - page._page_box.padding_right
        bottom = page.height - page._page_box.margin_bottom
        for box in page._page_box.descendants():
            if isinstance(box, TableBox | ReplacedBox) or getattr(box, "element_tag", "") == "svg":
                assert box.position_x + box.margin_width() <= right + 1, (number, box)
                assert box.position_y <= bottom, (number, box)
                checked += 1
    assert checked >= 10  # every section's tables, and the three charts
    portrait = [page for page in document.pages if page.width < page.height]
    assert portrait and len(portrait) < len(document.pages)  # the wide tables get landscape pages
