"""The security audit log: every sensitive act leaves one row, visible to the tenant's auditors only."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from governance.audit import audit_events, audit_record, csv_safe
from governance.ledger import Actor
from governance.models import AuditEvent, AuditKind
from governance.secrets import integration_secret_set
from governance.services import membership_set_role
from governance.tenancy import all_tenants_scope, scoped_connection, tenant_scope
from roi.services import calculation_run, financial_model_update

pytestmark = pytest.mark.django_db


def kinds(tenant) -> list[str]:
    with tenant_scope(tenant):
        return [event.kind for event in AuditEvent.objects.order_by("id")]


def last(tenant, kind: str) -> AuditEvent:
    with tenant_scope(tenant):
        return AuditEvent.objects.filter(kind=kind).order_by("-id").first()


def test_a_login_is_recorded_for_each_tenant_of_the_user(client, acme, bob, globex):
    membership_set_role(tenant=globex, user=bob, role="viewer")
    client.post("/accounts/login/", {"username": "bob", "password": "bob-long-password"}, REMOTE_ADDR="10.0.0.7")
    for tenant in (acme, globex):
        event = last(tenant, AuditKind.LOGIN)
        assert (event.actor, event.ip_address) == ("user:bob", "10.0.0.7"), tenant.slug


def test_a_failed_login_of_a_member_is_a_tenant_event(client, bob, acme):
    client.post("/accounts/login/", {"username": "bob", "password": "wrong"})
    event = last(acme, AuditKind.LOGIN_FAILED)
    assert event.detail == {"username": "bob", "known_user": True}


def test_a_failed_login_of_a_stranger_is_a_platform_event_no_tenant_sees(client, acme):
    client.post("/accounts/login/", {"username": "mallory", "password": "guess"})
    assert AuditKind.LOGIN_FAILED not in kinds(acme)
    with all_tenants_scope():
        [event] = AuditEvent.all_tenants.filter(kind=AuditKind.LOGIN_FAILED)
    assert event.tenant_id is None and event.detail == {"username": "mallory", "known_user": False}


def test_a_role_change_records_from_and_to(acme, bob):
    membership_set_role(tenant=acme, user=bob, role="analyst", actor="user:tara")
    event = last(acme, AuditKind.ROLE_CHANGED)
    assert (event.actor, event.detail) == ("user:tara", {"user": "bob", "from": ["viewer"], "to": "analyst"})


def test_setting_the_same_role_again_records_nothing(acme, bob):
    before = kinds(acme).count(AuditKind.ROLE_CHANGED)
    membership_set_role(tenant=acme, user=bob, role="viewer")
    assert kinds(acme).count(AuditKind.ROLE_CHANGED) == before


def test_key_creation_and_revocation_through_the_api_are_recorded(api_as, acme):
    client = api_as(acme, "tenant_admin")
    created = client.post("/api/v1/keys", {"name": "grafana", "role": "viewer"}, format="json").json()
    client.delete(f"/api/v1/keys/{created['id']}")
    made = last(acme, AuditKind.KEY_CREATED)
    assert made.actor.startswith("api-key:")
    assert made.detail == {
        "key": created["prefix"],
        "name": "grafana",
        "role": "viewer",
        "created_by_key": made.actor.split(":")[1],
        "on_behalf_of": None,  # the calling key was made by the system
    }
    revoked = last(acme, AuditKind.KEY_REVOKED)
    assert revoked.actor.startswith("api-key:") and revoked.detail["name"] == "grafana"


def test_a_key_made_by_a_key_is_recorded_as_that_key_and_the_person_behind_it(client, acme, tara):
    # given: tara signs in and makes a key, which makes another
    client.force_login(tara)
    first = client.post("/api/v1/keys", {"name": "ci", "role": "tenant_admin"}, content_type="application/json")
    by_key = APIClient()
    by_key.credentials(HTTP_AUTHORIZATION=f"Bearer {first.json()['key']}")

    # when
    second = by_key.post("/api/v1/keys", {"name": "deploy", "role": "finance_admin"}, format="json").json()

    # then: neither is "system"; the second names the key and tara
    with tenant_scope(acme):
        made = {e.detail["key"]: e for e in audit_events(kind=AuditKind.KEY_CREATED)}
    assert made[first.json()["prefix"]].actor == "user:tara"
    assert made[first.json()["prefix"]].detail["on_behalf_of"] == "user:tara"
    assert made[second["prefix"]].actor == f"api-key:{first.json()['prefix']}:ci"
    assert made[second["prefix"]].detail["created_by_key"] == first.json()["prefix"]
    assert made[second["prefix"]].detail["on_behalf_of"] == "user:tara"


def test_a_key_made_by_the_command_is_recorded_as_the_command(acme):
    call_command("create_api_key", "acme", "--role", "viewer", stdout=io.StringIO(), stderr=io.StringIO())

    assert last(acme, AuditKind.KEY_CREATED).actor == "system:create_api_key"


def test_a_secret_change_is_recorded_without_the_secret(acme):
    with tenant_scope(acme):
        integration_secret_set(tool="github", secret="s3cr3t-value-9f8e7d6c5b4a39281706", actor=Actor.system("test"))
    event = last(acme, AuditKind.SECRET_CHANGED)
    assert event.detail["tool"] == "github" and "s3cr3t" not in str(event.detail)


def test_a_verification_through_the_api_and_the_command_is_recorded(api_as, acme, acme_model):
    with tenant_scope(acme):
        calculation_run(actor=Actor.system("test"), method="availability_economics", body={"current_target": 99})
    api_as(acme, "auditor").post("/api/v1/ledger/verify")
    by_api = last(acme, AuditKind.LEDGER_VERIFIED)
    assert by_api.actor.startswith("api-key:") and by_api.detail["ok"] and by_api.detail["head_sequence"] == 1
    call_command("verify_ledger", "acme", stdout=io.StringIO())
    assert last(acme, AuditKind.LEDGER_VERIFIED).actor == "command:verify_ledger"


class TestAuditApi:
    def test_an_auditor_lists_the_tenants_events_with_filters(self, api_as, acme, bob, globex, make_key):
        make_key(globex, "viewer", name="globex-key")
        client = api_as(acme, "auditor")
        every = client.get("/api/v1/audit/events").json()["results"]
        assert {e["kind"] for e in every} == {AuditKind.ROLE_CHANGED, AuditKind.KEY_CREATED}
        assert "globex-key" not in str(every)
        only_keys = client.get("/api/v1/audit/events", {"kind": "key_created"}).json()["results"]
        assert {e["kind"] for e in only_keys} == {AuditKind.KEY_CREATED}
        future = (timezone.now() + timedelta(hours=1)).isoformat()
        assert client.get("/api/v1/audit/events", {"since": future}).json()["results"] == []
        assert len(client.get("/api/v1/audit/events", {"until": future}).json()["results"]) == len(every)

    def test_a_bad_filter_is_a_400_naming_it(self, api_as, acme):
        response = api_as(acme, "auditor").get("/api/v1/audit/events", {"kind": "nope"})
        assert response.status_code == 400 and "kind" in response.json()["errors"]


class TestAuditPage:
    def test_the_auditor_sees_events_and_can_run_a_verification(self, client, carol, acme, acme_model):
        client.force_login(carol)
        assert b"not been verified yet" in client.get("/t/acme/audit/").content
        assert client.post("/t/acme/audit/").status_code == 302
        page = client.get("/t/acme/audit/").content.decode()
        assert "Chain head: #0" in page and "OK" in page and "user:carol" in page

    def test_a_viewer_may_not_open_it(self, client, bob):
        client.force_login(bob)
        assert client.get("/t/acme/audit/").status_code == 403

    def test_the_csv_export_neutralises_formulas_and_is_itself_recorded(self, client, carol, acme):
        audit_record(kind=AuditKind.EXPORT, actor='=HYPERLINK("http://evil","x")', tenant=acme)
        client.force_login(carol)
        response = client.get("/t/acme/audit/events.csv")
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        assert response["Content-Type"].startswith("text/csv") and rows[0][:3] == ["occurred_at", "kind", "actor"]
        assert '\'=HYPERLINK("http://evil","x")' in [row[2] for row in rows]
        assert last(acme, AuditKind.EXPORT).detail["export"] == "audit_events_csv"

    def test_the_ledger_csv_lists_records_with_their_hashes(self, client, carol, acme, acme_model):
        with tenant_scope(acme):
            record = calculation_run(
                actor=Actor.system("=cmd|' /C calc'!A0"), method="availability_economics", body={"current_target": 99}
            )
        client.force_login(carol)
        rows = list(csv.reader(io.StringIO(client.get("/t/acme/ledger/export.csv").content.decode())))
        assert rows[1][0] == "1" and rows[1][-1] == record.hash
        assert rows[1][5] == "system:=cmd|' /C calc'!A0"  # starts with "s": nothing to neutralise
        assert last(acme, AuditKind.EXPORT).detail["export"] == "ledger_csv"

    def test_the_model_history_csv_has_a_row_per_changed_field_with_who_and_why(self, client, carol, acme, acme_model):
        from tests.conftest import ACME_MODEL

        changed = {**ACME_MODEL, "cost_model": {**ACME_MODEL["cost_model"], "it_staff_hourly_rate": "80"}}
        with tenant_scope(acme):
            financial_model_update(actor=Actor.system("=cfo"), groups=changed, change_reason="=2024 pay review")
        client.force_login(carol)
        response = client.get("/t/acme/audit/model-history.csv")
        rows = list(csv.DictReader(io.StringIO(response.content.decode())))
        latest = [row for row in rows if row["config"] == "financial_model" and row["version"] == "2"]
        assert [(r["field"], r["before"], r["after"]) for r in latest] == [
            ("cost_model.it_staff_hourly_rate", "75", "80")
        ]
        assert latest[0]["change_reason"] == "'=2024 pay review"  # neutralised like every exported cell
        assert {r["version"] for r in rows if r["config"] == "financial_model"} == {"1", "2"}
        assert last(acme, AuditKind.EXPORT).detail["export"] == "model_history_csv"


@pytest.mark.parametrize(
    ("cell", "safe"),
    [("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"), ("plain", "plain"), (None, "")],
)
def test_csv_cells_that_look_like_formulas_are_quoted(cell, safe):
    assert csv_safe(cell) == safe


def test_a_ledger_pdf_download_is_recorded(client, carol, acme, acme_model):
    with tenant_scope(acme):
        record = calculation_run(
            actor=Actor.system("test"), method="availability_economics", body={"current_target": 99}
        )
    client.force_login(carol)
    assert client.get(f"/t/acme/ledger/{record.pk}/pdf").status_code == 200
    event = last(acme, AuditKind.EXPORT)
    assert (event.actor, event.detail) == ("user:carol", {"export": "ledger_record_pdf", "record": 1})


@pytest.mark.postgres
def test_rls_shows_platform_events_only_through_the_all_tenants_hatch(client, acme):

    def platform_rows() -> int:
        # The connection the ORM would use here: the platform role's inside the hatch.
        with scoped_connection().cursor() as cursor:
            cursor.execute("SELECT count(*) FROM governance_auditevent WHERE tenant_id IS NULL")
            return cursor.fetchone()[0]

    client.post("/accounts/login/", {"username": "mallory", "password": "guess"})
    with tenant_scope(acme):
        assert platform_rows() == 0
    assert platform_rows() == 0
    with all_tenants_scope():
        assert platform_rows() == 1
