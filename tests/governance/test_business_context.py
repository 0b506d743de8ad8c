"""A tenant's business context: set from the admin, the create_tenant command and the settings API;
validated, audited, and used (benchmarks label, report provenance, which reports are scheduled)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from governance.audit import audit_events
from governance.models import AuditKind, Tenant
from governance.services import tenant_business_context_set, tenant_create
from governance.tenancy import tenant_scope

pytestmark = pytest.mark.django_db

SETTINGS = "/api/v1/tenant/settings"
IFRS_QUARTERLY = {
    "industry": "healthcare",
    "company_size": "enterprise",
    "business_model": "transactional",
    "accounting_standard": "ifrs",
    "reporting_frequency": "quarterly",
}


def context_of(tenant: Tenant) -> dict[str, str]:
    tenant.refresh_from_db()
    return {name: getattr(tenant, name) for name in IFRS_QUARTERLY}


# --- The command -------------------------------------------------------------------------


def test_create_tenant_takes_the_business_context():
    call_command(
        "create_tenant", "initech", "--name", "Initech", "--industry", "healthcare", "--company-size", "enterprise",
        "--business-model", "transactional", "--accounting-standard", "ifrs", "--reporting-frequency", "quarterly",
    )  # fmt: skip
    assert context_of(Tenant.objects.get(slug="initech")) == IFRS_QUARTERLY


def test_create_tenant_keeps_the_defaults_when_not_told():
    call_command("create_tenant", "initech", "--name", "Initech")
    tenant = Tenant.objects.get(slug="initech")
    assert (tenant.industry, tenant.accounting_standard, tenant.reporting_frequency) == ("saas", "us_gaap", "monthly")


@pytest.mark.parametrize(
    "option", ["--industry", "--company-size", "--business-model", "--accounting-standard", "--reporting-frequency"]
)
def test_create_tenant_refuses_an_unknown_choice(option):
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("create_tenant", "initech", "--name", "Initech", option, "weekly")
    assert not Tenant.objects.filter(slug="initech").exists()


def test_the_service_names_a_bad_field():
    with pytest.raises(ValidationError) as refused:
        tenant_create(slug="initech", name="Initech", reporting_frequency="weekly")
    assert "reporting_frequency" in refused.value.message_dict
    with pytest.raises(ValidationError, match="Not a business context field"):
        tenant_create(slug="initech", name="Initech", slug_override="x")


# --- The settings API ----------------------------------------------------------------------


def test_every_role_reads_the_context_and_a_tenant_admin_changes_it(api_as, acme, globex):
    before = api_as(acme, "viewer").get(SETTINGS).json()
    assert before["industry"] == "saas" and before["business_context_changed_at"] is None

    response = api_as(acme, "tenant_admin").put(SETTINGS, IFRS_QUARTERLY, format="json")

    assert response.status_code == 200, response.json()
    answer = response.json()
    assert {name: answer[name] for name in IFRS_QUARTERLY} == IFRS_QUARTERLY
    assert answer["business_context_changed_by"].startswith("api-key:")
    assert answer["require_dual_approval"] is False  # acme's, left out of the body, left alone
    assert context_of(acme) == IFRS_QUARTERLY
    with tenant_scope(acme):
        event = audit_events(kind=AuditKind.BUSINESS_CONTEXT_CHANGED).get()
    assert event.detail["changes"]["accounting_standard"] == {"from": "us_gaap", "to": "ifrs"}
    assert set(event.detail["changes"]) == set(IFRS_QUARTERLY)
    # The other tenant is untouched and sees none of it.
    assert context_of(globex)["industry"] == "saas"
    other = api_as(globex, "auditor").get(SETTINGS).json()
    assert other["industry"] == "saas" and other["business_context_changed_by"] is None
    with tenant_scope(globex):
        assert not audit_events(kind=AuditKind.BUSINESS_CONTEXT_CHANGED).exists()


def test_a_partial_change_moves_only_what_is_given_and_repeating_it_records_nothing(api_as, acme):
    admin = api_as(acme, "tenant_admin")
    assert admin.put(SETTINGS, {"reporting_frequency": "annual"}, format="json").status_code == 200
    assert admin.put(SETTINGS, {"reporting_frequency": "annual"}, format="json").status_code == 200
    assert context_of(acme)["reporting_frequency"] == "annual" and context_of(acme)["industry"] == "saas"
    with tenant_scope(acme):
        events = list(audit_events(kind=AuditKind.BUSINESS_CONTEXT_CHANGED))
    assert [event.detail["changes"] for event in events] == [
        {"reporting_frequency": {"from": "monthly", "to": "annual"}}
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"industry": "crypto"}, "industry"),
        ({"accounting_standard": "gaap"}, "accounting_standard"),
        ({"reporting_frequency": "weekly"}, "reporting_frequency"),
        ({"company_size": 12}, "company_size"),
        ({"business_model": None}, "business_model"),
    ],
)
def test_a_bad_choice_is_a_400_naming_the_field(api_as, acme, body, field):
    response = api_as(acme, "tenant_admin").put(SETTINGS, body, format="json")
    assert response.status_code == 400
    assert field in str(response.json())
    assert context_of(acme)["industry"] == "saas"


@pytest.mark.parametrize("role", ["finance_admin", "analyst", "viewer", "auditor"])
def test_only_a_tenant_admin_changes_it(api_as, acme, role):
    assert api_as(acme, role).put(SETTINGS, {"industry": "media"}, format="json").status_code == 403
    assert context_of(acme)["industry"] == "saas"


def test_a_refused_dual_approval_switch_keeps_the_context_unchanged(api_as, acme, alice, django_user_model):
    from governance.services import membership_set_role, tenant_dual_approval_set

    tenant_dual_approval_set(tenant=acme, enabled=True, actor="test")
    second = django_user_model.objects.create_user("fay", password="fay-long-password")
    membership_set_role(tenant=acme, user=second, role="finance_admin")
    body = {"industry": "media", "require_dual_approval": False}
    assert api_as(acme, "tenant_admin").put(SETTINGS, body, format="json").status_code == 400
    assert context_of(acme)["industry"] == "saas"


# --- The admin ----------------------------------------------------------------------------


def _admin_form(tenant: Tenant, **changes: str) -> dict[str, object]:
    data: dict[str, object] = {
        "name": tenant.name, "slug": tenant.slug, "currency": tenant.currency, "time_zone": tenant.time_zone,
        "fiscal_year_start_month": tenant.fiscal_year_start_month, "locale": tenant.locale,
        **{name: getattr(tenant, name) for name in IFRS_QUARTERLY},
    }  # fmt: skip
    if tenant.require_dual_approval:
        data["require_dual_approval"] = "on"
    return {**data, **changes}


@pytest.fixture
def root_client(client, django_user_model):
    root = django_user_model.objects.create_superuser("root", "root@example.invalid", "root-long-password")
    client.force_login(root)
    return client


def test_a_platform_admin_sets_the_context_and_it_is_audited(root_client, acme, globex):
    url = f"/admin/governance/tenant/{acme.pk}/change/"
    page = root_client.get(url).content.decode()
    assert 'name="accounting_standard"' in page and 'name="reporting_frequency"' in page

    response = root_client.post(url, _admin_form(acme, accounting_standard="ifrs", industry="media"))

    assert response.status_code == 302
    assert context_of(acme)["accounting_standard"] == "ifrs" and context_of(acme)["industry"] == "media"
    with tenant_scope(acme):
        event = audit_events(kind=AuditKind.BUSINESS_CONTEXT_CHANGED).get()
    assert event.actor == "admin:root"
    assert event.detail["changes"] == {
        "accounting_standard": {"from": "us_gaap", "to": "ifrs"},
        "industry": {"from": "saas", "to": "media"},
    }
    assert context_of(globex)["industry"] == "saas"


def test_the_admin_refuses_an_unknown_choice(root_client, acme):
    response = root_client.post(f"/admin/governance/tenant/{acme.pk}/change/", _admin_form(acme, industry="crypto"))
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert context_of(acme)["industry"] == "saas"


def test_a_new_tenant_from_the_admin_takes_the_context(root_client):
    template = Tenant(slug="initech", name="Initech")
    response = root_client.post("/admin/governance/tenant/add/", _admin_form(template, **IFRS_QUARTERLY))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert context_of(Tenant.objects.get(slug="initech")) == IFRS_QUARTERLY


def test_the_service_refuses_fields_that_are_not_context(acme):
    with pytest.raises(ValidationError, match="Not a business context field"):
        tenant_business_context_set(tenant=acme, actor="test", changes={"currency": "EUR"})
    with pytest.raises(ValidationError) as refused:
        tenant_business_context_set(tenant=acme, actor="test", changes={"industry": "crypto"})
    assert "industry" in refused.value.message_dict
    assert context_of(acme)["industry"] == "saas"
