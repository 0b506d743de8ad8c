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

pytestmark = pytest.mark.django_db

ROI = "/api/v1/calculate/roi"


def nested(depth: int) -> str:
    """A JSON object nested `depth` levels deep."""
    return '{"a":' * (depth - 1) + "{}" + "}" * (depth - 1)


@pytest.fixture
def analyst_api(acme, acme_model, api_as):  # type: ignore[no-untyped-def]
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
