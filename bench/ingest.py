"""Ingestion benchmark: the events API against a raw COPY floor and a stock DRF peer.

Sets up its own PostgreSQL database (migrated, one tenant, keys, a financial model),
serves the product with `gunicorn bizvalue.wsgi -w 2` (settings `bench.settings`, which
add the peer endpoint), and sends the same 1,000-event single-tenant batches of automation
runs from N concurrent clients in three ways, in one run:

  api   POST /api/v1/events/automation-runs: key auth, validation, valuation, ledger, rollups
  copy  psycopg COPY of the same rows into a scratch table (the floor: no HTTP, no logic)
  peer  a stock DRF ModelSerializer(many=True) endpoint (bench/urls.py), same auth and scope

The API and the COPY take turns in rounds, so the machine's changes of speed fall on both.
Prints rows/s of each, the API/COPY ratio (overall and per round) and the peer/COPY ratio,
and p50/p95 seconds per batch, then drops the database. A benchmark, not a test: run it by hand (see bench/README.md).

    .venv/bin/python bench/ingest.py --clients 4 --batches 120 --rounds 6
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import queue
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GUNICORN = str(Path(PYTHON).with_name("gunicorn"))
COPY_COLUMNS = (
    "tenant_id", "external_id", "occurred_at", "department", "product", "process", "started_at",
    "execution_time", "manual_time_equivalent", "runs", "errors_avoided", "compliance_checks",
    "received_at", "updated_at",
)  # fmt: skip
MODEL = {
    "revenue_model": {"annual_recurring_revenue": "56000000"},
    "cost_model": {"it_staff_hourly_rate": "75", "engineer_hourly_rate": "120", "cost_per_error": "200",
                   "compliance_value_per_check": "137", "customer_support_cost_per_incident": "150"},
    "impact_model": {"customer_count": "2000", "customer_lifetime_value": "10000",
                     "customer_churn_rate_per_incident": "0.02", "brand_impact_factor": "1.5"},
    "change_reason": "Benchmark figures",
    "effective_from": "2020-01-01T00:00:00Z",
}  # fmt: skip


@dataclass
class Result:
    mode: str
    rows: int
    seconds: float
    latencies: list[float]

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds

    @classmethod
    def merged(cls, mode: str, parts: list[Result]) -> Result:
        """One way's rounds as one: all its rows over all its seconds, every batch's latency."""
        latencies = [t for p in parts for t in p.latencies]
        return cls(mode, sum(p.rows for p in parts), sum(p.seconds for p in parts), latencies)

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def automation_runs(
    prefix: str,
    count: int,
    rng: random.Random,
    *,
    start: datetime = datetime(2026, 1, 1, tzinfo=UTC),
    span_minutes: int = 525_600,
) -> list[dict[str, Any]]:
    """`count` automation runs as an integration sends them, spread over `span_minutes` (a year) from `start`."""
    return [
        {
            "external_id": f"{prefix}-{n}",
            "process": rng.choice(("invoice-matching", "user-provisioning", "backup-verification")),
            "started_at": (start + timedelta(minutes=rng.randrange(span_minutes))).isoformat(),
            "execution_time": str(rng.randint(30, 600)),
            "manual_time_equivalent": str(rng.randint(900, 7200)),
            "runs": rng.randint(1, 20),
            "errors_avoided": rng.randint(0, 2),
            "compliance_checks": rng.randint(0, 1),
            "department": rng.choice(("finance", "it", "operations")),
            "product": rng.choice(("erp", "identity", "platform")),
        }
        for n in range(count)
    ]


def copy_rows(tenant_id: int, events: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    now = datetime.now(UTC)
    rows = []
    for e in events:
        started = datetime.fromisoformat(e["started_at"])
        rows.append(
            (tenant_id, e["external_id"], started, e["department"], e["product"], e["process"], started,
             Decimal(e["execution_time"]), Decimal(e["manual_time_equivalent"]), e["runs"], e["errors_avoided"],
             e["compliance_checks"], now, now)
        )  # fmt: skip
    return rows


# --- Running the three ways at the same concurrency -------------------------------------


def run_clients(
    mode: str,
    batches: list[Any],
    clients: int,
    send: Callable[[Any, Any], None],
    open_client: Callable[[], Any],
    rows: int,
) -> Result:
    """Send every batch from `clients` threads, each with its own connection; time the whole and each batch."""
    work: queue.Queue[Any] = queue.Queue()
    for batch in batches:
        work.put(batch)
    latencies: list[float] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    connections = [open_client() for _ in range(clients)]
    ready = threading.Barrier(clients + 1)

    def client(conn: Any) -> None:
        ready.wait()
        while True:
            try:
                batch = work.get_nowait()
            except queue.Empty:
                return
            began = time.perf_counter()
            try:
                send(conn, batch)
            except BaseException as error:  # reported after the run
                with lock:
                    errors.append(error)
                return
            with lock:
                latencies.append(time.perf_counter() - began)

    threads = [threading.Thread(target=client, args=(conn,)) for conn in connections]
    for thread in threads:
        thread.start()
    ready.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    for conn in connections:
        conn.close()
    if errors:
        raise RuntimeError(f"{mode}: {len(errors)} batch(es) failed: {errors[0]}")
    return Result(mode, rows, seconds, latencies)


def http_sender(path: str, key: str) -> Callable[[http.client.HTTPConnection, bytes], None]:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def send(conn: http.client.HTTPConnection, body: bytes) -> None:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        payload = response.read()
        if response.status not in (200, 201):
            raise RuntimeError(f"HTTP {response.status}: {payload[:300]!r}")

    return send


def copy_send(conn: psycopg.Connection, rows: list[tuple[Any, ...]]) -> None:
    with (
        conn.cursor() as cursor,
        cursor.copy(f"COPY bench_copy_scratch ({', '.join(COPY_COLUMNS)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)
    conn.commit()


# --- Setting up and tearing down --------------------------------------------------------


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(  # noqa: S603 (our own interpreter and arguments)
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def api_call(port: int, method: str, path: str, key: str, body: Any = None) -> Any:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
    response = conn.getresponse()
    payload = response.read()
    conn.close()
    if response.status >= 300:
        raise RuntimeError(f"{method} {path}: HTTP {response.status}: {payload[:500]!r}")
    return json.loads(payload)


def wait_for_server(port: int, server: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("gunicorn exited while starting; see its log above")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("gunicorn did not answer /healthz in time")


def bench_env(var_dir: str) -> dict[str, str]:
    """The product's production settings (DEBUG off) with throwaway secrets, for bench.settings."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "BIZVALUE_VAR_DIR": var_dir,
        "STATIC_ROOT": var_dir,
        "REDIS_URL": "",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "FIELD_ENCRYPTION_KEYS": "bench:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_HSTS_SECONDS": "0",
        "LOG_LEVEL": "WARNING",
    }


def database_recreate(admin_url: str, name: str, *, create: bool = True) -> None:
    """Drop the database `name` if it is there (connections and all), then create it afresh unless `create` is off."""
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            admin.execute(f'CREATE DATABASE "{name}"')


def gunicorn_start(env: dict[str, str], port: int, workers: int = 2, *, quiet: bool = False) -> subprocess.Popen[bytes]:
    """`gunicorn bizvalue.wsgi -w workers` on 127.0.0.1:`port`, answering /healthz before this returns.

    `quiet` drops its standard output (the access log); errors still reach standard error.
    Workers are not recycled (gunicorn.conf.py's max_requests): a fresh worker's first slow
    requests would land inside the measurements.
    """
    limits = ["--timeout", "300", "--max-requests", "0"]
    server = subprocess.Popen(  # noqa: S603 (our own interpreter's gunicorn and arguments)
        [GUNICORN, "bizvalue.wsgi", "-w", str(workers), "-b", f"127.0.0.1:{port}", *limits],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL if quiet else None,
    )
    try:
        wait_for_server(port, server)
    except BaseException:
        server.terminate()
        server.wait(timeout=30)
        raise
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432", help="PostgreSQL, as a superuser")
    parser.add_argument("--db", default="bench_bizvalue")
    parser.add_argument("--app-role", default="bizvalue_app", help="the role gunicorn connects as (RLS applies)")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--batches", type=int, default=120, help="batches of the API and of the COPY each")
    parser.add_argument("--peer-batches", type=int, default=24, help="batches of the (slow) stock DRF peer")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=6, help="turns the API and the COPY take, in alternation")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    options = parser.parse_args()

    server = urlsplit(options.server)
    owner_url = f"{options.server}/{options.db}"
    app_url = f"postgres://{options.app_role}@{server.hostname}:{server.port or 5432}/{options.db}"
    base_env = bench_env(tempfile.mkdtemp(prefix="bench-bizvalue-"))
    owner_env = {**base_env, "DATABASE_URL": owner_url}
    admin_url = f"{options.server}/postgres"

    database_recreate(admin_url, options.db)
    gunicorn: subprocess.Popen[bytes] | None = None
    try:
        print(f"setting up {options.db} ...", flush=True)
        manage(owner_env, "migrate", "--noinput")
        manage(owner_env, "create_tenant", "bench", "--name", "Bench", "--single-approver")
        ingest_key = manage(owner_env, "create_api_key", "bench", "--role", "ingest").strip().splitlines()[-1]
        admin_key = manage(owner_env, "create_api_key", "bench", "--role", "finance_admin").strip().splitlines()[-1]
        with psycopg.connect(owner_url, autocommit=True) as owner:
            tenant_id = owner.execute("SELECT id FROM governance_tenant WHERE slug = 'bench'").fetchone()[0]  # type: ignore[index]
            owner.execute("CREATE TABLE bench_copy_scratch (LIKE roi_automationrun INCLUDING ALL)")

        gunicorn = gunicorn_start({**base_env, "DATABASE_URL": app_url}, options.port)
        api_call(options.port, "PUT", "/api/v1/config/financial-model", admin_key, MODEL)

        rng = random.Random(20261127)
        size, count, clients = options.batch_size, options.batches, options.clients
        batches_of = {"api": count, "copy": count, "peer": options.peer_batches}
        # Payloads are built and encoded before any clock starts; each way gets its own ids.
        events = {
            mode: [automation_runs(f"{mode}-{b}", size, rng) for b in range(batches_of[mode] + 1)]
            for mode in ("api", "peer", "copy")
        }
        bodies = {mode: [json.dumps(batch).encode() for batch in events[mode]] for mode in ("api", "peer")}
        rows = [copy_rows(tenant_id, batch) for batch in events["copy"]]

        def http_client() -> http.client.HTTPConnection:
            return http.client.HTTPConnection("127.0.0.1", options.port, timeout=300)

        def copy_client() -> psycopg.Connection:
            return psycopg.connect(owner_url)

        api_send = http_sender("/api/v1/events/automation-runs", ingest_key)
        peer_send = http_sender("/bench/peer/automation-runs", ingest_key)
        # Per way: how a batch is sent, how a client connects, the batches (the first one warms up).
        ways: dict[str, tuple[Callable[[Any, Any], None], Callable[[], Any], list[Any]]] = {
            "api": (api_send, http_client, bodies["api"]),
            "copy": (copy_send, copy_client, rows),
            "peer": (peer_send, http_client, bodies["peer"]),
        }
        for send, open_client, batches in ways.values():
            warm = open_client()
            send(warm, batches[0])  # one untimed batch per way: imports, pools and caches warm
            warm.close()
        # The API and the COPY floor take turns, round by round, so a change in the
        # machine's speed during the run (a shared host's) falls on both alike; the peer,
        # only a reference and twenty times slower, runs once, after them.
        per_round = [count * r // options.rounds for r in range(options.rounds + 1)]
        parts: dict[str, list[Result]] = {"api": [], "copy": [], "peer": []}
        for r in range(options.rounds):
            for mode in ("api", "copy"):
                send, open_client, batches = ways[mode]
                chunk = batches[1 + per_round[r] : 1 + per_round[r + 1]]
                print(f"{mode}: round {r + 1}, {len(chunk)} batches of {size} from {clients} clients ...", flush=True)
                parts[mode].append(run_clients(mode, chunk, clients, send, open_client, len(chunk) * size))
        send, open_client, batches = ways["peer"]
        peer_rows = options.peer_batches * size
        print(f"peer: {options.peer_batches} batches of {size} from {clients} clients ...", flush=True)
        parts["peer"].append(run_clients("peer", batches[1:], clients, send, open_client, peer_rows))
        results = [Result.merged(mode, runs) for mode, runs in parts.items()]
        round_ratios = [a.rows_per_second / c.rows_per_second for a, c in zip(parts["api"], parts["copy"], strict=True)]

        with psycopg.connect(owner_url) as owner:
            stored = owner.execute(
                "SELECT count(*) FILTER (WHERE value IS NOT NULL), count(*) FROM roi_automationrun"
            ).fetchone()
            records = owner.execute("SELECT count(*) FROM governance_ledgerrecord").fetchone()
        report(results, options, stored, records, round_ratios)
    finally:
        if gunicorn is not None:
            gunicorn.terminate()
            gunicorn.wait(timeout=30)
        if not options.keep:
            database_recreate(admin_url, options.db, create=False)


def report(
    results: list[Result], options: argparse.Namespace, stored: Any, records: Any, round_ratios: list[float]
) -> None:
    by_mode = {r.mode: r for r in results}
    print()
    print(f"{options.batches} batches x {options.batch_size} automation runs for the API and the COPY "
          f"({options.peer_batches} for the peer), in {options.rounds} rounds, {options.clients} clients, "
          f"gunicorn -w 2, PostgreSQL")  # fmt: skip
    print(f"{'way':<6}{'rows/s':>10}{'seconds':>10}{'p50 s/batch':>13}{'p95 s/batch':>13}{'mean':>8}")
    for r in results:
        print(
            f"{r.mode:<6}{r.rows_per_second:>10.0f}{r.seconds:>10.2f}{r.percentile(0.5):>13.3f}"
            f"{r.percentile(0.95):>13.3f}{statistics.mean(r.latencies):>8.3f}"
        )
    copy = by_mode["copy"].rows_per_second
    by_round = ", ".join(f"{ratio:.3f}" for ratio in round_ratios)
    print(f"API/COPY  {by_mode['api'].rows_per_second / copy:.3f}   (by round: {by_round})")
    print(f"peer/COPY {by_mode['peer'].rows_per_second / copy:.3f}")
    print(f"API/peer  {by_mode['api'].rows_per_second / by_mode['peer'].rows_per_second:.2f}")
    print(f"check: {stored[0]} of {stored[1]} stored automation runs valued (the peer's are not); "
          f"{records[0]} ledger records")  # fmt: skip


if __name__ == "__main__":
    main()
