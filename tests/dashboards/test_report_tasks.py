"""Report tasks in a real Celery worker: Redis in the PostgreSQL run, the filesystem transport on SQLite."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import OperationalError
from django.utils import timezone

from bizvalue.celery import app
from dashboards import selectors, tasks
from dashboards.models import Report
from governance.ledger import Actor
from governance.models import LedgerRecord
from governance.tenancy import tenant_scope
from roi.ingestion import events_ingest
from roi.services import financial_model_update
from tests.conftest import ACME_MODEL
from tests.dashboards.conftest import automation_runs
from tests.dashboards.test_reports import in_pdf, pdf_text


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def worker(transactional_db):
    app.conf.task_always_eager = False
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30) as running:
        yield running


def reports_of(tenant) -> list[Report]:
    with tenant_scope(tenant):
        return list(Report.objects.order_by("kind"))


def test_a_scheduled_run_produces_the_closed_periods_reports_once(worker, acme, history):
    last_month = f"{history[1]:%Y-%m}"

    made = tasks.reports_make_closed.delay(tenant_id=acme.pk).get(timeout=120)

    stored = reports_of(acme)
    assert sorted(made) == sorted(report.pk for report in stored)
    assert {report.kind for report in stored} == {"monthly", "quarterly", "annual"}
    monthly = next(report for report in stored if report.kind == "monthly")
    assert monthly.period == last_month
    text = pdf_text(monthly)
    assert in_pdf(acme, monthly.figures["total_value"]) in text and monthly.chain_head_hash in text
    # Running the schedule again changes nothing: the same reports, no new ledger records.
    with tenant_scope(acme):
        records = LedgerRecord.objects.count()
    assert sorted(tasks.reports_make_closed.delay(tenant_id=acme.pk).get(timeout=120)) == sorted(made)
    assert [report.pk for report in reports_of(acme)] == [report.pk for report in stored]
    with tenant_scope(acme):
        assert LedgerRecord.objects.count() == records


def test_a_tenants_report_task_reads_only_its_own_rows(worker, acme, globex, history):
    with tenant_scope(globex):  # globex: much more automation value in the same month
        financial_model_update(actor=Actor.system("test"), groups=ACME_MODEL, change_reason="globex figures")
        events_ingest(actor=Actor.system("test"), kind="automation-runs", payload=automation_runs("g", 50, history[1]))
        globex_records = set(LedgerRecord.objects.values_list("pk", flat=True))
    with tenant_scope(acme):
        expected = selectors.executive_overview()["comparisons"]["month_to_date_value"]["last_month"]

    tasks.report_make.delay(tenant_id=acme.pk, kind="monthly", period=f"{history[1]:%Y-%m}").get(timeout=120)

    [report] = reports_of(acme)
    assert report.figures["total_value"] == expected
    assert not set(report.ledger_record_ids) & globex_records
    assert reports_of(globex) == []


def report_counts(*tenants) -> list[int] | None:
    """How many reports each tenant has; None while the worker holds SQLite's table lock."""
    try:
        return [len(reports_of(tenant)) for tenant in tenants]
    except OperationalError:
        return None


def test_the_beat_entry_fans_out_to_every_tenant(worker, acme, globex):
    assert tasks.reports_make_closed_all_tenants.delay().get(timeout=60) == 2
    deadline = timezone.now() + timedelta(seconds=120)
    while timezone.now() < deadline and report_counts(acme, globex) != [3, 3]:
        time.sleep(0.2)
    assert report_counts(acme, globex) == [3, 3]


def test_report_tasks_are_reliable():
    for task in (tasks.report_make, tasks.reports_make_closed, tasks.report_deliver):
        assert task.acks_late and task.reject_on_worker_lost
        assert task.soft_time_limit < task.time_limit
        assert task.autoretry_for and task.retry_backoff
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["make-closed-period-reports"]
    assert entry["task"] == tasks.reports_make_closed_all_tenants.name
