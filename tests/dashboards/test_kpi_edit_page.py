"""The model page shows the KPIs in force; finance admins change them on a page, through the same service."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance.services import tenant_dual_approval_set
from governance.tenancy import tenant_scope
from roi import selectors
from roi.figures import KPI_FIELDS
from roi.models import ChangeProposal

pytestmark = pytest.mark.django_db

EDIT = "/t/acme/model/kpis/edit/"


@pytest.fixture
def dora(acme, django_user_model):
    """A second finance admin of acme, to approve alice's proposals."""
    from governance.services import membership_set_role

    user = django_user_model.objects.create_user("dora", password="dora-long-password")
    membership_set_role(tenant=acme, user=user, role="finance_admin")
    return user


def form_fields(page: str) -> dict[str, str]:
    return dict(re.findall(r'name="((?:kpis|alerts|attribution_rules)\.[\w.]+)" value="([^"]*)"', page))


def kpis_now(tenant):
    with tenant_scope(tenant):
        return selectors.business_kpis_current()


def test_the_model_page_shows_the_default_kpis_before_any_version(client, bob, acme, acme_model):
    client.force_login(bob)
    page = client.get("/t/acme/model/").content.decode()
    assert 'id="kpis"' in page and "No KPI version yet: the defaults below are in force" in page
    assert "monthly_value_target</td><td>100000" in page
    assert "Change the KPIs" not in page  # viewers read, finance admins edit


def test_a_finance_admin_changes_the_kpis_and_everyone_sees_them_in_force(client, alice, bob, acme, acme_model):
    client.force_login(alice)
    form = client.get(EDIT).content.decode()
    fields = form_fields(form)
    assert fields["attribution_rules.incident_prevention.weighting"] == "0.40"
    assert set(fields) == {".".join(path) for path in KPI_FIELDS}  # every setting, the brief's included

    fields |= {"alerts.roi_target": "250", "kpis.automation.manual_process_cost_per_hour": "80"}
    assert client.post(EDIT, fields).status_code == 400  # no reason given
    response = client.post(EDIT, {**fields, "change_reason": "Board targets for FY27"})
    assert response.status_code == 302 and response.url == "/t/acme/model/"

    kpis = kpis_now(acme)
    assert (kpis.version, kpis.alerts["roi_target"], kpis.changed_by) == (1, "250", alice)
    assert kpis.kpis["automation"]["manual_process_cost_per_hour"] == "80"
    client.force_login(bob)
    page = client.get("/t/acme/model/").content.decode()
    assert "KPIs, targets and attribution rules in force: version 1" in page and "Board targets for FY27" in page
    assert "roi_target</td><td>250" in page
    assert "informational: the engine values with <code>cost_model.it_staff_hourly_rate</code>" in page


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"attribution_rules.automation_roi.weighting": "0.5"}, "attribution_rules.automation_roi.weighting"),
        ({"kpis.availability.target": "NaN"}, "kpis.availability.target"),
        ({"kpis.availability.target": "101"}, "kpis.availability.target"),
        ({"alerts.roi_target": "lots"}, "alerts.roi_target"),
        ({"kpis.automation.compliance_value_per_year": "-1"}, "kpis.automation.compliance_value_per_year"),
        ({"attribution_rules.performance_improvement.time_window": "1.5"}, "attribution_rules.performance_improvement.time_window"),
        ({"effective_from": "next tuesday"}, "effective_from"),
    ],
)  # fmt: skip
def test_bad_settings_are_form_errors_naming_the_field(client, alice, acme, acme_model, change, field):
    client.force_login(alice)
    fields = form_fields(client.get(EDIT).content.decode())
    response = client.post(EDIT, {**fields, **change, "change_reason": "try"})
    assert response.status_code == 400
    assert f"<strong>{field}</strong>" in response.content.decode()
    assert kpis_now(acme) is None


@pytest.mark.parametrize("role", ["viewer", "analyst", "auditor"])
def test_only_finance_admins_change_the_kpis(client, acme, acme_model, django_user_model, role):
    from governance.services import membership_set_role

    member = django_user_model.objects.create_user(f"m-{role}", password="long-enough-password")
    membership_set_role(tenant=acme, user=member, role=role)
    client.force_login(member)
    assert client.get(EDIT).status_code == 403
    assert client.post(EDIT, {"alerts.roi_target": "1", "change_reason": "x"}).status_code == 403
    assert kpis_now(acme) is None


def test_another_tenants_kpi_page_is_a_404(client, acme, globex, django_user_model):
    from governance.services import membership_set_role

    outsider = django_user_model.objects.create_user("gina", password="long-enough-password")
    membership_set_role(tenant=globex, user=outsider, role="finance_admin")
    client.force_login(outsider)
    assert client.get(EDIT).status_code == 404
    assert client.post(EDIT, {"alerts.roi_target": "1", "change_reason": "x"}).status_code == 404
    assert kpis_now(acme) is None


def test_with_dual_approval_the_page_proposes_and_another_finance_admin_approves(client, acme, acme_model, alice, dora):
    tenant_dual_approval_set(tenant=acme, enabled=True, actor="test")
    client.force_login(alice)
    form = client.get(EDIT).content.decode()
    assert "Propose this change" in form
    fields = form_fields(form) | {"alerts.monthly_value_target": "120000", "change_reason": "Raise the bar"}

    assert client.post(EDIT, fields).status_code == 302
    assert kpis_now(acme) is None  # nothing changes until approved
    with tenant_scope(acme):
        proposal = ChangeProposal.objects.get()
    assert (proposal.target, proposal.status, proposal.proposed_by) == ("business_kpis", "pending", alice)

    client.force_login(dora)
    page = client.get("/t/acme/model/").content.decode()
    assert "alerts.monthly_value_target" in page and 'value="approve"' in page
    assert client.post("/t/acme/model/", {"proposal": proposal.pk, "action": "approve"}).status_code == 302
    kpis = kpis_now(acme)
    assert kpis.alerts["monthly_value_target"] == "120000" and kpis.changed_by == dora


def test_the_kpi_edit_page_runs_a_bounded_number_of_queries(client, alice, acme, acme_model):
    client.force_login(alice)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(EDIT).status_code == 200
    assert len(captured) <= 12, [q["sql"] for q in captured]
