"""Alert tasks in a real Celery worker: ingestion triggers evaluation, delivery retries with backoff, once."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.db import OperationalError

from bizvalue.celery import app
from dashboards import tasks
from dashboards.models import Alert
from governance.tenancy import tenant_scope
from tests.dashboards.test_alerts import arm_webhook, incidents, receiver, set_targets, signature_is_valid, with_email

__all__ = ["receiver"]  # the fixture, imported for these tests


@pytest.fixture
def worker(transactional_db):
    app.conf.task_always_eager = False
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30) as running:
        yield running


def eventually(check: Callable[[], Any], timeout: float = 90) -> Any:
    """Poll `check` until it returns something truthy (SQLite may be locked by the worker meanwhile)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            found = check()
        except OperationalError:
            found = None
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def alerts_of(tenant) -> list[Alert]:
    with tenant_scope(tenant):
        return list(Alert.objects.order_by("pk"))


def quiet_targets(tenant) -> None:
    """Monthly targets of zero, so the incident surge is the only rule that can fire."""
    set_targets(tenant, value="0", prevention="0")


SURGE = [1, 0, 1, 0, 1, 0, 1, 0, 5]


def test_ingestion_fires_a_surge_delivered_once_with_retries(worker, acme, acme_model, tara, receiver):
    # given: executives (tenant admins) with an address, a webhook that fails once with a 503
    with_email(tara, "tara@acme.example")
    quiet_targets(acme)
    arm_webhook(acme, receiver.url)
    receiver.statuses.append(503)

    # when: a surge of incidents arrives (the ingestion queues an evaluation on commit)
    incidents(acme, SURGE)

    # then: one alert, its e-mail and its webhook delivered once, the webhook after one retry
    delivered = eventually(lambda: [a for a in alerts_of(acme) if a.webhook_delivered_at and a.emailed_at])
    assert [a.rule for a in alerts_of(acme)] == ["incident_surge"]
    [alert] = delivered
    assert (alert.webhook_attempts, alert.email_attempts) == (2, 1)
    first, second = receiver.received
    assert second.at - first.at >= 0.9  # exponential backoff: the first retry waits a second
    assert all(signature_is_valid(request) for request in receiver.received)
    assert [message.to for message in mail.outbox] == [["tara@acme.example"]]

    # Evaluating and delivering again sends nothing more.
    assert tasks.alerts_evaluate.delay(tenant_id=acme.pk).get(timeout=60) == {"opened": [], "resolved": [], "swept": []}
    assert tasks.alert_deliver.delay(tenant_id=acme.pk, alert_id=alert.pk, channel="webhook").get(timeout=60) == (
        "nothing to send"
    )
    assert len(receiver.received) == 2 and len(mail.outbox) == 1


def test_a_tenants_evaluation_never_reads_another_tenants_rows(worker, acme, globex, acme_model):
    # given: globex has a surge, acme is quiet (a single incident this week)
    quiet_targets(acme)
    quiet_targets(globex)
    from governance.ledger import Actor
    from roi.services import financial_model_update
    from tests.conftest import ACME_MODEL

    with tenant_scope(globex):
        financial_model_update(actor=Actor.system("test"), groups=ACME_MODEL, change_reason="globex figures")
    incidents(globex, SURGE, prefix="g")
    incidents(acme, [1], prefix="a")

    # when: acme's evaluation runs in the worker
    outcome = tasks.alerts_evaluate.delay(tenant_id=acme.pk).get(timeout=60)

    # then: acme counted its own incident only; globex's surge is globex's alone
    assert outcome["opened"] == []
    assert alerts_of(acme) == []
    surge = eventually(lambda: alerts_of(globex))
    assert [(a.rule, a.measured) for a in surge] == [("incident_surge", 5)]
    assert surge[0].detail["weekly_counts"] == SURGE[:-1]


def test_the_beat_entry_evaluates_every_tenant(worker, acme, globex):
    assert tasks.alerts_evaluate_all_tenants.delay().get(timeout=60) == 2


def test_alert_tasks_are_reliable():
    for task in (tasks.alerts_evaluate, tasks.alert_deliver):
        assert task.acks_late and task.reject_on_worker_lost
        assert task.soft_time_limit < task.time_limit <= 60
        assert task.autoretry_for and task.retry_backoff
    from dashboards.alert_delivery import WebhookRefused, WebhookTransientError

    assert WebhookTransientError in tasks.alert_deliver.autoretry_for
    assert not any(issubclass(WebhookRefused, kind) for kind in tasks.alert_deliver.autoretry_for)
    from django.conf import settings

    assert settings.CELERY_BEAT_SCHEDULE["evaluate-alerts"]["task"] == tasks.alerts_evaluate_all_tenants.name
