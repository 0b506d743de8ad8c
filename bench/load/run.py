"""Load test: the dashboards and the ingestion API under concurrent users, on loopback.

Builds its own PostgreSQL database (migrated as the superuser, the demo tenant seeded with
`seed_demo`, a viewer and an ingest key), starts `gunicorn bizvalue.wsgi -w 2` connected
as the application role (row-level security applies) and a Celery worker on Redis, runs
locust headless (bench/load/locustfile.py) for a bounded time, stops everything, drops
the database and prints users, requests, failures and p50/p95 per endpoint. Exit 1 if any
request failed. A benchmark, not a test (bench/README.md); `--smoke` is the short run a
test uses to prove the runner works.

    .venv/bin/python bench/load/run.py --users 20 --seconds 60
    .venv/bin/python bench/load/run.py --smoke
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.ingest import bench_env, database_recreate, gunicorn_start, manage  # noqa: E402

LOCUST = str(Path(sys.executable).with_name("locust"))
CELERY = str(Path(sys.executable).with_name("celery"))
LOCUSTFILE = Path(__file__).with_name("locustfile.py")
UNUSED_STATIC = ("admin", "rest_framework", "swagger-ui-dist", "redoc")


def demo_password(seed_output: str, role: str) -> str:
    """The password `seed_demo` printed for the demo user of `role`."""
    match = re.search(rf"^demo-{role}\s+(\S+)\s", seed_output, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"seed_demo printed no demo-{role} login:\n{seed_output[-2000:]}")
    return match.group(1)


def worker_start(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(  # noqa: S603 (our interpreter's celery, our arguments)
            [CELERY, "-A", "bizvalue", "worker", "--concurrency", "1", "--loglevel", "WARNING"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def read_stats(prefix: str) -> list[dict[str, str]]:
    if not Path(f"{prefix}_stats.csv").exists():
        raise RuntimeError("locust wrote no statistics: it failed to start (see its output above)")
    with open(f"{prefix}_stats.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def report(rows: list[dict[str, str]], options: argparse.Namespace) -> int:
    """Print the per-endpoint table (markdown, ready for bench/README.md); return the failures."""
    print()
    print(
        f"{options.users} users (spawn rate {options.spawn_rate}/s), {options.seconds} s, "
        f"gunicorn -w 2 + PostgreSQL + Redis + 1 Celery worker, batch {options.batch} events"
    )
    print("| endpoint | requests | failures | p50 ms | p95 ms | req/s |")
    print("|---|---:|---:|---:|---:|---:|")
    for row in rows:
        name = "**all**" if row["Name"] == "Aggregated" else f"`{row['Name']}`"
        print(
            f"| {name} | {row['Request Count']} | {row['Failure Count']} | {row['50%']} | {row['95%']} "
            f"| {float(row['Requests/s']):.1f} |"
        )
    total = next(row for row in rows if row["Name"] == "Aggregated")
    failures = int(total["Failure Count"])
    print(f"users {options.users}, requests {total['Request Count']}, failures {failures}, p95 {total['95%']} ms")
    return failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432", help="PostgreSQL, as a superuser")
    parser.add_argument("--db", default="bizvalue_load_bench")
    parser.add_argument("--app-role", default="bizvalue_app", help="the role gunicorn and the worker connect as")
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/3")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--spawn-rate", type=float, default=5)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--batch", type=int, default=50, help="events per ingestion request")
    parser.add_argument("--months", type=int, default=24, help="months of demo events to seed")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--smoke", action="store_true", help="one user of each kind for 5 s, 2 months of demo data")
    options = parser.parse_args()
    if options.smoke:
        options.users, options.spawn_rate, options.seconds, options.months = 3, 3, 5, 2

    server = urlsplit(options.server)
    owner_url = f"{options.server}/{options.db}"
    app_url = f"postgres://{options.app_role}@{server.hostname}:{server.port or 5432}/{options.db}"
    admin_url = f"{options.server}/postgres"
    var_dir = Path(tempfile.mkdtemp(prefix="bench-load-"))
    base_env = {
        **bench_env(str(var_dir)),
        "DJANGO_SETTINGS_MODULE": "bizvalue.settings",
        "STATIC_ROOT": str(var_dir / "static"),
        "REDIS_URL": options.redis,
    }
    owner_env = {**base_env, "DATABASE_URL": owner_url}
    app_env = {**base_env, "DATABASE_URL": app_url}

    database_recreate(admin_url, options.db)
    gunicorn = worker = None
    try:
        began = time.monotonic()
        print(f"setting up {options.db} ({options.months} months of demo data) ...", flush=True)
        manage(owner_env, "migrate", "--noinput")
        # Only the app's own static files: nothing here asks for the admin's, DRF's or the
        # API docs' (compressing those takes a minute).
        manage(owner_env, "collectstatic", "--noinput", *(f"--ignore={name}" for name in UNUSED_STATIC))
        seeded = manage(owner_env, "seed_demo", "--months", str(options.months))
        viewer_key = manage(owner_env, "create_api_key", "demo", "--role", "viewer").strip().splitlines()[-1]
        ingest_key = manage(owner_env, "create_api_key", "demo", "--role", "ingest").strip().splitlines()[-1]
        print(f"set up in {time.monotonic() - began:.0f} s; starting gunicorn and a Celery worker", flush=True)

        worker = worker_start(app_env, var_dir / "celery.log")
        gunicorn = gunicorn_start(app_env, options.port, quiet=True)
        prefix = str(var_dir / "locust")
        locust_env = {
            **app_env,
            "LOAD_VIEWER_KEY": viewer_key,
            "LOAD_INGEST_KEY": ingest_key,
            "LOAD_USERNAME": "demo-viewer",
            "LOAD_PASSWORD": demo_password(seeded, "viewer"),
            "LOAD_BATCH": str(options.batch),
            "LOAD_ONE_OF_EACH": "1" if options.smoke else "0",
        }
        print(f"locust: {options.users} users for {options.seconds} s ...", flush=True)
        subprocess.run(  # noqa: S603 (our interpreter's locust, our arguments)
            [
                LOCUST, "-f", str(LOCUSTFILE), "--headless", "--host", f"http://127.0.0.1:{options.port}",
                "--users", str(options.users), "--spawn-rate", str(options.spawn_rate),
                "--run-time", f"{options.seconds}s", "--stop-timeout", "30", "--csv", prefix,
                "--only-summary", "--loglevel", "WARNING",
            ],
            cwd=ROOT, env=locust_env, check=False,
        )  # fmt: skip
        failures = report(read_stats(prefix), options)
    finally:
        stop(gunicorn)
        stop(worker)
        database_recreate(admin_url, options.db, create=False)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
