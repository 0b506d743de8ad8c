"""The cost drill-down as the budget page opens it: a month's actual (or forecast) cost is the
same page the comparative view's costs open, with each investment's cost linked to its
business case in the ledger and each imported cost row with its file."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboards.selectors import investments_overview
from governance.fiscal import add_months
from governance.tenancy import tenant_scope
from roi.models import Investment
from tests.dashboards.conftest import month_start
from tests.dashboards.test_budget import import_cloud, invest

pytestmark = pytest.mark.django_db


@pytest.fixture
def months():
    """This month, last month and next month (firsts of the month)."""
    this_month = month_start(timezone.now())
    return this_month, month_start(this_month - timedelta(days=1)), add_months(this_month.date(), 1)


@pytest.fixture
def fiscal_acme(acme, months):
    """Acme with its fiscal year starting last month: last, this and next month are all in it."""
    acme.fiscal_year_start_month = months[1].month
    acme.save(update_fields=["fiscal_year_start_month"])
    return acme


@pytest.fixture
def viewer_client(client, bob):
    client.force_login(bob)
    return client


@pytest.fixture
def spent(fiscal_acme, months):
    """An investment since last month (1,000 upfront, 100 a month) and 300 of cloud cost last month."""
    invest(fiscal_acme, "rpa", months[1])
    import_cloud(fiscal_acme, months[1], "300.00")
    with tenant_scope(fiscal_acme):
        investment = Investment.objects.get()
    return investment


def month_link(page: str, month) -> str:
    """The budget table's link to `month`'s cost drill-down (the actual's or the forecast's)."""
    found = re.search(rf'href="(/t/acme/costs/\?start={month:%Y-%m}&amp;end={month:%Y-%m})"', page)
    assert found, f"no cost link for {month:%Y-%m}"
    return unescape(found.group(1))


def test_a_months_actual_cost_drills_down_to_the_same_total(viewer_client, fiscal_acme, acme_model, months, spent):
    _this_month, last_month, _next_month = months
    with tenant_scope(fiscal_acme):
        actual = investments_overview()["months"][0]["actual"]
    budget_page = viewer_client.get("/t/acme/investments/").content.decode()
    # when: the viewer follows last month's actual cost
    page = viewer_client.get(month_link(budget_page, last_month)).content.decode()
    # then: the drill-down's total is the budget page's actual, made of the investment's
    # upfront and first monthly cost (linked to its business case) and the imported file
    assert actual == "1400.00"
    assert "Cost <strong>$1,400.00</strong>" in page
    case = f"/t/acme/ledger/{spent.ledger_record_id}/#item-{spent.ledger_item}"
    assert f'<a href="{case}">$1,100.00</a>' in page
    assert f"cloud-{last_month:%Y-%m}.csv" in page and "$300.00" in page
    assert 'id="committed"' not in page  # a month that is over has no committed cost


def test_this_months_cost_is_to_date(viewer_client, fiscal_acme, acme_model, months, spent):
    this_month = months[0]
    budget_page = viewer_client.get("/t/acme/investments/").content.decode()
    page = viewer_client.get(month_link(budget_page, this_month)).content.decode()
    assert "Cost <strong>$100.00</strong>" in page and f"This month ({this_month:%Y-%m}) is the cost to date" in page


def test_a_future_month_shows_the_investments_committed_cost(viewer_client, fiscal_acme, acme_model, months, spent):
    next_month = months[2]
    with tenant_scope(fiscal_acme):
        forecast = investments_overview()["months"][2]
    assert (forecast["month"], forecast["forecast"]) == (f"{next_month:%Y-%m}", "400.00")  # 100 + run-rate 300
    budget_page = viewer_client.get("/t/acme/investments/").content.decode()
    # when: the viewer follows next month's forecast
    page = viewer_client.get(month_link(budget_page, next_month)).content.decode()
    # then: the investment's committed cost, linked to its case; the run-rate is said, not listed
    assert "Cost <strong>$100.00</strong>" in page
    committed = re.search(r'<p id="committed">(.*?)</p>', page, re.DOTALL).group(1)
    assert f"{next_month:%Y-%m} not yet begun" in committed and "$100.00 falls in that month" in committed
    assert "run-rate" in committed
    assert f'<a href="/t/acme/ledger/{spent.ledger_record_id}/#item-{spent.ledger_item}">$100.00</a>' in page
    assert "No imported cost in these months." in page


def test_another_tenant_gets_404_and_its_own_month_shows_nothing_of_acme(
    client, charlie, fiscal_acme, globex, acme_model, months, spent
):
    month = f"{months[1]:%Y-%m}"
    client.force_login(charlie)
    assert client.get(f"/t/acme/costs/?start={month}&end={month}").status_code == 404
    own = client.get(f"/t/globex/costs/?start={month}&end={month}")
    assert own.status_code == 200
    page = own.content.decode()
    assert "RPA" not in page and f"cloud-{month}.csv" not in page and "1,400" not in page
    assert "No imported cost in these months." in page and "No investment cost in these months." in page


def test_a_months_drill_down_runs_a_bounded_number_of_queries(viewer_client, fiscal_acme, acme_model, months):
    def queries(path: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert viewer_client.get(path).status_code == 200
        return len(captured)

    paths = [f"/t/acme/costs/?start={month:%Y-%m}&end={month:%Y-%m}" for month in months]
    invest(fiscal_acme, "one", months[1])
    import_cloud(fiscal_acme, months[1], "10")
    import_cloud(fiscal_acme, months[0], "10")  # an empty page of cells skips its query: start with rows
    few = {path: queries(path) for path in paths}
    for n in range(5):
        invest(fiscal_acme, f"more-{n}", months[0])
        import_cloud(fiscal_acme, months[n % 2], f"{n + 1}")
    many = {path: queries(path) for path in paths}
    # The same statements as the comparative view's cost drill-down (see test_comparative).
    assert many == few and max(few.values()) <= 14, few
