"""Hostile input: oversized bodies, deep JSON and header floods get a JSON answer, never a 500 or HTML."""

from __future__ import annotations

import io
import json
import runpy
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.test import RequestFactory, override_settings
from rest_framework import exceptions

from governance.errors import api_exception_handler, bad_request
from governance.parsers import MAX_JSON_DEPTH, BoundedJSONParser, nesting_exceeds
from governance.text import UNSTORABLE_MESSAGE

pytestmark = pytest.mark.django_db

ROI = "/api/v1/calculate/roi"


def nested(depth: int) -> str:
    """A JSON object nested `depth` levels deep."""
    return '{"a":' * (depth - 1) + "{}" + "}" * (depth - 1)


@pytest.fixture
def analyst_api(acme, acme_model, api_as):
    return api_as(acme, "analyst")


def test_it_rejects_json_nested_deeper_than_the_limit_naming_body(analyst_api):
    response = analyst_api.post(ROI, nested(MAX_JSON_DEPTH + 1), content_type="application/json")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"errors": {"body": [f"JSON nested deeper than {MAX_JSON_DEPTH} levels."]}}


def test_it_parses_json_at_the_limit(analyst_api):
    response = analyst_api.post(ROI, nested(MAX_JSON_DEPTH), content_type="application/json")

    # Parsed, then refused by the serializer for its fields, not for its depth.
    assert response.status_code == 400
    assert "body" not in response.json()["errors"]


@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_it_answers_400_not_500_to_json_deep_enough_to_overflow_the_parser(analyst_api, opener):
    response = analyst_api.post(ROI, opener * 200_000, content_type="application/json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["body"]


def test_it_still_refuses_nan_naming_the_field_that_held_it(analyst_api):
    response = analyst_api.post(ROI, '{"upfront_cost": NaN}', content_type="application/json")

    assert response.status_code == 400
    assert sorted(response.json()["errors"]) == ["body", "upfront_cost"]


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1_000)
def test_it_answers_413_in_the_envelope_to_an_oversized_body(analyst_api):
    body = json.dumps({"upfront_cost": 1, "padding": "x" * 2_000})

    response = analyst_api.post(ROI, body, content_type="application/json")

    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"errors": {"body": ["The request body exceeds the limit of 1,000 bytes."]}}


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1_000)
def test_it_stops_reading_an_undeclared_oversized_body_at_the_limit():
    # given a stream longer than the limit and no Content-Length to refuse it by
    stream = io.BytesIO(b'{"a": "' + b"x" * 10_000 + b'"}')

    # when / then
    with pytest.raises(exceptions.APIException) as raised:
        BoundedJSONParser().parse(stream, "application/json", {})
    assert raised.value.status_code == 413
    assert stream.tell() == 1_001


def test_a_django_request_too_big_inside_a_view_is_a_413_in_the_envelope():
    response = api_exception_handler(RequestDataTooBig("too big"), {})

    assert response is not None
    assert response.status_code == 413
    assert list(response.data["errors"]) == ["body"]


def test_a_request_too_big_outside_drf_is_a_json_413_under_api():
    request = RequestFactory().post("/api/v1/anything")

    response = bad_request(request, RequestDataTooBig("too big"))

    assert response.status_code == 413
    assert json.loads(response.content) == {
        "errors": {"body": [f"The request body exceeds the limit of {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes."]}
    }


def test_a_bad_request_on_a_page_stays_plain():
    response = bad_request(RequestFactory().post("/t/acme/"), RequestDataTooBig("too big"))

    assert response.status_code == 400


@pytest.mark.parametrize(
    ("document", "deeper_than_two"),
    [({}, False), ({"a": {"b": 1}}, False), ({"a": {"b": {}}}, True), ([[[]]], True), ([1, [2]], False)],
)
def test_nesting_is_measured_in_containers(document, deeper_than_two):
    assert nesting_exceeds(document, 2) is deeper_than_two


def test_gunicorn_config_bounds_slow_and_oversized_requests():
    config = runpy.run_path(str(Path(settings.BASE_DIR) / "gunicorn.conf.py"))

    assert 0 < config["timeout"] <= 60
    assert 0 < config["graceful_timeout"] <= 60
    assert config["limit_request_line"] <= 8190
    assert config["limit_request_fields"] <= 100
    assert config["limit_request_field_size"] <= 8190
    assert config["worker_tmp_dir"] in {"/dev/shm", None}  # noqa: S108
    assert config["worker_class"] == "sync"


def test_a_nan_literal_in_a_batch_of_events_is_named_by_index_and_field(analyst_api):
    body = '[{"external_id": "A", "process": "p", "started_at": "2026-01-01T00:00:00Z", "execution_time": NaN}]'
    response = analyst_api.post("/api/v1/events/automation-runs", body, content_type="application/json")

    assert response.status_code == 400
    assert sorted(response.json()["errors"]) == ["0.execution_time", "body"]


# --- Text no database can store: NUL and lone surrogates (issue 15) -------------------------

NUL, SURROGATE = "a\u0000b", "a\ud800b"
UNSTORABLE = pytest.mark.parametrize("text", [NUL, SURROGATE], ids=["nul", "lone_surrogate"])
CHANGE_REASON_WRITES = [
    ("put", "/api/v1/config/financial-model", {"cost_model": {"cost_per_error": 90}}),
    ("put", "/api/v1/config/business-kpis", {"alerts": {"roi_target": 250}}),
    ("put", "/api/v1/config/it-budget", {"fiscal_year": 2026, "annual_amount": 1000}),
    ("post", "/api/v1/config/revenue-model", {"annual_recurring_revenue": 1}),
]


def json_text(document: object) -> str:
    """`document` as JSON, lone surrogates written as the escapes a hostile client sends."""
    return json.dumps(document)  # ensure_ascii: "\ud800" stays the six characters \ud800


@pytest.fixture
def admin_api(acme, acme_model, api_as):
    return api_as(acme, "tenant_admin")


@UNSTORABLE
@pytest.mark.parametrize(("method", "path", "body"), CHANGE_REASON_WRITES, ids=lambda v: str(v).split("/")[-1])
def test_a_change_reason_no_database_can_store_is_a_400_naming_it(admin_api, method, path, body, text):
    response = getattr(admin_api, method)(
        path, json_text({**body, "change_reason": text}), content_type="application/json"
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["change_reason"]


@UNSTORABLE
def test_a_customer_segment_no_database_can_store_is_a_400_naming_it(admin_api, text):
    body = {"customer_segments": ["enterprise", text], "change_reason": "segments"}

    response = admin_api.post("/api/v1/config/revenue-model", json_text(body), content_type="application/json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["customer_segments"]


@UNSTORABLE
def test_an_object_key_no_database_can_store_is_named_escaped(admin_api, text):
    body = {"cost_model": {text: 1}, "change_reason": "r"}

    response = admin_api.put("/api/v1/config/financial-model", json_text(body), content_type="application/json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [f"cost_model.a\\u{ord(text[1]):04x}b"]


def test_a_surrogate_pair_is_text_like_any_other(admin_api):
    body = {"cost_model": {"cost_per_error": 90}, "change_reason": "fixed \U0001f600"}  # sent as \ud83d\ude00

    response = admin_api.put("/api/v1/config/financial-model", json_text(body), content_type="application/json")

    assert response.status_code in {200, 201, 202}, response.content


@pytest.mark.parametrize("method", ["put", "delete"])
def test_a_member_name_with_a_nul_is_a_400_naming_it(admin_api, method):
    response = getattr(admin_api, method)(
        "/api/v1/members/x%00", json_text({"role": "viewer"}), content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json() == {"errors": {"username": [UNSTORABLE_MESSAGE]}}


@pytest.mark.parametrize("page", ["/t/acme/audit/", "/t/acme/audit/events.csv"])
@pytest.mark.parametrize("query", ["kind=%00", "since=%00", "until=2026-01-01%00", "items=%00"])
def test_an_audit_filter_with_a_nul_is_a_400_naming_it(client, carol, page, query):
    client.force_login(carol)

    response = client.get(f"{page}?{query}")

    assert response.status_code == 400
    assert f"<strong>{query.split('=')[0]}</strong>: {UNSTORABLE_MESSAGE}" in response.content.decode()


@pytest.mark.parametrize("query", ["since=2026-02-30", "until=2026-99-99"])
def test_an_impossible_day_in_the_audit_filters_reshows_the_page_naming_it(client, carol, query):
    client.force_login(carol)

    response = client.get(f"/t/acme/audit/?{query}")

    assert response.status_code == 400
    assert f"<strong>{query.split('=')[0]}</strong>: Enter a valid date." in response.content.decode()


@pytest.mark.parametrize("query", ["since=2026-02-30", "until=2026-99-99"])
def test_an_impossible_day_in_the_audit_export_is_a_400_naming_it(client, carol, query):
    client.force_login(carol)

    response = client.get(f"/t/acme/audit/events.csv?{query}")

    assert response.status_code == 400
    assert response.content.decode() == f"{query.split('=')[0]}: Enter a valid date."


def test_a_valid_day_still_filters_the_audit_page(client, carol):
    client.force_login(carol)

    assert client.get("/t/acme/audit/?since=2026-02-28&until=2026-03-01").status_code == 200


def test_a_nul_in_a_form_field_of_a_page_is_a_400_naming_it(client, alice, acme_model):
    client.force_login(alice)

    response = client.post("/t/acme/calculate/incident_cost/", {"downtime_minutes": "45", "severity": "sev1\x00"})

    assert response.status_code == 400
    assert f"<strong>severity</strong>: {UNSTORABLE_MESSAGE}" in response.content.decode()


def test_an_idempotency_key_with_a_nul_is_a_400_naming_it(analyst_api):
    response = analyst_api.post(
        "/api/v1/calculate/availability", {"current_target": 99}, format="json", HTTP_IDEMPOTENCY_KEY="k\x00"
    )

    assert response.status_code == 400
    assert response.json() == {"errors": {"Idempotency-Key": [UNSTORABLE_MESSAGE]}}


def test_a_bearer_key_with_a_nul_is_a_400_naming_the_header(api):
    response = api.get("/api/v1/tenant", HTTP_AUTHORIZATION="Bearer bv_0000000_\x00")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["Authorization"]


def test_a_session_cookie_spelling_a_nul_is_a_400_before_the_session_is_read(client, acme):
    # a quoted cookie value may hold the octal escape \000, which Django decodes to a NUL
    response = client.get("/t/acme/", HTTP_COOKIE='sessionid="abcdefgh\\000ijkl"')

    assert response.status_code == 400
    assert f"<strong>cookie.sessionid</strong>: {UNSTORABLE_MESSAGE}" in response.content.decode()


@pytest.mark.parametrize(
    ("charset", "body"),
    [
        ("unicode_escape", b'{"change_reason": "a\\\\ud800b", "cost_model": {"cost_per_error": 90}}'),
        ("utf-7", b'{"change_reason": "a+2AA-b", "cost_model": {"cost_per_error": 90}}'),
        ("latin-1", b'{"change_reason": "caf\xe9", "cost_model": {"cost_per_error": 90}}'),
    ],
)
def test_json_in_any_charset_but_utf8_is_a_415_so_no_decoding_can_smuggle_a_surrogate(admin_api, charset, body):
    # unicode_escape turns the text \\ud800, which the checks pass, into a lone surrogate
    response = admin_api.put(
        "/api/v1/config/financial-model", body, content_type=f"application/json; charset={charset}"
    )

    assert response.status_code == 415, response.content
    assert charset in str(response.json()), response.json()


def test_json_declared_utf8_in_any_spelling_or_an_unknown_charset_is_read_as_utf8(admin_api):
    body = '{"change_reason": "caf\u00e9", "cost_model": {"cost_per_error": 90}}'.encode()

    for charset in ("UTF8", "utf_8", "no-such-codec"):  # Django ignores a charset no codec has
        response = admin_api.put(
            "/api/v1/config/financial-model", body, content_type=f"application/json; charset={charset}"
        )

        assert response.status_code in {200, 201, 202}, response.content
