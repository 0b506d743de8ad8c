"""Only production deployments count toward the DORA keys: GitHub's environment flags, or the
tenant's production environment names when GitHub does not say; never a transient environment."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from governance.audit import audit_events
from governance.models import AuditKind, Tenant
from governance.services import tenant_production_environments_set
from governance.tenancy import tenant_scope
from roi.models import Deployment, MonthlyRollup
from roi.webhooks.payloads import DeploymentTarget, not_production_reason
from tests.governance.test_business_context import admin_form
from tests.roi.test_webhooks import arm, deliver, deployment_status

pytestmark = pytest.mark.django_db

SETTINGS = "/api/v1/tenant/settings"
ABSENT = object()  # the flag is left out of the payload, as older GitHub Enterprise Server sends it


def to(
    environment: str,
    *,
    production: Any = ABSENT,
    transient: Any = ABSENT,
    state: str = "success",
    deployment_id: int = 1288449321,
    at: str = "2026-10-08T14:31:07Z",
) -> dict[str, Any]:
    """GitHub's documented deployment_status payload for a deployment to `environment`."""
    payload = deployment_status(state)
    deployment = payload["deployment"]
    deployment["id"] = deployment_id
    deployment["environment"] = deployment["original_environment"] = environment
    payload["deployment_status"]["environment"] = environment
    payload["deployment_status"]["created_at"] = at
    for flag, value in (("production_environment", production), ("transient_environment", transient)):
        if value is ABSENT:
            del deployment[flag]
        else:
            deployment[flag] = value
    return payload


def deployments(tenant: Tenant) -> list[str]:
    with tenant_scope(tenant):
        return sorted(Deployment.objects.values_list("service", flat=True))


@pytest.fixture
def secret(acme: Tenant, make_key: Any) -> str:
    return arm(acme, "github", make_key)


@pytest.mark.parametrize(
    ("environment", "production", "transient", "counts"),
    [
        ("production", True, False, True),
        ("anything", True, False, True),
        ("production", True, True, False),
        ("pr-812-preview", False, True, False),
        ("staging", False, False, False),
        ("LIVE", False, False, True),
        ("Production", None, False, True),
        ("staging", None, False, False),
        ("", None, False, False),
    ],
)
def test_which_deployments_count(environment, production, transient, counts):
    target = DeploymentTarget(environment=environment, production=production, transient=transient)
    assert (not_production_reason(target, ["production", "prod", "live"]) is None) is counts


# --- GitHub says ---------------------------------------------------------------------------


def test_a_deployment_github_flags_production_counts(client, acme, secret):
    response = deliver(client, "github", "acme", to("production", production=True, transient=False), secret)
    assert response.status_code == 201, response.json()
    assert deployments(acme) == ["checkout/production"]


def test_a_production_flag_counts_whatever_the_environment_is_called(client, acme, secret):
    response = deliver(client, "github", "acme", to("eu-west-1", production=True, transient=False), secret)
    assert response.status_code == 201, response.json()
    assert deployments(acme) == ["checkout/eu-west-1"]


def test_a_preview_deployment_is_acknowledged_and_not_stored(client, acme, secret):
    # given: a pull request's preview, as deployment platforms create them
    payload = to("Preview \N{EN DASH} checkout-git-feature-tax.vercel.app", production=False, transient=True)

    # when
    response = deliver(client, "github", "acme", payload, secret)

    # then: GitHub's Recent Deliveries shows why nothing was stored
    assert response.status_code == 202
    assert response.json()["stored"] is False
    assert "transient_environment is true" in response.json()["detail"]
    assert deployments(acme) == []


def test_a_transient_environment_never_counts_even_flagged_production(client, acme, secret):
    response = deliver(client, "github", "acme", to("production", production=True, transient=True), secret)
    assert response.status_code == 202
    assert deployments(acme) == []


def test_a_staging_deployment_is_acknowledged_and_not_stored(client, acme, secret):
    response = deliver(client, "github", "acme", to("staging", production=False, transient=False), secret)
    assert response.status_code == 202
    detail = response.json()["detail"]
    assert '"staging" is not production' in detail and "production_environment is false" in detail
    assert "production, prod, live" in detail
    assert deployments(acme) == []


def test_a_failed_staging_deployment_changes_no_dora_figure(client, acme, secret):
    deliver(client, "github", "acme", to("staging", production=False, transient=False, state="failure"), secret)
    with tenant_scope(acme):
        assert not MonthlyRollup.objects.filter(stream="deployments").exists()


def test_an_environment_named_prod_counts_though_github_flags_it_false(client, acme, secret):
    # GitHub sets production_environment true by default only for an environment named "production"
    response = deliver(client, "github", "acme", to("prod", production=False, transient=False), secret)
    assert response.status_code == 201, response.json()
    assert deployments(acme) == ["checkout/prod"]


# --- GitHub does not say: the tenant's names decide ----------------------------------------


def test_without_flags_production_is_recognised_whatever_its_letter_case(client, acme, secret):
    response = deliver(client, "github", "acme", to("Production"), secret)
    assert response.status_code == 201, response.json()
    assert deployments(acme) == ["checkout/Production"]


def test_without_flags_staging_is_acknowledged_and_not_stored(client, acme, secret):
    response = deliver(client, "github", "acme", to("staging"), secret)
    assert response.status_code == 202
    assert "production_environment is not sent" in response.json()["detail"]
    assert deployments(acme) == []


def test_a_tenants_own_names_replace_the_common_ones(client, acme, secret):
    # given: acme calls production "prd" and nothing else
    tenant_production_environments_set(tenant=acme, actor="test", names=["PRD"])

    # when
    named_prd = deliver(client, "github", "acme", to("prd", deployment_id=1), secret)
    named_production = deliver(client, "github", "acme", to("production", deployment_id=2), secret)
    flagged = deliver(client, "github", "acme", to("edge", production=True, deployment_id=3), secret)

    # then: GitHub's own flag still counts
    assert (named_prd.status_code, named_production.status_code, flagged.status_code) == (201, 202, 201)
    assert deployments(acme) == ["checkout/edge", "checkout/prd"]


def test_with_no_names_only_githubs_flag_counts(client, acme, secret):
    tenant_production_environments_set(tenant=acme, actor="test", names=[])
    assert deliver(client, "github", "acme", to("production", deployment_id=1), secret).status_code == 202
    assert (
        deliver(client, "github", "acme", to("production", production=True, deployment_id=2), secret).status_code == 201
    )
    assert "none" in deliver(client, "github", "acme", to("live", deployment_id=3), secret).json()["detail"]


@pytest.mark.parametrize("flag", ["production_environment", "transient_environment"])
@pytest.mark.parametrize("value", ["true", 1, {}])
def test_a_flag_that_is_not_true_or_false_is_a_400_naming_it(client, acme, secret, flag, value):
    payload = to("production")
    payload["deployment"][flag] = value
    response = deliver(client, "github", "acme", payload, secret)
    assert response.status_code == 400
    assert response.json()["errors"] == {f"deployment.{flag}": ["must be true or false"]}
    assert deployments(acme) == []


def test_a_null_flag_is_read_as_not_sent(client, acme, secret):
    response = deliver(client, "github", "acme", to("live", production=None, transient=None), secret)
    assert response.status_code == 201, response.json()


# --- DORA figures ------------------------------------------------------------------------


def test_the_dora_benchmarks_count_only_production(api_as, client, acme, acme_model, secret):
    # given: last month, production failed and was fixed 30 minutes later, while previews,
    # staging and a flagless staging deploy failed beside it
    start = (timezone.now().replace(day=1) - timedelta(days=1)).replace(day=3, hour=9, minute=0, second=0)

    def at(minutes: int) -> str:
        return (start + timedelta(minutes=minutes)).isoformat()

    sent = [
        to("production", production=True, transient=False, state="failure", deployment_id=1, at=at(0)),
        to("pr-812", production=False, transient=True, state="failure", deployment_id=2, at=at(10)),
        to("staging", production=False, transient=False, state="error", deployment_id=3, at=at(15)),
        to("staging", state="failure", deployment_id=4, at=at(20)),
        to("production", production=True, transient=False, deployment_id=5, at=at(30)),
        to("Production", deployment_id=6, at=at(60)),
    ]
    answers = [deliver(client, "github", "acme", payload, secret).status_code for payload in sent]
    assert answers == [201, 202, 202, 202, 201, 201]

    # when
    benchmarks = api_as(acme, "viewer").get("/api/v1/dashboard/comparative").json()["benchmarks"]

    # then: three production deployments, one failed and restored in half an hour
    assert (benchmarks["deployments"], benchmarks["failed_deployments"]) == (3, 1)
    assert benchmarks["restored_deployments"] == 1
    inputs = benchmarks["dora"]["inputs"]
    assert Decimal(inputs["recovery_time"]) == Decimal("0.5")  # hours
    assert Decimal(inputs["change_failure_rate"]).quantize(Decimal("0.01")) == Decimal("33.33")


def test_a_fix_restores_a_failure_whatever_the_environments_letter_case(client, acme, secret):
    # GitHub treats "Production" and "production" as one environment
    deliver(client, "github", "acme", to("Production", state="failure", deployment_id=1), secret)
    deliver(client, "github", "acme", to("production", deployment_id=2, at="2026-10-08T15:01:07Z"), secret)
    with tenant_scope(acme):
        failed = Deployment.objects.get(external_id="github:1")
    assert failed.restored_at == datetime.fromisoformat("2026-10-08T15:01:07+00:00")


# --- The tenant's setting ------------------------------------------------------------------


def test_every_role_reads_the_names_and_a_tenant_admin_changes_them(api_as, acme, globex):
    assert api_as(acme, "viewer").get(SETTINGS).json()["production_environments"] == ["production", "prod", "live"]

    response = api_as(acme, "tenant_admin").put(
        SETTINGS, {"production_environments": [" prd ", "PRD", "Production-EU"]}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert response.json()["production_environments"] == ["prd", "Production-EU"]  # trimmed, once each
    with tenant_scope(acme):
        event = audit_events(kind=AuditKind.PRODUCTION_ENVIRONMENTS_CHANGED).get()
    assert event.detail == {"from": ["production", "prod", "live"], "to": ["prd", "Production-EU"]}
    # the other tenant keeps the common names and sees no audit event
    assert api_as(globex, "viewer").get(SETTINGS).json()["production_environments"] == ["production", "prod", "live"]
    with tenant_scope(globex):
        assert not audit_events(kind=AuditKind.PRODUCTION_ENVIRONMENTS_CHANGED).exists()


def test_setting_the_same_names_again_records_nothing(api_as, acme):
    admin = api_as(acme, "tenant_admin")
    for _ in range(2):
        assert admin.put(SETTINGS, {"production_environments": ["prd"]}, format="json").status_code == 200
    with tenant_scope(acme):
        assert audit_events(kind=AuditKind.PRODUCTION_ENVIRONMENTS_CHANGED).count() == 1


@pytest.mark.parametrize(
    "names",
    [
        ["production", ""],
        ["production", "   "],
        "production",
        [["production"]],
        ["x" * 256],
        [f"env-{n}" for n in range(51)],
        ["prod\x00"],
        ["prod\ud800"],
    ],
)
def test_bad_names_are_a_400_naming_the_field(api_as, acme, names):
    body = json.dumps({"production_environments": names})  # escapes a lone surrogate, as a JSON client may send it
    response = api_as(acme, "tenant_admin").put(SETTINGS, body, content_type="application/json")
    assert response.status_code == 400
    assert "production_environments" in response.json()["errors"]
    acme.refresh_from_db()
    assert acme.production_environments == ["production", "prod", "live"]


@pytest.mark.parametrize("role", ["finance_admin", "analyst", "viewer", "auditor"])
def test_only_a_tenant_admin_changes_them(api_as, acme, role):
    response = api_as(acme, role).put(SETTINGS, {"production_environments": ["staging"]}, format="json")
    assert response.status_code == 403
    acme.refresh_from_db()
    assert acme.production_environments == ["production", "prod", "live"]


def test_another_tenants_names_do_not_apply(client, acme, globex, make_key, secret):
    # given: globex counts its staging as production; acme keeps the common names
    theirs = arm(globex, "github", make_key)
    tenant_production_environments_set(tenant=globex, actor="test", names=["staging"])

    # when: both send the same staging deployment
    ours_answer = deliver(client, "github", "acme", to("staging"), secret)
    theirs_answer = deliver(client, "github", "globex", to("staging"), theirs)

    # then
    assert (ours_answer.status_code, theirs_answer.status_code) == (202, 201)
    assert (deployments(acme), deployments(globex)) == ([], ["checkout/staging"])


# --- The admin and the create_tenant command ----------------------------------------------


def test_a_platform_admin_edits_the_names_as_one_line_and_it_is_audited(root_client, acme, globex):
    url = f"/admin/governance/tenant/{acme.pk}/change/"
    assert 'value="production, prod, live"' in root_client.get(url).content.decode()

    response = root_client.post(url, admin_form(acme, production_environments=" prd , PRD, Production-EU"))

    assert response.status_code == 302
    acme.refresh_from_db()
    assert acme.production_environments == ["prd", "Production-EU"]
    with tenant_scope(acme):
        event = audit_events(kind=AuditKind.PRODUCTION_ENVIRONMENTS_CHANGED).get()
    assert (event.actor, event.detail) == (
        "admin:root",
        {"from": ["production", "prod", "live"], "to": ["prd", "Production-EU"]},
    )
    globex.refresh_from_db()
    assert globex.production_environments == ["production", "prod", "live"]
    with tenant_scope(globex):
        assert not audit_events(kind=AuditKind.PRODUCTION_ENVIRONMENTS_CHANGED).exists()


def test_the_admin_saves_the_same_names_without_an_audit_entry(root_client, acme):
    url = f"/admin/governance/tenant/{acme.pk}/change/"
    assert root_client.post(url, admin_form(acme, industry="media")).status_code == 302
    with tenant_scope(acme):
        assert not audit_events(kind=AuditKind.PRODUCTION_ENVIRONMENTS_CHANGED).exists()


def test_the_admin_refuses_a_name_too_long_naming_the_item(root_client, acme):
    typed = "production, " + "x" * 256
    response = root_client.post(
        f"/admin/governance/tenant/{acme.pk}/change/", admin_form(acme, production_environments=typed)
    )
    assert response.status_code == 200
    assert "Item 1: At most 255 characters." in response.content.decode()
    acme.refresh_from_db()
    assert acme.production_environments == ["production", "prod", "live"]


def test_a_new_tenant_from_the_admin_takes_its_names(root_client):
    template = Tenant(slug="initech", name="Initech")
    response = root_client.post("/admin/governance/tenant/add/", admin_form(template, production_environments="prd"))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Tenant.objects.get(slug="initech").production_environments == ["prd"]


def test_create_tenant_takes_the_names_one_option_each_or_keeps_the_common_ones(capsys):
    call_command(
        "create_tenant", "initech", "--name", "Initech",
        "--production-environment", "prd", "--production-environment", " PRD-eu ",
    )  # fmt: skip
    assert Tenant.objects.get(slug="initech").production_environments == ["prd", "PRD-eu"]
    assert "production environments: prd, PRD-eu" in capsys.readouterr().out

    call_command("create_tenant", "hooli", "--name", "Hooli")
    assert Tenant.objects.get(slug="hooli").production_environments == ["production", "prod", "live"]


def test_create_tenant_refuses_a_blank_name_and_creates_nothing():
    with pytest.raises(CommandError, match=r"production_environments\.1: Must be a non-empty environment name"):
        call_command("create_tenant", "initech", "--name", "Initech", "--production-environment", "prd",
                     "--production-environment", " ")  # fmt: skip
    assert not Tenant.objects.filter(slug="initech").exists()
