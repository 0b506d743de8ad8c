"""Requests written from `shared/spec/api.md` alone, for the cases the other API tests did not try."""

from __future__ import annotations

import json

import pytest

from governance.services import tenant_dual_approval_set
from tests.conftest import ACME_MODEL, _member
from tests.governance.test_api import MATRIX

pytestmark = pytest.mark.django_db

MODEL = "/api/v1/config/financial-model"
KPIS = "/api/v1/config/business-kpis"

# api.md's body for PUT config/financial-model, written as a client would: bare JSON numbers.
SPEC_MODEL_BODY = """{
  "revenue_model": {"annual_recurring_revenue": 56000000},
  "cost_model": {"it_staff_hourly_rate": 75.5, "engineer_hourly_rate": 120, "infrastructure_cost_per_hour": 50,
                 "customer_support_cost_per_incident": 150, "cost_per_error": 200,
                 "compliance_value_per_check": 1000, "development_value_per_day": 2000},
  "impact_model": {"customer_count": 2000, "customer_churn_rate_per_incident": 0.02,
                   "new_customer_acquisition_cost": 5000, "customer_lifetime_value": 10000,
                   "brand_impact_factor": 1.5},
  "severity_responders": {"sev1": 5, "sev2": 3, "sev3": 2, "sev4": 1},
  "change_reason": "Figures from the 2026 budget"
}"""


class TestDualApprovalWithFractionalNumbers:
    """With dual approval in force (two members who may approve), the three writes become proposals."""

    @pytest.fixture
    def dual(self, acme, acme_model):
        tenant_dual_approval_set(tenant=acme, enabled=True, actor="test")
        _member("dora", acme, "finance_admin")
        _member("erin", acme, "finance_admin")
        return acme

    @staticmethod
    def keyed(tenant, role: str, username: str):
        """A key that answers to a member: proposing and approving need a person behind the key."""
        from django.contrib.auth import get_user_model

        from tests.roi.test_proposals import key_client

        return key_client(tenant, role, created_by=get_user_model().objects.get(username=username))[0]

    @pytest.mark.parametrize(
        ("method", "path", "body"),
        [
            ("put", MODEL, SPEC_MODEL_BODY),
            ("post", "/api/v1/config/revenue-model", '{"annual_recurring_revenue": 60000000.50, "change_reason": "r"}'),
            ("put", "/api/v1/config/business-kpis", '{"alerts": {"roi_target": 250.5}, "change_reason": "r"}'),
        ],
    )
    def test_a_proposal_with_fractional_numbers_is_a_202_not_a_500(self, dual, method, path, body):
        response = getattr(self.keyed(dual, "finance_admin", "dora"), method)(
            path, body, content_type="application/json"
        )

        assert response.status_code == 202, response.content
        assert response.json()["status"] == "pending"

    def test_the_approved_proposal_applies_the_exact_figures(self, dual, api_as):
        proposer = self.keyed(dual, "finance_admin", "dora")
        proposal = proposer.put(MODEL, SPEC_MODEL_BODY, content_type="application/json").json()

        approved = self.keyed(dual, "tenant_admin", "erin").post(
            f"/api/v1/config/proposals/{proposal['id']}/approve", {}, format="json"
        )

        assert approved.status_code == 200, approved.content
        model = api_as(dual, "viewer").get(MODEL).json()
        assert model["cost_model"]["it_staff_hourly_rate"] == "75.5"
        assert model["impact_model"]["customer_churn_rate_per_incident"] == "0.02"
        assert model["revenue_model"]["revenue_per_minute"] == "106.54"  # derived figures included


# GET routes a viewer may not read (the auditor may read each of them).
VIEWER_CANNOT_READ = {path for method, path, allowed, _ in MATRIX if method == "get" and "viewer" not in allowed}


class TestSafeMethods:
    """HEAD is GET without a body and OPTIONS describes the endpoint: no role refuses them."""

    @pytest.mark.parametrize(
        "path", sorted({path for method, path, _, _ in MATRIX if method == "get" and "{" not in path})
    )
    def test_head_answers_whoever_may_get(self, api_as, acme, acme_model, path):
        response = api_as(acme, "viewer" if path not in VIEWER_CANNOT_READ else "auditor").head(path)

        assert response.status_code == 200, response.content
        assert response.content == b""

    def test_head_is_still_refused_to_a_role_that_may_not_get(self, api_as, acme):
        assert api_as(acme, "viewer").head("/api/v1/ledger/").status_code == 403

    @pytest.mark.parametrize(
        ("role", "path"),
        [
            ("viewer", "/api/v1/dashboard/executive"),
            ("analyst", "/api/v1/calculate/roi"),
            ("ingest", "/api/v1/events/incidents"),
        ],
    )
    def test_options_describes_the_endpoint(self, api_as, acme, role, path):
        response = api_as(acme, role).options(path)

        assert response.status_code == 200, response.content
        assert "name" in response.json()

    def test_options_is_refused_to_a_role_with_nothing_to_call_there(self, api_as, acme):
        assert api_as(acme, "ingest").options("/api/v1/dashboard/executive").status_code == 403

    def test_options_without_credentials_is_401(self, api):
        assert api.options("/api/v1/dashboard/executive").status_code == 401


def test_business_kpis_before_any_version_are_the_defaults_in_force(api_as, acme):
    response = api_as(acme, "viewer").get("/api/v1/config/business-kpis")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["version"] is None and body["change_reason"] is None
    assert body["kpis"]["availability"] == {"target": "99.9", "cost_per_9": "100000"}
    assert body["alerts"]["roi_target"] == "300"
    assert body["attribution_rules"]["incident_prevention"] == {"weighting": "0.40", "time_window": 30}


class TestApiPathsAreJsonInEveryMode:
    """The embedded default runs with DEBUG on: API paths must still answer JSON, never a page."""

    @pytest.fixture(params=[False, True], ids=["production", "debug"])
    def mode(self, request, settings):
        settings.DEBUG = request.param

    @pytest.mark.parametrize("path", ["/api/v1/no-such-thing", "/api/", "/api/v1/", "/api/v1/calculate/nope"])
    def test_an_unknown_path_is_a_json_404(self, mode, api_as, acme, path):
        for method in ("get", "post", "put", "delete"):
            response = getattr(api_as(acme, "tenant_admin"), method)(path)
            assert response.status_code == 404, (method, response.content[:200])
            assert as_json(response) == {"errors": {"detail": ["Not found."]}}

    @pytest.mark.parametrize(
        ("role", "method", "written", "meant"),
        [
            ("auditor", "get", "/api/v1/ledger", "/api/v1/ledger/"),
            ("auditor", "get", "/api/v1/ledger/{record}", "/api/v1/ledger/{record}/"),
            ("viewer", "get", "/api/v1/dashboard/executive/", "/api/v1/dashboard/executive"),
            ("auditor", "post", "/api/v1/ledger/verify/", "/api/v1/ledger/verify"),
        ],
    )
    def test_a_path_off_by_its_trailing_slash_serves_the_route(
        self, mode, api_as, acme, acme_model, role, method, written, meant
    ):
        client = api_as(acme, "analyst")
        record = client.post("/api/v1/calculate/availability", {"current_target": 99.9}, format="json").json()["id"]

        response = getattr(api_as(acme, role), method)(written.format(record=record))

        assert response.status_code == 200, response.content[:300]
        assert (
            as_json(response).keys() == getattr(api_as(acme, role), method)(meant.format(record=record)).json().keys()
        )

    def test_a_post_without_the_trailing_slash_is_not_a_500(self, mode, api_as, acme):
        response = api_as(acme, "auditor").post("/api/v1/ledger", {}, format="json")

        assert response.status_code == 405
        assert "detail" in as_json(response)["errors"]

    def test_pages_outside_the_api_keep_django_s_slash_redirect(self, client):
        assert client.get("/accounts/login").status_code == 301


def as_json(response) -> dict:
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    return json.loads(response.content)


class TestEventListTimeRange:
    """api.md: events list "filterable by ... time range"; a date means its whole day."""

    @pytest.fixture
    def incidents(self, api_as, acme, acme_model):
        body = [
            {
                "external_id": f"INC-{day}",
                "severity": "sev3",
                "started_at": f"2026-11-{day:02}T12:00:00Z",
                "downtime_minutes": 5,
            }
            for day in (1, 2, 3)
        ]
        assert api_as(acme, "ingest").post("/api/v1/events/incidents", body, format="json").status_code == 201
        return api_as(acme, "viewer")

    @staticmethod
    def listed(client, **query) -> list[str]:
        response = client.get("/api/v1/events/incidents", query)
        assert response.status_code == 200, response.content
        return [event["external_id"] for event in response.json()["results"]]

    @pytest.mark.parametrize(("lower", "upper"), [("since", "until"), ("start", "end")])
    def test_dates_bound_whole_days_newest_first(self, incidents, lower, upper):
        assert self.listed(incidents, **{lower: "2026-11-02", upper: "2026-11-02"}) == ["INC-2"]
        assert self.listed(incidents, **{lower: "2026-11-02"}) == ["INC-3", "INC-2"]
        assert self.listed(incidents, **{upper: "2026-11-02"}) == ["INC-2", "INC-1"]

    def test_times_bound_exactly(self, incidents):
        assert self.listed(incidents, start="2026-11-02T12:00:00Z", end="2026-11-03T12:00:00Z") == ["INC-2"]

    @pytest.mark.parametrize(
        ("query", "field"),
        [
            ({"start": "notadate"}, "start"),
            ({"until": "2026-02-30"}, "until"),
            ({"since": "2026-11-01", "start": "2026-11-01"}, "start"),
            ({"since": "2026-11-03", "until": "2026-11-01"}, "since"),
        ],
    )
    def test_a_bad_range_is_a_400_naming_the_parameter(self, incidents, query, field):
        response = incidents.get("/api/v1/events/incidents", query)

        assert response.status_code == 400
        assert list(response.json()["errors"]) == [field]


class TestAuditorsReadEveryVersion:
    """api.md: the auditor "reads everything, including the ledger and all history"."""

    def test_a_past_financial_model_version_is_readable_by_number(self, api_as, acme, acme_model):
        finance = api_as(acme, "finance_admin")
        changed = {"cost_model": {**ACME_MODEL["cost_model"], "cost_per_error": "250"}, "change_reason": "Support"}
        assert finance.put(MODEL, changed, format="json").json()["version"] == 2
        auditor = api_as(acme, "auditor")

        first = auditor.get(MODEL, {"version": 1}).json()

        assert (first["version"], first["change_reason"], first["cost_model"]["cost_per_error"]) == (
            1,
            "Initial figures",
            "200",
        )
        assert first["revenue_model"]["revenue_per_minute"] == "106.54"
        assert auditor.get(MODEL).json()["version"] == 2

    def test_a_past_kpi_version_is_readable_by_number(self, api_as, acme):
        finance = api_as(acme, "finance_admin")
        for target in (250, 350):
            finance.put(KPIS, {"alerts": {"roi_target": target}, "change_reason": "bar"}, format="json")

        assert api_as(acme, "auditor").get(KPIS, {"version": 1}).json()["alerts"]["roi_target"] == "250"

    @pytest.mark.parametrize(("version", "status"), [("abc", 400), ("0", 400), ("-1", 400), ("9", 404)])
    def test_a_bad_or_missing_version_is_refused(self, api_as, acme, acme_model, version, status):
        for path in (MODEL, KPIS):
            response = api_as(acme, "auditor").get(path, {"version": version})
            assert response.status_code == status, (path, response.content)
            assert list(response.json()["errors"]) == (["version"] if status == 400 else ["detail"])


class TestAssumptionsNameAnyModelOrKpiField:
    """api.md: `"assumptions": {<any financial model or KPI field>: value}`, stored with the inputs."""

    AVAILABILITY = "/api/v1/calculate/availability"

    @pytest.mark.parametrize(
        "assumptions",
        [
            {"availability_target": "99.99"},
            {"kpis.availability.target": "99.99"},
            {"kpis": {"availability": {"target": "99.99"}}},
        ],
        ids=["figure name", "path", "nested"],
    )
    def test_a_kpi_is_named_as_the_configuration_names_it(self, api_as, acme, acme_model, assumptions):
        analyst = api_as(acme, "analyst")

        response = analyst.post(self.AVAILABILITY, {"current_target": 99.9, "assumptions": assumptions}, format="json")

        assert response.status_code == 201, response.content
        record = response.json()
        assert record["inputs"]["assumptions"] == assumptions  # stored as sent
        assert record["figures"]["availability_target"] == "99.99"
        self.assert_the_ledger_verifies(api_as, acme)

    def test_a_model_group_nests_as_in_put_config_financial_model(self, api_as, acme, acme_model):
        body = {
            "manual_time_equivalent": 3600,
            "execution_time": 0,
            "assumptions": {"cost_model": {"it_staff_hourly_rate": 100}},
        }

        record = api_as(acme, "analyst").post("/api/v1/calculate/automation-value", body, format="json").json()

        assert record["result"]["cost_savings"] == "100.00"
        self.assert_the_ledger_verifies(api_as, acme)

    @pytest.mark.parametrize("name", ["target_response_time", "roi_target", "alerts.monthly_value_target"])
    def test_a_kpi_no_method_reads_is_accepted_and_changes_nothing(self, api_as, acme, acme_model, name):
        analyst = api_as(acme, "analyst")
        plain = analyst.post(self.AVAILABILITY, {"current_target": 99.9}, format="json").json()

        response = analyst.post(self.AVAILABILITY, {"current_target": 99.9, "assumptions": {name: 150}}, format="json")

        assert response.status_code == 201, response.content
        assert response.json()["result"] == plain["result"]
        self.assert_the_ledger_verifies(api_as, acme)

    @pytest.mark.parametrize(
        ("assumptions", "field", "message"),
        [
            ({"nonsense": 1}, "assumptions.nonsense", "is not a financial model or KPI field"),
            ({"a.b": 1}, "assumptions.a.b", "is not a financial model or KPI field"),
            ({"kpis": {"availability": {"nope": 1}}}, "assumptions.kpis.availability.nope", None),
            ({"roi_target": "abc"}, "assumptions.roi_target", None),
            ({"kpis.availability.target": 101}, "assumptions.kpis.availability.target", None),
            ({"monthly_savings_target": -5}, "assumptions.monthly_savings_target", None),
        ],
    )
    def test_a_bad_assumption_is_a_400_under_the_name_sent(self, api_as, acme, acme_model, assumptions, field, message):
        body = {"current_target": 99.9, "assumptions": assumptions}

        response = api_as(acme, "analyst").post(self.AVAILABILITY, body, format="json")

        assert response.status_code == 400
        errors = response.json()["errors"]
        assert list(errors) == [field]
        assert message is None or errors[field] == [message]

    @staticmethod
    def assert_the_ledger_verifies(api_as, acme) -> None:
        verified = api_as(acme, "auditor").post("/api/v1/ledger/verify").json()
        assert verified["ok"] and not verified["failures"], verified


class TestPagination:
    """Lists page with `?limit=&offset=`; a page the client cannot have meant is a 400, never another page."""

    @pytest.mark.parametrize(
        ("query", "field"),
        [
            ({"limit": "abc"}, "limit"),
            ({"limit": "0"}, "limit"),
            ({"limit": "-1"}, "limit"),
            ({"offset": "-5"}, "offset"),
            ({"offset": "x"}, "offset"),
            ({"offset": "9" * 5000}, "offset"),
        ],
    )
    @pytest.mark.parametrize("path", ["/api/v1/ledger/", "/api/v1/events/incidents", "/api/v1/alerts"])
    def test_a_malformed_page_is_a_400_naming_it(self, api_as, acme, path, query, field):
        response = api_as(acme, "auditor").get(path, query)

        assert response.status_code == 400, response.content
        assert list(response.json()["errors"]) == [field]

    def test_a_page_far_past_the_end_is_empty_not_an_error(self, api_as, acme):
        response = api_as(acme, "auditor").get("/api/v1/ledger/", {"offset": str(10**30)})

        assert response.status_code == 200, response.content
        assert response.json()["results"] == []

    def test_a_huge_limit_is_cut_to_the_maximum(self, api_as, acme, acme_model):
        client = api_as(acme, "analyst")
        for _ in range(3):
            client.post("/api/v1/calculate/availability", {"current_target": 99.9}, format="json")

        body = client.get("/api/v1/ledger/", {"limit": str(10**12), "offset": "1"}).json()

        assert (body["count"], len(body["results"])) == (3, 2)


class TestTimesAtTheEdgeOfTheCalendar:
    """A time or month no tenant can mean is a 400 naming it, never a 500 or a month written `1-01`."""

    @pytest.mark.parametrize(
        "started_at", ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00", "1899-12-31T23:00:00Z"]
    )
    def test_an_event_time_out_of_range_is_a_400(self, api_as, acme, acme_model, started_at):
        body = {"external_id": "edge", "severity": "sev3", "started_at": started_at, "downtime_minutes": 1}

        response = api_as(acme, "ingest").post("/api/v1/events/incidents", body, format="json")

        assert response.status_code == 400, response.content
        assert list(response.json()["errors"]) == ["0.started_at"]

    def test_an_event_in_the_supported_range_is_stored(self, api_as, acme, acme_model):
        body = {
            "external_id": "edge",
            "severity": "sev3",
            "started_at": "2999-12-31T23:00:00+14:00",
            "downtime_minutes": 1,
        }

        assert api_as(acme, "ingest").post("/api/v1/events/incidents", body, format="json").status_code == 201

    @pytest.mark.parametrize(
        ("path", "query", "field"),
        [
            ("/api/v1/metrics/business-impact", {"start": "0001-01"}, "start"),
            ("/api/v1/metrics/business-impact", {"end": "9999-12-31"}, "end"),
            ("/api/v1/costs/monthly", {"start": "0001-01"}, "start"),
            ("/api/v1/dashboard/comparative", {"by": "period", "date": "0001-01-01"}, "date"),
        ],
    )
    def test_a_month_out_of_range_is_a_400(self, api_as, acme, path, query, field):
        response = api_as(acme, "viewer").get(path, query)

        assert response.status_code == 400, response.content
        assert list(response.json()["errors"]) == [field]


class TestTenantExistenceIsNotLeaked:
    """Another tenant, named by a session's X-Tenant or asked of with a key, answers exactly as no tenant."""

    def test_a_session_naming_a_tenant_it_is_not_in_gets_the_unknown_tenant_answer(self, api, bob, globex):
        api.force_login(bob)

        other, unknown = (api.get("/api/v1/dashboard/executive", HTTP_X_TENANT=slug) for slug in ("globex", "nope"))

        assert (other.status_code, other.json()) == (unknown.status_code, unknown.json())
        assert other.status_code == 404

    def test_a_session_without_x_tenant_uses_its_only_tenant(self, api, bob):
        api.force_login(bob)

        assert api.get("/api/v1/dashboard/executive").json()["currency"] == "USD"

    def test_a_key_naming_another_tenant_gets_the_unknown_tenant_answer(self, api_as, acme, globex):
        client = api_as(acme, "auditor")

        other, unknown = (client.get("/api/v1/ledger/", HTTP_X_TENANT=slug) for slug in ("globex", "nope"))

        assert (other.status_code, other.json()) == (unknown.status_code, unknown.json())
        assert other.status_code == 404

    def test_another_tenants_record_is_the_missing_record_answer(self, api_as, acme, globex, acme_model):
        record = api_as(acme, "analyst").post("/api/v1/calculate/availability", {"current_target": 99.9}, format="json")
        globex_auditor = api_as(globex, "auditor")

        theirs = globex_auditor.get(f"/api/v1/ledger/{record.json()['id']}/")
        missing = globex_auditor.get("/api/v1/ledger/987654/")

        assert (
            (theirs.status_code, theirs.json())
            == (missing.status_code, missing.json())
            == (
                404,
                {"errors": {"detail": ["Not found."]}},
            )
        )


@pytest.mark.parametrize(
    ("recipients", "field"),
    [
        ({"notify_cfo": {"roles": [1.5]}}, "recipients.notify_cfo.roles"),
        ({"nope": 1.5}, "recipients.nope"),
    ],
)
def test_escalation_recipients_with_a_fractional_number_name_the_path(api_as, acme, recipients, field):
    response = api_as(acme, "tenant_admin").put("/api/v1/config/escalations", {"recipients": recipients}, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]


@pytest.mark.parametrize("role", ["tenant_admin", "auditor"])
@pytest.mark.parametrize("path", sorted({path for _, path, _, _ in MATRIX}))
def test_options_on_every_route_describes_it_or_refuses_never_a_500(api_as, acme, role, path):
    concrete = path.format(
        member="bob",
        key=1,
        record=1,
        tool="github",
        month="2020-01",
        report=1,
        file_format="pdf",
        alert=1,
        proposal=1,
        run=1,
    )

    response = api_as(acme, role).options(concrete)

    assert response.status_code in {200, 403}, response.content
    assert as_json(response)
