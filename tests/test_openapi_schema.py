"""The OpenAPI document says what the server enforces: bodies, bounds, empty values, status codes."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from roi.kinds import KINDS

pytestmark = pytest.mark.django_db

CALCULATIONS = [
    "roi",
    "incident-prevention",
    "automation-value",
    "performance-impact",
    "customer-experience",
    "competitive-advantage",
    "value-at-risk",
    "availability",
]
EVENT_KINDS = ["incidents", "automation-runs", "performance-samples", "deployments", "investments"]


@pytest.fixture(scope="module")
def schema(django_db_blocker: Any) -> dict[str, Any]:
    with django_db_blocker.unblock():
        response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def _body(schema: dict[str, Any], method: str, path: str, *, required: bool = True) -> dict[str, Any]:
    body = schema["paths"][path][method]["requestBody"]
    assert body.get("required", False) is required, f"{method} {path}: the body is required: {required}"
    return body["content"]["application/json"]["schema"]


def _parameter(schema: dict[str, Any], method: str, path: str, name: str) -> dict[str, Any]:
    for parameter in schema["paths"][path][method]["parameters"]:
        if parameter["name"] == name:
            return parameter["schema"]
    raise AssertionError(f"{method} {path} does not document {name}")


@pytest.mark.parametrize("method", CALCULATIONS)
def test_every_calculation_body_is_typed_not_a_free_form_object(schema, method):
    # Every availability input has a default: its body may be left out.
    body = _body(schema, "post", f"/api/v1/calculate/{method}", required=method != "availability")

    assert body["additionalProperties"] is False
    assert body["properties"], "the inputs are listed"
    assert all(field.get("type") or field.get("anyOf") for field in body["properties"].values())


def test_the_roi_body_states_its_required_fields_bounds_and_either_or(schema):
    body = _body(schema, "post", "/api/v1/calculate/roi")

    assert body["required"] == ["upfront_cost"]
    assert body["properties"]["months"] == {"type": "integer", "minimum": 1, "maximum": 600, "nullable": True}
    assert body["properties"]["upfront_cost"]["minimum"] == 0
    either = body["allOf"][0]["anyOf"]
    assert [branch["required"] for branch in either] == [["monthly_benefit", "months"], ["benefits"]]


@pytest.mark.parametrize("kind", EVENT_KINDS)
def test_every_event_body_is_one_typed_object_or_a_batch_of_them(schema, kind):
    one, batch = _body(schema, "post", f"/api/v1/events/{kind}")["anyOf"]

    assert one["additionalProperties"] is False
    assert "external_id" in one["required"]
    assert batch == {"type": "array", "items": one, "minItems": 1, "maxItems": 10_000}


def test_the_incident_body_lists_exactly_the_fields_the_parser_reads(schema):
    one, _ = _body(schema, "post", "/api/v1/events/incidents")["anyOf"]

    assert set(one["properties"]) == KINDS["incidents"].field_names
    assert one["required"] == ["external_id", "severity", "started_at"]
    assert one["properties"]["severity"]["enum"] == ["sev1", "sev2", "sev3", "sev4"]
    assert one["properties"]["started_at"]["pattern"] == r"^(19|2\d)\d\d-"


@pytest.mark.parametrize(
    ("path", "name", "minimum"),
    [
        ("/api/v1/alerts", "limit", 1),
        ("/api/v1/ledger/", "offset", 0),
        ("/api/v1/config/financial-model", "version", 1),
        ("/api/v1/config/business-kpis", "version", 1),
        ("/api/v1/config/it-budget", "fiscal_year", 2000),
        ("/api/v1/dashboard/trends", "months", 3),
        ("/api/v1/dashboard/trends", "horizon", 1),
        ("/api/v1/dashboard/service-levels", "months", 3),
    ],
)
def test_query_parameters_carry_the_minimum_the_server_enforces(schema, api_as, acme, path, name, minimum):
    assert _parameter(schema, "get", path, name)["minimum"] == minimum

    response = api_as(acme, "auditor").get(path, {name: minimum - 1})

    assert response.status_code == 400
    assert name in response.json()["errors"]


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/api/v1/dashboard/comparative", "date"),
        ("/api/v1/dashboard/trends", "months"),
        ("/api/v1/config/it-budget", "fiscal_year"),
        ("/api/v1/ledger/", "since"),
        ("/api/v1/events/incidents", "until"),
        ("/api/v1/metrics/business-impact", "start"),
    ],
)
def test_an_empty_query_value_is_refused_naming_it_not_read_as_absent(api_as, acme, path, name):
    response = api_as(acme, "auditor").get(f"{path}?{name}=")

    assert response.status_code == 400
    assert name in response.json()["errors"]


def test_the_comparative_date_is_documented_as_a_date_within_the_years_of_events(schema):
    date = _parameter(schema, "get", "/api/v1/dashboard/comparative", "date")

    assert date["format"] == "date"
    assert date["pattern"] == r"^(19|2\d)\d\d-"


def test_the_event_filters_document_since_and_until_and_keep_start_and_end_as_aliases(schema, api_as, acme):
    names = {parameter["name"] for parameter in schema["paths"]["/api/v1/events/incidents"]["get"]["parameters"]}
    client = api_as(acme, "viewer")

    assert {"since", "until"} <= names
    assert not {"start", "end"} & names
    assert client.get("/api/v1/events/incidents", {"start": "2026-01-01"}).status_code == 200
    both = client.get("/api/v1/events/incidents", {"start": "2026-01-01", "since": "2026-01-01"})
    assert both.status_code == 400
    assert "start" in both.json()["errors"]


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_a_decided_proposal_answers_a_documented_409(schema, decision):
    responses = schema["paths"][f"/api/v1/config/proposals/{{proposal_id}}/{decision}"]["post"]["responses"]

    assert "409" in responses


def test_the_database_being_unavailable_is_a_documented_503(schema):
    assert "503" in schema["paths"]["/api/v1/calculate/roi"]["post"]["responses"]


def test_period_close_documents_the_month_it_reads(schema):
    month = _parameter(schema, "post", "/api/v1/periods/{month}/close", "month")

    assert month["pattern"] == r"^(19|2\d)\d\d-(0[1-9]|1[0-2])$"


def test_an_integration_secret_must_be_a_string_as_documented(schema, api_as, acme):
    response = api_as(acme, "tenant_admin").put(
        "/api/v1/config/integrations/github", {"secret": 12345678901234567890}, format="json"
    )

    assert response.status_code == 400
    assert "secret" in response.json()["errors"]


def test_escalation_recipients_and_rules_are_typed_objects(schema):
    component = schema["components"]["schemas"]["EscalationSettingsBodyRequest"]["properties"]

    assert component["recipients"]["type"] == "object"
    assert component["rules"]["additionalProperties"] is False


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/api/v1/config/financial-model", "put"),
        ("/api/v1/config/business-kpis", "put"),
        ("/api/v1/config/revenue-model", "post"),
        ("/api/v1/config/it-budget", "put"),
    ],
)
def test_configuration_changes_document_change_reason_as_required(schema, path, method):
    body = _body(schema, method, path)

    assert "change_reason" in body["required"]
    assert body["additionalProperties"] is False


@pytest.mark.parametrize(("kind", "period"), [("annual", "FY0236"), ("monthly", "0001-01"), ("quarterly", "0000-Q1")])
def test_a_report_period_outside_the_years_of_events_is_a_400_naming_it_not_a_500(api_as, acme, kind, period):
    response = api_as(acme, "finance_admin").post("/api/v1/reports", {"kind": kind, "period": period}, format="json")

    assert response.status_code == 400
    assert "period" in response.json()["errors"]


def test_a_closed_month_is_documented_as_the_month_it_answers(schema):
    month = schema["components"]["schemas"]["ClosedPeriod"]["properties"]["month"]

    assert month == {"type": "string", "pattern": r"^(19|2\d)\d\d-(0[1-9]|1[0-2])$"}


@pytest.mark.parametrize("assumptions", [False, 0, "", []])
def test_assumptions_that_are_not_an_object_are_refused_naming_them(api_as, acme, acme_model, assumptions):
    body = {"upfront_cost": 1000, "monthly_benefit": 100, "months": 12, "assumptions": assumptions}

    response = api_as(acme, "analyst").post("/api/v1/calculate/roi", body, format="json")

    assert response.status_code == 400
    assert "assumptions" in response.json()["errors"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/config/escalations", {"webhook_secret": 123456789012345678901234567890}, "webhook_secret"),
        ("/api/v1/config/escalations", {"webhook_url": 42}, "webhook_url"),
        ("/api/v1/tenant/settings", {"production_environments": [0]}, "production_environments"),
    ],
)
def test_a_number_where_the_schema_says_string_is_refused_not_stored_as_text(api_as, acme, path, body, field):
    response = api_as(acme, "tenant_admin").put(path, body, format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_a_rejection_documents_its_note_as_required(schema, api_as, acme):
    body = schema["paths"]["/api/v1/config/proposals/{proposal_id}/reject"]["post"]["requestBody"]
    component = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]

    assert schema["components"]["schemas"][component]["required"] == ["note"]


def test_an_either_or_field_given_as_null_counts_as_not_given(schema):
    body = _body(schema, "post", "/api/v1/calculate/performance-impact")
    branches = body["allOf"][0]["anyOf"]

    assert body["properties"]["conversion_rate_lift"]["nullable"] is True
    assert all("nullable" not in branch["properties"][branch["required"][0]] for branch in branches)


def test_an_event_time_with_an_offset_beyond_postgresqls_range_is_stored_not_a_500(api_as, acme, acme_model):
    body = {"external_id": "DEP-OFFSET", "service": "api", "deployed_at": "2026-06-09T08:46:57+19:49"}

    response = api_as(acme, "analyst").post("/api/v1/events/deployments", body, format="json")

    assert response.status_code == 201, response.content
    listed = api_as(acme, "viewer").get("/api/v1/events/deployments", {"external_id": "DEP-OFFSET"}).json()
    assert listed["results"][0]["deployed_at"].startswith("2026-06-08T12:57:57")
