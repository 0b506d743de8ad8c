"""The IT budget: finance admins set it per fiscal year, everyone reads it against actual and
forecast cost, and each investment is set against what its business case promised by now."""

from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qsl

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboards.selectors import investments_overview
from dashboards.selectors.investments import VAR_SEED, investment_value_at_risk
from governance.models import LedgerRecord
from governance.tenancy import tenant_scope
from roi.budgets import it_budget_history, it_budget_set
from roi.engine import EngineInputError
from roi.engine.risk import Triangular, value_at_risk
from roi.ingestion import events_ingest
from roi.models import Investment, ItBudget
from tests.dashboards.conftest import SYSTEM, month_start

pytestmark = pytest.mark.django_db


@pytest.fixture
def months():
    this_month = month_start(timezone.now())
    return this_month, month_start(this_month - timedelta(days=1))


@pytest.fixture
def fiscal_acme(acme, months):
    """Acme with its fiscal year starting last month, so last month and this one are both in it."""
    acme.fiscal_year_start_month = months[1].month
    acme.save(update_fields=["fiscal_year_start_month"])
    return acme


def fiscal_year(months):
    return months[1].year


def set_budget(tenant, year, amount, reason="Board approved the IT plan"):
    with tenant_scope(tenant):
        return it_budget_set(actor=SYSTEM, fiscal_year=year, annual_amount=amount, change_reason=reason)


def import_cloud(tenant, month, amount):
    from roi.focus import focus_import
    from tests.roi.test_focus import focus_csv

    with tenant_scope(tenant):
        focus_import(
            actor=SYSTEM,
            file_name=f"cloud-{month:%Y-%m}.csv",
            data=focus_csv(
                {
                    "ChargePeriodStart": f"{month:%Y-%m}-01T00:00:00Z",
                    "ChargePeriodEnd": f"{month:%Y-%m}-02T00:00:00Z",
                    "EffectiveCost": str(amount),
                }
            ),
        )


def invest(tenant, external_id, started, **fields):
    body = {"external_id": external_id, "name": external_id.upper(), "started_at": started.isoformat()}
    body |= {"upfront_cost": 1000, "monthly_cost": 100} | fields
    with tenant_scope(tenant):
        events_ingest(actor=SYSTEM, kind="investments", payload=body)


# --- The budget itself ---------------------------------------------------------------------


def test_each_change_is_a_new_version_with_who_when_and_why(acme):
    set_budget(acme, 2026, "120000", reason="Initial plan")
    budget = set_budget(acme, 2026, "150000.50", reason="Cloud migration added")
    assert (budget.version, budget.annual_amount) == (2, Decimal("150000.50"))
    with tenant_scope(acme):
        assert ItBudget.objects.count() == 1
        history = it_budget_history(fiscal_year=2026)
    assert [v["version"] for v in history] == [2, 1]
    assert history[0]["change_reason"] == "Cloud migration added"
    assert history[0]["changes"] == [
        {"field": "annual_amount", "old": Decimal("120000.00"), "new": Decimal("150000.50")}
    ]


@pytest.mark.parametrize(
    ("fiscal_year", "amount", "reason", "field"),
    [
        ("20x6", "1000", "why", "fiscal_year"),
        (1999, "1000", "why", "fiscal_year"),
        (2026, "-1", "why", "annual_amount"),
        (2026, "NaN", "why", "annual_amount"),
        (2026, "1e16", "why", "annual_amount"),
        (2026, "10.005", "why", "annual_amount"),
        (2026, "1000", "  ", "change_reason"),
    ],
)
def test_it_refuses_bad_input_naming_the_field(acme, fiscal_year, amount, reason, field):
    with tenant_scope(acme), pytest.raises(EngineInputError) as refused:
        it_budget_set(actor=SYSTEM, fiscal_year=fiscal_year, annual_amount=amount, change_reason=reason)
    assert field in refused.value.errors
    with tenant_scope(acme):
        assert not ItBudget.objects.exists()


def test_a_finance_admin_sets_the_budget_on_its_page_and_a_viewer_reads_it(client, alice, bob, acme):
    client.force_login(alice)
    response = client.post(
        "/t/acme/investments/budget/",
        {"fiscal_year": "2026", "annual_amount": "240000", "change_reason": "FY26 plan"},
    )
    assert response.status_code == 302 and response["Location"].endswith("?year=2026")
    client.force_login(bob)
    page = client.get("/t/acme/investments/budget/?year=2026").content.decode()
    assert "$240,000.00" in page and "FY26 plan" in page and "alice" in page
    assert "Set the budget" not in page
    refused = client.post(
        "/t/acme/investments/budget/", {"fiscal_year": "2026", "annual_amount": "1", "change_reason": "x"}
    )
    assert refused.status_code == 403
    with tenant_scope(acme):
        assert ItBudget.objects.get().annual_amount == Decimal("240000.00")


def test_bad_input_on_the_page_is_a_form_error_not_a_500(client, alice, acme):
    client.force_login(alice)
    response = client.post(
        "/t/acme/investments/budget/", {"fiscal_year": "2026", "annual_amount": "ten", "change_reason": ""}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Enter a number." in page and "This field is required." in page
    with tenant_scope(acme):
        assert not ItBudget.objects.exists()


def test_another_tenant_sees_nothing_and_gets_404(client, charlie, acme, globex, months):
    set_budget(acme, 2026, "999999")
    client.force_login(charlie)
    assert client.get("/t/acme/investments/budget/").status_code == 404
    month = f"{months[0]:%Y-%m}"
    assert client.get(f"/t/acme/costs/?start={month}&end={month}").status_code == 404
    assert (
        client.post(
            "/t/acme/investments/budget/", {"fiscal_year": "2026", "annual_amount": "1", "change_reason": "x"}
        ).status_code
        == 404
    )
    page = client.get("/t/globex/investments/budget/?year=2026").content.decode()
    assert "999" not in page and "No budget is set" in page
    with tenant_scope(globex):
        assert not ItBudget.objects.exists()
        assert it_budget_history(fiscal_year=2026) == []


def test_the_admin_lists_budgets_and_cannot_change_them(admin_client, acme):
    budget = set_budget(acme, 2026, "1000")
    assert admin_client.get("/admin/roi/itbudget/").status_code == 200
    assert admin_client.get(f"/admin/roi/itbudget/{budget.pk}/history/").status_code == 200
    assert admin_client.get("/admin/roi/itbudget/add/").status_code == 403


# --- Budget against actual and forecast cost ------------------------------------------------


def test_budget_against_actual_and_forecast_cost(viewer_client, api_as, fiscal_acme, acme_model, months):
    # given: an investment since last month, 300 of cloud cost last month, a budget of 12,000
    _this_month, last_month = months
    invest(fiscal_acme, "rpa", last_month)
    import_cloud(fiscal_acme, last_month, "300.00")
    set_budget(fiscal_acme, fiscal_year(months), "12000")
    # when
    with tenant_scope(fiscal_acme):
        overview = investments_overview()
    # then: actual cost is the overview's fiscal-YTD cost, by the same definition
    executive = api_as(fiscal_acme, "viewer").get("/api/v1/dashboard/executive").json()
    assert overview["cost_to_date"] == executive["fiscal_ytd_cost"] == "1500.00"  # 1,000 + 2 x 100 + 300
    assert overview["budget"] == {"annual": "12000.00", "monthly": "1000.00", "version": 1}
    first, second, third = overview["months"][:3]
    assert (first["actual"], first["forecast"], first["variance"]) == ("1400.00", None, "-400.00")
    # This month: 100 to date; forecast committed 100 plus cloud at its run-rate (300).
    assert (second["actual"], second["forecast"], second["variance"]) == ("100.00", "400.00", "600.00")
    assert (third["actual"], third["forecast"]) == (None, "400.00")
    assert len(overview["months"]) == 12
    assert overview["budget_to_date"] == "2000.00" and overview["variance_to_date"] == "500.00"
    assert overview["budget_used_percent"] == "12.5000"
    assert overview["forecast_year_cost"] == "5800.00"  # 1,400 + 400 + 10 x 400
    assert overview["forecast_variance"] == "6200.00"
    assert overview["cloud_run_rate"] == "300.00" and overview["cloud_run_rate_months"] == [f"{last_month:%Y-%m}"]
    page = viewer_client.get("/t/acme/investments/").content.decode()
    assert "$12,000.00" in page and "12.5 %" in page and "$5,800.00" in page
    month = f"{last_month:%Y-%m}"
    assert f'href="/t/acme/costs/?start={month}&amp;end={month}">$1,400.00</a>' in page
    assert 'role="img" aria-label="Cost by month against the monthly budget"' in page


def test_without_a_budget_the_page_says_so_and_still_shows_cost(viewer_client, fiscal_acme, acme_model, months):
    invest(fiscal_acme, "rpa", months[1])
    with tenant_scope(fiscal_acme):
        overview = investments_overview()
    assert overview["budget"] is None and overview["budget_used_percent"] is None
    assert overview["months"][0]["variance"] is None
    page = viewer_client.get("/t/acme/investments/").content.decode()
    assert "No IT budget is set for this fiscal year" in page


# --- Investments against their business case ----------------------------------------------


def test_an_investment_is_set_against_what_its_case_promised_by_now(fiscal_acme, acme_model, months):
    invest(fiscal_acme, "crm", months[1], expected_monthly_benefit=800, department="sales")
    with tenant_scope(fiscal_acme):
        [row] = investments_overview()["investments"]
    assert row["months_elapsed"] == 2
    assert row["cost_to_date"] == "1200.00"
    assert row["promised_value_to_date"] == "1600.00"
    assert row["value_to_date"] == "0.00"  # nothing valued in sales
    assert row["value_gap"] == "-1600.00"
    assert row["promised_roi_to_date_percent"] == "33.3333"
    assert row["roi_to_date_percent"] == "-100.0000"
    assert row["payback_to_date_months"] is None
    assert row["case_payback_months"] is not None


def test_payback_to_date_uses_the_value_actually_created(fiscal_acme, acme_model, months):
    from tests.dashboards.conftest import automation_runs

    _this_month, last_month = months
    invest(fiscal_acme, "rpa", last_month, upfront_cost=10, monthly_cost=0, department="finance")
    with tenant_scope(fiscal_acme):
        events_ingest(actor=SYSTEM, kind="automation-runs", payload=automation_runs("then", 10, last_month))
        [row] = investments_overview()["investments"]
    assert Decimal(row["value_to_date"]) > 10
    assert Decimal(row["payback_to_date_months"]) < 1  # recovered within the first month


def test_value_at_risk_is_the_engines_and_the_calculator_reproduces_it_in_the_ledger(
    client, alice, fiscal_acme, acme_model, months
):
    # given: an investment with a business case
    invest(fiscal_acme, "crm", months[1], upfront_cost=50000, monthly_cost=2000, expected_monthly_benefit=6000)
    with tenant_scope(fiscal_acme):
        investment = Investment.objects.get()
        [row] = investments_overview()["investments"]
    # then: the figure is the engine's, seeded, on the case with the stated benefit range
    engine = value_at_risk(
        upfront_cost=Decimal(50000),
        monthly_cost=Decimal(2000),
        monthly_benefit=Triangular(Decimal(3000), Decimal(6000), Decimal(7200)),
        months=36,
        seed=VAR_SEED,
        trials=10_000,
    )
    assert row["value_at_risk"]["value_at_risk_95"] == str(engine.value_at_risk_95)
    assert row["value_at_risk"]["p5_npv"] == str(engine.p5_npv)
    with tenant_scope(fiscal_acme):
        assert investment_value_at_risk(investment) == {k: row[k] for k in ("var_query", "value_at_risk")}
    # when: an analyst follows the figure's link and runs the prefilled calculator
    client.force_login(alice)
    page = client.get("/t/acme/investments/").content.decode()
    link = f"/t/acme/calculate/value_at_risk/?{row['var_query']}".replace("&", "&amp;")
    assert f'href="{link}"' in page
    form = client.get(f"/t/acme/calculate/value_at_risk/?{row['var_query']}").content.decode()
    assert 'value="20260101"' in form and 'value="7200.00"' in form
    response = client.post("/t/acme/calculate/value_at_risk/", dict(parse_qsl(row["var_query"])))
    # then: the ledger record holds the same figure
    assert response.status_code == 302
    with tenant_scope(fiscal_acme):
        record = LedgerRecord.objects.get(method="value_at_risk")
    assert record.result["value_at_risk_95"] == row["value_at_risk"]["value_at_risk_95"]


def test_the_investments_page_runs_a_bounded_number_of_queries(client, alice, fiscal_acme, acme_model, months):
    client.force_login(alice)
    set_budget(fiscal_acme, fiscal_year(months), "12000")

    def queries(path):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path).status_code == 200
        return len(captured.captured_queries)

    invest(fiscal_acme, "one", months[1])
    import_cloud(fiscal_acme, months[1], "10")
    one = {path: queries(path) for path in ("/t/acme/investments/", "/t/acme/investments/budget/")}
    for n in range(5):
        invest(fiscal_acme, f"more-{n}", months[0], expected_monthly_benefit=100)
    set_budget(fiscal_acme, fiscal_year(months), "13000")
    import_cloud(fiscal_acme, months[0], "20")
    many = {path: queries(path) for path in ("/t/acme/investments/", "/t/acme/investments/budget/")}
    assert many == one
    # On PostgreSQL: session, user, MFA device, tenant with roles, permission check, savepoint,
    # tenant setting; the model and KPIs, rollups, investments' costs, cloud costs, the budget,
    # value by label, the investments; the tenant for the page header, setting reset, release.
    assert one["/t/acme/investments/"] <= 17


@pytest.fixture
def viewer_client(client, bob):
    client.force_login(bob)
    return client


# --- The API ----------------------------------------------------------------------------


def test_a_finance_admin_sets_the_budget_over_the_api_and_a_viewer_reads_it(api_as, acme):
    body = {"fiscal_year": 2026, "annual_amount": "120000.00", "change_reason": "FY26 plan"}
    response = api_as(acme, "finance_admin").put("/api/v1/config/it-budget", body, format="json")
    assert response.status_code == 200
    body |= {"annual_amount": 150000, "change_reason": "Cloud migration"}
    assert api_as(acme, "finance_admin").put("/api/v1/config/it-budget", body, format="json").status_code == 200
    read = api_as(acme, "viewer").get("/api/v1/config/it-budget?fiscal_year=2026").json()
    assert (read["annual_amount"], read["monthly_amount"], read["version"]) == ("150000.00", "12500.00", 2)
    assert read["change_reason"] == "Cloud migration" and read["changed_by"].startswith("api-key:")
    assert read["history"][0]["changes"] == [{"field": "annual_amount", "old": "120000.00", "new": "150000.00"}]
    assert api_as(acme, "viewer").put("/api/v1/config/it-budget", body, format="json").status_code == 403


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"fiscal_year": "next", "annual_amount": "1", "change_reason": "r"}, {"fiscal_year"}),
        ({"fiscal_year": 2026, "annual_amount": "NaN", "change_reason": "r"}, {"annual_amount"}),
        ({"fiscal_year": 2026, "annual_amount": True, "change_reason": "r"}, {"annual_amount"}),
        ({"fiscal_year": 2026, "annual_amount": 1}, {"change_reason"}),
        ({"fiscal_year": 2026, "annual_amount": 1, "change_reason": "r", "monthly": 3}, {"monthly"}),
        ({}, {"fiscal_year", "annual_amount", "change_reason"}),
    ],
)
def test_the_api_refuses_bad_input_with_a_400_naming_the_field(api_as, acme, body, fields):
    response = api_as(acme, "finance_admin").put("/api/v1/config/it-budget", body, format="json")
    assert response.status_code == 400
    assert fields <= set(response.json()["errors"]), response.json()


def test_the_api_shows_another_tenant_nothing(api_as, acme, globex):
    set_budget(acme, 2026, "31415926")
    response = api_as(globex, "finance_admin").get("/api/v1/config/it-budget?fiscal_year=2026")
    assert response.status_code == 200 and "31415926" not in response.content.decode()
    assert response.json()["annual_amount"] is None and response.json()["history"] == []
    assert api_as(acme, "viewer").get("/api/v1/config/it-budget?fiscal_year=1999").status_code == 400
