"""A tenant's business context: set from the admin, the create_tenant command and the settings API;
validated, audited, and used (benchmarks label and customer segments, report provenance, which
reports are scheduled)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from governance.audit import audit_events
from governance.models import AuditKind, Tenant
from governance.services import customer_segments_clean, tenant_business_context_set, tenant_create
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
    assert tenant.customer_segments == []


def test_create_tenant_takes_customer_segments_one_option_each(capsys):
    call_command(
        "create_tenant", "initech", "--name", "Initech",
        "--customer-segment", "enterprise", "--customer-segment", " mid-market ",
    )  # fmt: skip
    assert Tenant.objects.get(slug="initech").customer_segments == ["enterprise", "mid-market"]
    assert "customer segments: enterprise, mid-market" in capsys.readouterr().out


def test_create_tenant_refuses_a_repeated_segment_and_creates_nothing():
    with pytest.raises(CommandError, match=r"customer_segments: Item 1 repeats item 0"):
        call_command(
            "create_tenant", "initech", "--name", "Initech",
            "--customer-segment", "Enterprise", "--customer-segment", "enterprise",
        )  # fmt: skip
    assert not Tenant.objects.filter(slug="initech").exists()


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


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ([], []),
        (["enterprise", "mid-market"], ["enterprise", "mid-market"]),
        (("  Enterprise\t", "SMB"), ["Enterprise", "SMB"]),
        (["x" * 50], ["x" * 50]),
        ([f"segment {n}" for n in range(20)], [f"segment {n}" for n in range(20)]),
    ],
)
def test_segments_are_stored_stripped_in_the_order_given(given, stored):
    assert customer_segments_clean(segments=given) == stored


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("enterprise", "Must be a list of labels"),
        (None, "Must be a list of labels"),
        ({"enterprise": True}, "Must be a list of labels"),
        (["enterprise", "   "], "Item 1 is blank."),
        (["enterprise", 7], "Item 1 is not text."),
        (["x" * 51], "Item 0 is longer than 50 characters."),
        (["enterprise", "Healthcare, EU"], "Item 1 contains a comma"),
        (["enterprise", "smb", " ENTERPRISE "], "Item 2 repeats item 0 (case is ignored)."),
        ([f"segment {n}" for n in range(21)], "At most 20 labels; 21 were given."),
    ],
)
def test_bad_segments_are_refused_naming_the_field_and_the_item(given, message):
    with pytest.raises(ValidationError) as refused:
        customer_segments_clean(segments=given)
    assert message in " ".join(refused.value.message_dict["customer_segments"])


def test_every_bad_segment_is_named_at_once():
    with pytest.raises(ValidationError) as refused:
        customer_segments_clean(segments=["", "smb", "SMB", None])
    assert refused.value.message_dict["customer_segments"] == [
        "Item 0 is blank.",
        "Item 2 repeats item 1 (case is ignored).",
        "Item 3 is not text.",
    ]


def test_tenant_create_checks_segments_too():
    with pytest.raises(ValidationError) as refused:
        tenant_create(slug="initech", name="Initech", customer_segments=["smb", "SMB"])
    assert "customer_segments" in refused.value.message_dict
    assert not Tenant.objects.filter(slug="initech").exists()


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


def segments_of(tenant: Tenant) -> list[str]:
    tenant.refresh_from_db()
    return tenant.customer_segments


def segment_changes(tenant: Tenant) -> list[dict[str, object]]:
    with tenant_scope(tenant):
        events = audit_events(kind=AuditKind.BUSINESS_CONTEXT_CHANGED).order_by("id")
        return [event.detail["changes"] for event in events]


def test_a_tenant_admin_sets_reads_and_clears_the_segments_and_each_change_is_audited(api_as, acme, globex):
    admin = api_as(acme, "tenant_admin")
    assert admin.get(SETTINGS).json()["customer_segments"] == []

    response = admin.put(SETTINGS, {"customer_segments": [" enterprise", "mid-market "]}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["customer_segments"] == ["enterprise", "mid-market"]
    assert api_as(acme, "viewer").get(SETTINGS).json()["customer_segments"] == ["enterprise", "mid-market"]
    assert segments_of(acme) == ["enterprise", "mid-market"]
    # the same list again records nothing; an empty one clears them
    assert admin.put(SETTINGS, {"customer_segments": ["enterprise", "mid-market"]}, format="json").status_code == 200
    cleared = admin.put(SETTINGS, {"customer_segments": []}, format="json")
    assert cleared.status_code == 200 and cleared.json()["customer_segments"] == []
    assert segments_of(acme) == []
    assert segment_changes(acme) == [
        {"customer_segments": {"from": [], "to": ["enterprise", "mid-market"]}},
        {"customer_segments": {"from": ["enterprise", "mid-market"], "to": []}},
    ]
    # The other tenant is untouched and sees none of it.
    assert segments_of(globex) == []
    other = api_as(globex, "tenant_admin").get(SETTINGS).json()
    assert other["customer_segments"] == [] and other["business_context_changed_by"] is None
    assert segment_changes(globex) == []


def test_segments_change_with_the_other_context_fields_in_one_audit_entry(api_as, acme):
    body = {"industry": "media", "customer_segments": ["smb"]}
    assert api_as(acme, "tenant_admin").put(SETTINGS, body, format="json").status_code == 200
    assert segment_changes(acme) == [
        {"industry": {"from": "saas", "to": "media"}, "customer_segments": {"from": [], "to": ["smb"]}}
    ]


@pytest.mark.parametrize(
    ("segments", "message"),
    [
        ("enterprise", "Must be a list of labels"),
        (None, "may not be null"),
        ({"enterprise": 1}, "Must be a list of labels"),
        (["enterprise", ""], "Item 1 is blank."),
        (["enterprise", 3], "Item 1 is not text."),
        (["smb", "Smb"], "Item 1 repeats item 0"),
        (["y" * 51], "Item 0 is longer than 50 characters."),
        ([str(n) for n in range(21)], "At most 20 labels"),
    ],
)
def test_bad_segments_are_a_400_naming_the_field(api_as, acme, segments, message):
    acme.customer_segments = ["enterprise"]
    acme.save(update_fields=["customer_segments"])
    body = {"customer_segments": segments, "industry": "media"}

    response = api_as(acme, "tenant_admin").put(SETTINGS, body, format="json")

    assert response.status_code == 400
    errors = response.json()["errors"]["customer_segments"]
    assert message in " ".join(errors)
    # nothing of the body is applied, the other field included
    assert segments_of(acme) == ["enterprise"] and context_of(acme)["industry"] == "saas"
    assert segment_changes(acme) == []


@pytest.mark.parametrize("role", ["finance_admin", "analyst", "viewer", "auditor", "ingest"])
def test_only_a_tenant_admin_changes_the_segments(api_as, acme, role):
    response = api_as(acme, role).put(SETTINGS, {"customer_segments": ["smb"]}, format="json")
    assert response.status_code == 403
    assert segments_of(acme) == []


@pytest.mark.parametrize(
    ("role", "status"), [(r, 200) for r in ("finance_admin", "analyst", "viewer", "auditor")] + [("ingest", 403)]
)
def test_every_role_but_ingest_reads_the_segments(api_as, acme, role, status):
    acme.customer_segments = ["enterprise"]
    acme.save(update_fields=["customer_segments"])
    response = api_as(acme, role).get(SETTINGS)
    assert response.status_code == status
    if status == 200:
        assert response.json()["customer_segments"] == ["enterprise"]
    else:
        assert "enterprise" not in response.content.decode()


# --- The admin ----------------------------------------------------------------------------


def admin_form(tenant: Tenant, **changes: str) -> dict[str, object]:
    data: dict[str, object] = {
        "name": tenant.name, "slug": tenant.slug, "currency": tenant.currency, "time_zone": tenant.time_zone,
        "fiscal_year_start_month": tenant.fiscal_year_start_month, "locale": tenant.locale,
        **{name: getattr(tenant, name) for name in IFRS_QUARTERLY},
        "customer_segments": ", ".join(tenant.customer_segments),
        "production_environments": ", ".join(tenant.production_environments),
    }  # fmt: skip
    if tenant.require_dual_approval:
        data["require_dual_approval"] = "on"
    return {**data, **changes}


def test_a_platform_admin_sets_the_context_and_it_is_audited(root_client, acme, globex):
    url = f"/admin/governance/tenant/{acme.pk}/change/"
    page = root_client.get(url).content.decode()
    assert 'name="accounting_standard"' in page and 'name="reporting_frequency"' in page

    response = root_client.post(url, admin_form(acme, accounting_standard="ifrs", industry="media"))

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
    response = root_client.post(f"/admin/governance/tenant/{acme.pk}/change/", admin_form(acme, industry="crypto"))
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert context_of(acme)["industry"] == "saas"


def test_a_new_tenant_from_the_admin_takes_the_context(root_client):
    template = Tenant(slug="initech", name="Initech")
    response = root_client.post("/admin/governance/tenant/add/", admin_form(template, **IFRS_QUARTERLY))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert context_of(Tenant.objects.get(slug="initech")) == IFRS_QUARTERLY


def test_a_platform_admin_edits_the_segments_as_one_line_and_it_is_audited(root_client, acme, globex):
    acme.customer_segments = ["enterprise", "mid-market"]
    acme.save(update_fields=["customer_segments"])
    url = f"/admin/governance/tenant/{acme.pk}/change/"
    assert 'value="enterprise, mid-market"' in root_client.get(url).content.decode()

    response = root_client.post(url, admin_form(acme, customer_segments="Enterprise , smb"))

    assert response.status_code == 302
    assert segments_of(acme) == ["Enterprise", "smb"]
    with tenant_scope(acme):
        event = audit_events(kind=AuditKind.BUSINESS_CONTEXT_CHANGED).get()
    assert event.actor == "admin:root"
    assert event.detail["changes"] == {
        "customer_segments": {"from": ["enterprise", "mid-market"], "to": ["Enterprise", "smb"]}
    }
    assert segments_of(globex) == []


def test_the_admin_saves_the_same_segments_without_an_audit_entry_and_clears_them(root_client, acme):
    acme.customer_segments = ["enterprise"]
    acme.save(update_fields=["customer_segments"])
    url = f"/admin/governance/tenant/{acme.pk}/change/"
    assert root_client.post(url, admin_form(acme, customer_segments=" enterprise ")).status_code == 302
    assert segment_changes(acme) == []
    assert root_client.post(url, admin_form(acme, customer_segments="")).status_code == 302
    assert segments_of(acme) == []
    assert segment_changes(acme) == [{"customer_segments": {"from": ["enterprise"], "to": []}}]


@pytest.mark.parametrize(
    ("typed", "message"),
    [("smb, SMB", "Item 1 repeats item 0"), ("smb, , enterprise", "Item 1 is blank."), ("z" * 51, "Item 0 is longer")],
)
def test_the_admin_refuses_bad_segments_with_the_services_message(root_client, acme, typed, message):
    response = root_client.post(
        f"/admin/governance/tenant/{acme.pk}/change/", admin_form(acme, customer_segments=typed)
    )
    assert response.status_code == 200 and message in response.content.decode()
    assert segments_of(acme) == [] and segment_changes(acme) == []


def test_a_new_tenant_from_the_admin_takes_its_segments(root_client):
    template = Tenant(slug="initech", name="Initech")
    response = root_client.post(
        "/admin/governance/tenant/add/", admin_form(template, customer_segments="smb, public sector")
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Tenant.objects.get(slug="initech").customer_segments == ["smb", "public sector"]


def test_the_service_refuses_fields_that_are_not_context(acme):
    with pytest.raises(ValidationError, match="Not a business context field"):
        tenant_business_context_set(tenant=acme, actor="test", changes={"currency": "EUR"})
    with pytest.raises(ValidationError) as refused:
        tenant_business_context_set(tenant=acme, actor="test", changes={"industry": "crypto"})
    assert "industry" in refused.value.message_dict
    assert context_of(acme)["industry"] == "saas"
