"""Text no database column can hold is a 400 naming the field, never a 500, and nothing is stored."""

import json

import pytest

from governance.tenancy import tenant_scope
from roi.models import AutomationRun, Incident

pytestmark = pytest.mark.django_db


def automation_run(**extra):
    return {
        "external_id": "RUN-1",
        "process": "invoice-matching",
        "started_at": "2026-10-06T02:00:00Z",
        "execution_time": "30",
        "manual_time_equivalent": "900",
        **extra,
    }


def post(client, kind, body):
    # json.dumps escapes them (\ud800, \u0000) as any JSON client may send them.
    return client.post(f"/api/v1/events/{kind}", data=json.dumps(body), content_type="application/json")


@pytest.mark.parametrize("text", ["a\x00b", "\ud800", "ok \udfff end"])
@pytest.mark.parametrize("field", ["external_id", "process", "department"])
def test_nul_and_lone_surrogates_are_refused_by_field(api_as, acme, acme_model, field, text):
    body = [automation_run(external_id="RUN-0"), automation_run(**{field: text})]
    response = post(api_as(acme, "ingest"), "automation-runs", body)
    assert response.status_code == 400
    assert response.json()["errors"] == {f"1.{field}": ["must not contain NUL characters or unpaired surrogates"]}
    with tenant_scope(acme):
        assert not AutomationRun.objects.exists()


def test_a_list_of_strings_with_a_nul_is_refused(api_as, acme, acme_model):
    incident = {
        "external_id": "INC-1",
        "severity": "sev2",
        "started_at": "2026-10-05T10:00:00+00:00",
        "affected_services": ["api", "db\x00"],
    }
    response = post(api_as(acme, "ingest"), "incidents", [incident])
    assert response.status_code == 400
    assert "0.affected_services" in response.json()["errors"]
    with tenant_scope(acme):
        assert not Incident.objects.exists()


def test_other_unicode_is_stored_as_sent(api_as, acme, acme_model):
    text = "Zürich 東京 😀"
    response = post(api_as(acme, "ingest"), "automation-runs", [automation_run(process=text)])
    assert response.status_code == 201
    with tenant_scope(acme):
        assert AutomationRun.objects.get().process == text
