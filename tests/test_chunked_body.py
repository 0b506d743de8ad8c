"""A request body sent with `Transfer-Encoding: chunked` is read, not taken for empty (bizvalue.chunked)."""

from __future__ import annotations

import http.client
import io
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import override_settings

from bizvalue.wsgi import application

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
ROI_BODY = {"upfront_cost": 100000, "monthly_cost": 5000, "monthly_benefit": 25000, "months": 36}


def call(path: str, body: bytes, *, headers: dict[str, str], terminated: bool = True) -> tuple[str, bytes]:
    """POST `body` through the WSGI application as gunicorn hands on a chunked request: de-chunked, no length."""
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "wsgi.input_terminated": terminated,
        "HTTP_TRANSFER_ENCODING": "chunked",
        **{f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()},
    }
    environ["CONTENT_TYPE"] = environ.pop("HTTP_CONTENT_TYPE", "")
    answer: dict[str, str] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: object = None) -> None:
        answer["status"] = status

    # As Django's test client does: the handler's signals would close the test's connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        response = application(environ, start_response)
        content = b"".join(response)
        if hasattr(response, "close"):
            response.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return answer["status"], content


@pytest.fixture
def analyst_key(acme, acme_model, make_key):
    return make_key(acme, "analyst")


def test_a_chunked_json_body_reaches_the_api(analyst_key):
    status, content = call(
        "/api/v1/calculate/roi",
        json.dumps(ROI_BODY).encode(),
        headers={"Authorization": f"Bearer {analyst_key}", "Content-Type": "application/json"},
    )

    assert status.startswith("201"), content
    assert json.loads(content)["inputs"]["months"] == 36


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1_000)
def test_a_chunked_body_past_the_limit_is_a_413_in_the_envelope(analyst_key):
    body = json.dumps({**ROI_BODY, "padding": "x" * 200_000}).encode()

    status, content = call(
        "/api/v1/calculate/roi",
        body,
        headers={"Authorization": f"Bearer {analyst_key}", "Content-Type": "application/json"},
    )

    assert status.startswith("413")
    assert json.loads(content) == {"errors": {"body": ["The request body exceeds the limit of 1,000 bytes."]}}


def test_a_chunked_body_a_server_did_not_dechunk_is_refused_with_411():
    status, content = call("/api/v1/calculate/roi", b"5\r\nhello\r\n0\r\n\r\n", headers={}, terminated=False)

    assert status.startswith("411")
    assert list(json.loads(content)["errors"]) == ["body"]


def test_a_chunked_form_reaches_a_page(client, alice, acme_model):
    # given a signed-in session whose cookie the chunked request carries, and a CSRF token
    # that is only in the body: read, or the request is a 403
    client.force_login(alice)
    token = "a" * 32
    cookie = f"sessionid={client.cookies['sessionid'].value}; csrftoken={token}"

    status, content = call(
        "/t/acme/calculate/incident_cost/",
        f"downtime_minutes=45&severity=sev1&csrfmiddlewaretoken={token}".encode(),
        headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
    )

    # then the form was read: a calculation was made and the browser sent on to its record
    assert status.startswith("302"), content[:500]


def test_gunicorn_hands_django_the_whole_chunked_body(tmp_path):
    with socket.socket() as probe:  # a free port for gunicorn
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1", "tests.chunked_echo_wsgi"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        body = b'{"a": "' + b"x" * 100_000 + b'"}'
        echoed = None
        for _ in range(100):
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                connection.request("POST", "/", body=iter([body[:1000], body[1000:]]), encode_chunked=True)
                echoed = connection.getresponse().read()
                break
            except (ConnectionRefusedError, http.client.RemoteDisconnected):
                time.sleep(0.1)
        assert echoed == body
    finally:
        server.terminate()
        server.wait(timeout=30)
