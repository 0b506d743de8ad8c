"""Tenant isolation, generated from the URL configuration so a new route cannot forget it.

Every route is one of: a tenant API route (tenant B calling with A's object ids gets 404,
or a list without A's rows), a tenant page under /t/<slug>/ (a non-member gets 404), Django
admin (platform admins only), or a short allow-list of routes that hold no tenant data.
"""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from governance import selectors
from governance.models import ApiKey
from governance.tenancy import tenant_scope
from tests.governance.test_api import EVENT_BODIES
from tests.roi.test_webhooks import STORING, arm, deliver, fixture, stored_events

pytestmark = pytest.mark.django_db

UNTENANTED = {
    "",
    "accounts/login/",
    "accounts/logout/",
    "accounts/mfa/setup/",
    "accounts/mfa/verify/",
    "api/schema/",
    "api/docs/",
}


def flatten(patterns, prefix=""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if route.startswith("admin/"):
                yield "admin/"
                continue
            yield from flatten(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route


ALL_ROUTES = sorted(set(flatten(get_resolver().url_patterns)))
# Webhooks name their tenant in the path and authenticate the sender against it.
WEBHOOK_ROUTES = [r for r in ALL_ROUTES if r.startswith("api/v1/webhooks/")]
API_ROUTES = [r for r in ALL_ROUTES if r.startswith("api/v1/") and r not in WEBHOOK_ROUTES]
PAGE_ROUTES = [r for r in ALL_ROUTES if r.startswith("t/<slug:slug>/")]


def test_every_route_is_classified():
    unclassified = set(ALL_ROUTES) - set(API_ROUTES) - set(WEBHOOK_ROUTES) - set(PAGE_ROUTES) - UNTENANTED - {"admin/"}
    assert unclassified == set(), "classify the new route in tests/test_isolation.py"


@pytest.fixture
def acme_objects(acme, bob, make_key, acme_model, globex, settings, tmp_path):
    """One object of acme for every kind of path parameter, and what would betray it in a list."""
    from governance.ledger import Actor
    from roi.services import calculation_run, financial_model_update
    from tests.dashboards.test_reports import stored_report

    settings.MEDIA_ROOT = tmp_path / "media"
    report = stored_report(acme, period="2020-01")

    make_key(acme, "viewer", name="acme-secret-key")
    with tenant_scope(acme):
        key = ApiKey.objects.get(name="acme-secret-key")
        record = calculation_run(
            actor=Actor.system("test"), method="availability_economics", body={"current_target": 99}
        )
    with tenant_scope(acme):
        from roi.proposals import change_propose

        proposal = change_propose(
            actor=Actor.system("test"),
            target="revenue_model",
            payload={"revenue_model": {"annual_recurring_revenue": "57000000"}},
            change_reason="acme-secret-proposal",
        )
    with tenant_scope(globex):  # globex has figures of its own, so its reads answer 200
        financial_model_update(
            actor=Actor.system("test"),
            groups={"revenue_model": {"annual_recurring_revenue": "1000000"}},
            change_reason="globex figures",
        )
    params = {"<int:key_id>": str(key.pk), "<int:record_id>": str(record.pk), "<str:username>": "bob"}
    params["<str:month>"] = "2020-01"  # a month to close: globex's call must not close acme's
    params |= {"<int:report_id>": str(report.pk), "<str:file_format>": "csv", "<int:proposal_id>": str(proposal.pk)}
    betrayals = ["acme-secret-key", key.prefix, '"bob"', "acme", "56000000", record.hash]
    betrayals += [f"acme-{kind}" for kind in EVENT_BODIES]
    betrayals += [acme_cost_import(acme), "4242.42", "acme-secret-proposal", "57000000"]
    from tests.dashboards.test_alerts import stored_alert

    params["<int:alert_id>"] = str(stored_alert(acme).pk)
    betrayals.append("acme-alert")
    from roi.models import LedgerVerificationRun

    with tenant_scope(acme):
        run = LedgerVerificationRun.objects.create(
            tenant=acme, actor="acme-verifier", result={"head_hash": record.hash}
        )
    params["<int:run_id>"] = str(run.pk)
    betrayals.append("acme-verifier")
    with tenant_scope(acme):
        from roi.budgets import current_fiscal_year, it_budget_set

        it_budget_set(
            actor=Actor.system("test"),
            fiscal_year=current_fiscal_year(),
            annual_amount="31415926",
            change_reason="acme-secret-budget",
        )
    betrayals += ["31415926", "acme-secret-budget"]
    return params, betrayals


def acme_cost_import(acme) -> str:
    """A FOCUS import for acme, this month so costs/monthly's default window holds it; its service name."""
    from django.utils import timezone

    from governance.ledger import Actor
    from roi.focus import focus_import
    from tests.roi.test_focus import focus_csv

    month = f"{timezone.now():%Y-%m}"
    charge = {"ServiceName": "acme-cost-service", "BilledCost": "4242.42", "EffectiveCost": "4242.42"}
    charge |= {"ChargePeriodStart": f"{month}-01T00:00:00Z", "ChargePeriodEnd": f"{month}-02T00:00:00Z"}
    with tenant_scope(acme):
        focus_import(actor=Actor.system("test"), file_name="acme-costs.csv", data=focus_csv(charge))
    return "acme-cost-service"


@pytest.mark.parametrize("route", API_ROUTES)
def test_api_route_shows_tenant_b_nothing_of_tenant_a(route, acme_objects, api_as, acme, globex, bob):
    params, betrayals = acme_objects
    route = route.replace("<str:tool>", "pagerduty")  # every tenant has its own: a name, not acme's object
    path = "/" + route
    for converter, value in params.items():
        path = path.replace(converter, value)
    assert "<" not in path, f"give acme_objects a value for {path}"
    client = api_as(globex, "tenant_admin")

    if path != "/" + route:  # an object route: every method that reads or changes it is a 404
        for method in ("get", "put", "delete"):
            response = getattr(client, method)(path, {"role": "viewer"}, format="json")
            assert response.status_code in {404, 405}, (method, path, response.status_code)
    else:
        response = client.get(path)
        if response.status_code == 403:  # an auditor-only route: ask as globex's auditor
            response = api_as(globex, "auditor").get(path)
        assert response.status_code in {200, 404, 405}
        text = response_text(response)
        for betrayal in betrayals:
            assert betrayal not in text, (path, betrayal)

    with tenant_scope(acme):  # and nothing of acme's was changed
        assert ApiKey.objects.get(name="acme-secret-key").revoked_at is None
    assert selectors.roles_for_user(user=bob, tenant=acme) == {"viewer"}


def response_text(response) -> str:
    """The whole body, streamed (the ledger's JSON Lines export) or not."""
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def page_path(route: str, tenant, record_id: int, report_id: int = 0) -> str:
    from django.utils import timezone

    path = "/" + route.replace("<slug:slug>", tenant.slug)
    for converter, value in (
        ("<str:stream>", "automation"),
        ("<str:month>", f"{timezone.now():%Y-%m}"),
        ("<int:record_id>", str(record_id)),
        ("<str:method>", "incident_cost"),
        ("<int:report_id>", str(report_id)),
        ("<str:file_format>", "csv"),
    ):
        path = path.replace(converter, value)
    assert "<" not in path, f"give page_path a value for {path}"
    return path + PAGE_QUERIES.get(route, "")


# Pages that answer a form error (400) without these: a label to drill into.
PAGE_QUERIES = {
    "t/<slug:slug>/comparative/label/": "?department=finance",
    "t/<slug:slug>/comparative/events/": "?department=finance&stream=automation",
}


@pytest.mark.parametrize("route", PAGE_ROUTES)
def test_page_of_another_tenant_is_404(route, client, gus, acme, globex, settings, tmp_path):
    from governance.ledger import Actor
    from roi.services import calculation_run
    from tests.dashboards.test_reports import stored_report

    settings.MEDIA_ROOT = tmp_path / "media"
    reports = {tenant.slug: stored_report(tenant).pk for tenant in (acme, globex)}
    records = {}
    for tenant in (acme, globex):
        with tenant_scope(tenant):
            body = {"current_target": 99, "assumptions": {"annual_recurring_revenue": 1000}}
            records[tenant.slug] = calculation_run(
                actor=Actor.system("test"), method="availability_economics", body=body
            )
    client.force_login(gus)  # globex's tenant admin: every page of globex is open to him
    # acme's page with acme's object, and even globex's object under acme's slug: 404.
    assert client.get(page_path(route, acme, records["acme"].pk, reports["acme"])).status_code == 404
    if "<int:record_id>" in route or "<int:report_id>" in route:
        assert client.get(page_path(route, globex, records["acme"].pk, reports["acme"])).status_code == 404
    own_page = page_path(route, globex, records["globex"].pk, reports["globex"])
    if client.get(own_page).status_code == 403:  # an auditor-only page: globex's auditor opens it
        from tests.conftest import _member

        client.force_login(_member("gina", globex, "auditor"))
    assert client.get(own_page).status_code == 200


@pytest.mark.parametrize("model", list(admin.site._registry), ids=lambda m: m._meta.label)
def test_admin_changelists_are_for_platform_admins_only(model, client, gus):
    gus.is_staff = True
    gus.save()
    client.force_login(gus)
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    assert client.get(url).status_code in {302, 403}


# Transactional: admin reads through the platform role's connection, which sees committed rows.
@pytest.mark.django_db(transaction=True)
def test_a_platform_admin_sees_every_tenants_keys(client, django_user_model, acme, globex, make_key):
    make_key(acme, "viewer", name="acme-key")
    make_key(globex, "viewer", name="globex-key")
    root = django_user_model.objects.create_superuser("root", "root@example.invalid", "root-long-password")
    client.force_login(root)
    page = client.get(reverse("admin:governance_apikey_changelist")).content.decode()
    assert "acme-key" in page and "globex-key" in page
    assert re.search(r"2 api keys", page, re.IGNORECASE)


@pytest.mark.parametrize("model", list(admin.site._registry), ids=lambda m: m._meta.label)
def test_every_admin_changelist_renders_for_a_platform_admin(model, client, django_user_model, acme_objects):
    root = django_user_model.objects.create_superuser("root", "root@example.invalid", "root-long-password")
    client.force_login(root)
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("route", WEBHOOK_ROUTES)
def test_webhook_refuses_tenant_b_credentials_on_tenant_a(route, client, acme, globex, acme_model, make_key):
    tool = route.split("/")[3]
    assert route == f"api/v1/webhooks/{tool}/<slug:slug>" and tool in STORING, "give the new webhook a fixture"
    arm(acme, tool, make_key)  # acme is set up too: it is the credential that fails, not a missing secret
    response = deliver(client, tool, "acme", fixture(STORING[tool]), arm(globex, tool, make_key))
    assert response.status_code == 401
    assert stored_events(acme) == stored_events(globex) == 0
