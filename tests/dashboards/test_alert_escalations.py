"""The ROI decline rule, and each rule's escalation as a tenant setting (API and page)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dashboards.alerts import alerts_evaluate
from dashboards.escalations import escalation_settings_update
from dashboards.models import Alert, EscalationSettings
from governance.tenancy import tenant_scope
from roi.ingestion import events_ingest
from roi.services import business_kpis_update
from tests.conftest import _member
from tests.dashboards.conftest import SYSTEM, automation_runs, month_start

pytestmark = pytest.mark.django_db

BRIEF_MAPPING = {
    "value_below_target": "notify_cfo",
    "roi_below_target": "board_review",
    "roi_decline": "board_review",
    "prevention_below_target": "executive_alert",
    "incident_surge": "executive_alert",
}


def months_ago(count: int):
    """The 15th of the month `count` months before this one: clear of any time-zone edge."""
    month = month_start(timezone.now())
    for _ in range(count):
        month = month_start(month - timedelta(days=1))
    return month + timedelta(days=14)


@pytest.fixture
def roi_months(acme, acme_model):
    """Four complete months each costing 1,000; value 3,000 a month (75 a run), but `last` runs last month.

    Returns a function taking last month's number of runs: with 40 the three months to last
    month return 200% like the three before; with none, 100%.
    """

    def build(last_month_runs: int) -> None:
        with tenant_scope(acme):
            for back in (4, 3, 2):
                events_ingest(
                    actor=SYSTEM, kind="automation-runs", payload=automation_runs(f"m{back}", 40, months_ago(back))
                )
            if last_month_runs:
                events_ingest(
                    actor=SYSTEM,
                    kind="automation-runs",
                    payload=automation_runs("m1", last_month_runs, months_ago(1)),
                )
            events_ingest(
                actor=SYSTEM,
                kind="investments",
                payload={
                    "external_id": "platform",
                    "name": "Automation platform",
                    "started_at": months_ago(4).isoformat(),
                    "upfront_cost": 0,
                    "monthly_cost": 1000,
                    "months": 24,
                },
            )

    return build


def set_decline_points(tenant, points: str) -> None:
    with tenant_scope(tenant):
        business_kpis_update(
            actor=SYSTEM, sections={"alerts": {"roi_decline_points": points}}, change_reason="test decline"
        )


def evaluate(tenant) -> dict[str, Alert]:
    with tenant_scope(tenant):
        alerts_evaluate()
        return {alert.rule: alert for alert in Alert.objects.filter(status__in=["open", "acknowledged"])}


# --- The ROI decline rule ---------------------------------------------------------------


class TestRoiDecline:
    def test_it_fires_when_the_trailing_roi_falls_more_than_the_threshold(self, acme, roi_months):
        roi_months(last_month_runs=0)
        alert = evaluate(acme)["roi_decline"]
        assert alert.period == f"{months_ago(1):%Y-%m}" and alert.unit == "percent"
        assert str(alert.measured) == "100.0000"  # (6,000 - 3,000) / 3,000
        assert str(alert.threshold) == "190.0000"  # 200% before, less the default 10 points
        assert alert.detail["previous"] == "200.0000" and alert.detail["decline_points"] == "10"
        assert alert.detail["fall"] == "100.0000"
        assert alert.detail["window"] == f"{months_ago(3):%Y-%m}..{months_ago(1):%Y-%m}"
        assert alert.escalation == "board_review"  # the brief: roi_decline -> board_review
        assert "fell from 200.0% to 100.0%" in alert.message

    def test_it_stays_quiet_when_the_roi_holds(self, acme, roi_months):
        roi_months(last_month_runs=40)
        assert "roi_decline" not in evaluate(acme)

    def test_the_threshold_is_a_kpi_setting(self, acme, roi_months):
        roi_months(last_month_runs=0)
        set_decline_points(acme, "100")  # a fall of exactly 100 points is not more than 100
        assert "roi_decline" not in evaluate(acme)
        set_decline_points(acme, "99.5")
        alert = evaluate(acme)["roi_decline"]
        assert str(alert.threshold) == "100.5000" and alert.detail["decline_points"] == "99.5"

    def test_the_below_target_rule_still_judges_the_fiscal_year(self, acme, roi_months):
        roi_months(last_month_runs=0)
        fired = evaluate(acme)
        assert fired["roi_below_target"].period.startswith("FY")  # 300% target, both rules fire
        assert fired["roi_decline"].period == f"{months_ago(1):%Y-%m}"

    def test_it_is_not_judged_without_cost_in_both_windows(self, acme, acme_model):
        with tenant_scope(acme):
            events_ingest(actor=SYSTEM, kind="automation-runs", payload=automation_runs("x", 5, months_ago(1)))
        assert "roi_decline" not in evaluate(acme)

    def test_it_fires_once_however_often_the_rules_run(self, acme, roi_months):
        roi_months(last_month_runs=0)
        for _ in range(3):
            evaluate(acme)
        with tenant_scope(acme):  # history rows are tenant-scoped too (RLS on PostgreSQL)
            declines = list(Alert.objects.filter(rule="roi_decline"))
            assert len(declines) == 1 and declines[0].history.count() == 1

    def test_a_recovery_resolves_it(self, acme, roi_months):
        roi_months(last_month_runs=0)
        fired = evaluate(acme)["roi_decline"]
        set_decline_points(acme, "150")
        assert "roi_decline" not in evaluate(acme)
        with tenant_scope(acme):
            fired.refresh_from_db()
        assert fired.status == "resolved" and fired.resolved_by_actor == "system:alert-evaluation"

    def test_the_threshold_must_be_positive(self, api_as, acme, acme_model):
        body = {"alerts": {"roi_decline_points": "0"}, "change_reason": "no"}
        response = api_as(acme, "finance_admin").put("/api/v1/config/business-kpis", body, format="json")
        assert response.status_code == 400
        assert "alerts.roi_decline_points" in str(response.json()["errors"])


# --- Each rule's escalation, over the API --------------------------------------------------


def test_the_mapping_defaults_to_the_brief(api_as, acme):
    shown = api_as(acme, "tenant_admin").get("/api/v1/config/escalations").json()
    assert shown["rules"] == BRIEF_MAPPING


def test_a_tenant_admin_remaps_a_rule_and_new_alerts_follow(api_as, acme, roi_months, tara):
    roi_months(last_month_runs=0)
    admin = api_as(acme, "tenant_admin")
    changed = admin.put("/api/v1/config/escalations", {"rules": {"roi_decline": "executive_alert"}}, format="json")
    assert changed.status_code == 200, changed.content
    assert changed.json()["rules"] == {**BRIEF_MAPPING, "roi_decline": "executive_alert"}
    assert admin.get("/api/v1/config/escalations").json()["rules"]["roi_decline"] == "executive_alert"
    fired = evaluate(acme)
    assert fired["roi_decline"].escalation == "executive_alert"
    assert fired["roi_below_target"].escalation == "board_review"  # not remapped: the default
    listed = {row["rule"]: row for row in admin.get("/api/v1/alerts").json()["results"]}
    assert listed["roi_decline"]["audience"] == "Executives"


def test_a_remapping_is_historised_with_who_changed_it(api_as, acme):
    admin = api_as(acme, "tenant_admin")
    admin.put("/api/v1/config/escalations", {"rules": {"incident_surge": "notify_cfo"}}, format="json")
    admin.put("/api/v1/config/escalations", {"rules": {"incident_surge": "board_review"}}, format="json")
    with tenant_scope(acme):
        row = EscalationSettings.objects.get()
        steps = list(row.history.order_by("history_id").values_list("rule_escalations", "updated_by_actor"))
    assert [step[0] for step in steps] == [{"incident_surge": "notify_cfo"}, {"incident_surge": "board_review"}]
    assert all(actor.startswith("api-key:") for _, actor in steps), steps


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"rules": {"roi_decline": "tea_break"}}, "rules.roi_decline"),
        ({"rules": {"roi_decline": 3}}, "rules.roi_decline"),
        ({"rules": {"coffee_shortage": "notify_cfo"}}, "rules.coffee_shortage"),
        ({"rules": ["roi_decline"]}, "rules"),
    ],
)
def test_a_bad_mapping_is_a_400_naming_the_path(api_as, acme, body, field):
    admin = api_as(acme, "tenant_admin")
    response = admin.put("/api/v1/config/escalations", body, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
    assert admin.get("/api/v1/config/escalations").json()["rules"] == BRIEF_MAPPING  # nothing saved


def test_bad_rules_and_bad_recipients_are_named_together(api_as, acme):
    body = {"rules": {"roi_decline": "nope"}, "recipients": {"notify_cfo": {"roles": ["king"]}}}
    response = api_as(acme, "tenant_admin").put("/api/v1/config/escalations", body, format="json")
    assert sorted(response.json()["errors"]) == ["recipients.notify_cfo.roles", "rules.roi_decline"]


@pytest.mark.parametrize(
    ("role", "get", "put"), [("auditor", 200, 403), ("finance_admin", 403, 403), ("viewer", 403, 403)]
)
def test_only_a_tenant_admin_changes_the_mapping(api_as, acme, role, get, put):
    client = api_as(acme, role)
    assert client.get("/api/v1/config/escalations").status_code == get
    body = {"rules": {"roi_decline": "notify_cfo"}}
    assert client.put("/api/v1/config/escalations", body, format="json").status_code == put


def test_another_tenants_mapping_is_its_own(api_as, acme, globex):
    api_as(acme, "tenant_admin").put(
        "/api/v1/config/escalations", {"rules": {"roi_decline": "notify_cfo"}}, format="json"
    )
    assert api_as(globex, "tenant_admin").get("/api/v1/config/escalations").json()["rules"] == BRIEF_MAPPING
    with tenant_scope(globex):
        assert not EscalationSettings.objects.exists()


# --- The escalations page ------------------------------------------------------------------

PAGE = "/t/acme/alerts/escalations/"


def form_body(**changes: object) -> dict[str, object]:
    """What the page's form sends for the defaults, with `changes` over it."""
    body: dict[str, object] = {f"rules.{rule}": escalation for rule, escalation in BRIEF_MAPPING.items()}
    body.update(
        {
            "recipients.notify_cfo.roles": ["finance_admin"],
            "recipients.board_review.roles": ["finance_admin", "tenant_admin"],
            "recipients.executive_alert.roles": ["tenant_admin"],
        }
    )
    body.update(changes)
    return body


def test_the_page_shows_the_mapping_and_recipients(client, tara, django_assert_max_num_queries):
    client.force_login(tara)
    with django_assert_max_num_queries(20):
        page = client.get(PAGE)
    html = page.content.decode()
    assert page.status_code == 200
    assert 'name="rules.roi_decline"' in html and 'value="board_review" selected' in html
    assert 'name="recipients.notify_cfo.users" value="tara"' in html
    assert "Save the escalations" in html
    assert PAGE in client.get("/t/acme/alerts/").content.decode()  # linked from the alerts page


def test_a_tenant_admin_saves_the_mapping_and_recipients_from_the_page(client, acme, tara, bob):
    client.force_login(tara)
    body = form_body(**{"rules.roi_decline": "notify_cfo", "recipients.notify_cfo.users": ["bob"]})
    response = client.post(PAGE, body)
    assert response.status_code == 302 and response["Location"] == PAGE
    with tenant_scope(acme):
        row = EscalationSettings.objects.get()
        assert row.history.get().history_user == tara
    assert row.rule_escalations["roi_decline"] == "notify_cfo"
    assert row.recipients["notify_cfo"] == {"roles": ["finance_admin"], "users": [bob.pk]}
    assert row.updated_by_actor == "user:tara"


def test_the_page_shows_errors_beside_the_fields_and_keeps_what_was_sent(client, acme, tara):
    client.force_login(tara)
    body = form_body(
        **{
            "rules.roi_decline": "tea_break",
            "rules.incident_surge": "notify_cfo",
            "recipients.board_review.roles": ["king"],
        }
    )
    response = client.post(PAGE, body)
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="rules-roi_decline-error"' in html and "Choose an escalation" in html
    assert 'aria-invalid="true" aria-describedby="rules-roi_decline-error"' in html
    assert "Roles are a list of" in html
    assert 'value="notify_cfo" selected' in html  # incident_surge as sent, not as stored
    with tenant_scope(acme):
        assert not EscalationSettings.objects.exists()  # nothing saved


def test_an_auditor_reads_the_page_and_changes_nothing(client, acme, carol):
    client.force_login(carol)
    html = client.get(PAGE).content.decode()
    assert 'name="rules.roi_decline" disabled' in html and "Save the escalations" not in html
    assert client.post(PAGE, form_body(**{"rules.roi_decline": "notify_cfo"})).status_code == 403
    with tenant_scope(acme):
        assert not EscalationSettings.objects.exists()


@pytest.mark.parametrize("role", ["viewer", "analyst", "finance_admin"])
def test_other_members_get_403(client, acme, role):
    client.force_login(_member(f"m-{role}", acme, role))
    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE, form_body()).status_code == 403


def test_another_tenants_admin_gets_404_and_sees_only_their_own(client, acme, globex, gus):
    with tenant_scope(acme):
        escalation_settings_update(actor=SYSTEM, rules={"roi_decline": "notify_cfo"})
    client.force_login(gus)
    assert client.get(PAGE).status_code == 404
    assert client.post(PAGE, form_body()).status_code == 404
    own = client.get("/t/globex/alerts/escalations/").content.decode()
    assert 'name="recipients.notify_cfo.users" value="gus"' in own
    assert 'name="recipients.notify_cfo.users" value="tara"' not in own
    with tenant_scope(acme):
        assert EscalationSettings.objects.get().rule_escalations == {"roi_decline": "notify_cfo"}
