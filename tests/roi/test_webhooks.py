"""Webhook receivers, fed the payloads Alertmanager, PagerDuty and GitHub document."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client

from governance.ledger import Actor
from governance.models import LedgerRecord, Tenant
from governance.secrets import integration_secret_set
from governance.tenancy import tenant_scope
from roi.models import Deployment, Incident
from roi.webhooks import storage
from roi.webhooks.payloads import alertmanager_severity, pagerduty_severity
from tests.live_http import post_json

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "webhooks"
# A payload of each tool that stores something, for tests that only care who may send it.
STORING = {
    "alertmanager": "alertmanager_firing.json",
    "pagerduty": "pagerduty_incident_triggered.json",
    "github": "github_deployment_status_success.json",
}


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver(
    client: Client,
    tool: str,
    slug: str,
    payload: Any,
    credential: str,
    *,
    event: str = "deployment_status",
    signature: str | None = None,
    body: bytes | None = None,
    content_type: str = "application/json",
    unsigned: bool = False,
    **extra: str,
) -> Any:
    """POST `payload` as the tool would, signed with (or carrying) `credential`; `unsigned` leaves the header out."""
    body = json.dumps(payload).encode() if body is None else body
    headers: dict[str, Any] = dict(extra)
    if tool == "alertmanager":
        if not unsigned:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {credential}"
    elif tool == "pagerduty":
        headers["HTTP_USER_AGENT"] = "PagerDuty-Webhook/V3.0"
        if not unsigned:
            headers["HTTP_X_PAGERDUTY_SIGNATURE"] = signature or f"v1={sign(credential, body)}"
    else:
        headers["HTTP_USER_AGENT"] = "GitHub-Hookshot/5c3f6e1"
        headers["HTTP_X_GITHUB_DELIVERY"] = "72d3162e-cc78-11e3-81ab-4c9367dc0958"
        if not unsigned:
            headers["HTTP_X_HUB_SIGNATURE_256"] = signature or f"sha256={sign(credential, body)}"
        if event:
            headers["HTTP_X_GITHUB_EVENT"] = event
    return client.post(f"/api/v1/webhooks/{tool}/{slug}", data=body, content_type=content_type, **headers)


def arm(tenant: Tenant, tool: str, make_key: Any) -> str:
    """Give `tenant` what `tool` authenticates with (an ingest key, or a signing secret) and return it."""
    if tool == "alertmanager":
        return make_key(tenant, "ingest", name="alertmanager")
    secret = f"{tenant.slug}-{tool}-webhook-signing-secret-2026"
    with tenant_scope(tenant):
        integration_secret_set(tool=tool, secret=secret, actor=Actor.system("test"))
    return secret


def stored_events(tenant: Tenant) -> int:
    with tenant_scope(tenant):
        return Incident.objects.count() + Deployment.objects.count()


def minutes(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(Decimal("0.01"))


# --- Alertmanager -------------------------------------------------------------------------


@pytest.fixture
def alertmanager_key(acme: Tenant, acme_model: Any, make_key: Any) -> str:
    return arm(acme, "alertmanager", make_key)


class TestAlertmanager:
    def test_firing_then_resolved_gives_one_incident_per_alert_with_its_downtime(self, client, acme, alertmanager_key):
        # when
        firing = deliver(client, "alertmanager", "acme", fixture("alertmanager_firing.json"), alertmanager_key)
        resolved = deliver(client, "alertmanager", "acme", fixture("alertmanager_resolved.json"), alertmanager_key)

        # then
        assert firing.status_code == 201, firing.json()
        assert (firing.json()["created"], firing.json()["valued"]) == (2, 0)  # open: valued once resolved
        assert resolved.status_code == 200, resolved.json()
        assert (resolved.json()["updated"], resolved.json()["valued"]) == (2, 2)
        with tenant_scope(acme):
            critical, warning = Incident.objects.order_by("started_at")
        assert critical.external_id == "alertmanager:5f7c4a1b2e9d3c08:2026-10-05T10:00:00+00:00"
        assert (critical.severity, warning.severity) == ("sev1", "sev3")
        assert (minutes(critical.downtime_minutes), minutes(warning.downtime_minutes)) == (Decimal(42), Decimal(10))
        assert critical.resolved_at == datetime(2026, 10, 5, 10, 42, tzinfo=UTC)
        assert critical.title == "Checkout API 5xx rate above 5% for 5 minutes"
        assert (critical.department, critical.product, critical.affected_services) == (
            "payments",
            "webshop",
            ["checkout"],
        )
        assert critical.downtime_cost > 0

    def test_the_ledger_names_the_key_that_sent_the_alerts(self, client, acme, alertmanager_key):
        deliver(client, "alertmanager", "acme", fixture("alertmanager_resolved.json"), alertmanager_key)
        with tenant_scope(acme):
            assert LedgerRecord.objects.get().actor.startswith("api-key:")

    def test_a_re_sent_alert_is_an_upsert(self, client, acme, alertmanager_key):
        payload = fixture("alertmanager_firing.json")
        deliver(client, "alertmanager", "acme", payload, alertmanager_key)
        again = deliver(client, "alertmanager", "acme", payload, alertmanager_key)
        assert again.status_code == 200
        assert (again.json()["created"], again.json()["updated"]) == (0, 2)
        assert stored_events(acme) == 2

    def test_a_late_firing_re_send_does_not_reopen_a_resolved_incident(self, client, acme, alertmanager_key):
        deliver(client, "alertmanager", "acme", fixture("alertmanager_resolved.json"), alertmanager_key)
        late = deliver(client, "alertmanager", "acme", fixture("alertmanager_firing.json"), alertmanager_key)
        assert late.status_code == 202
        with tenant_scope(acme):
            assert not Incident.objects.filter(resolved_at__isnull=True).exists()

    def test_the_same_alert_firing_again_later_is_a_new_incident(self, client, acme, alertmanager_key):
        deliver(client, "alertmanager", "acme", fixture("alertmanager_resolved.json"), alertmanager_key)
        again = fixture("alertmanager_firing.json")
        again["alerts"] = again["alerts"][:1]
        again["alerts"][0]["startsAt"] = "2026-10-06T03:00:00Z"
        assert deliver(client, "alertmanager", "acme", again, alertmanager_key).status_code == 201
        assert stored_events(acme) == 3

    def test_an_analyst_key_may_send(self, client, acme, acme_model, make_key):
        key = make_key(acme, "analyst")
        assert deliver(client, "alertmanager", "acme", fixture("alertmanager_firing.json"), key).status_code == 201

    def test_a_viewer_key_is_403_and_stores_nothing(self, client, acme, make_key):
        response = deliver(
            client, "alertmanager", "acme", fixture("alertmanager_firing.json"), make_key(acme, "viewer")
        )
        assert response.status_code == 403
        assert stored_events(acme) == 0

    @pytest.mark.parametrize("credential", ["", "bv_deadbeef_not-a-key"])
    def test_a_missing_or_unknown_key_is_401(self, client, acme, credential):
        response = deliver(client, "alertmanager", "acme", fixture("alertmanager_firing.json"), credential)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert stored_events(acme) == 0

    def test_another_tenants_key_is_401_like_any_bad_key(self, client, acme, globex, make_key):
        theirs = arm(globex, "alertmanager", make_key)
        response = deliver(client, "alertmanager", "acme", fixture("alertmanager_firing.json"), theirs)
        unknown = deliver(client, "alertmanager", "acme", fixture("alertmanager_firing.json"), "bv_x_y")
        assert response.status_code == 401
        assert response.json() == unknown.json()
        assert stored_events(acme) == stored_events(globex) == 0

    def test_an_unknown_tenant_is_refused_like_a_bad_key(self, client, acme, alertmanager_key):
        response = deliver(client, "alertmanager", "nope", fixture("alertmanager_firing.json"), alertmanager_key)
        bad_key = deliver(client, "alertmanager", "acme", fixture("alertmanager_firing.json"), "not-a-key")
        assert response.status_code == bad_key.status_code == 401
        assert response.json() == bad_key.json()
        assert response.headers["WWW-Authenticate"] == bad_key.headers["WWW-Authenticate"]

    def test_a_malformed_payload_is_a_400_naming_the_alertmanager_fields(self, client, acme, alertmanager_key):
        payload = fixture("alertmanager_resolved.json")
        payload["version"] = "3"
        del payload["alerts"][0]["startsAt"]
        payload["alerts"][1]["endsAt"] = "yesterday"
        response = deliver(client, "alertmanager", "acme", payload, alertmanager_key)
        assert response.status_code == 400
        assert set(response.json()["errors"]) == {"version", "alerts.0.startsAt", "alerts.1.endsAt"}
        assert stored_events(acme) == 0

    def test_ingestion_errors_name_the_alertmanager_field(self, client, acme, alertmanager_key):
        payload = fixture("alertmanager_resolved.json")
        payload["alerts"][1]["endsAt"] = "2026-10-05T09:00:00Z"  # before startsAt
        payload["alerts"][0]["labels"]["department"] = "pay\x00ments"  # no database column holds a NUL
        response = deliver(client, "alertmanager", "acme", payload, alertmanager_key)
        assert response.status_code == 400
        assert set(response.json()["errors"]) == {"alerts.1.endsAt", "alerts.0.labels.department"}

    def test_errors_name_the_alert_even_when_earlier_ones_are_skipped(self, client, acme, alertmanager_key):
        deliver(client, "alertmanager", "acme", fixture("alertmanager_resolved.json"), alertmanager_key)
        payload = fixture("alertmanager_firing.json")  # alert 0 is already resolved: skipped
        payload["alerts"][1]["startsAt"] = "2026-10-06T00:00:00Z"
        payload["alerts"][1]["labels"]["product"] = "web\x00shop"
        response = deliver(client, "alertmanager", "acme", payload, alertmanager_key)
        assert response.status_code == 400
        assert list(response.json()["errors"]) == ["alerts.1.labels.product"]

    def test_one_notification_may_resolve_one_alert_and_keep_another_firing(self, client, acme, alertmanager_key):
        # given: a group where one alert has cleared and another still fires; Go writes
        # nanoseconds and the sender's own offset, and Prometheus puts a provisional endsAt
        # on the firing alert
        payload = fixture("alertmanager_mixed.json")

        # when
        response = deliver(client, "alertmanager", "acme", payload, alertmanager_key)

        # then: the resolved one has its downtime, the firing one stays open
        assert response.status_code == 201, response.json()
        assert (response.json()["created"], response.json()["valued"]) == (2, 1)
        with tenant_scope(acme):
            resolved = Incident.objects.get(resolved_at__isnull=False)
            firing = Incident.objects.get(resolved_at__isnull=True)
        assert resolved.started_at == datetime(2026, 10, 9, 5, 15, 12, 482913, tzinfo=UTC)
        assert minutes(resolved.downtime_minutes) == Decimal("30.50")
        assert (resolved.severity, resolved.title) == ("sev2", "VolumeLatencyHigh")  # no summary: the alertname
        assert resolved.external_id == "alertmanager:c1d2e3f4a5b60718:2026-10-09T05:15:12.482913+00:00"
        assert firing.downtime_minutes is None and firing.downtime_cost is None
        assert firing.affected_services == ["orders-db"]

    def test_a_resolution_never_seen_firing_is_stored_resolved(self, client, acme, alertmanager_key):
        payload = fixture("alertmanager_resolved.json")
        payload["alerts"] = payload["alerts"][1:]
        response = deliver(client, "alertmanager", "acme", payload, alertmanager_key)
        assert response.status_code == 201
        assert (response.json()["created"], response.json()["valued"]) == (1, 1)
        with tenant_scope(acme):
            assert minutes(Incident.objects.get().downtime_minutes) == Decimal(10)

    def test_repeat_notifications_of_a_firing_alert_then_its_resolution_keep_one_incident(
        self, client, acme, alertmanager_key
    ):
        # Alertmanager re-sends a firing group every repeat_interval, with the same startsAt
        firing = fixture("alertmanager_firing.json")
        answers = [deliver(client, "alertmanager", "acme", firing, alertmanager_key).status_code for _ in range(3)]
        resolved = deliver(client, "alertmanager", "acme", fixture("alertmanager_resolved.json"), alertmanager_key)
        assert answers == [201, 200, 200]
        assert resolved.status_code == 200
        assert stored_events(acme) == 2
        with tenant_scope(acme):
            assert not Incident.objects.filter(resolved_at__isnull=True).exists()

    def test_a_truncated_notification_stores_the_alerts_it_carries(self, client, acme, alertmanager_key):
        payload = fixture("alertmanager_firing.json")
        payload["truncatedAlerts"] = 40  # max_alerts set on the receiver: the rest were left out
        assert deliver(client, "alertmanager", "acme", payload, alertmanager_key).status_code == 201
        assert stored_events(acme) == 2

    def test_a_notification_without_alerts_stores_nothing(self, client, acme, alertmanager_key):
        payload = fixture("alertmanager_firing.json")
        payload["alerts"] = []
        response = deliver(client, "alertmanager", "acme", payload, alertmanager_key)
        assert response.status_code == 202
        assert stored_events(acme) == 0

    def test_labels_longer_than_our_columns_are_cut_not_refused(self, client, acme, alertmanager_key):
        # label values have no length limit in Prometheus; refusing would lose the whole group
        payload = fixture("alertmanager_resolved.json")
        payload["alerts"][0]["labels"] |= {"department": "d" * 150, "product": "p" * 150, "service": "s" * 250}
        assert deliver(client, "alertmanager", "acme", payload, alertmanager_key).status_code == 201
        with tenant_scope(acme):
            incident = Incident.objects.get(external_id__contains="5f7c4a1b2e9d3c08")
        assert (len(incident.department), len(incident.product), len(incident.affected_services[0])) == (100, 100, 200)

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("startsAt", "0001-01-01T00:00:00+01:00"),
            ("startsAt", "2026-10-05 10:00"),
            ("startsAt", 1759658400),
            ("endsAt", "9999-12-31T23:59:59-01:00"),
            ("endsAt", "0001-01-01T00:00:00Z"),
            ("status", "pending"),
            ("fingerprint", None),
            ("labels", ["severity=critical"]),
        ],
    )
    def test_a_bad_alert_field_is_a_400_naming_it(self, client, acme, alertmanager_key, field, value):
        payload = fixture("alertmanager_resolved.json")
        payload["alerts"][1][field] = value
        response = deliver(client, "alertmanager", "acme", payload, alertmanager_key)
        assert response.status_code == 400, response.content
        assert list(response.json()["errors"]) == [f"alerts.1.{field}"]
        assert stored_events(acme) == 0

    @pytest.mark.parametrize("credential", [None, "Basic YWxlcnRtYW5hZ2VyOnNlY3JldA=="])
    def test_no_bearer_key_is_401(self, client, acme, alertmanager_key, credential):
        payload = fixture("alertmanager_firing.json")
        if credential is None:
            response = deliver(client, "alertmanager", "acme", payload, "", unsigned=True)
        else:
            response = client.post(
                "/api/v1/webhooks/alertmanager/acme",
                data=json.dumps(payload),
                content_type="application/json",
                HTTP_AUTHORIZATION=credential,
            )
        assert response.status_code == 401
        assert stored_events(acme) == 0

    @pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'"text"', b"[" * 100_000])
    def test_a_body_that_is_not_a_webhook_is_a_400(self, client, acme, alertmanager_key, body):
        response = deliver(client, "alertmanager", "acme", None, alertmanager_key, body=body)
        assert response.status_code == 400
        assert list(response.json()["errors"]) == ["body"]


@pytest.mark.parametrize(
    ("label", "severity"),
    [
        ("critical", "sev1"),
        ("error", "sev2"),
        ("high", "sev2"),
        ("warning", "sev3"),
        ("info", "sev4"),
        ("CRITICAL", "sev1"),
        ("sev2", "sev2"),
        ("page", "sev3"),
        ("", "sev3"),
    ],
)
def test_alertmanager_severity_labels_map_to_ours(label, severity):
    assert alertmanager_severity(label) == severity


# --- PagerDuty ----------------------------------------------------------------------------


@pytest.fixture
def pagerduty_secret(acme: Tenant, acme_model: Any, make_key: Any) -> str:
    return arm(acme, "pagerduty", make_key)


class TestPagerDuty:
    def test_triggered_then_resolved_gives_one_incident_with_its_downtime(self, client, acme, pagerduty_secret):
        triggered = deliver(client, "pagerduty", "acme", fixture("pagerduty_incident_triggered.json"), pagerduty_secret)
        resolved = deliver(client, "pagerduty", "acme", fixture("pagerduty_incident_resolved.json"), pagerduty_secret)

        assert triggered.status_code == 201, triggered.json()
        assert resolved.status_code == 200, resolved.json()
        with tenant_scope(acme):
            incident = Incident.objects.get()
            record = LedgerRecord.objects.order_by("-sequence").first()
        assert incident.external_id == "pagerduty:Q2K9Z3ABCDEF12"
        assert (incident.severity, incident.title) == ("sev1", "Payments API p99 latency above 2s")
        assert minutes(incident.downtime_minutes) == Decimal(48)
        assert (incident.department, incident.affected_services) == ("payments", ["Payments API"])
        assert incident.value is None and incident.downtime_cost > 0
        assert record.actor == "system:webhook:pagerduty"

    def test_a_re_sent_event_is_an_upsert(self, client, acme, pagerduty_secret):
        payload = fixture("pagerduty_incident_triggered.json")
        deliver(client, "pagerduty", "acme", payload, pagerduty_secret)
        again = deliver(client, "pagerduty", "acme", payload, pagerduty_secret)
        assert again.status_code == 200
        assert (again.json()["created"], again.json()["updated"]) == (0, 1)
        assert stored_events(acme) == 1

    def test_a_resolution_delivered_before_its_trigger_is_kept(self, client, acme, pagerduty_secret):
        deliver(client, "pagerduty", "acme", fixture("pagerduty_incident_resolved.json"), pagerduty_secret)
        late = deliver(client, "pagerduty", "acme", fixture("pagerduty_incident_triggered.json"), pagerduty_secret)
        assert late.status_code == 202
        with tenant_scope(acme):
            assert minutes(Incident.objects.get().downtime_minutes) == Decimal(48)

    def test_any_of_several_signatures_may_match(self, client, acme, pagerduty_secret):
        payload = fixture("pagerduty_incident_triggered.json")
        body = json.dumps(payload).encode()
        header = f"v1={sign('the-old-secret', body)}, v1={sign(pagerduty_secret, body)}"
        response = deliver(client, "pagerduty", "acme", payload, pagerduty_secret, signature=header, body=body)
        assert response.status_code == 201

    @pytest.mark.parametrize(
        "signature",
        ["", "v1=", "v1=deadbeef", "v0=whatever", "v1=é-not-ascii", "sha256=abc"],
    )
    def test_a_bad_signature_is_401_and_stores_nothing(self, client, acme, pagerduty_secret, signature):
        payload = fixture("pagerduty_incident_triggered.json")
        response = deliver(client, "pagerduty", "acme", payload, pagerduty_secret, signature=signature or " ")
        assert response.status_code == 401
        assert "X-PagerDuty-Signature" in response.headers["WWW-Authenticate"]
        assert stored_events(acme) == 0

    def test_a_body_changed_after_signing_is_401(self, client, acme, pagerduty_secret):
        payload = fixture("pagerduty_incident_triggered.json")
        signature = f"v1={sign(pagerduty_secret, json.dumps(payload).encode())}"
        payload["event"]["data"]["priority"]["summary"] = "P5"
        response = deliver(client, "pagerduty", "acme", payload, pagerduty_secret, signature=signature)
        assert response.status_code == 401

    def test_without_a_secret_set_every_delivery_is_401(self, client, acme, acme_model):
        response = deliver(client, "pagerduty", "acme", fixture("pagerduty_incident_triggered.json"), "guess")
        assert response.status_code == 401
        assert stored_events(acme) == 0

    def test_another_tenants_secret_is_401_like_a_wrong_one(self, client, acme, globex, pagerduty_secret, make_key):
        theirs = arm(globex, "pagerduty", make_key)
        payload = fixture("pagerduty_incident_triggered.json")
        response = deliver(client, "pagerduty", "acme", payload, theirs)
        wrong = deliver(client, "pagerduty", "acme", payload, "wrong")
        assert response.status_code == 401
        assert response.json() == wrong.json()
        assert stored_events(acme) == stored_events(globex) == 0

    def test_an_event_it_does_not_use_is_202_and_stores_nothing(self, client, acme, pagerduty_secret):
        response = deliver(
            client, "pagerduty", "acme", fixture("pagerduty_incident_acknowledged.json"), pagerduty_secret
        )
        assert response.status_code == 202
        assert response.json()["stored"] is False
        assert stored_events(acme) == 0

    @pytest.mark.parametrize(
        "name",
        ["pagerduty_ping.json", "pagerduty_incident_acknowledged.json", "pagerduty_incident_priority_updated.json"],
    )
    def test_events_it_does_not_value_change_nothing_stored(self, client, acme, pagerduty_secret, name):
        # given: the incident is known, as P1
        deliver(client, "pagerduty", "acme", fixture("pagerduty_incident_triggered.json"), pagerduty_secret)
        with tenant_scope(acme):
            before = (Incident.objects.get().updated_at, LedgerRecord.objects.count())

        # when
        response = deliver(client, "pagerduty", "acme", fixture(name), pagerduty_secret)

        # then
        assert response.status_code == 202, response.json()
        assert response.json()["stored"] is False
        with tenant_scope(acme):
            incident = Incident.objects.get()
            assert (incident.updated_at, LedgerRecord.objects.count()) == before
        assert (incident.severity, incident.resolved_at) == ("sev1", None)

    def test_the_test_button_ping_is_202_before_any_incident(self, client, acme, pagerduty_secret):
        response = deliver(client, "pagerduty", "acme", fixture("pagerduty_ping.json"), pagerduty_secret)
        assert response.status_code == 202
        assert stored_events(acme) == 0

    def test_a_resolution_without_its_trigger_is_stored_with_its_downtime(self, client, acme, pagerduty_secret):
        response = deliver(client, "pagerduty", "acme", fixture("pagerduty_incident_resolved.json"), pagerduty_secret)
        assert response.status_code == 201
        with tenant_scope(acme):
            incident = Incident.objects.get()
        assert incident.resolved_at == datetime(2026, 10, 7, 9, 3, tzinfo=UTC)
        assert minutes(incident.downtime_minutes) == Decimal(48)

    def test_an_account_without_priorities_or_teams_uses_urgency(self, client, acme, pagerduty_secret):
        payload = fixture("pagerduty_incident_triggered.json")
        payload["event"]["data"] |= {"priority": None, "teams": [], "urgency": "low", "conference_bridge": None}
        assert deliver(client, "pagerduty", "acme", payload, pagerduty_secret).status_code == 201
        with tenant_scope(acme):
            incident = Incident.objects.get()
        assert (incident.severity, incident.department) == ("sev4", "")

    def test_a_reopened_incident_ends_at_its_last_resolution(self, client, acme, pagerduty_secret):
        resolved = fixture("pagerduty_incident_resolved.json")
        reopened = copy.deepcopy(resolved)
        reopened["event"] |= {"event_type": "incident.reopened", "occurred_at": "2026-10-07T09:30:00Z"}
        resolved_again = copy.deepcopy(resolved)
        resolved_again["event"]["occurred_at"] = "2026-10-07T10:15:00.250+01:00"
        for payload in (resolved, reopened, resolved_again):
            deliver(client, "pagerduty", "acme", payload, pagerduty_secret)
        with tenant_scope(acme):
            assert Incident.objects.get().resolved_at == datetime(2026, 10, 7, 9, 15, 0, 250000, tzinfo=UTC)

    @pytest.mark.parametrize("separator", [",", ", ", " , "])
    def test_the_current_signature_may_come_first_or_last(self, client, acme, pagerduty_secret, separator):
        payload = fixture("pagerduty_incident_triggered.json")
        body = json.dumps(payload).encode()
        current, old = f"v1={sign(pagerduty_secret, body)}", f"v1={sign('the-old-secret', body)}"
        for header in (separator.join([current, old]), separator.join([old, current])):
            response = deliver(client, "pagerduty", "acme", payload, pagerduty_secret, signature=header, body=body)
            assert response.status_code in (200, 201)

    def test_a_right_digest_under_another_scheme_is_401(self, client, acme, pagerduty_secret):
        payload = fixture("pagerduty_incident_triggered.json")
        body = json.dumps(payload).encode()
        header = f"v0={sign(pagerduty_secret, body)}, v1={sign('wrong', body)}"
        response = deliver(client, "pagerduty", "acme", payload, pagerduty_secret, signature=header, body=body)
        assert response.status_code == 401
        assert stored_events(acme) == 0

    def test_no_signature_header_is_401(self, client, acme, pagerduty_secret):
        payload = fixture("pagerduty_incident_triggered.json")
        assert deliver(client, "pagerduty", "acme", payload, pagerduty_secret, unsigned=True).status_code == 401
        assert stored_events(acme) == 0

    def test_an_unused_event_with_a_bad_signature_is_still_401(self, client, acme, pagerduty_secret):
        payload = fixture("pagerduty_incident_acknowledged.json")
        assert deliver(client, "pagerduty", "acme", payload, "wrong").status_code == 401

    def test_an_unknown_tenant_is_refused_like_a_bad_signature(self, client, acme, pagerduty_secret):
        payload = fixture("pagerduty_incident_triggered.json")
        unknown = deliver(client, "pagerduty", "nope", payload, pagerduty_secret)
        bad_signature = deliver(client, "pagerduty", "acme", payload, "wrong")
        assert unknown.status_code == bad_signature.status_code == 401
        assert unknown.json() == bad_signature.json()

    def test_a_malformed_event_is_a_400_naming_the_pagerduty_fields(self, client, acme, pagerduty_secret):
        payload = fixture("pagerduty_incident_resolved.json")
        del payload["event"]["data"]["created_at"]
        payload["event"]["occurred_at"] = 17
        payload["event"]["data"]["id"] = {"not": "an id"}
        response = deliver(client, "pagerduty", "acme", payload, pagerduty_secret)
        assert response.status_code == 400
        assert set(response.json()["errors"]) == {"event.data.created_at", "event.occurred_at", "event.data.id"}

    @pytest.mark.parametrize(
        ("payload", "field"), [({"event": "incident.triggered"}, "event"), ({}, "event.event_type"), ([], "body")]
    )
    def test_a_payload_without_an_event_is_a_400(self, client, acme, pagerduty_secret, payload, field):
        response = deliver(client, "pagerduty", "acme", payload, pagerduty_secret)
        assert response.status_code == 400
        assert list(response.json()["errors"]) == [field], response.json()


@pytest.mark.parametrize(
    ("priority", "urgency", "severity"),
    [
        ("P1", "high", "sev1"),
        ("P2", "low", "sev2"),
        ("p3", "high", "sev3"),
        ("P4", "high", "sev4"),
        ("P5", "high", "sev4"),
        ("", "high", "sev2"),
        ("", "low", "sev4"),
        ("", "", "sev3"),
        ("Critical", "low", "sev4"),
        ("SEV-1", "low", "sev1"),
        ("Sev 2", "low", "sev2"),
        ("sev_3", "high", "sev3"),
        ("SEV5", "high", "sev4"),
        ("P0", "high", "sev2"),
        ("P12", "low", "sev4"),
    ],
)
def test_pagerduty_priority_or_urgency_maps_to_our_severity(priority, urgency, severity):
    assert pagerduty_severity(priority, urgency) == severity


# --- GitHub -------------------------------------------------------------------------------


@pytest.fixture
def github_secret(acme: Tenant, make_key: Any) -> str:
    return arm(acme, "github", make_key)


def deployment_status(state: str, **changes: Any) -> dict[str, Any]:
    payload = copy.deepcopy(fixture("github_deployment_status_success.json"))
    payload["deployment_status"]["state"] = state
    payload.update(changes)
    return payload


class TestGitHub:
    def test_a_successful_deployment_is_stored(self, client, acme, github_secret):
        response = deliver(client, "github", "acme", deployment_status("success"), github_secret)
        assert response.status_code == 201, response.json()
        with tenant_scope(acme):
            deployment = Deployment.objects.get()
        assert deployment.external_id == "github:1288449321"
        assert deployment.service == "checkout/production"
        assert deployment.deployed_at == datetime(2026, 10, 8, 14, 31, 7, tzinfo=UTC)
        assert deployment.committed_at == datetime(2026, 10, 8, 11, 58, 40, tzinfo=UTC)
        assert deployment.failed is False

    @pytest.mark.parametrize("state", ["failure", "error"])
    def test_a_failed_status_marks_the_same_deployment_failed(self, client, acme, github_secret, state):
        deliver(client, "github", "acme", deployment_status("success"), github_secret)
        response = deliver(client, "github", "acme", deployment_status(state), github_secret)
        assert response.status_code == 200
        with tenant_scope(acme):
            assert Deployment.objects.get().failed is True

    def test_without_a_workflow_run_the_commit_time_is_left_out(self, client, acme, github_secret):
        payload = deployment_status("success")
        del payload["workflow_run"]
        assert deliver(client, "github", "acme", payload, github_secret).status_code == 201
        with tenant_scope(acme):
            assert Deployment.objects.get().committed_at is None

    @pytest.mark.parametrize(
        ("event", "payload"),
        [
            ("ping", fixture("github_ping.json")),
            ("push", {"ref": "refs/heads/main"}),
            ("deployment_status", deployment_status("pending")),
            ("deployment_status", deployment_status("queued")),
            ("deployment_status", deployment_status("in_progress")),
            ("deployment_status", deployment_status("inactive")),
        ],
    )
    def test_events_and_states_it_does_not_use_are_202_and_store_nothing(
        self, client, acme, github_secret, event, payload
    ):
        response = deliver(client, "github", "acme", payload, github_secret, event=event)
        assert response.status_code == 202
        assert stored_events(acme) == 0

    @pytest.mark.parametrize("signature", ["", "sha256=", "sha256=00ff", "sha1=abc", "nonsense"])
    def test_a_bad_signature_is_401_and_stores_nothing(self, client, acme, github_secret, signature):
        response = deliver(
            client, "github", "acme", deployment_status("success"), github_secret, signature=signature or " "
        )
        assert response.status_code == 401
        assert stored_events(acme) == 0

    def test_a_ping_with_a_bad_signature_is_401(self, client, acme, github_secret):
        assert deliver(client, "github", "acme", fixture("github_ping.json"), "wrong", event="ping").status_code == 401

    def test_a_form_encoded_delivery_is_read_from_its_payload_field(self, client, acme, github_secret):
        # given: "application/x-www-form-urlencoded", the content type GitHub's API defaults
        # to, signed over the form body as sent
        body = urlencode({"payload": json.dumps(deployment_status("failure"))}).encode()

        # when
        response = deliver(client, "github", "acme", None, github_secret, body=body, content_type=FORM)

        # then
        assert response.status_code == 201, response.json()
        with tenant_scope(acme):
            assert Deployment.objects.get().failed is True

    def test_a_form_encoded_ping_is_202(self, client, acme, github_secret):
        body = urlencode({"payload": json.dumps(fixture("github_ping.json"))}).encode()
        response = deliver(client, "github", "acme", None, github_secret, event="ping", body=body, content_type=FORM)
        assert response.status_code == 202

    def test_a_form_body_signed_as_json_is_401(self, client, acme, github_secret):
        payload = deployment_status("success")
        signature = f"sha256={sign(github_secret, json.dumps(payload).encode())}"
        body = urlencode({"payload": json.dumps(payload)}).encode()
        response = deliver(
            client, "github", "acme", None, github_secret, body=body, content_type=FORM, signature=signature
        )
        assert response.status_code == 401
        assert stored_events(acme) == 0

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            (b"payload=", "payload"),
            (b"data=%7B%7D", "payload"),
            (b"payload=%7Bnot+json", "payload"),
            (b"payload=%FF%FE", "body"),
            ("payload=caf\u00e9".encode(), "body"),
        ],
    )
    def test_a_bad_form_body_is_a_400_naming_the_field(self, client, acme, github_secret, body, field):
        response = deliver(client, "github", "acme", None, github_secret, body=body, content_type=FORM)
        assert response.status_code == 400
        assert list(response.json()["errors"]) == [field], response.json()

    def test_a_json_body_that_is_not_json_is_a_400(self, client, acme, github_secret):
        body = urlencode({"payload": "{}"}).encode()  # form body, but labelled as JSON
        response = deliver(client, "github", "acme", None, github_secret, body=body)
        assert response.status_code == 400
        assert list(response.json()["errors"]) == ["body"]

    def test_a_deployment_not_made_by_actions_has_no_commit_time(self, client, acme, github_secret):
        # another deployer (an app, a script) creates the deployment: no workflow, no run
        payload = deployment_status("success", workflow=None, workflow_run=None)
        payload["deployment_status"]["created_at"] = "2026-10-08T16:31:07+02:00"
        assert deliver(client, "github", "acme", payload, github_secret).status_code == 201
        with tenant_scope(acme):
            deployment = Deployment.objects.get()
        assert deployment.committed_at is None
        assert deployment.deployed_at == datetime(2026, 10, 8, 14, 31, 7, tzinfo=UTC)

    def test_the_statuses_of_one_deployment_end_as_one_deployment(self, client, acme, github_secret):
        # the order GitHub Actions sends them in: queued, in_progress, success; later inactive
        states = ["queued", "in_progress", "success", "inactive"]
        answers = [deliver(client, "github", "acme", deployment_status(s), github_secret).status_code for s in states]
        assert answers == [202, 202, 201, 202]
        with tenant_scope(acme):
            assert Deployment.objects.get().failed is False

    def test_a_long_environment_name_is_cut_to_fit(self, client, acme, github_secret):
        payload = deployment_status("success")
        payload["deployment"]["environment"] = "review/" + "x" * 240
        assert deliver(client, "github", "acme", payload, github_secret).status_code == 201
        with tenant_scope(acme):
            assert len(Deployment.objects.get().service) == 200

    def test_only_the_sha1_signature_is_401(self, client, acme, github_secret):
        payload = deployment_status("success")
        body = json.dumps(payload).encode()
        response = deliver(
            client,
            "github",
            "acme",
            payload,
            github_secret,
            body=body,
            unsigned=True,
            HTTP_X_HUB_SIGNATURE="sha1=" + hmac.new(github_secret.encode(), body, hashlib.sha1).hexdigest(),
        )
        assert response.status_code == 401
        assert stored_events(acme) == 0

    def test_a_delivery_without_an_event_header_is_202(self, client, acme, github_secret):
        assert (
            deliver(client, "github", "acme", deployment_status("success"), github_secret, event="").status_code == 202
        )
        assert stored_events(acme) == 0

    def test_a_malformed_deployment_is_a_400_naming_the_github_fields(self, client, acme, github_secret):
        payload = deployment_status("success")
        del payload["deployment"]["id"]
        payload["repository"]["name"] = ["checkout"]
        payload["deployment_status"]["created_at"] = "2026-10-08 14:31"
        response = deliver(client, "github", "acme", payload, github_secret)
        assert response.status_code == 400
        assert set(response.json()["errors"]) == {
            "deployment.id",
            "repository.name",
            "deployment_status.created_at",
        }
        assert stored_events(acme) == 0


# --- Tenant isolation ---------------------------------------------------------------------


@pytest.mark.parametrize("tool", list(STORING))
def test_tenant_b_cannot_write_into_tenant_a(client, acme, globex, acme_model, make_key, tool):
    # given: both tenants are set up for the tool
    arm(acme, tool, make_key)
    theirs = arm(globex, tool, make_key)

    # when: globex's credential is used on acme's path
    response = deliver(client, tool, "acme", fixture(STORING[tool]), theirs)

    # then
    assert response.status_code == 401
    assert stored_events(acme) == stored_events(globex) == 0
    # and on its own path the same delivery is accepted, into globex only
    assert deliver(client, tool, "globex", fixture(STORING[tool]), theirs).status_code == 201
    assert (stored_events(acme), stored_events(globex)) == (0, 1 if tool != "alertmanager" else 2)


OPEN_THEN_CLOSED = {
    "alertmanager": ("alertmanager_firing.json", "alertmanager_resolved.json"),
    "pagerduty": ("pagerduty_incident_triggered.json", "pagerduty_incident_resolved.json"),
}


@pytest.mark.parametrize("tool", list(OPEN_THEN_CLOSED))
def test_the_same_incident_ids_in_two_tenants_stay_apart(client, acme, globex, acme_model, make_key, tool):
    # given: acme has the incidents resolved
    opened, closed = OPEN_THEN_CLOSED[tool]
    ours, theirs = arm(acme, tool, make_key), arm(globex, tool, make_key)
    deliver(client, tool, "acme", fixture(closed), ours)

    # when: globex's tool reports the same ids, still open
    response = deliver(client, tool, "globex", fixture(opened), theirs)

    # then: globex gets its own open incidents (acme's resolution neither hides nor closes them)
    assert response.status_code == 201, response.json()
    with tenant_scope(globex):
        assert not Incident.objects.filter(resolved_at__isnull=False).exists()
    with tenant_scope(acme):
        assert not Incident.objects.filter(resolved_at__isnull=True).exists()
    assert stored_events(acme) == stored_events(globex)


def test_the_same_deployment_id_in_two_tenants_stays_apart(client, acme, globex, make_key):
    ours, theirs = arm(acme, "github", make_key), arm(globex, "github", make_key)
    deliver(client, "github", "acme", deployment_status("success"), ours)
    response = deliver(client, "github", "globex", deployment_status("failure"), theirs)
    assert response.status_code == 201
    with tenant_scope(acme):
        assert Deployment.objects.get().failed is False
    with tenant_scope(globex):
        assert Deployment.objects.get().failed is True


# --- Concurrent deliveries ----------------------------------------------------------------


def test_a_trigger_racing_its_resolution_does_not_reopen_it(
    transactional_db, live_server, acme, acme_model, make_key, monkeypatch
):
    # given: the trigger is held between its "already resolved?" read and its write, long
    # enough for the resolution to be delivered meanwhile
    secret = arm(acme, "pagerduty", make_key)
    checked = threading.Event()
    read_then_write = storage.without_reopening

    def slow_read(incidents: list[dict[str, Any]]) -> list[dict[str, Any]]:
        kept = read_then_write(incidents)
        if any(not incident.get("resolved_at") for incident in incidents):
            checked.set()
            time.sleep(1.5)
        return kept

    monkeypatch.setattr(storage, "without_reopening", slow_read)

    def post(name: str) -> int:
        body = json.dumps(fixture(name)).encode()
        headers = {"X-PagerDuty-Signature": f"v1={sign(secret, body)}"}
        return post_json(f"{live_server.url}/api/v1/webhooks/pagerduty/acme", "", json.loads(body), headers=headers)

    # when
    with ThreadPoolExecutor(max_workers=2) as pool:
        triggered = pool.submit(post, "pagerduty_incident_triggered.json")
        assert checked.wait(timeout=30)
        resolved = pool.submit(post, "pagerduty_incident_resolved.json")
        statuses = {triggered.result(), resolved.result()}

    # then: whichever order the database saw them in, the incident ends resolved
    assert statuses <= {200, 201, 202}
    with tenant_scope(acme):
        incident = Incident.objects.get()
    assert minutes(incident.downtime_minutes) == Decimal(48)
