"""The API's front door: keys, roles, tenant resolution and the JSON error envelope."""

from datetime import timedelta
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.test import APIClient

from governance.models import ApiKey
from governance.roles import KeyRole
from governance.tenancy import tenant_scope

pytestmark = pytest.mark.django_db

TENANT_ADMIN = {"tenant_admin"}
MODEL_ADMINS = {"finance_admin", "tenant_admin"}
CALCULATORS = {"analyst", "finance_admin", "tenant_admin"}
LEDGER_READERS = CALCULATORS | {"auditor"}
READERS = {"viewer", "analyst", "finance_admin", "tenant_admin", "auditor"}

# A valid body for every calculation endpoint.
CALCULATION_BODIES = {
    "roi": {"upfront_cost": 100000, "monthly_cost": 5000, "monthly_benefit": 25000, "months": 36},
    "incident-prevention": {"downtime_minutes": 45, "severity": "sev1"},
    "automation-value": {"manual_time_equivalent": 3600, "execution_time": 60, "runs": 10},
    "performance-impact": {"response_time_improvement_ms": 200},
    "customer-experience": {"response_time_change_ms": -200, "availability_change": 0.05},
    "competitive-advantage": {"deployment_frequency": 20, "lead_time": 2, "recovery_time": 1},
    "value-at-risk": {
        "upfront_cost": 100000,
        "monthly_cost": 5000,
        "monthly_benefit": {"low": 10000, "mode": 25000, "high": 30000},
        "months": 36,
        "trials": 1000,
        "seed": 7,
    },
    "availability": {"current_target": 99.9},
}
EVENT_BODIES: dict[str, dict[str, Any]] = {
    "incidents": {"external_id": "i", "severity": "sev3", "started_at": "2026-01-01T00:00:00Z", "downtime_minutes": 3},
    "automation-runs": {
        "external_id": "a",
        "process": "p",
        "started_at": "2026-01-01T00:00:00Z",
        "execution_time": 1,
        "manual_time_equivalent": 9,
    },
    "performance-samples": {
        "external_id": "p",
        "service": "web",
        "measured_at": "2026-01-01T00:00:00Z",
        "response_time_ms": 120,
    },
    "deployments": {"external_id": "d", "service": "web", "deployed_at": "2026-01-01T00:00:00Z"},
    "investments": {"external_id": "v", "name": "SRE team", "started_at": "2026-01-01T00:00:00Z", "upfront_cost": 1000},
}
EVENT_SENDERS = CALCULATORS | {"ingest"}
CLOSED_MONTH = f"{timezone.now().replace(day=1) - timedelta(days=1):%Y-%m}"


def focus_upload() -> dict:
    """A fresh one-row FOCUS file in acme's currency (a file object is read once)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.roi.test_focus import focus_csv

    return {"file": SimpleUploadedFile("focus.csv", focus_csv({}), content_type="text/csv")}


def request_args(body):
    """(data, format) for a matrix row: a callable body builds a multipart upload."""
    return (body(), "multipart") if callable(body) else (body, "json")


# (method, path template, roles that may call it, body: JSON, or a callable for multipart).
# Every API route must appear here.
MATRIX = [
    ("get", "/api/v1/tenant", READERS, None),
    ("get", "/api/v1/tenant/settings", READERS, None),
    ("put", "/api/v1/tenant/settings", TENANT_ADMIN, {"require_dual_approval": True}),
    ("get", "/api/v1/members", TENANT_ADMIN | {"auditor"}, None),
    ("put", "/api/v1/members/{member}", TENANT_ADMIN, {"role": "viewer"}),
    ("delete", "/api/v1/members/{member}", TENANT_ADMIN, None),
    ("get", "/api/v1/keys", TENANT_ADMIN | {"auditor"}, None),
    ("post", "/api/v1/keys", TENANT_ADMIN, {"name": "ci", "role": "ingest"}),
    ("get", "/api/v1/keys/{key}", TENANT_ADMIN | {"auditor"}, None),
    ("delete", "/api/v1/keys/{key}", TENANT_ADMIN, None),
    ("get", "/api/v1/config/financial-model", READERS, None),
    (
        "put",
        "/api/v1/config/financial-model",
        MODEL_ADMINS,
        {"cost_model": {"cost_per_error": 90}, "change_reason": "r"},
    ),
    ("post", "/api/v1/config/revenue-model", MODEL_ADMINS, {"annual_recurring_revenue": 1, "change_reason": "r"}),
    ("get", "/api/v1/config/business-kpis", READERS, None),
    ("put", "/api/v1/config/business-kpis", MODEL_ADMINS, {"alerts": {"roi_target": 250}, "change_reason": "r"}),
    ("get", "/api/v1/config/it-budget", READERS, None),
    (
        "put",
        "/api/v1/config/it-budget",
        MODEL_ADMINS,
        {"fiscal_year": 2026, "annual_amount": 1000, "change_reason": "r"},
    ),
    ("get", "/api/v1/config/proposals", MODEL_ADMINS | {"auditor"}, None),
    ("post", "/api/v1/config/proposals/{proposal}/approve", MODEL_ADMINS, {"note": "checked"}),
    ("post", "/api/v1/config/proposals/{proposal}/reject", MODEL_ADMINS, {"note": "not now"}),
    ("get", "/api/v1/config/integrations/{tool}", TENANT_ADMIN | {"auditor"}, None),
    ("put", "/api/v1/config/integrations/{tool}", TENANT_ADMIN, {"secret": "a-signing-secret-0f9e8d7c6b5a4f3e2d1c"}),
    *(("post", f"/api/v1/calculate/{path}", CALCULATORS, body) for path, body in CALCULATION_BODIES.items()),
    *(("post", f"/api/v1/events/{kind}", EVENT_SENDERS, body) for kind, body in EVENT_BODIES.items()),
    *(("get", f"/api/v1/events/{kind}", READERS, None) for kind in EVENT_BODIES),
    ("get", "/api/v1/metrics/business-impact", READERS, None),
    ("post", "/api/v1/costs/focus", CALCULATORS, focus_upload),
    ("get", "/api/v1/costs/monthly", READERS, None),
    *(
        ("get", f"/api/v1/dashboard/{name}", READERS, None)
        for name in ("executive", "real-time", "trends", "comparative", "service-levels")
    ),
    ("get", "/api/v1/ledger/", LEDGER_READERS, None),
    ("get", "/api/v1/ledger/{record}/", LEDGER_READERS, None),
    ("post", "/api/v1/ledger/verify", {"auditor"}, None),
    ("get", "/api/v1/ledger/verify/{run}", LEDGER_READERS, None),
    ("get", "/api/v1/ledger/export.jsonl", {"auditor"}, None),
    ("get", "/api/v1/reports", READERS, None),
    ("post", "/api/v1/reports", MODEL_ADMINS, {"kind": "monthly", "period": CLOSED_MONTH}),
    ("get", "/api/v1/reports/{report}/{file_format}", READERS, None),
    ("get", "/api/v1/alerts", READERS, None),
    ("post", "/api/v1/alerts/{alert}/acknowledge", CALCULATORS, None),
    ("post", "/api/v1/alerts/{alert}/resolve", CALCULATORS, None),
    ("get", "/api/v1/config/escalations", TENANT_ADMIN | {"auditor"}, None),
    ("put", "/api/v1/config/escalations", TENANT_ADMIN, {"recipients": {"notify_cfo": {"roles": ["finance_admin"]}}}),
    ("get", "/api/v1/audit/events", {"auditor"}, None),
    ("post", "/api/v1/periods/{month}/close", MODEL_ADMINS, None),
]


def api_routes() -> set[str]:
    """Every route under /api/v1/, as a path template, read from the URL configuration."""
    resolver = get_resolver()
    [api] = [p for p in resolver.url_patterns if isinstance(p, URLResolver) and p.namespace == "api"]
    routes = set()
    for pattern in api.url_patterns:
        assert isinstance(pattern, URLPattern)
        template = str(pattern.pattern)
        for converter, name in (
            ("<str:username>", "{member}"),
            ("<int:key_id>", "{key}"),
            ("<int:record_id>", "{record}"),
            ("<str:tool>", "{tool}"),
            ("<str:month>", "{month}"),
            ("<int:report_id>", "{report}"),
            ("<str:file_format>", "{file_format}"),
            ("<int:alert_id>", "{alert}"),
            ("<int:proposal_id>", "{proposal}"),
            ("<int:run_id>", "{run}"),
        ):
            template = template.replace(converter, name)
        routes.add("/api/v1/" + template)
    return routes


def test_the_matrix_covers_every_api_route():
    assert {path for _, path, _, _ in MATRIX} == api_routes()


@pytest.fixture
def target(acme, bob, make_key, acme_model, settings, tmp_path):
    """An object of acme for each path parameter, and KPIs so every config route has something."""
    from governance.ledger import Actor
    from roi.budgets import current_fiscal_year, it_budget_set
    from roi.proposals import change_propose
    from roi.services import business_kpis_update, calculation_run
    from tests.dashboards.test_reports import stored_report

    settings.MEDIA_ROOT = tmp_path / "media"

    make_key(acme, "viewer", name="target")
    with tenant_scope(acme):
        key_id = ApiKey.objects.get(name="target").pk
        business_kpis_update(actor=Actor.system("test"), sections={}, change_reason="defaults")
        it_budget_set(
            actor=Actor.system("test"), fiscal_year=current_fiscal_year(), annual_amount=1000, change_reason="plan"
        )
        record = calculation_run(
            actor=Actor.system("test"), method="availability_economics", body={"current_target": 99}
        )
        # Proposed by someone other than the key each call uses, so approving it is allowed.
        proposal = change_propose(
            actor=Actor.system("test"),
            target="business_kpis",
            payload={"alerts": {"roi_target": 250}},
            change_reason="higher bar",
        )
    report = stored_report(acme)
    from tests.dashboards.test_alerts import stored_alert

    alert = stored_alert(acme)
    from roi.models import LedgerVerificationRun

    with tenant_scope(acme):
        run = LedgerVerificationRun.objects.create(tenant=acme, actor="test", result={"ok": True})
    return {
        "run": run.pk,
        "alert": alert.pk,
        "member": "bob",
        "key": key_id,
        "record": record.pk,
        "tool": "pagerduty",
        "report": report.pk,
        "file_format": "pdf",
        "month": "2020-01",
        "proposal": proposal.pk,
    }


@pytest.mark.parametrize(("method", "path", "allowed", "body"), MATRIX)
def test_it_answers_401_without_credentials(api, target, method, path, allowed, body):
    data, form = request_args(body)
    response = getattr(api, method)(path.format(**target), data, format=form)
    assert response.status_code == 401
    assert response.json()["errors"]
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("role", KeyRole.values)
@pytest.mark.parametrize(("method", "path", "allowed", "body"), MATRIX)
def test_role_matrix(api_as, acme, target, role, method, path, allowed, body):
    data, form = request_args(body)
    client = api_as(acme, role)
    if path.endswith("/approve"):
        # Approving is a person's act: the key must answer to a finance admin (roi.proposals).
        from tests.conftest import _member
        from tests.roi.test_proposals import key_client

        client = key_client(acme, role, created_by=_member("fran", acme, "finance_admin"))[0]
    response = getattr(client, method)(path.format(**target), data, format=form)
    if role in allowed:
        assert 200 <= response.status_code < 300, response.content
    else:
        assert response.status_code == 403, response.content
        assert response.json() == {"errors": {"detail": ["Your role may not do this."]}}


def test_a_bad_key_is_401(api):
    api.credentials(HTTP_AUTHORIZATION="Bearer bv_deadbeef_not-a-key")
    response = api.get("/api/v1/tenant")
    assert response.status_code == 401
    assert "detail" in response.json()["errors"]


def test_a_revoked_key_is_401(api_as, acme):
    client = api_as(acme, "tenant_admin")
    key_id = client.get("/api/v1/keys").json()["results"][0]["id"]
    assert client.delete(f"/api/v1/keys/{key_id}").json()["revoked_at"] is not None
    assert client.get("/api/v1/tenant").status_code == 401


def test_an_expired_key_is_401(api, acme):
    from governance.services import api_key_create

    with tenant_scope(acme):
        issued = api_key_create(name="short", role="viewer", expires_at=timezone.now() + timedelta(seconds=1))
        issued.api_key.expires_at = timezone.now() - timedelta(seconds=1)
        issued.api_key.save()  # one save, so the change is in the key's history
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.raw_key}")
    assert api.get("/api/v1/tenant").status_code == 401


def test_a_new_key_is_shown_once_and_stored_hashed(api_as, acme):
    client = api_as(acme, "tenant_admin")
    created = client.post("/api/v1/keys", {"name": "grafana", "role": "viewer"}, format="json")
    assert created.status_code == 201
    raw_key = created.json()["key"]
    with tenant_scope(acme):
        stored = ApiKey.objects.get(pk=created.json()["id"])
    assert raw_key not in {stored.key_hash, stored.prefix} and stored.prefix in raw_key
    assert "key" not in client.get(f"/api/v1/keys/{stored.pk}").json()

    fresh = APIClient()
    fresh.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    assert fresh.get("/api/v1/tenant").json()["roles"] == ["viewer"]


def test_it_rejects_malformed_json_with_a_400_naming_the_body(api_as, acme):
    response = api_as(acme, "tenant_admin").post("/api/v1/keys", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["body"]


def test_validation_errors_name_the_field(api_as, acme):
    response = api_as(acme, "tenant_admin").post("/api/v1/keys", {"name": "x", "role": "god"}, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["role"]


def test_unknown_api_paths_are_json_404s(api_as, acme):
    response = api_as(acme, "viewer").get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json() == {"errors": {"detail": ["Not found."]}}


def test_wrong_method_is_a_json_405(api_as, acme):
    response = api_as(acme, "viewer").patch("/api/v1/tenant", {}, format="json")
    assert response.status_code == 405
    assert "detail" in response.json()["errors"]


def test_a_key_naming_another_tenant_in_x_tenant_is_404(api_as, acme, globex):
    response = api_as(acme, "viewer").get("/api/v1/tenant", HTTP_X_TENANT="globex")
    assert response.status_code == 404


class TestSessionCallers:
    def test_a_member_of_one_tenant_uses_it(self, api, bob):
        api.force_login(bob)
        body = api.get("/api/v1/tenant").json()
        assert (body["tenant"]["slug"], body["roles"]) == ("acme", ["viewer"])

    def test_a_member_of_several_must_name_one(self, api, bob, globex):
        from governance.services import membership_set_role

        membership_set_role(tenant=globex, user=bob, role="analyst")
        api.force_login(bob)
        assert api.get("/api/v1/tenant").json() == {
            "errors": {"X-Tenant": ["You belong to several tenants: name one in this header."]}
        }
        assert api.get("/api/v1/tenant", HTTP_X_TENANT="globex").json()["roles"] == ["analyst"]

    def test_a_tenant_they_do_not_belong_to_is_404(self, api, bob, globex):
        api.force_login(bob)
        assert api.get("/api/v1/tenant", HTTP_X_TENANT="globex").status_code == 404
        assert api.get("/api/v1/tenant", HTTP_X_TENANT="nope").status_code == 404

    def test_unsafe_methods_need_the_csrf_token(self, tara):
        client = APIClient(enforce_csrf_checks=True)
        client.force_login(tara)
        response = client.post("/api/v1/keys", {"name": "x", "role": "viewer"}, format="json")
        assert response.status_code == 403
        assert response.json()["errors"]


def test_the_openapi_schema_and_docs_are_served(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    document = schema.json()
    assert document["openapi"].startswith("3.")
    assert "/api/v1/keys" in document["paths"]
    assert client.get("/api/docs/").status_code == 200


def test_the_schema_generates_without_warnings(tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    assert "/api/v1/tenant" in (tmp_path / "schema.yml").read_text()
