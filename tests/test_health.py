"""Probes: /healthz says the process is alive and touches nothing; /readyz says whether the
database answers (and how Redis is), answers 503 naming what is down, and shows no tenant data."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from django.db import OperationalError, connection
from django.test import Client

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again on leaving: nothing listens there


@pytest.fixture(autouse=True)
def _every_probe_checks(settings) -> None:
    # Each test asks about a database it has just changed: no answer is reused between them.
    settings.READINESS_CHECK_EVERY_SECONDS = 0


@pytest.fixture
def unreachable_database(monkeypatch) -> Iterator[None]:
    """The database address points at a closed port (PostgreSQL), or every query fails (SQLite)."""
    if connection.vendor == "postgresql":
        params = connection.settings_dict
        saved = params["HOST"], params["PORT"]
        params["HOST"], params["PORT"] = "127.0.0.1", str(closed_port())
        try:
            yield
        finally:
            params["HOST"], params["PORT"] = saved
    else:

        def broken_cursor(*args, **kwargs):
            raise OperationalError("unable to open database file")

        monkeypatch.setattr(connection, "cursor", broken_cursor)
        yield


def test_liveness_answers_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readiness_says_ready_when_the_database_answers(client, settings):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    expected = {"database": "ok", **({"redis": "ok"} if settings.REDIS_URL else {})}
    assert response.json() == {"status": "ready", "checks": expected}
    assert response["Cache-Control"] == "no-store"


@pytest.mark.postgres
def test_readiness_is_503_within_seconds_when_the_database_is_unreachable(client, unreachable_database):
    began = time.monotonic()
    response = client.get("/readyz")
    took = time.monotonic() - began

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["status"] == "unavailable"
    assert response.json()["checks"]["database"] == "down"
    assert took < 5, f"took {took:.1f}s"
    # liveness stays cheap and unaffected: restarting the process would not bring the database back
    assert client.get("/healthz").status_code == 200


def test_readiness_is_503_when_the_embedded_database_fails(client, unreachable_database, settings):
    settings.REDIS_URL = ""
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {"database": "down"}}
    assert client.get("/healthz").status_code == 200


def test_redis_down_is_named_but_leaves_the_instance_ready(client, settings):
    # Requests need nothing from Redis (docs/operations.md): out of rotation would be an outage.
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port()}/0"
    began = time.monotonic()
    response = client.get("/readyz")
    assert time.monotonic() - began < 5
    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "checks": {"database": "ok", "redis": "down"}}


def test_the_answer_carries_no_error_text(client, unreachable_database, settings):
    settings.REDIS_URL = f"redis://user:hunter2@127.0.0.1:{closed_port()}/0"
    body = client.get("/readyz").content.decode()
    for leak in ("127.0.0.1", "hunter2", "refused", "Error", "port"):
        assert leak not in body


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_answer_the_instance_address_over_plain_http(path, settings):
    # An orchestrator probes http://<pod IP>:8000/..., which is not in ALLOWED_HOSTS and not https.
    settings.ALLOWED_HOSTS = ["bizvalue.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    response = Client(HTTP_HOST="10.1.2.3:8000").get(path)
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_show_no_tenant_data_and_the_same_answer_to_everyone(
    path, acme, globex, alice, charlie, make_key, settings
):
    settings.REDIS_URL = ""
    anonymous = Client().get(path)
    signed_in = Client()
    signed_in.force_login(alice)
    with_key = Client(HTTP_AUTHORIZATION=f"Bearer {make_key(globex, 'finance_admin')}")
    answers = [anonymous, signed_in.get(path), with_key.get(path)]

    assert {answer.content for answer in answers} == {anonymous.content}
    body = anonymous.content.decode().lower()
    for tenant in (acme, globex):
        assert tenant.slug not in body and tenant.name.lower() not in body
    assert set(anonymous.json()) <= {"status", "checks"}
    assert set(anonymous.json().get("checks", {})) <= {"database", "redis"}
    assert all("Set-Cookie" not in answer.headers for answer in answers)


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_only_get_and_head_are_probes(client, path):
    assert client.head(path).status_code == 200
    assert client.post(path).status_code == 404


def test_readiness_checks_at_most_once_per_interval_however_often_it_is_asked(client, settings, monkeypatch):
    from bizvalue import health

    settings.READINESS_CHECK_EVERY_SECONDS = 60
    checks: list[int] = []
    monkeypatch.setattr(health, "_last_readiness", None)

    def counted_check() -> str:
        checks.append(1)
        return health.OK

    monkeypatch.setattr(health, "database_state", counted_check)

    answers = [client.get("/readyz").status_code for _ in range(20)]

    assert answers == [200] * 20
    assert len(checks) == 1
