"""Chain heads are anchored on a schedule and whenever a report is made, not only when someone verifies,
so a tail written after the last anchor can be rewritten or cut unseen for at most one interval."""

from __future__ import annotations

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import connection

from bizvalue.celery import app
from dashboards import reports
from governance.anchors import anchor_chain_head, anchor_latest
from governance.ledger import Actor
from governance.models import LedgerRecord
from governance.tasks import ledger_anchor_head, ledger_anchor_heads_all_tenants
from governance.tenancy import tenant_scope
from roi.ledger_verification import ledger_verify
from roi.services import financial_model_update
from tests.conftest import ACME_MODEL
from tests.roi.test_ledger import delete_ledger_rows, run_calculations

pytestmark = pytest.mark.django_db(transaction=True)
SYSTEM = Actor.system("test")


@pytest.fixture
def owner_sql_any(request):
    return request.getfixturevalue("owner_sql") if connection.vendor == "postgresql" else None


@pytest.fixture
def globex_model(globex):
    with tenant_scope(globex):
        financial_model_update(actor=SYSTEM, groups=ACME_MODEL, change_reason="Initial figures")


def head(tenant) -> tuple[int, str]:
    with tenant_scope(tenant):
        record = LedgerRecord.objects.order_by("-sequence").first()
    return record.sequence, record.hash


def anchored(tenant) -> tuple[int, str] | None:
    anchor = anchor_latest(tenant_id=tenant.pk)
    return None if anchor is None else (anchor.sequence, anchor.hash)


def test_a_tail_written_after_the_last_verification_is_anchored_by_the_scheduled_task(acme, acme_model, owner_sql_any):
    # given a verified chain of three, then two more records nobody has verified
    run_calculations(acme)
    with tenant_scope(acme):
        assert ledger_verify().ok
    tail = run_calculations(acme, count=2)

    # when the scheduled anchoring runs
    assert ledger_anchor_head.apply(kwargs={"tenant_id": acme.pk}).get() == 5
    assert anchored(acme) == head(acme) == (5, tail[-1].hash)

    # then cutting that tail is caught by the next verification
    delete_ledger_rows(owner_sql_any, "id = %s", [tail[-1].pk])
    with tenant_scope(acme):
        verification = ledger_verify().as_dict()
    assert not verification["ok"]
    assert "truncated: the chain ends at #4 but #5 was anchored" in verification["failures"][0]["reasons"][0]


def test_nothing_new_anchors_nothing_and_a_broken_tail_is_never_anchored(acme, acme_model, owner_sql_any):
    records = run_calculations(acme)
    with tenant_scope(acme):
        assert anchor_chain_head().sequence == 3
        assert anchor_chain_head() is None  # no new record: no new line
    lines = settings.LEDGER_ANCHOR_FILE.read_text().splitlines()
    assert len(lines) == 1

    # a tail whose link to the anchored head is cut is not anchored (it would be legitimised)
    run_calculations(acme, count=2)
    delete_ledger_rows(owner_sql_any, "sequence = %s AND tenant_id = %s", [4, acme.pk])
    with tenant_scope(acme):
        assert anchor_chain_head() is None
    assert anchored(acme) == (3, records[-1].hash)


def test_a_report_anchors_the_chain_head_it_prints(acme, acme_model, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    run_calculations(acme)
    with tenant_scope(acme):
        generated = reports.report_make(actor=SYSTEM, kind="monthly", period="2026-10")
    report = generated.report
    assert anchored(acme) == head(acme) == (report.chain_head_sequence, report.chain_head_hash)


def test_each_tenant_is_anchored_with_its_own_head(acme, acme_model, globex, globex_model):
    run_calculations(acme)
    run_calculations(globex, count=2)

    with tenant_scope(acme):
        anchor_chain_head()
    assert anchored(acme) == head(acme) and anchored(globex) is None  # acme's run anchors only acme

    with tenant_scope(globex):
        anchor_chain_head()
    assert anchored(globex) == head(globex) != anchored(acme)


def test_the_beat_entry_fans_out_to_every_tenant(acme, acme_model, globex, globex_model):
    run_calculations(acme)
    run_calculations(globex, count=2)
    app.conf.task_always_eager = False
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        assert ledger_anchor_heads_all_tenants.delay().get(timeout=60) == 2
        for _ in range(300):
            if anchored(acme) and anchored(globex):
                break
            time.sleep(0.1)
    assert anchored(acme) == head(acme) and anchored(globex) == head(globex)


def test_the_schedule_is_a_setting_of_at_most_an_hour_by_default():
    entry = settings.CELERY_BEAT_SCHEDULE["anchor-ledger-heads"]
    assert entry["task"] == ledger_anchor_heads_all_tenants.name in app.tasks
    assert entry["schedule"] == settings.LEDGER_ANCHOR_INTERVAL_SECONDS <= 3600
