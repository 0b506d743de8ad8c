"""KPI alerts: each rule on a crafted tenant, once however often evaluated, lifecycle, delivery, isolation."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from dashboards import alert_delivery
from dashboards.alerts import alerts_evaluate
from dashboards.escalations import escalation_settings_update
from dashboards.models import Alert, EscalationSettings
from governance.ledger import Actor
from governance.tenancy import tenant_scope
from roi.ingestion import events_ingest
from roi.services import business_kpis_update
from tests.conftest import _member
from tests.dashboards.conftest import SYSTEM, month_start
from tests.fake_network import PUBLIC_V4

pytestmark = pytest.mark.django_db


def set_targets(tenant, value="100000", roi="300", prevention="50000") -> None:
    sections = {"alerts": {"monthly_value_target": value, "roi_target": roi, "incident_prevention_target": prevention}}
    with tenant_scope(tenant):
        business_kpis_update(actor=SYSTEM, sections=sections, change_reason="test targets")


def evaluate(tenant) -> dict[str, Alert]:
    """Evaluate the tenant's rules; its unresolved alerts by rule."""
    with tenant_scope(tenant):
        alerts_evaluate()
        return {alert.rule: alert for alert in Alert.objects.filter(status__in=["open", "acknowledged"])}


def week_start(tenant_now):
    today = tenant_now.replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=today.weekday())


def incidents(tenant, weekly_counts: list[int], prefix="i") -> None:
    """Real incidents: weekly_counts[-1] this ISO week (from Monday 00:00), the others the weeks before."""
    this_week = week_start(timezone.now())
    payload = []
    for back, count in enumerate(reversed(weekly_counts)):
        start = this_week - timedelta(weeks=back) + (timedelta(days=1) if back else timedelta())
        for n in range(count):
            moment = start + timedelta(seconds=n)
            payload.append(
                {
                    "external_id": f"{prefix}-{back}-{n}",
                    "severity": "sev3",
                    "started_at": moment.isoformat(),
                    "downtime_minutes": 5,
                }
            )
    if payload:
        with tenant_scope(tenant):
            events_ingest(actor=SYSTEM, kind="incidents", payload=payload)


# --- Rules ----------------------------------------------------------------------------


class TestValueBelowTarget:
    def test_it_fires_for_the_last_month_and_notifies_the_cfo(self, acme, history):
        alert = evaluate(acme)["value_below_target"]
        assert alert.period == f"{history[1]:%Y-%m}"
        assert (str(alert.measured), str(alert.threshold)) == ("750.0000", "100000.0000")
        assert alert.escalation == "notify_cfo" and alert.status == "open"

    def test_it_does_not_fire_when_the_month_met_its_target(self, acme, history):
        set_targets(acme, value="750")
        assert "value_below_target" not in evaluate(acme)

    def test_a_tenant_without_events_is_not_judged(self, acme, acme_model):
        assert evaluate(acme) == {}


class TestPreventionBelowTarget:
    def test_it_fires_as_an_executive_alert(self, acme, history):
        alert = evaluate(acme)["prevention_below_target"]  # the only prevented incident is this month's
        assert alert.escalation == "executive_alert" and alert.measured == 0

    def test_it_does_not_fire_when_the_target_is_met(self, acme, history):
        set_targets(acme, prevention="0")
        assert "prevention_below_target" not in evaluate(acme)


class TestRoiBelowTarget:
    def test_it_fires_for_the_fiscal_year_as_a_board_review(self, acme, history):
        set_targets(acme, roi="1000000")  # the prevented sev1 alone returns many times its cost
        alert = evaluate(acme)["roi_below_target"]
        assert alert.escalation == "board_review" and alert.period == "FY" + str(
            history[0].year + (history[0].month >= 4)
        )
        assert 0 < alert.measured < 1000000 and alert.unit == "percent"

    def test_it_does_not_fire_above_target(self, acme, history):
        set_targets(acme, roi="0")  # the ROI is positive
        assert "roi_below_target" not in evaluate(acme)

    def test_it_is_not_judged_without_any_cost(self, acme, acme_model):
        incidents(acme, [1])
        assert "roi_below_target" not in evaluate(acme)


class TestIncidentSurge:
    def test_it_fires_above_mean_plus_three_sigma(self, acme, acme_model):
        incidents(acme, [1, 0, 1, 0, 1, 0, 1, 0, 5])  # mean 0.5, sigma 0.5: threshold 2, and 4.5 above the mean
        alert = evaluate(acme)["incident_surge"]
        assert alert.escalation == "executive_alert" and alert.measured == 5
        assert str(alert.threshold) == "2.0000"
        assert alert.detail["weekly_counts"] == [1, 0, 1, 0, 1, 0, 1, 0]
        iso_year, iso_week, _ = week_start(timezone.now()).isocalendar()
        assert alert.period == f"{iso_year}-W{iso_week:02d}"

    def test_it_needs_three_more_than_the_mean(self, acme, acme_model):
        incidents(acme, [1, 0, 1, 0, 1, 0, 1, 0, 3])  # above mean + 3 sigma, but only 2.5 above the mean
        assert "incident_surge" not in evaluate(acme)

    def test_a_noisy_history_raises_the_bar(self, acme, acme_model):
        incidents(acme, [0, 6, 0, 6, 0, 6, 0, 6, 8])  # mean 3, sigma 3: 8 is not above 12
        assert "incident_surge" not in evaluate(acme)

    def test_prevented_incidents_do_not_count(self, acme, history):
        # history holds a prevented incident this week or earlier this month: no surge from it
        assert "incident_surge" not in evaluate(acme)


# --- Once, however often ---------------------------------------------------------------


def test_an_alert_fires_once_however_often_the_rules_run(acme, history):
    for _ in range(3):
        evaluate(acme)
    with tenant_scope(acme):
        alerts = list(Alert.objects.all())
        assert sorted(a.rule for a in alerts) == ["prevention_below_target", "value_below_target"]
        assert all(a.history.count() == 1 for a in alerts)  # created, never touched again


def test_a_rule_met_again_resolves_its_alert_and_can_fire_again(acme, history):
    first = evaluate(acme)["value_below_target"]
    set_targets(acme, value="500")
    assert "value_below_target" not in evaluate(acme)
    with tenant_scope(acme):
        first.refresh_from_db()
        assert first.status == "resolved" and first.resolved_by_actor == "system:alert-evaluation"
    set_targets(acme, value="100000")  # the figure falls below the target again: a new alert
    second = evaluate(acme)["value_below_target"]
    assert second.pk != first.pk and second.period == first.period


def test_an_alert_a_person_resolved_stays_resolved_for_its_period(acme, history, tara):
    from dashboards.alerts import alert_resolve

    alert = evaluate(acme)["value_below_target"]
    with tenant_scope(acme):
        alert_resolve(alert_id=alert.pk, actor=Actor.of_user(tara))
    assert "value_below_target" not in evaluate(acme)
    with tenant_scope(acme):
        assert Alert.objects.filter(rule="value_below_target").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_evaluations_in_parallel_fire_once(acme, history):
    """Both transactions insert; the partial unique index makes the second wait, then lose.

    (On SQLite the second waits earlier, at its BEGIN IMMEDIATE, then finds the alerts open.)
    """
    barrier = threading.Barrier(2)
    opened: list[int] = []
    errors: list[BaseException] = []

    def hold_the_transaction_open(alert: Alert) -> None:
        opened.append(alert.pk)
        time.sleep(0.5)  # the other evaluation now blocks on the index entry

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            with tenant_scope(acme):
                alerts_evaluate(on_open=hold_the_transaction_open)
        except BaseException as error:  # surfaced in the main thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with tenant_scope(acme):
        stored = list(Alert.objects.values_list("pk", "rule"))
    assert sorted(rule for _, rule in stored) == ["prevention_below_target", "value_below_target"]
    assert sorted(opened) == sorted(pk for pk, _ in stored)  # delivery would be queued once per alert


# --- Lifecycle over the API and the page -------------------------------------------------


@pytest.fixture
def fired(acme, history) -> Alert:
    return evaluate(acme)["value_below_target"]


def test_the_lifecycle_records_who_and_when_with_history(api, acme, fired):
    ann = _member("ann", acme, "analyst")
    api.force_login(ann)
    acknowledged = api.post(f"/api/v1/alerts/{fired.pk}/acknowledge")
    assert acknowledged.status_code == 200, acknowledged.content
    assert acknowledged.json()["status"] == "acknowledged" and acknowledged.json()["acknowledged_by"] == "user:ann"
    again = api.post(f"/api/v1/alerts/{fired.pk}/acknowledge").json()
    assert again["acknowledged_at"] == acknowledged.json()["acknowledged_at"]  # the first acknowledgement stands
    resolved = api.post(f"/api/v1/alerts/{fired.pk}/resolve").json()
    assert resolved["status"] == "resolved" and resolved["resolved_by"] == "user:ann" and resolved["resolved_at"]
    with tenant_scope(acme):
        alert = Alert.objects.get(pk=fired.pk)
        assert alert.acknowledged_by == ann and alert.resolved_by == ann
        steps = list(alert.history.order_by("history_id").values_list("status", "history_user_id"))
    assert steps == [("open", None), ("acknowledged", ann.pk), ("resolved", ann.pk)]
    refused = api.post(f"/api/v1/alerts/{fired.pk}/acknowledge")
    assert refused.status_code == 400 and list(refused.json()["errors"]) == ["status"]


def test_the_list_filters_by_status_and_shows_delivery(api_as, acme, fired):
    viewer = api_as(acme, "viewer")
    listed = viewer.get("/api/v1/alerts", {"status": "open"}).json()
    assert fired.pk in [row["id"] for row in listed["results"]]
    assert listed["results"][0]["delivery"]["email_attempts"] == 0
    assert viewer.get("/api/v1/alerts", {"status": "resolved"}).json()["count"] == 0
    assert list(viewer.get("/api/v1/alerts", {"status": "nope"}).json()["errors"]) == ["status"]
    assert viewer.post(f"/api/v1/alerts/{fired.pk}/acknowledge").status_code == 403
    assert api_as(acme, "analyst").post("/api/v1/alerts/999999/resolve").status_code == 404


def test_the_overview_and_executive_api_show_the_stored_alerts(client, api_as, bob, acme, fired):
    executive = api_as(acme, "viewer").get("/api/v1/dashboard/executive").json()
    shown = {row["id"]: row for row in executive["open_alerts"]}
    assert shown[fired.pk]["kind"] == "value_below_target" and shown[fired.pk]["target"] == "100000.00"
    client.force_login(bob)
    page = client.get("/t/acme/").content.decode()
    assert fired.message in page and "/t/acme/alerts/" in page


def test_the_alerts_page_acknowledges_and_resolves(client, acme, fired, django_assert_max_num_queries):
    ann = _member("ann", acme, "analyst")
    client.force_login(ann)
    with django_assert_max_num_queries(20):
        page = client.get("/t/acme/alerts/")
    assert page.status_code == 200 and 'value="acknowledge"' in page.content.decode()
    response = client.post("/t/acme/alerts/", {"alert": fired.pk, "action": "acknowledge"})
    assert response.status_code == 302
    client.post("/t/acme/alerts/", {"alert": fired.pk, "action": "resolve"})
    with tenant_scope(acme):
        fired.refresh_from_db()
    assert (fired.status, fired.acknowledged_by, fired.resolved_by) == ("resolved", ann, ann)
    assert "resolved by user:ann" in client.get("/t/acme/alerts/?status=resolved").content.decode()


def test_a_viewer_sees_the_alerts_page_without_buttons(client, bob, fired):
    client.force_login(bob)
    page = client.get("/t/acme/alerts/").content.decode()
    assert fired.message in page and 'value="acknowledge"' not in page
    assert client.post("/t/acme/alerts/", {"alert": fired.pk, "action": "resolve"}).status_code == 403


def test_another_tenant_sees_and_touches_none_of_the_alerts(api_as, client, acme, globex, gus, fired):
    globex_admin = api_as(globex, "tenant_admin")
    assert globex_admin.get("/api/v1/alerts").json()["count"] == 0
    assert globex_admin.post(f"/api/v1/alerts/{fired.pk}/resolve").status_code == 404
    assert globex_admin.get("/api/v1/dashboard/executive").json()["open_alerts"] == []
    client.force_login(gus)
    assert fired.message not in client.get("/t/globex/alerts/").content.decode()
    assert client.post("/t/globex/alerts/", {"alert": fired.pk, "action": "resolve"}).status_code == 404
    assert client.get("/t/acme/alerts/").status_code == 404
    with tenant_scope(acme):
        fired.refresh_from_db()
    assert fired.status == "open"


# --- Escalation settings ------------------------------------------------------------------


def test_escalation_settings_by_role_and_by_name(api_as, acme, bob, alice):
    admin = api_as(acme, "tenant_admin")
    defaults = admin.get("/api/v1/config/escalations").json()
    assert defaults["recipients"]["notify_cfo"] == {"roles": ["finance_admin"], "users": []}
    assert defaults["webhook_secret_set"] is False
    body = {"recipients": {"notify_cfo": {"roles": [], "users": ["bob"]}}}
    changed = admin.put("/api/v1/config/escalations", body, format="json").json()
    assert changed["recipients"]["notify_cfo"] == {"roles": [], "users": ["bob"]}
    assert changed["recipients"]["board_review"]["roles"] == ["finance_admin", "tenant_admin"]  # kept
    with tenant_scope(acme):
        assert EscalationSettings.objects.get().recipients["notify_cfo"]["users"] == [bob.pk]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"recipients": {"notify_cfo": {"users": ["charlie"]}}}, "recipients.notify_cfo.users"),
        ({"recipients": {"notify_cfo": {"roles": ["king"]}}}, "recipients.notify_cfo.roles"),
        ({"recipients": {"tea_break": {"roles": []}}}, "recipients.tea_break"),
        ({"recipients": ["notify_cfo"]}, "recipients"),
        ({"webhook_url": "ftp://example.com/x", "webhook_secret": "s"}, "webhook_url"),
        ({"webhook_url": "https://hooks.example.com/x"}, "webhook_secret"),
    ],
)
def test_escalation_settings_errors_name_the_field(api_as, acme, charlie, body, field):
    response = api_as(acme, "tenant_admin").put("/api/v1/config/escalations", body, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]


def test_the_webhook_secret_is_stored_encrypted_and_never_shown(api_as, acme):
    admin = api_as(acme, "tenant_admin")
    body = {
        "webhook_url": "https://hooks.example.com/services/T0",
        "webhook_secret": "very-secret-signing-key-7a6b5c4d3e2f",
    }
    shown = admin.put("/api/v1/config/escalations", body, format="json")
    assert shown.status_code == 200 and "very-secret" not in shown.content.decode()
    assert shown.json()["webhook_secret_set"] is True
    with tenant_scope(acme):
        row = EscalationSettings.objects.get()
        assert "very-secret" not in row.webhook_secret_ciphertext
        from dashboards.escalations import webhook_secret

        assert webhook_secret(row) == "very-secret-signing-key-7a6b5c4d3e2f"
        assert "very-secret" not in json.dumps(list(row.history.values()), default=str)


# --- Delivery ---------------------------------------------------------------------------


def with_email(user, address):
    user.email = address
    user.save()
    return user


def test_email_goes_to_the_escalations_recipients_once(acme, fired, alice, bob, tara, carol):
    with_email(alice, "alice@acme.example")  # finance admin: the CFO by default
    with_email(tara, "tara@acme.example")
    with_email(bob, "bob@acme.example")
    assert alert_delivery.alert_deliver(tenant=acme, alert_id=fired.pk, channel="email") == "e-mailed 1"
    assert [message.to for message in mail.outbox] == [["alice@acme.example"]]
    assert "Notify the CFO" in mail.outbox[0].subject and "100000.00" in mail.outbox[0].body
    assert alert_delivery.alert_deliver(tenant=acme, alert_id=fired.pk, channel="email") == "nothing to send"
    assert len(mail.outbox) == 1
    with tenant_scope(acme):
        fired.refresh_from_db()
        assert fired.emailed_at is not None and fired.email_attempts == 1
        escalation_settings_update(
            actor=SYSTEM, recipients={"executive_alert": {"roles": ["viewer"], "users": ["tara"]}}
        )
    prevention = evaluate(acme)["prevention_below_target"]
    alert_delivery.alert_deliver(tenant=acme, alert_id=prevention.pk, channel="email")
    assert sorted(message.to[0] for message in mail.outbox[1:]) == ["bob@acme.example", "tara@acme.example"]


def test_a_delivery_never_queued_is_swept_up_by_the_next_evaluation(acme, fired, alice):
    # given: an alert opened while the broker was down (no delivery task, no attempt) 10 minutes ago
    with_email(alice, "alice@acme.example")
    with tenant_scope(acme):
        fired.opened_at = timezone.now() - timedelta(minutes=10)
        fired.save()
        # then: its e-mail is pending; the webhook is not, as none is configured
        assert alert_delivery.deliveries_never_queued() == [(fired.pk, "email")]
    # and once a delivery has been tried it is no longer the sweep's business (retries own it)
    alert_delivery.alert_deliver(tenant=acme, alert_id=fired.pk, channel="email")
    with tenant_scope(acme):
        assert alert_delivery.deliveries_never_queued() == []


def test_a_fresh_alert_is_left_to_the_task_queued_with_it(acme, fired, alice):
    with_email(alice, "alice@acme.example")
    with tenant_scope(acme):
        assert alert_delivery.deliveries_never_queued() == []


@pytest.fixture
def receiver(settings):
    """A real local HTTP server that answers the statuses queued in `statuses` (or (status, Location)), then 200."""
    settings.ALERT_WEBHOOK_ALLOW_PRIVATE_HOSTS = True
    received: list[SimpleNamespace] = []
    statuses: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            received.append(SimpleNamespace(at=time.monotonic(), path=self.path, headers=self.headers, body=body))
            status = statuses.pop(0) if statuses else 200
            status, location = status if isinstance(status, tuple) else (status, "")
            self.send_response(status)
            if location:
                self.send_header("Location", location)
            self.end_headers()
            self.wfile.write(b"ok")

        do_GET = do_POST  # a followed redirect would arrive as a GET

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield SimpleNamespace(url=f"http://127.0.0.1:{server.server_port}/hook", received=received, statuses=statuses)
    server.shutdown()
    server.server_close()


SECRET = "hook-signing-secret-5d4c3b2a1f0e9d8c"


def signature_is_valid(request: SimpleNamespace) -> bool:
    timestamp = request.headers["X-BizValue-Timestamp"]
    expected = hmac.new(SECRET.encode(), timestamp.encode() + b"." + request.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(request.headers["X-BizValue-Signature"], f"v1={expected}")


def arm_webhook(tenant, url: str) -> None:
    with tenant_scope(tenant):
        escalation_settings_update(actor=SYSTEM, webhook_url=url, webhook_secret=SECRET)


def test_the_webhook_is_slack_compatible_and_signed(acme, fired, receiver):
    arm_webhook(acme, receiver.url)
    assert alert_delivery.alert_deliver(tenant=acme, alert_id=fired.pk, channel="webhook") == "posted (200)"
    [request] = receiver.received
    assert signature_is_valid(request)
    assert request.headers["X-BizValue-Delivery"] == f"alert-{fired.pk}"
    body = json.loads(request.body)
    assert "Notify the CFO" in body["text"] and body["blocks"][0]["type"] == "header"
    assert body["bizvalue"]["id"] == fired.pk and body["bizvalue"]["tenant"] == "acme"
    assert alert_delivery.alert_deliver(tenant=acme, alert_id=fired.pk, channel="webhook") == "nothing to send"
    assert len(receiver.received) == 1


def test_a_5xx_is_transient_and_a_4xx_is_not(acme, fired, receiver):
    arm_webhook(acme, receiver.url)
    receiver.statuses.extend([503, 404])
    with pytest.raises(alert_delivery.WebhookTransientError):
        alert_delivery.alert_deliver(tenant=acme, alert_id=fired.pk, channel="webhook")
    with pytest.raises(alert_delivery.WebhookRefused):
        alert_delivery.alert_deliver(tenant=acme, alert_id=fired.pk, channel="webhook")
    with tenant_scope(acme):
        fired.refresh_from_db()
    assert fired.webhook_attempts == 2 and fired.webhook_delivered_at is None
    assert all(signature_is_valid(request) for request in receiver.received)


@pytest.mark.parametrize("weak", ["0", "a", "hook-signing-secret", "x" * 40])
def test_a_weak_webhook_secret_is_a_400_naming_it(api_as, acme, weak):
    body = {"webhook_url": "https://hooks.example.com/services/T0", "webhook_secret": weak}
    response = api_as(acme, "tenant_admin").put("/api/v1/config/escalations", body, format="json")
    assert response.status_code == 400 and list(response.json()["errors"]) == ["webhook_secret"]
    assert "Too weak" in response.json()["errors"]["webhook_secret"][0]


def test_a_weak_webhook_secret_stored_before_the_minimum_posts_nothing_until_reset(acme, fired, receiver):
    from dashboards.escalations import _secret_context
    from governance.secrets import encrypt

    arm_webhook(acme, receiver.url)
    with tenant_scope(acme):  # as stored before secrets had a minimum strength
        row = EscalationSettings.objects.get()
        row.webhook_secret_key_id, row.webhook_secret_ciphertext = encrypt("0", context=_secret_context(row))
        row.save()

    with pytest.raises(alert_delivery.WebhookRefused, match="weaker than the minimum"):
        alert_delivery.alert_deliver(tenant=acme, alert_id=fired.pk, channel="webhook")
    assert receiver.received == []

    arm_webhook(acme, receiver.url)  # a tenant admin sets a strong one
    assert alert_delivery.alert_deliver(tenant=acme, alert_id=fired.pk, channel="webhook") == "posted (200)"
    assert signature_is_valid(receiver.received[0])


def test_a_webhook_to_a_private_address_is_refused_by_default(acme, fired, receiver, settings):
    arm_webhook(acme, receiver.url)
    settings.ALERT_WEBHOOK_ALLOW_PRIVATE_HOSTS = False
    with pytest.raises(alert_delivery.WebhookRefused, match="non-public"):
        alert_delivery.alert_deliver(tenant=acme, alert_id=fired.pk, channel="webhook")
    assert receiver.received == []


@pytest.mark.parametrize("target", ["http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:{port}/internal"])
def test_a_webhook_redirect_is_refused_not_followed(acme, fired, receiver, target):
    # given: the receiver (a local one, allowed by setting) redirects to an internal address
    arm_webhook(acme, receiver.url)
    receiver.statuses.append((302, target.format(port=receiver.url.split(":")[2].split("/")[0])))
    # when / then: refused like a 4xx (no retry), and nothing but the POST itself was sent
    with pytest.raises(alert_delivery.WebhookRefused, match="redirects are not followed"):
        alert_delivery.alert_deliver(tenant=acme, alert_id=fired.pk, channel="webhook")
    assert [request.path for request in receiver.received] == ["/hook"]


def test_a_webhook_name_rebound_to_an_internal_address_after_the_check_is_not_reached(
    acme, fired, receiver, settings, dns, network
):
    # given: a name that answers a public address to the check, then the local receiver
    port = receiver.url.split(":")[2].split("/")[0]
    arm_webhook(acme, f"http://hooks.rebind.test:{port}/hook")
    settings.ALERT_WEBHOOK_ALLOW_PRIVATE_HOSTS = False
    dns["hooks.rebind.test"] = [PUBLIC_V4, "127.0.0.1"]
    # when: the connection goes to the public address it checked (unreachable in tests)
    with pytest.raises(alert_delivery.WebhookTransientError):
        alert_delivery.alert_deliver(tenant=acme, alert_id=fired.pk, channel="webhook")
    # then
    assert network == [PUBLIC_V4]
    assert receiver.received == []


@pytest.mark.parametrize("host", ["[::1]", "[::ffff:127.0.0.1]", "[::ffff:a9fe:a9fe]", "[fe80::1]"])
def test_a_webhook_to_an_ipv6_internal_address_is_refused(acme, fired, settings, host, network):
    arm_webhook(acme, f"http://{host}/hook")
    settings.ALERT_WEBHOOK_ALLOW_PRIVATE_HOSTS = False
    with pytest.raises(alert_delivery.WebhookRefused, match="non-public"):
        alert_delivery.alert_deliver(tenant=acme, alert_id=fired.pk, channel="webhook")
    assert network == []


def test_evaluation_after_ingestion_is_queued_once_per_transaction(
    acme, acme_model, django_capture_on_commit_callbacks
):
    start = month_start(timezone.now())
    with django_capture_on_commit_callbacks() as callbacks, tenant_scope(acme):
        for n in range(3):
            events_ingest(
                actor=SYSTEM,
                kind="incidents",
                payload={"external_id": f"x{n}", "severity": "sev4", "started_at": start.isoformat()},
            )
    assert [getattr(callback, "marker", None) for callback in callbacks] == [("alerts-evaluate", acme.pk)]


def stored_alert(tenant) -> Alert:
    """An open alert of `tenant`, stored directly (for route and isolation tables)."""
    with tenant_scope(tenant):
        return Alert.objects.create(
            rule="value_below_target",
            period="2020-01",
            escalation="notify_cfo",
            unit="money",
            measured=1,
            threshold=2,
            message=f"{tenant.slug}-alert: value created in 2020-01 is below the monthly target.",
        )


def test_rotating_the_encryption_key_reencrypts_the_webhook_secret(acme, settings):
    import base64
    import os
    from io import StringIO

    from django.core.management import call_command

    from dashboards.escalations import webhook_secret

    old, new = os.urandom(32), os.urandom(32)
    settings.FIELD_ENCRYPTION_KEYS = {"old": old}
    arm_webhook(acme, "https://hooks.example.com/services/T0")
    settings.FIELD_ENCRYPTION_KEYS = {"new": new, "old": old}
    out = StringIO()
    call_command("rotate_encryption_key", stdout=out)
    assert "Re-encrypted 1 secret(s) with key 'new'" in out.getvalue()
    settings.FIELD_ENCRYPTION_KEYS = {"new": new}  # the old key retired
    with tenant_scope(acme):
        row = EscalationSettings.objects.get()
        assert row.webhook_secret_key_id == "new" and webhook_secret(row) == SECRET
    assert base64.b64decode(row.webhook_secret_ciphertext)  # still a sealed value, not the plaintext


@pytest.mark.parametrize("table", ["dashboards_historicalalert", "dashboards_historicalescalationsettings"])
def test_alert_history_is_append_only(acme, fired, table):
    from django.db import DatabaseError, transaction

    from governance.tenancy import HistoryBypassRefused

    with tenant_scope(acme):
        escalation_settings_update(actor=SYSTEM, recipients={"notify_cfo": {"roles": ["viewer"]}})
        for statement in (f"UPDATE {table} SET history_type = '~'", f"DELETE FROM {table}"):
            with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(statement)
        with pytest.raises(HistoryBypassRefused):
            Alert.objects.update(status="resolved")
        assert Alert.objects.get(pk=fired.pk).history.count() == 1


@pytest.mark.parametrize("url", ["http://[", "javascript:alert(1)", "https://", 42])
def test_a_malformed_webhook_url_is_a_400(api_as, acme, url):
    body = {"webhook_url": url, "webhook_secret": "s"}
    response = api_as(acme, "tenant_admin").put("/api/v1/config/escalations", body, format="json")
    assert response.status_code == 400 and list(response.json()["errors"]) == ["webhook_url"]


def test_a_huge_alert_id_is_a_404(api_as, acme):
    assert api_as(acme, "analyst").post(f"/api/v1/alerts/{10**30}/acknowledge").status_code == 404


def test_evaluation_runs_a_fixed_number_of_queries_however_many_incidents(acme, history):
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with tenant_scope(acme), CaptureQueriesContext(connection) as captured:
            alerts_evaluate()
        return len(captured)

    incidents(acme, [1, 1])
    evaluate(acme)  # opens this month's alerts; later runs find them
    few = queries()
    incidents(acme, [40, 40, 40, 40, 40, 40, 40, 40, 40], prefix="many")
    many = queries()
    print(f"alert evaluation: {few} queries, then {many} with 360 more incidents")
    assert many == few <= 10


def test_the_alert_list_runs_a_bounded_number_of_queries(api_as, acme, history, django_assert_max_num_queries):
    viewer = api_as(acme, "viewer")
    evaluate(acme)
    with django_assert_max_num_queries(12):  # key, tenant, RLS setting; a count and a page
        assert viewer.get("/api/v1/alerts").json()["count"] == 2
