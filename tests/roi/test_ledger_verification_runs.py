"""Verification is incremental from the last verified, anchored head, and a large one runs as a worker task
that the API answers 202 for, with progress to poll; nobody polls another tenant's run."""

from __future__ import annotations

import time
from io import StringIO

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.management import CommandError, call_command
from django.db import connection

from bizvalue.celery import app
from governance.anchors import anchor_chain_head
from governance.tenancy import tenant_scope
from roi.ledger_verification import ledger_verify, verification_run_execute
from roi.models import LedgerVerificationRun, VerificationStatus
from tests.roi.test_ledger import run_calculations

pytestmark = pytest.mark.django_db


def verify(tenant, **options):
    with tenant_scope(tenant):
        return ledger_verify(**options)


def test_a_verification_recomputes_only_what_came_after_the_last_verified_head(acme, acme_model):
    run_calculations(acme)
    first = verify(acme)
    assert (first.checked, first.verified_from, first.as_dict()["full"]) == (3, 0, True)

    run_calculations(acme, count=2)
    with tenant_scope(acme):
        anchor_chain_head()  # a scheduled, links-only anchor at #5 is not a verified start
    again = verify(acme)
    assert (again.ok, again.checked, again.verified_from, again.head_sequence) == (True, 2, 3, 5)
    assert verify(acme).checked == 0  # nothing new since #5
    full = verify(acme, full=True)
    assert (full.ok, full.checked, full.verified_from) == (True, 5, 0)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("options", [["--full"], []], ids=["full", "incremental"])
def test_an_edit_of_a_verified_record_fails_the_next_verification_full_or_incremental(
    acme, acme_model, request, options
):
    # An incremental run recomputes only what is new, but rehashes every record: the stored
    # rows it checks are only as good as the records they are held against.
    records = run_calculations(acme)
    assert verify(acme).ok
    # an edit of a verified record's contents, its stored hash left as it was
    edit = "UPDATE governance_ledgerrecord SET actor = 'someone else' WHERE id = %s"
    if connection.vendor == "postgresql":
        owner_sql = request.getfixturevalue("owner_sql")
        owner_sql("ALTER TABLE governance_ledgerrecord DISABLE TRIGGER ledger_append_only")
        try:
            owner_sql(edit, records[0].pk)
        finally:
            owner_sql("ALTER TABLE governance_ledgerrecord ENABLE TRIGGER ledger_append_only")
    else:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER IF EXISTS ledger_no_update")
            cursor.execute(edit, [records[0].pk])
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("verify_ledger", "acme", *options, stdout=out)
    assert f"record {records[0].pk} (#1): hash does not match" in out.getvalue()


def test_a_large_verification_answers_202_and_its_status_url_gives_progress_then_the_result(
    transactional_db, acme, acme_model, api_as, settings
):
    settings.LEDGER_VERIFY_INLINE_WORK = 0  # every verification is "large"
    records = run_calculations(acme)
    auditor = api_as(acme, "auditor")
    app.conf.task_always_eager = False
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        response = auditor.post("/api/v1/ledger/verify", {"full": True}, format="json")
        assert response.status_code == 202, response.content
        queued = response.json()
        assert queued["status"] == "queued" and queued["full"] is True and queued["result"] is None
        assert response["Location"] == queued["status_url"] == f"/api/v1/ledger/verify/{queued['id']}"
        for _ in range(300):
            state = auditor.get(queued["status_url"]).json()
            if state["status"] == "done":
                break
            time.sleep(0.1)
    assert state["status"] == "done" and state["finished_at"]
    assert state["result"]["ok"] and state["result"]["head_hash"] == records[-1].hash
    assert state["result"]["checked"] == 3


def test_a_run_reports_progress_as_it_recomputes(acme, acme_model):
    run_calculations(acme, count=4)
    with tenant_scope(acme):
        run = LedgerVerificationRun.objects.create(tenant=acme, actor="test", full=True)
        told: list[tuple[int, int]] = []
        done = verification_run_execute(run_id=run.pk, progress=lambda d, t: told.append((d, t)))
    assert told == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert done.status == VerificationStatus.DONE and done.result["ok"]


def test_another_tenants_run_cannot_be_polled(acme, acme_model, globex, api_as):
    with tenant_scope(acme):
        run = LedgerVerificationRun.objects.create(tenant=acme, actor="acme-auditor", result={"ok": True})
    assert api_as(globex, "auditor").get(f"/api/v1/ledger/verify/{run.pk}").status_code == 404
    assert api_as(acme, "auditor").get(f"/api/v1/ledger/verify/{run.pk}").status_code == 200
    assert api_as(acme, "viewer").get(f"/api/v1/ledger/verify/{run.pk}").status_code == 403


def test_full_is_a_flag_and_anything_else_is_a_400_naming_it(acme, acme_model, api_as):
    answer = api_as(acme, "auditor").post("/api/v1/ledger/verify", {"full": "perhaps"}, format="json")
    assert answer.status_code == 400 and "full" in answer.json()["errors"]
    not_an_object = api_as(acme, "auditor").post(
        "/api/v1/ledger/verify?full=true", "false", content_type="application/json"
    )
    assert not_an_object.status_code == 400 and "body" in not_an_object.json()["errors"]
    small = api_as(acme, "auditor").post("/api/v1/ledger/verify?full=true")
    assert small.status_code == 200 and small.json()["full"] is True


def test_a_run_that_stops_says_so_rather_than_queued_for_ever(acme, acme_model, monkeypatch):
    from roi import ledger_verification
    from roi.tasks import ledger_verification_run

    run_calculations(acme, count=2)
    with tenant_scope(acme):
        run = LedgerVerificationRun.objects.create(tenant=acme, actor="test", full=True)

    def broken(**options):
        raise RuntimeError("the worker hit its time limit")

    monkeypatch.setattr(ledger_verification, "ledger_verify", broken)
    assert ledger_verification_run.apply(kwargs={"tenant_id": acme.pk, "run_id": run.pk}).get() == "error"
    with tenant_scope(acme):
        run.refresh_from_db()
    assert run.status == VerificationStatus.ERROR and run.finished_at is not None
    assert "stopped" in run.result["error"]
