"""Idempotency-Key: a retried unsafe request answers the same and writes once."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from governance.models import ApiKey, IdempotencyRecord
from governance.tenancy import tenant_scope
from tests.live_http import post_json

pytestmark = pytest.mark.django_db

BODY = {"name": "grafana", "role": "viewer"}


def keys_named(tenant, name: str) -> int:
    with tenant_scope(tenant):
        return ApiKey.objects.filter(name=name).count()


REVENUE = "/api/v1/config/revenue-model"
REVENUE_BODY = {"annual_recurring_revenue": 60000000, "change_reason": "New deals"}


def model_versions(tenant) -> int:
    from roi.models import FinancialModel

    with tenant_scope(tenant):
        return FinancialModel.objects.get().version


def test_the_same_key_and_body_returns_the_stored_response_and_writes_once(api_as, acme, acme_model):
    client = api_as(acme, "finance_admin")
    first = client.post(REVENUE, REVENUE_BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post(REVENUE, REVENUE_BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert model_versions(acme) == 2


def test_a_new_api_key_is_never_stored_and_a_retry_makes_no_second_key(api_as, acme):
    # given: a key is created with an Idempotency-Key
    client = api_as(acme, "tenant_admin")
    first = client.post("/api/v1/keys", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    raw_key = first.json()["key"]

    # when: the same request is retried
    again = client.post("/api/v1/keys", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    # then: the record holds no secret, the retry is told what was made, and no second key exists
    with tenant_scope(acme):
        record = IdempotencyRecord.objects.get()
    assert record.secret_withheld and "key" not in record.response_body
    assert raw_key not in str(record.response_body) and raw_key.split("_")[2] not in str(record.response_body)
    assert again.status_code == 409 and raw_key not in again.content.decode()
    message = again.json()["errors"]["Idempotency-Key"][0]
    assert f"prefix {first.json()['prefix']}" in message and "revoke" in message
    assert keys_named(acme, "grafana") == 1


def test_another_key_of_the_tenant_gets_no_replay_of_someone_elses_answer(api_as, acme, acme_model):
    mine, theirs = api_as(acme, "tenant_admin"), api_as(acme, "tenant_admin")
    mine.post("/api/v1/keys", BODY, format="json", HTTP_IDEMPOTENCY_KEY="shared")

    other = theirs.post("/api/v1/keys", BODY, format="json", HTTP_IDEMPOTENCY_KEY="shared")

    assert other.status_code == 201 and "Idempotent-Replayed" not in other
    assert keys_named(acme, "grafana") == 2
    # Nor an answer without a secret: the stored answer is the principal's own.
    first_finance, second_finance = api_as(acme, "finance_admin"), api_as(acme, "finance_admin")
    first_finance.post(REVENUE, REVENUE_BODY, format="json", HTTP_IDEMPOTENCY_KEY="rev")
    second = second_finance.post(REVENUE, REVENUE_BODY, format="json", HTTP_IDEMPOTENCY_KEY="rev")
    assert second.status_code == 200 and "Idempotent-Replayed" not in second
    assert model_versions(acme) == 3


def test_the_same_person_under_a_session_and_a_key_gets_no_replay_across_them(api_as, acme, tara):
    from rest_framework.test import APIClient

    session = APIClient()
    session.force_login(tara)
    session.post("/api/v1/keys", BODY, format="json", HTTP_IDEMPOTENCY_KEY="mine")
    doubled = session.post("/api/v1/keys", BODY, format="json", HTTP_IDEMPOTENCY_KEY="mine")
    keyed = api_as(acme, "tenant_admin").post("/api/v1/keys", BODY, format="json", HTTP_IDEMPOTENCY_KEY="mine")

    assert doubled.status_code == 409
    assert keyed.status_code == 201 and keyed.json()["key"].startswith("bv_")
    assert keys_named(acme, "grafana") == 2


def test_the_same_key_with_another_body_is_a_422(api_as, acme):
    client = api_as(acme, "tenant_admin")
    client.post("/api/v1/keys", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    other = client.post("/api/v1/keys", BODY | {"name": "other"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert other.status_code == 422 and "different request" in str(other.json())
    assert keys_named(acme, "other") == 0


def test_without_a_key_each_request_writes(api_as, acme):
    client = api_as(acme, "tenant_admin")
    client.post("/api/v1/keys", BODY, format="json")
    client.post("/api/v1/keys", BODY, format="json")
    assert keys_named(acme, "grafana") == 2


def test_a_failed_request_is_not_stored_so_a_fixed_retry_runs(api_as, acme):
    client = api_as(acme, "tenant_admin")
    bad = client.post("/api/v1/keys", {"name": "x", "role": "nope"}, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert bad.status_code == 400
    with tenant_scope(acme):
        assert not IdempotencyRecord.objects.exists()


def test_keys_are_per_tenant(api_as, acme, globex):
    api_as(acme, "tenant_admin").post("/api/v1/keys", BODY, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    theirs = api_as(globex, "tenant_admin").post("/api/v1/keys", BODY, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    assert theirs.status_code == 201 and "Idempotent-Replayed" not in theirs
    assert keys_named(globex, "grafana") == 1


def test_a_record_older_than_a_day_is_forgotten(api_as, acme):
    from datetime import timedelta

    from django.utils import timezone

    client = api_as(acme, "tenant_admin")
    client.post("/api/v1/keys", BODY, format="json", HTTP_IDEMPOTENCY_KEY="old")
    with tenant_scope(acme):
        record = IdempotencyRecord.objects.get()
        record.created_at = timezone.now() - timedelta(hours=25)
        record.save()
    assert client.post("/api/v1/keys", BODY, format="json", HTTP_IDEMPOTENCY_KEY="old").status_code == 201
    assert keys_named(acme, "grafana") == 2


def test_an_overlong_key_is_a_400(api_as, acme):
    response = api_as(acme, "tenant_admin").post("/api/v1/keys", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k" * 256)
    assert response.status_code == 400 and "Idempotency-Key" in response.json()["errors"]


@pytest.mark.django_db(transaction=True)
def test_a_concurrent_request_with_the_same_key_is_a_409(live_server, acme, make_key, monkeypatch):
    from governance import services

    raw_key = make_key(acme, "tenant_admin")
    create = services.api_key_create
    started = threading.Event()

    def slow_create(**kwargs):
        started.set()
        time.sleep(1.5)  # hold the first request open while the others arrive
        return create(**kwargs)

    monkeypatch.setattr(services, "api_key_create", slow_create)

    def post(_: int) -> int:
        url = f"{live_server.url}/api/v1/keys"
        return post_json(url, raw_key, BODY, headers={"Idempotency-Key": "c-1"}, timeout=60)

    with ThreadPoolExecutor(max_workers=6) as pool:
        first = pool.submit(post, 0)
        assert started.wait(10)
        others = list(pool.map(post, range(1, 6)))
    assert first.result() == 201 and others == [409] * 5
    # Once finished, a retry is told the key exists; its secret is not kept, so not repeated.
    assert post(6) == 409
    assert keys_named(acme, "grafana") == 1
