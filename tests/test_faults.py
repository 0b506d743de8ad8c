"""Faults, without touching the shared servers: PostgreSQL and Redis are reached through a
TCP proxy that the test cuts (tests/tcp_proxy.py), and a real worker process is killed.

- PostgreSQL goes away in the middle of an ingestion transaction: the client gets a clear
  503 with Retry-After (JSON for the API, a page for pages), nothing half-written stays,
  and once the database is back the same batch, sent again, is stored exactly once.
- Redis goes away: ingestion and report requests still succeed; the report e-mail that
  could not be enqueued stays pending and the beat sweep sends it when Redis is back.
- A worker is SIGKILLed in the middle of a report: Redis hands the task to the next
  worker (acks_late), and the report exists once, mailed once.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

import psycopg
import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.db import close_old_connections, connection
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from bizvalue.celery import app
from bizvalue.settings import postgres_fail_fast_options
from dashboards import tasks
from dashboards.models import Report, ReportSubscription
from governance.models import LedgerRecord
from governance.tenancy import tenant_scope
from roi.models import AutomationRun, MonthlyRollup, Stream
from tests.dashboards import conftest as dashboard_data
from tests.dashboards.conftest import automation_runs
from tests.tcp_proxy import TcpProxy

if TYPE_CHECKING:
    from django.db.backends.postgresql.base import DatabaseWrapper as PostgresWrapper

ROOT = Path(__file__).resolve().parent.parent
history = dashboard_data.history  # the dashboards' fixture: a little real history for acme


def wait_until(condition: Any, timeout: float, step: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return bool(condition())


# --- PostgreSQL restarted during ingestion ----------------------------------------------


@contextlib.contextmanager
def database_through(proxy: TcpProxy, **options: Any) -> Iterator[TcpProxy]:
    """Database connections go through `proxy` (a fresh pool pointed at it), with `options` for libpq."""
    params = connection.settings_dict
    saved = params["HOST"], params["PORT"], params["OPTIONS"]
    proxy.start()
    connection.close()
    cast("PostgresWrapper", connection).close_pool()
    params["HOST"], params["PORT"] = "127.0.0.1", str(proxy.port)
    # While it is down a request waits this long for a connection before its 503 (10 s in production).
    params["OPTIONS"] = {**params["OPTIONS"], **options, "pool": {**params["OPTIONS"]["pool"], "timeout": 2}}
    try:
        yield proxy
    finally:
        proxy.restore()
        connection.close()
        cast("PostgresWrapper", connection).close_pool()
        params["HOST"], params["PORT"], params["OPTIONS"] = saved
        proxy.close()


def proxy_to_the_database(**kwargs: Any) -> TcpProxy:
    params = connection.settings_dict
    return TcpProxy(params["HOST"] or "127.0.0.1", int(params["PORT"] or 5432), **kwargs)


@pytest.fixture
def database_proxy(transactional_db: None) -> Iterator[TcpProxy]:
    """This thread's database connections go through a proxy (a fresh pool pointed at it)."""
    with database_through(proxy_to_the_database()) as proxy:
        yield proxy


def retry_while_503(send: Any, attempts: int = 60) -> Any:
    """Send until the answer is not a 503, as a client honouring Retry-After would (faster here).

    The pool reconnects with a backoff, so the first retries after a restart may still get 503.
    """
    for _ in range(attempts):
        # What the WSGI handler does after every request and the test client leaves out:
        # a broken connection is dropped, so the next request gets a healthy one.
        close_old_connections()
        response = send()
        if response.status_code != 503:
            return response
        assert response["Retry-After"] == "5"
        time.sleep(0.5)
    return response


def stored_runs(tenant: Any, ids: list[str]) -> list[str]:
    with tenant_scope(tenant):
        return list(AutomationRun.objects.filter(external_id__in=ids).values_list("external_id", flat=True))


@pytest.mark.postgres
def test_a_database_restart_mid_batch_answers_503_and_the_retry_stores_each_event_once(
    database_proxy, acme, acme_model, make_key
):
    ingester = APIClient()
    ingester.credentials(HTTP_AUTHORIZATION=f"Bearer {make_key(acme, 'ingest')}")
    batch = automation_runs("restart", 40, timezone.now() - timedelta(days=40))
    ids = [event["external_id"] for event in batch]
    with tenant_scope(acme):
        records_before = LedgerRecord.objects.count()

    # when: the server goes away mid-transaction, after the ledger record and the events
    # were written, as the rollups are sent
    database_proxy.cut_when(b"INSERT INTO roi_monthlyrollup")
    cut = ingester.post("/api/v1/events/automation-runs", batch, format="json")

    # then: a clear 503 the client can act on, never a 500 or an HTML page
    assert database_proxy.tripped.is_set(), (cut.status_code, cut.content[:300])
    assert cut.status_code == 503, cut.content
    assert cut["Content-Type"] == "application/json"
    assert cut["Retry-After"] == "5"
    assert "database is unavailable" in cut.json()["errors"]["detail"][0]
    # and while it is down, a request waits for the pool's timeout and gets the same answer
    assert ingester.post("/api/v1/events/automation-runs", batch, format="json").status_code == 503

    # when: the server is back and the client retries the very same batch
    # (the pool reconnects with a backoff, so the client may get a few more 503s first)
    database_proxy.restore()
    retried = retry_while_503(lambda: ingester.post("/api/v1/events/automation-runs", batch, format="json"))

    # then: every event once, one ledger record, rollups counting each event once
    assert retried.status_code == 201, retried.content
    assert retried.json()["created"] == 40
    assert sorted(stored_runs(acme, ids)) == sorted(ids)
    with tenant_scope(acme):
        assert LedgerRecord.objects.count() == records_before + 1
        counted = sum(r.event_count for r in MonthlyRollup.objects.filter(stream=Stream.AUTOMATION))
    assert counted == 40
    # and a second retry (the client never saw the 201) changes nothing
    again = ingester.post("/api/v1/events/automation-runs", batch, format="json").json()
    assert (again["created"], again["updated"]) == (0, 40)
    assert len(stored_runs(acme, ids)) == 40


def fail_fast_options(monkeypatch: pytest.MonkeyPatch, **environment: str) -> dict[str, Any]:
    """The settings' libpq options (bizvalue.settings), with their environment scaled down for a test."""
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return postgres_fail_fast_options()


@pytest.fixture
def silent_database(transactional_db: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[TcpProxy]:
    """The database through a proxy that can go silent (a small window, so unsent data backs up).

    Timeouts as in production, scaled down so the test takes seconds: a peer that leaves
    data unacknowledged for 1 s is gone.
    """
    options = fail_fast_options(
        monkeypatch,
        DATABASE_CONNECT_TIMEOUT="2",
        DATABASE_KEEPALIVES_IDLE="1",
        DATABASE_KEEPALIVES_INTERVAL="1",
        DATABASE_KEEPALIVES_COUNT="2",
        DATABASE_TCP_USER_TIMEOUT_MS="1000",
    )
    with database_through(proxy_to_the_database(receive_buffer=4096), **options) as proxy:
        yield proxy


def post_within(client: APIClient, path: str, body: Any, *, seconds: float) -> tuple[Any, float]:
    """(the response, or None if the request was still hanging after `seconds`; how long it took)."""
    answer: list[Any] = []

    def send() -> None:
        try:
            answer.append(client.post(path, body, format="json"))
        finally:
            connection.close()

    began = time.monotonic()
    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    sender.join(seconds)
    return (answer[0] if answer else None), time.monotonic() - began


@pytest.mark.postgres
def test_a_database_gone_silent_mid_copy_answers_503_in_seconds_not_a_dropped_connection(
    silent_database, acme, acme_model, make_key
):
    # given: a batch big enough that its COPY cannot fit in the network's buffers
    ingester = APIClient()
    ingester.credentials(HTTP_AUTHORIZATION=f"Bearer {make_key(acme, 'ingest')}")
    batch = automation_runs("silent", 3000, timezone.now() - timedelta(days=40))
    ids = [event["external_id"] for event in batch]

    # when: the database's end goes silent once the staging COPY has begun (no FIN, no RST)
    silent_database.blackhole_after(b"COPY ")
    answered, took = post_within(ingester, "/api/v1/events/automation-runs", batch, seconds=20)
    hung, went_silent = answered is None, silent_database.blackholed.is_set()
    silent_database.cut()  # lets a hung request go (and the server end the dead transaction)

    # then: a 503 with Retry-After within seconds, long before gunicorn's 30 s kill
    assert went_silent, "the proxy never went silent: the COPY did not run"
    assert not hung, "the request was still waiting on the silent database after 20 s"
    assert answered.status_code == 503, answered.content
    assert answered["Retry-After"] == "5"
    assert took < 10, f"took {took:.1f}s"

    # and: once the server has let go of the dead connection, the same batch is stored once
    silent_database.restore()
    retried = retry_while_503(lambda: ingester.post("/api/v1/events/automation-runs", batch, format="json"))
    assert retried.status_code == 201, retried.content
    assert retried.json()["created"] == 3000
    assert len(stored_runs(acme, ids)) == 3000


@pytest.mark.postgres
def test_the_server_side_timeouts_are_set_on_every_connection(database_proxy):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('statement_timeout'), current_setting('lock_timeout'), "
            "current_setting('tcp_keepalives_idle'), current_setting('tcp_user_timeout')"
        )
        statement, lock, keepalives_idle, user_timeout = cursor.fetchone()
    assert (statement, lock) == ("25s", "10s")
    # The server watches the connection too: a vanished client's transaction (and its
    # locks) ends in seconds, not after the kernel's two-hour keepalive.
    assert (keepalives_idle, user_timeout) == ("5", "10000")


@pytest.mark.postgres
def test_a_request_waiting_on_a_lock_answers_503_after_the_lock_timeout(
    transactional_db, acme, acme_model, make_key, monkeypatch
):
    # given: another session holds the events table, as a long migration or a stuck transaction would
    params = connection.settings_dict
    blocker = psycopg.connect(
        host=params["HOST"] or "127.0.0.1",
        port=params["PORT"] or 5432,
        user=params["USER"],
        password=params["PASSWORD"] or None,
        dbname=params["NAME"],
    )
    ingester = APIClient()
    ingester.credentials(HTTP_AUTHORIZATION=f"Bearer {make_key(acme, 'ingest')}")
    options = params["OPTIONS"]
    connection.close()
    cast("PostgresWrapper", connection).close_pool()
    params["OPTIONS"] = {**options, **fail_fast_options(monkeypatch, DATABASE_LOCK_TIMEOUT_MS="500")}
    try:
        blocker.execute("LOCK TABLE roi_automationrun IN ACCESS EXCLUSIVE MODE")
        # when
        answered, took = post_within(
            ingester, "/api/v1/events/automation-runs", automation_runs("locked", 3, timezone.now()), seconds=20
        )
    finally:
        blocker.rollback()
        blocker.close()
        connection.close()
        cast("PostgresWrapper", connection).close_pool()
        params["OPTIONS"] = options
    # then
    assert answered is not None and answered.status_code == 503, answered and answered.content
    assert answered["Retry-After"] == "5"
    assert took < 4, f"took {took:.1f}s"


@pytest.mark.postgres
def test_a_page_asked_while_the_database_is_down_is_a_503_page(database_proxy, acme, bob):
    browser = Client(raise_request_exception=False)
    browser.force_login(bob)
    assert browser.get("/t/acme/").status_code == 200

    database_proxy.cut()
    down = browser.get("/t/acme/")
    assert down.status_code == 503
    assert down["Retry-After"] == "5"
    assert b"cannot reach its database" in down.content

    database_proxy.restore()
    assert retry_while_503(lambda: browser.get("/t/acme/")).status_code == 200


# --- Redis unavailable ----------------------------------------------------------------------


@pytest.fixture
def broker_proxy(settings: Any) -> Iterator[TcpProxy]:
    """Celery's broker and result backend reached through a proxy to this run's Redis."""
    url = urlsplit(settings.REDIS_URL)
    proxy = TcpProxy(url.hostname or "127.0.0.1", url.port or 6379).start()
    proxied = url._replace(netloc=f"127.0.0.1:{proxy.port}").geturl()
    saved = app.conf.broker_url, app.conf.result_backend, app.conf.task_always_eager
    app.conf.update(broker_url=proxied, result_backend=proxied, task_always_eager=False)
    forget_celery_connections()
    try:
        yield proxy
    finally:
        proxy.close()
        app.conf.update(broker_url=saved[0], result_backend=saved[1], task_always_eager=saved[2])
        forget_celery_connections()


def forget_celery_connections() -> None:
    # The app keeps its broker pool and result backend once made; new URLs need new ones.
    # (kombu keeps one pool per URL, so the real one is found again, open, afterwards.)
    app._pool = None
    app.amqp._producer_pool = None
    app._backend_cache = None
    app._local.__dict__.pop("backend", None)


@pytest.mark.postgres
@pytest.mark.redis
def test_with_redis_down_the_web_answers_and_the_report_mail_goes_out_when_it_returns(
    broker_proxy,
    transactional_db,
    acme,
    history,
    bob,
    make_key,
    settings,
    tmp_path,
):
    settings.MEDIA_ROOT = tmp_path / "media"
    bob.email = "bob@acme.example"
    bob.save()
    with tenant_scope(acme):
        ReportSubscription.objects.create(user=bob)
    ingester, finance = APIClient(), APIClient()
    ingester.credentials(HTTP_AUTHORIZATION=f"Bearer {make_key(acme, 'ingest')}")
    finance.credentials(HTTP_AUTHORIZATION=f"Bearer {make_key(acme, 'finance_admin')}")

    broker_proxy.cut()
    began = time.monotonic()
    ingested = ingester.post("/api/v1/events/automation-runs", automation_runs("down", 5, history[1]), format="json")
    made = finance.post("/api/v1/reports", {"kind": "monthly", "period": f"{history[1]:%Y-%m}"}, format="json")
    took = time.monotonic() - began

    assert ingested.status_code == 201, ingested.content
    assert made.status_code == 201, made.content
    assert took < 10, f"requests held {took:.1f}s by a dead broker"
    with tenant_scope(acme):
        report = Report.objects.get()
    assert report.emailed_at is None and mail.outbox == []  # pending, recorded in the database

    # Redis is back: beat's next sweep sends what the request could not enqueue, once.
    broker_proxy.restore()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        assert tasks.reports_deliver_pending_all_tenants.delay().get(timeout=60) == 1
        assert wait_until(lambda: len(mail.outbox) == 1, timeout=60)
        assert tasks.reports_deliver_pending.delay(tenant_id=acme.pk).get(timeout=60) == 0
    with tenant_scope(acme):
        report.refresh_from_db()
    assert report.emailed_at is not None
    assert [message.to for message in mail.outbox] == [["bob@acme.example"]]


# --- A worker killed mid-report -------------------------------------------------------------


def start_worker_process(queue: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.slow_report_worker", queue],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


@pytest.mark.postgres
@pytest.mark.redis
def test_a_worker_killed_mid_report_leaves_one_report_mailed_once(
    transactional_db,
    acme,
    history,
    bob,
    settings,
    tmp_path,
):
    # given: a subscriber, and a worker process that is slow inside the report's transaction
    bob.email = "bob@acme.example"
    bob.save()
    with tenant_scope(acme):
        ReportSubscription.objects.create(user=bob)
        records_before = LedgerRecord.objects.count()
    params = connection.settings_dict
    queue = f"faults-{os.getpid()}-{time.monotonic_ns()}"
    marker, mail_dir, log = tmp_path / "rendering", tmp_path / "mail", tmp_path / "workers.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bizvalue.settings",
        "DATABASE_URL": f"postgres://{params['USER']}@{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}/"
        f"{params['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "BIZVALUE_VAR_DIR": str(tmp_path / "var"),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "EMAIL_URL": f"file://{mail_dir}",
        "FAULT_MARKER": str(marker),
        "FAULT_RENDER_SECONDS": "120",
        "FAULT_VISIBILITY_TIMEOUT": "3",
    }
    period = f"{history[1]:%Y-%m}"
    app.conf.task_always_eager = False
    first = start_worker_process(queue, env, log)
    second: subprocess.Popen[bytes] | None = None
    try:
        tasks.report_make.apply_async(kwargs={"tenant_id": acme.pk, "kind": "monthly", "period": period}, queue=queue)
        assert wait_until(marker.exists, timeout=90), log.read_text()[-3000:]

        # when: the worker dies mid-report, without any chance to clean up
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        with tenant_scope(acme):
            assert Report.objects.count() == 0  # its transaction died with it
            assert LedgerRecord.objects.count() == records_before
        marker.unlink()

        # then: Redis redelivers the unacknowledged task to a new worker, which finishes it
        second = start_worker_process(queue, {**env, "FAULT_RENDER_SECONDS": "0"}, log)

        def made() -> bool:
            with tenant_scope(acme):
                return Report.objects.filter(emailed_at__isnull=False).exists()

        assert wait_until(made, timeout=120, step=0.5), log.read_text()[-3000:]
    finally:
        for worker in (first, second):
            if worker is not None and worker.poll() is None:
                worker.terminate()
                worker.wait(timeout=30)
    with tenant_scope(acme):
        [report] = Report.objects.all()
        # the killed run's index calculation was rolled back: only the finished run's is kept
        index_records = 0 if report.figures["business_value_index"] is None else 1
        assert LedgerRecord.objects.count() == records_before + index_records
    assert report.period == period and report.pdf.name.endswith(".pdf")
    sent = "".join(path.read_text() for path in mail_dir.iterdir())
    assert sent.count("To: bob@acme.example") == 1
