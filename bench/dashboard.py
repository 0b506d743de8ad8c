"""Dashboard benchmark: are the dashboards fast by construction, whatever the data size?

Builds its own PostgreSQL database: events generated in SQL (`INSERT … SELECT
generate_series`, as the table owner, the production indexes and constraints rebuilt after
the load), skewed across tenants (Zipf sizes: at full scale 10,000,000 events over 24
months and 100 tenants, the largest holding about 2,000,000), their monthly rollups
computed in SQL and checked against the app's own rebuild (`roi.rollups`) on a sample of
tenants, a financial model and keys per tenant. Then, serving the product with
`gunicorn bizvalue.wsgi -w 2` as the application role (row-level security on) and the
events API from a second such pool confined to part of the cores (docs/deployment.md),
for the largest and the median tenant and each dashboard endpoint (the four JSON ones and
the HTML overview page), it measures in one run:

  HTTP p95   through gunicorn, one client, sequential requests;
  SQL p95    the statements one request issues (captured in-process), replayed alone with
             psycopg as the application role, one transaction per replay;
  target     p95 <= max(2 x SQL p95, SQL p95 + 10 ms) and under 50 ms (JSON) / 75 ms (HTML);
  loaded     both again while events are ingested through the API at half the maximum rate
             (measured first), in blocks taking turns with the idle ones; the HTTP ratio
             must stay <= 1.5;
  naive      a peer endpoint (bench/urls.py) summing value per month over the raw events
             with the ORM, timed the same way: what the rollups beat.

    .venv/bin/python bench/dashboard.py --scale full      # minutes; see bench/README.md
    .venv/bin/python bench/dashboard.py --scale small     # seconds; CI's smoke test
"""

from __future__ import annotations

import argparse
import ctypes
import http.client
import json
import multiprocessing
import os
import random
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: the project is importable

from bench.ingest import (
    MODEL,
    Result,
    automation_runs,
    bench_env,
    database_recreate,
    gunicorn_start,
    http_sender,
    manage,
    run_clients,
)


@dataclass(frozen=True)
class Scale:
    events: int
    tenants: int
    requests: int
    naive_requests: int
    ingest_batches: int


SCALES = {
    "full": Scale(events=10_000_000, tenants=100, requests=600, naive_requests=20, ingest_batches=16),
    "small": Scale(events=100_000, tenants=10, requests=30, naive_requests=10, ingest_batches=6),
}
# Of each tenant's events: automation runs, incidents (70 % prevented), deployments.
KIND_SHARES = {"automation_runs": 0.85, "incidents": 0.10, "deployments": 0.05}
EVENT_TABLES = ("roi_automationrun", "roi_incident", "roi_deployment")
ZONES = {1: "America/New_York", 2: "Europe/Berlin"}  # a few tenants off UTC, so local months are exercised
JSON_CAP, HTML_CAP, LOAD_RATIO = 0.050, 0.075, 1.5
ROUNDS = 6  # idle and loaded blocks per endpoint, taking turns
# The events API runs in a gunicorn pool of its own, confined to the upper half of the
# machine's cores (at least one left to the pages), as docs/deployment.md deploys it.
ALL_CPUS = sorted(os.sched_getaffinity(0))
INGEST_CPUS = ALL_CPUS[len(ALL_CPUS) // 2 :] if len(ALL_CPUS) > 1 else []


@dataclass(frozen=True)
class Endpoint:
    name: str
    path: str  # `{slug}` is the tenant's
    html: bool = False


ENDPOINTS = (
    Endpoint("executive", "/api/v1/dashboard/executive"),
    Endpoint("real-time", "/api/v1/dashboard/real-time"),
    Endpoint("trends", "/api/v1/dashboard/trends"),
    Endpoint("comparative", "/api/v1/dashboard/comparative"),
    Endpoint("overview", "/t/{slug}/", html=True),
)
NAIVE = Endpoint("naive ORM", "/bench/naive/trends")


def tenant_sizes(events: int, tenants: int) -> list[int]:
    """Zipf (s = 1) sizes, largest first, adding up to `events`: 100 tenants give the largest about 19 %."""
    weights = [1 / rank for rank in range(1, tenants + 1)]
    sizes = [int(events * w / sum(weights)) for w in weights]
    sizes[0] += events - sum(sizes)
    return sizes


def p95(latencies: list[float]) -> float:
    return Result("", 0, 1, latencies).percentile(0.95)


# --- Building the data set in SQL -------------------------------------------------------

GENERATE = {
    "roi_automationrun": """
        INSERT INTO roi_automationrun (tenant_id, external_id, occurred_at, department, product, value,
            model_version, received_at, updated_at, process, started_at, execution_time, manual_time_equivalent,
            runs, errors_avoided, compliance_checks, hours_saved)
        SELECT tenant_id, 'run-' || n, at, department, product, round(hours * 75 + errors * 200 + checks * 137, 2),
            1, at, at, process, at, execution, manual, runs, errors, checks, hours
        FROM (
            SELECT *, round((manual - execution) * runs / 3600, 6) AS hours FROM (
                SELECT s.tenant_id, n, %(start)s + (%(end)s - %(start)s) * sqrt(random()) AS at,
                    (ARRAY['finance', 'it', 'operations'])[1 + floor(random() * 3)::int] AS department,
                    (ARRAY['erp', 'identity', 'platform'])[1 + floor(random() * 3)::int] AS product,
                    (ARRAY['invoice-matching', 'user-provisioning', 'backup-verification'])
                        [1 + floor(random() * 3)::int] AS process,
                    (30 + floor(random() * 570))::numeric AS execution,
                    (900 + floor(random() * 6300))::numeric AS manual,
                    1 + floor(random() * 20)::int AS runs, floor(random() * 3)::int AS errors,
                    floor(random() * 2)::int AS checks
                FROM bench_sizes s CROSS JOIN LATERAL generate_series(1, s.automation_runs) AS n
            ) drawn
        ) valued""",
    "roi_incident": """
        INSERT INTO roi_incident (tenant_id, external_id, occurred_at, department, product, value, model_version,
            received_at, updated_at, title, severity, started_at, resolved_at, downtime_minutes, affected_services,
            affected_customers, affected_revenue_share, public, prevented, estimated_downtime_minutes,
            prevention_confidence, downtime_cost)
        SELECT tenant_id, 'inc-' || n, at, department, product,
            CASE WHEN prevented THEN round(minutes * 900 * confidence, 2) END, 1, at, at,
            'Synthetic incident ' || n, severity, at,
            CASE WHEN NOT prevented THEN at + minutes * interval '1 minute' END,
            CASE WHEN NOT prevented THEN minutes END, '[]'::jsonb, 0, 1, false, prevented,
            CASE WHEN prevented THEN minutes END, CASE WHEN prevented THEN confidence END,
            CASE WHEN NOT prevented THEN round(minutes * 900, 2) END
        FROM (
            SELECT s.tenant_id, n, %(start)s + (%(end)s - %(start)s) * sqrt(random()) AS at,
                (ARRAY['finance', 'it', 'operations'])[1 + floor(random() * 3)::int] AS department,
                (ARRAY['erp', 'identity', 'platform'])[1 + floor(random() * 3)::int] AS product,
                (ARRAY['sev1', 'sev2', 'sev3', 'sev4'])[1 + floor(random() * 4)::int] AS severity,
                random() < 0.7 AS prevented, (5 + floor(random() * 235))::numeric AS minutes,
                round((0.5 + random() / 2)::numeric, 6) AS confidence
            FROM bench_sizes s CROSS JOIN LATERAL generate_series(1, s.incidents) AS n
        ) drawn""",
    "roi_deployment": """
        INSERT INTO roi_deployment (tenant_id, external_id, occurred_at, department, product, received_at,
            updated_at, service, deployed_at, committed_at, failed, restored_at)
        SELECT tenant_id, 'dep-' || n, at, department, product, at, at, 'service-' || (n %% 7), at,
            at - lead * interval '1 hour', failed, CASE WHEN failed THEN at + interval '47 minutes' END
        FROM (
            SELECT s.tenant_id, n, %(start)s + (%(end)s - %(start)s) * sqrt(random()) AS at,
                (ARRAY['finance', 'it', 'operations'])[1 + floor(random() * 3)::int] AS department,
                (ARRAY['erp', 'identity', 'platform'])[1 + floor(random() * 3)::int] AS product,
                random() < 0.1 AS failed, 1 + random() * 96 AS lead
            FROM bench_sizes s CROSS JOIN LATERAL generate_series(1, s.deployments) AS n
        ) drawn""",
}
# The cells `roi.rollups.rollup_cells_from_events` computes, for every tenant at once.
ROLLUPS = """
    INSERT INTO roi_monthlyrollup (tenant_id, month, stream, department, product, value, event_count,
        downtime_minutes, hours_saved, response_time_ms_sum, failures, lead_time_seconds_sum, lead_time_count,
        restore_seconds_sum, restore_count, availability_percent_sum, availability_count, conversion_rate_sum,
        conversion_rate_count)
    -- no performance samples in the bench: availability and conversion sums stay zero
    SELECT e.tenant_id, date_trunc('month', e.occurred_at AT TIME ZONE t.time_zone)::date, 'automation',
        e.department, e.product, coalesce(sum(e.value), 0), count(*), 0, coalesce(sum(e.hours_saved), 0), 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0
    FROM roi_automationrun e JOIN governance_tenant t ON t.id = e.tenant_id GROUP BY 1, 2, 3, 4, 5
    UNION ALL
    SELECT e.tenant_id, date_trunc('month', e.occurred_at AT TIME ZONE t.time_zone)::date,
        CASE WHEN e.prevented THEN 'incident_prevention' ELSE 'downtime' END, e.department, e.product,
        coalesce(CASE WHEN e.prevented THEN sum(e.value) ELSE sum(e.downtime_cost) END, 0), count(*),
        CASE WHEN e.prevented THEN 0 ELSE coalesce(sum(e.downtime_minutes), 0) END, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0
    FROM roi_incident e JOIN governance_tenant t ON t.id = e.tenant_id GROUP BY 1, 2, 3, 4, 5, e.prevented
    UNION ALL
    SELECT e.tenant_id, date_trunc('month', e.occurred_at AT TIME ZONE t.time_zone)::date, 'deployments',
        e.department, e.product, 0, count(*), 0, 0, 0, count(*) FILTER (WHERE e.failed),
        -- lead time and time to restore as exact seconds (EXTRACT(EPOCH) is numeric, to the microsecond)
        coalesce(sum(extract(epoch FROM e.deployed_at - e.committed_at)), 0), count(e.committed_at),
        coalesce(sum(extract(epoch FROM e.restored_at - e.deployed_at)) FILTER (WHERE e.failed), 0),
        count(e.restored_at) FILTER (WHERE e.failed), 0, 0, 0, 0
    FROM roi_deployment e JOIN governance_tenant t ON t.id = e.tenant_id GROUP BY 1, 2, 3, 4, 5"""


def secondary_schema(cursor: psycopg.Cursor[Any], table: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The table's unique and foreign-key constraints, and its other non-primary indexes, as DDL."""
    constraints = cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass"
        " AND contype IN ('u', 'f')",
        [table],
    ).fetchall()
    indexes = cursor.execute(
        "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
        " WHERE x.indrelid = %s::regclass AND NOT x.indisprimary AND NOT EXISTS"
        " (SELECT 1 FROM pg_constraint c WHERE c.conrelid = x.indrelid AND c.conindid = x.indexrelid)",
        [table],
    ).fetchall()
    return constraints, indexes


def generate(owner_url: str, sizes: dict[int, int], start: datetime, end: datetime) -> None:
    """Load every tenant's events and rollups with set-based SQL, then rebuild the tables' indexes.

    Indexes and constraints are dropped for the load and recreated exactly as they were
    (one sorted build each is minutes faster than 10 million index insertions).
    """
    with psycopg.connect(owner_url, autocommit=True) as conn, conn.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '1GB'")
        cursor.execute("SET work_mem = '256MB'")
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("SELECT setseed(0.2026)")
        cursor.execute(
            "CREATE TEMP TABLE bench_sizes (tenant_id bigint, automation_runs int, incidents int, deployments int)"
        )
        for tenant_id, size in sizes.items():
            incidents, deployments = round(size * KIND_SHARES["incidents"]), round(size * KIND_SHARES["deployments"])
            cursor.execute(
                "INSERT INTO bench_sizes VALUES (%s, %s, %s, %s)",
                [tenant_id, size - incidents - deployments, incidents, deployments],
            )
        saved = {table: secondary_schema(cursor, table) for table in (*EVENT_TABLES, "roi_monthlyrollup")}
        for table, (constraints, indexes) in saved.items():
            for name, _ in constraints:
                cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
            for name, _ in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
        for table, sql in GENERATE.items():
            began = time.perf_counter()
            cursor.execute(sql, {"start": start, "end": end})
            print(f"  {table}: {cursor.rowcount:,} rows in {time.perf_counter() - began:.0f} s", flush=True)
        began = time.perf_counter()
        cursor.execute(ROLLUPS)
        print(f"  roi_monthlyrollup: {cursor.rowcount:,} cells in {time.perf_counter() - began:.0f} s", flush=True)
        began = time.perf_counter()
        for table, (constraints, indexes) in saved.items():
            for _, definition in indexes:
                cursor.execute(definition)
            for name, definition in constraints:
                cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
        print(f"  indexes and constraints rebuilt in {time.perf_counter() - began:.0f} s", flush=True)
        began = time.perf_counter()
        for table in (*EVENT_TABLES, "roi_monthlyrollup"):
            cursor.execute(f'VACUUM (ANALYZE) "{table}"')
        print(f"  vacuumed and analysed in {time.perf_counter() - began:.0f} s", flush=True)


# --- The app's side: tenants, keys, models, and the rollup check (in-process Django) ----


def django_setup(env: dict[str, str]) -> None:
    os.environ.update(env)
    import django

    django.setup()


def tenants_create(count: int) -> list[dict[str, Any]]:
    """`count` tenants with a financial model in force since 2020, a viewer key and an ingest key each."""
    from governance.ledger import Actor
    from governance.roles import KeyRole
    from governance.services import api_key_create, tenant_create
    from governance.tenancy import tenant_scope
    from roi.services import financial_model_update

    groups = {group: MODEL[group] for group in ("revenue_model", "cost_model", "impact_model")}
    tenants = []
    for rank in range(1, count + 1):
        tenant = tenant_create(slug=f"t{rank:03d}", name=f"Tenant {rank}", time_zone=ZONES.get(rank, "UTC"))
        with tenant_scope(tenant):
            financial_model_update(
                actor=Actor.system("bench"),
                groups=groups,
                change_reason=str(MODEL["change_reason"]),
                effective_from=datetime(2020, 1, 1, tzinfo=UTC),
            )
            viewer = api_key_create(name="dashboard", role=KeyRole.VIEWER).raw_key
            ingest = api_key_create(name="loader", role=KeyRole.INGEST).raw_key
        tenants.append({"id": tenant.pk, "slug": tenant.slug, "rank": rank, "viewer": viewer, "ingest": ingest})
    return tenants


def viewer_session(slugs: list[str]) -> str:
    """A viewer of the tenants `slugs`, logged in: the session cookie's value."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from governance.models import Tenant
    from governance.roles import Role
    from governance.services import membership_set_role

    user = get_user_model().objects.create_user(username="bench-viewer", password=None)
    for tenant in Tenant.objects.filter(slug__in=slugs):
        membership_set_role(tenant=tenant, user=user, role=Role.VIEWER)
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return str(client.cookies[settings.SESSION_COOKIE_NAME].value)


def rollups_check(tenant_ids: list[int]) -> int:
    """Compare the SQL-built rollups with `roi.rollups.rollup_cells_from_events` per tenant; returns cells compared."""
    from zoneinfo import ZoneInfo

    from governance.models import Tenant
    from governance.tenancy import tenant_scope
    from roi.ingestion.rollup_deltas import ROLLUP_COLUMNS
    from roi.rollups import rollup_cells_from_events, rollup_cells_stored

    compared = 0
    for tenant in Tenant.objects.filter(pk__in=tenant_ids):
        with tenant_scope(tenant):
            expected, stored = rollup_cells_from_events(ZoneInfo(tenant.time_zone)), rollup_cells_stored()
        wrong = [
            key
            for key in set(expected) | set(stored)
            if any((expected.get(key) or {}).get(c) != (stored.get(key) or {}).get(c) for c in ROLLUP_COLUMNS)
        ]
        if wrong:
            raise RuntimeError(
                f"rollups of {tenant.slug} differ from its events in {len(wrong)} cells, e.g. {wrong[0]}"
            )
        compared += len(expected)
    return compared


def capture(path: str, headers: dict[str, str]) -> list[tuple[str, Any]]:
    """The SQL statements one request issues (after a warm-up request), with their parameters."""
    from django.db import connection
    from django.test import Client

    client = Client(headers=headers)
    statements: list[tuple[str, Any]] = []

    def record(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        if not many:
            statements.append((sql, params))
        return execute(sql, params, many, context)

    client.get(path)
    with connection.execute_wrapper(record):
        response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"GET {path} in-process: HTTP {response.status_code}")
    return statements


# --- Measuring ----------------------------------------------------------------------------


def replay_once(conn: psycopg.Connection[Any], statements: list[tuple[str, Any]]) -> float:
    """Seconds to run `statements` in one transaction on `conn`, fetching every row, as the request does."""
    began = time.perf_counter()
    with conn.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)
            if cursor.description:
                cursor.fetchall()
    conn.commit()
    return time.perf_counter() - began


def get_once(conn: http.client.HTTPConnection, path: str, headers: dict[str, str]) -> float:
    """Seconds for one GET through gunicorn, the body read to its end."""
    began = time.perf_counter()
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = response.read()
    if response.status != 200:
        raise RuntimeError(f"GET {path}: HTTP {response.status}: {body[:300]!r}")
    return time.perf_counter() - began


def paired_latencies(
    port: int, path: str, headers: dict[str, str], count: int, app_url: str = "", statements: Any = ()
) -> tuple[list[float], list[float]]:
    """`count` GETs through gunicorn and, alternating with them, `count` replays of their SQL as
    the application role (none without `app_url`), after three warm-ups of each, so both see
    the same moments of a shared machine."""
    web = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    database = psycopg.connect(app_url, cursor_factory=psycopg.ClientCursor) if app_url else None
    requests, replays = [], []
    try:
        for round_ in range(count + 3):
            took = get_once(web, path, headers)
            alone = replay_once(database, statements) if database is not None else 0.0
            if round_ >= 3:
                requests.append(took)
                replays.append(alone)
    finally:
        web.close()
        if database is not None:
            database.close()
    return requests, replays


def ingest_batch(prefix: str, size: int) -> bytes:
    """`size` automation runs of this month so far, as one JSON body."""
    now = datetime.now(UTC)
    month = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    span = max(1, int((now - month).total_seconds() // 60) - 60)
    return json.dumps(automation_runs(prefix, size, random.Random(prefix), start=month, span_minutes=span)).encode()


def ingest_max_rate(port: int, keys: list[str], batches: int, size: int, clients: int) -> float:
    """Rows/s the events API sustains with `clients` concurrent clients over the tenants of `keys`."""
    senders = {key: http_sender("/api/v1/events/automation-runs", key) for key in keys}
    work = [(keys[n % len(keys)], ingest_batch(f"max-{n}", size)) for n in range(batches + 1)]

    def send(conn: http.client.HTTPConnection, item: tuple[str, bytes]) -> None:
        senders[item[0]](conn, item[1])

    def connect() -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", port, timeout=300)

    warm = connect()
    send(warm, work[0])
    warm.close()
    return run_clients("ingest", work[1:], clients, send, connect, batches * size).rows_per_second


class Loader(multiprocessing.Process):
    """Sends batches of `size` events at `rate` rows/s, round-robin over the tenants of `keys`,
    while switched on (`switch`), until stopped.

    A process of its own, not a thread of this one: building and sending 1,000-event bodies
    would otherwise hold the GIL the measuring client needs, and its waits would be counted
    as the server's latency.
    """

    def __init__(self, port: int, keys: list[str], rate: float, size: int) -> None:
        super().__init__(daemon=True)
        self.port, self.keys, self.interval, self.size = port, keys, size / rate, size
        self.stopped, self._on, self._parked = multiprocessing.Event(), multiprocessing.Event(), multiprocessing.Event()
        self._sent, self._seconds = multiprocessing.Value("q", 0), multiprocessing.Value("d", 0.0)
        self._error = multiprocessing.Array(ctypes.c_char, 2000)

    @property
    def sent(self) -> int:
        return int(self._sent.value)

    @property
    def seconds(self) -> float:
        """Seconds spent switched on."""
        return float(self._seconds.value)

    @property
    def error(self) -> str | None:
        return self._error.value.decode() or None

    def switch(self, *, on: bool) -> None:
        """Start sending, or stop and return once the batch in flight is answered."""
        if on:
            self._parked.clear()
            self._on.set()
        else:
            self._on.clear()
            self._parked.wait(timeout=300)
        if self.error is not None:
            raise RuntimeError(f"the loader failed: {self.error}")

    def run(self) -> None:
        senders = [http_sender("/api/v1/events/automation-runs", key) for key in self.keys]
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        sent, seconds = 0, 0.0
        try:
            while not self.stopped.is_set():
                if not self._on.wait(timeout=0.05):
                    self._parked.set()
                    continue
                began = due = time.monotonic()
                while self._on.is_set() and not self.stopped.is_set():
                    body = ingest_batch(f"load-{sent}", self.size)
                    time.sleep(max(0.0, due - time.monotonic()))
                    if not self._on.is_set():
                        break
                    senders[(sent // self.size) % len(senders)](conn, body)
                    sent += self.size
                    self._sent.value = sent
                    due += self.interval
                seconds += time.monotonic() - began
                self._seconds.value = seconds
        except Exception as error:  # reported by the main process
            self._error.value = repr(error).encode()[:1999]
            self._parked.set()
        conn.close()


@dataclass
class Line:
    tenant: str
    events: int
    endpoint: Endpoint
    statements: list[tuple[str, Any]]  # the SQL one request issues, as captured
    sql: float
    http: float
    loaded: float | None = None
    loaded_sql: float | None = None  # the SQL's p95 replayed alone under the same load

    @property
    def bound(self) -> float:
        return max(2 * self.sql, self.sql + 0.010)

    @property
    def cap(self) -> float:
        return HTML_CAP if self.endpoint.html else JSON_CAP

    @property
    def ok(self) -> bool:
        return self.http <= self.bound and self.http <= self.cap

    @property
    def load_ratio(self) -> float | None:
        return None if self.loaded is None else self.loaded / self.http


def measure(
    port: int,
    app_url: str,
    tenant: dict[str, Any],
    session: str,
    endpoints: tuple[Endpoint, ...],
    count: int,
    loader: Loader | None = None,
) -> list[Line]:
    """Each endpoint's line: `count` requests and SQL replays idle and, with a `loader`, `count`
    more while it ingests, in alternating blocks (`ROUNDS` of each), so that a change in the
    machine's speed during the run falls on both alike."""
    lines = []
    for endpoint in endpoints:
        path = endpoint.path.format(slug=tenant["slug"])
        headers = (
            {"Cookie": f"sessionid={session}"} if endpoint.html else {"Authorization": f"Bearer {tenant['viewer']}"}
        )
        statements = capture(path, headers)
        states = (False, True) if loader is not None else (False,)
        rounds = min(ROUNDS, count) if loader is not None else 1
        taken: dict[bool, tuple[list[float], list[float]]] = {state: ([], []) for state in states}
        for round_ in range(rounds):
            share = count * (round_ + 1) // rounds - count * round_ // rounds
            for loaded in states:
                if loader is not None:
                    loader.switch(on=loaded)
                requests, replays = paired_latencies(port, path, headers, share, app_url, statements)
                taken[loaded][0].extend(requests)
                taken[loaded][1].extend(replays)
        if loader is not None:
            loader.switch(on=False)
        requests, replays = taken[False]
        line = Line(tenant["label"], tenant["events"], endpoint, statements, p95(replays), p95(requests))
        if loader is not None:
            line.loaded, line.loaded_sql = p95(taken[True][0]), p95(taken[True][1])
        lines.append(line)
        print(
            f"  {tenant['label']} {endpoint.name}: HTTP p95 {ms(line.http)} ms, SQL p95 {ms(line.sql)} ms"
            f"; under load {ms(line.loaded)} ms, {ms(line.loaded_sql)} ms",
            flush=True,
        )
    return lines


def ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.1f}"


def report(
    lines: list[Line],
    naive: dict[str, Line],
    scale: str,
    count: int,
    naive_count: int,
    ingest: dict[str, float],
    topology: str,
) -> None:
    print()
    print(
        f"scale {scale}: p95 over {count} requests per endpoint ({naive_count} for the naive one), "
        "gunicorn -w 2, PostgreSQL; times in ms"
    )
    print(f"ingestion: {topology}")
    print(
        f"ingestion: max {ingest['max']:,.0f} rows/s, loader target {ingest['target']:,.0f} rows/s, "
        f"achieved {ingest['achieved']:,.0f} rows/s during the loaded runs"
    )
    header = (
        f"{'tenant':<9}{'events':>10}  {'endpoint':<12}{'queries':>7}{'SQL p95':>9}{'HTTP p95':>9}{'bound':>8}"
        f"{'cap':>5}  {'target':<6}{'loaded':>8}{'SQL ld':>8}{'ratio':>7}  {'<=1.5':<5}{'naive/this':>11}"
    )
    print(header)
    print("-" * len(header))
    for line in lines:
        naive_line = naive[line.tenant]
        ratio = line.load_ratio
        print(
            f"{line.tenant:<9}{line.events:>10,}  {line.endpoint.name:<12}{len(line.statements):>7}{ms(line.sql):>9}"
            f"{ms(line.http):>9}{ms(line.bound):>8}{line.cap * 1000:>5.0f}  {'pass' if line.ok else 'FAIL':<6}"
            f"{ms(line.loaded):>8}{ms(line.loaded_sql):>8}{'-' if ratio is None else f'{ratio:.2f}':>7}  "
            f"{'-' if ratio is None else ('pass' if ratio <= LOAD_RATIO else 'FAIL'):<5}"
            f"{naive_line.http / line.http:>10.0f}x"
        )
    for tenant, line in naive.items():
        print(
            f"{tenant:<9}{line.events:>10,}  {line.endpoint.name:<12}{len(line.statements):>7}{ms(line.sql):>9}"
            f"{ms(line.http):>9}   (the naive ORM aggregate over raw events, not a target)"
        )
    missed = [f"{line.tenant} {line.endpoint.name}" for line in lines if not line.ok]
    missed += [
        f"{line.tenant} {line.endpoint.name} under load"
        for line in lines
        if line.load_ratio is not None and line.load_ratio > LOAD_RATIO
    ]
    print("all targets met" if not missed else f"targets missed: {', '.join(missed)}")


def topology(shared: bool, cpus: list[int]) -> str:
    if shared:
        return "the events API served by the dashboards' own gunicorn"
    where = f"confined to CPU {','.join(map(str, cpus))} while loading" if cpus else "on every core"
    return f"the events API served by a gunicorn -w 2 of its own, {where}"


def confine(pid: int, cpus: list[int]) -> None:
    """Confine gunicorn `pid` and its workers, every thread of each, to `cpus` (`taskset -a`)."""
    processes = [pid, *(int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split())]
    for process in processes:
        for thread in Path(f"/proc/{process}/task").iterdir():
            os.sched_setaffinity(int(thread.name), cpus)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432", help="PostgreSQL, as a superuser")
    parser.add_argument("--db", default="bench_dashboard")
    parser.add_argument("--app-role", default="bizvalue_app", help="the role gunicorn connects as (RLS applies)")
    parser.add_argument("--requests", type=int, help="requests per endpoint (default: the scale's)")
    parser.add_argument("--batch-size", type=int, default=200, help="events per ingestion batch")
    parser.add_argument("--port", type=int, default=0, help="gunicorn's port (default: a free one)")
    parser.add_argument(
        "--ingest-cpus",
        type=lambda text: [int(cpu) for cpu in text.split(",") if cpu],
        default=INGEST_CPUS,
        help="the cores the ingestion pool is confined to while loading, comma-separated; empty: every core "
        f"(default: {','.join(map(str, INGEST_CPUS))})",
    )
    parser.add_argument(
        "--shared-pool",
        action="store_true",
        help="send the events to the dashboards' own gunicorn instead of a pool of their own",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    options = parser.parse_args()
    scale = SCALES[options.scale]
    count = options.requests or scale.requests
    port = options.port or free_port()

    server = urlsplit(options.server)
    owner_url = f"{options.server}/{options.db}"
    app_url = f"postgres://{options.app_role}@{server.hostname}:{server.port or 5432}/{options.db}"
    admin_url = f"{options.server}/postgres"
    base_env = {**bench_env(tempfile.mkdtemp(prefix="bench-dashboard-")), "ALLOWED_HOSTS": "127.0.0.1,testserver"}
    owner_env = {**base_env, "DATABASE_URL": owner_url}

    database_recreate(admin_url, options.db)
    gunicorn = ingestion = None
    try:
        began = time.perf_counter()
        print(f"setting up {options.db} ({options.scale}: {scale.events:,} events, {scale.tenants} tenants) ...")
        manage(owner_env, "migrate", "--noinput")
        manage(owner_env, "collectstatic", "--noinput")
        django_setup(owner_env)
        tenants = tenants_create(scale.tenants)
        sizes = tenant_sizes(scale.events, scale.tenants)
        for tenant, size in zip(tenants, sizes, strict=True):
            tenant["events"] = size
        now = datetime.now(UTC)
        first = now.year * 12 + now.month - 1 - 23  # 24 months: this one and the 23 before
        start = datetime(first // 12, first % 12 + 1, 1, tzinfo=UTC)
        generate(owner_url, {t["id"]: t["events"] for t in tenants}, start, now - timedelta(hours=1))
        largest, median, smallest = tenants[0], tenants[len(tenants) // 2 - 1], tenants[-1]
        largest["label"], median["label"] = "largest", "median"
        checked = rollups_check([largest["id"], median["id"], smallest["id"]])
        print(f"rollups check: {checked} cells of t{largest['rank']:03d}, t{median['rank']:03d}, "
              f"t{smallest['rank']:03d} equal the app's rebuild from events")  # fmt: skip
        session = viewer_session([largest["slug"], median["slug"]])
        with psycopg.connect(owner_url) as owner:
            size = owner.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]  # type: ignore[index]
        print(f"built in {time.perf_counter() - began:.0f} s, database {size}", flush=True)

        gunicorn = gunicorn_start({**base_env, "DATABASE_URL": app_url}, port, quiet=True)
        if options.shared_pool:
            ingest_port = port
        else:
            ingest_port = free_port()
            ingestion = gunicorn_start({**base_env, "DATABASE_URL": app_url}, ingest_port, quiet=True)
        load_keys = [t["ingest"] for t in (largest, median, *tenants[2:4])]
        # The maximum is measured with ingestion free to use every core: the most this machine
        # ingests, so that half of it is the same load whichever way the pool is then deployed.
        rate = ingest_max_rate(ingest_port, load_keys, scale.ingest_batches, options.batch_size, clients=2)
        if ingestion is not None and options.ingest_cpus:
            confine(ingestion.pid, options.ingest_cpus)
        print(f"ingestion max {rate:,.0f} rows/s; the loader sends {rate / 2:,.0f} rows/s in the loaded blocks")
        loader = Loader(ingest_port, load_keys, rate / 2, options.batch_size)
        loader.start()
        lines: list[Line] = []
        naive: dict[str, Line] = {}
        try:
            for tenant in (largest, median):
                lines += measure(port, app_url, tenant, session, ENDPOINTS, count, loader)
                naive[tenant["label"]] = measure(port, app_url, tenant, session, (NAIVE,), scale.naive_requests)[0]
        finally:
            loader.stopped.set()
            loader.join(timeout=300)
        if loader.error is not None:
            raise RuntimeError(f"the loader failed: {loader.error}")
        achieved = loader.sent / loader.seconds if loader.seconds else 0.0
        report(
            lines,
            naive,
            options.scale,
            count,
            scale.naive_requests,
            {"max": rate, "target": rate / 2, "achieved": achieved},
            topology(options.shared_pool, options.ingest_cpus),
        )
    finally:
        for server in (gunicorn, ingestion):
            if server is not None:
                server.terminate()
                server.wait(timeout=30)
        if not options.keep:
            database_recreate(admin_url, options.db, create=False)


if __name__ == "__main__":
    main()
