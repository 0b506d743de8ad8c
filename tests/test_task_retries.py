"""Celery tasks retry the transient errors they name (governance.tasks.TRANSIENT_ERRORS) and fail at once on a bug;
tasks that send before they record retry the network's errors only (NETWORK_ERRORS)."""

from __future__ import annotations

import smtplib
from typing import Any
from unittest import mock

import pytest
from django.db import InterfaceError, OperationalError

from dashboards import tasks as dashboard_tasks
from governance import tasks as governance_tasks
from roi import tasks as roi_tasks

# (task, what its body calls, a result that call may return); each task takes the tenant's id.
DATABASE_RETRYING_TASKS = [
    (governance_tasks.api_keys_revoke_expired, "governance.services.api_keys_revoke_expired", 0),
    (governance_tasks.ledger_anchor_head, "governance.tasks.anchor_chain_head", None),
    (roi_tasks.rollups_rebuild, "roi.tasks.rollups_rebuild_service", mock.Mock(cells_changed=0)),
]
# These send reports and alerts before marking them sent.
SENDING_TASKS = [
    (dashboard_tasks.report_make, "dashboards.reports.report_make", mock.Mock(report=mock.Mock(pk=1))),
    (dashboard_tasks.alerts_evaluate, "dashboards.alerts.alerts_evaluate", mock.Mock(opened=[], resolved=[])),
]
RETRYING_TASKS = DATABASE_RETRYING_TASKS + SENDING_TASKS
TASK_IDS = [task.name.rsplit(".", 1)[-1] for task, _, _ in RETRYING_TASKS]
DATABASE_DOWN = [OperationalError("server closed the connection"), InterfaceError("connection already closed")]


def run(task: Any, tenant_id: int) -> Any:
    extra = {"kind": "monthly", "period": "2026-01"} if task is dashboard_tasks.report_make else {}
    # Retries run at once in an eager run: no backoff to wait for.
    with mock.patch.object(task, "retry_backoff", False):
        return task.apply(kwargs={"tenant_id": tenant_id, **extra})


@pytest.mark.parametrize(("task", "target", "result"), RETRYING_TASKS, ids=TASK_IDS)
@pytest.mark.parametrize(
    "transient",
    [TimeoutError(), ConnectionRefusedError(), smtplib.SMTPServerDisconnected("gone")],
    ids=["timeout", "refused", "smtp-disconnected"],
)
def test_a_network_error_is_retried(acme, task, target, result, transient):
    # given: the first attempt meets a transient error, the second succeeds
    with mock.patch(target, side_effect=[transient, result]) as body:
        outcome = run(task, acme.pk)
    # then: the task ran again and succeeded
    assert body.call_count == 2
    assert outcome.successful()


@pytest.mark.parametrize(
    ("task", "target", "result"),
    DATABASE_RETRYING_TASKS,
    ids=[t.name.rsplit(".", 1)[-1] for t, _, _ in DATABASE_RETRYING_TASKS],
)
@pytest.mark.parametrize("transient", DATABASE_DOWN, ids=["database-down", "connection-closed"])
def test_a_database_failure_is_retried(acme, task, target, result, transient):
    # given: the first attempt meets a transient error, the second succeeds
    with mock.patch(target, side_effect=[transient, result]) as body:
        outcome = run(task, acme.pk)
    # then: the task ran again and succeeded
    assert body.call_count == 2
    assert outcome.successful()


@pytest.mark.parametrize(
    ("task", "target", "result"), SENDING_TASKS, ids=[t.name.rsplit(".", 1)[-1] for t, _, _ in SENDING_TASKS]
)
@pytest.mark.parametrize("failure", DATABASE_DOWN, ids=["database-down", "connection-closed"])
def test_a_task_that_sends_is_not_retried_after_a_database_failure(acme, task, target, result, failure):
    # The send may have happened before the failure: a retry would send it again (the
    # pending sweeps send what was never sent).
    with mock.patch(target, side_effect=failure) as body:
        outcome = run(task, acme.pk)
    assert body.call_count == 1
    assert outcome.failed()


@pytest.mark.parametrize(("task", "target", "result"), RETRYING_TASKS, ids=TASK_IDS)
@pytest.mark.parametrize(
    "bug", [ValueError("bad period"), KeyError("total"), TypeError("None"), FileNotFoundError("report.pdf")], ids=repr
)
def test_a_bug_fails_the_task_at_once(acme, task, target, result, bug):
    with mock.patch(target, side_effect=bug) as body:
        outcome = run(task, acme.pk)
    assert body.call_count == 1
    assert outcome.failed()
    assert isinstance(outcome.result, type(bug))


def test_a_missing_tenant_is_not_retried(db):
    outcome = run(governance_tasks.api_keys_revoke_expired, 0)
    assert outcome.failed() and outcome.result.__class__.__name__ == "DoesNotExist"


def test_every_retrying_task_retries_the_transient_errors_and_no_bug():
    from celery import current_app

    retrying = [task for name, task in current_app.tasks.items() if getattr(task, "autoretry_for", ())]
    assert {task.name for task, _, _ in RETRYING_TASKS} <= {task.name for task in retrying}
    for task in retrying:
        assert set(governance_tasks.NETWORK_ERRORS) <= set(task.autoretry_for)
        assert not any(
            issubclass(bug, kind)
            for bug in (ValueError, KeyError, TypeError, FileNotFoundError, PermissionError)
            for kind in task.autoretry_for
        )
