"""The performance drill-down: each service-month's mean response time, availability and conversion rate."""

import re

import pytest

from tests.dashboards.test_service_levels import months_ago, samples

pytestmark = pytest.mark.django_db


@pytest.fixture
def measured(acme, acme_model):
    """Last month: web with availability and conversion on some samples, api with availability only."""
    samples(acme, 1, "web", [(180, "100", "3"), (220, "99.98", None), (200, None, "2")])
    samples(acme, 1, "api", [(400, "99.5", None), (300, "99.9", None)])
    return acme


def cells(page, service):
    row = re.search(rf"<tr><td>{service}</td>(.*?)</tr>", page, re.S)
    assert row, page
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row.group(1), re.S)]


def test_each_service_month_shows_its_mean_availability_and_conversion_rate(
    client, bob, measured, django_assert_max_num_queries
):
    client.force_login(bob)
    with django_assert_max_num_queries(12):
        response = client.get(f"/t/acme/drill/performance/{months_ago(1):%Y-%m}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert '<th scope="col">Mean availability</th><th scope="col">Mean conversion rate</th>' in page
    assert cells(page, "web")[:4] == ["3", "200 ms", "99.99 %", "2.5 %"]


def test_the_means_are_over_the_samples_that_carry_them(client, bob, measured):
    client.force_login(bob)
    page = client.get(f"/t/acme/drill/performance/{months_ago(1):%Y-%m}/").content.decode()
    # web: availability over the 2 samples that carry it, conversion over its 2
    assert cells(page, "web")[:4] == ["3", "200 ms", "99.99 %", "2.5 %"]
    # api's samples carried no conversion rate: the cell is blank, not zero
    assert cells(page, "api")[:4] == ["2", "350 ms", "99.7 %", ""]


def test_another_tenant_sees_none_of_the_service_months(client, charlie, measured):
    client.force_login(charlie)
    response = client.get(f"/t/globex/drill/performance/{months_ago(1):%Y-%m}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "No samples." in page and "<td>web</td>" not in page
    # and acme's page is not theirs to open
    assert client.get(f"/t/acme/drill/performance/{months_ago(1):%Y-%m}/").status_code == 404
