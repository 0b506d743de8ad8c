"""Ledger verification benchmark: a full verification against an incremental one, and the API's answer.

Sets up its own PostgreSQL database (migrated, one tenant with a financial model), ingests
`--items` automation runs in 1,000-event batches (each batch one ledger record holding
1,000 items), then, in one run and in turns (`--rounds`):

  full         ledger_verify(full=True): every record rehashed and recomputed, every row checked
               (what every verification did before it became incremental: the baseline)
  incremental  ledger_verify() after one more batch: the new record recomputed, rows checked
  api          POST /api/v1/ledger/verify as an auditor (Django test client, in process):
               202 and a status URL once the work is past LEDGER_VERIFY_INLINE_WORK

Prints each one's median seconds and its ratio to the full verification measured in the
same run, then drops the database. A benchmark, not a test: run it by hand.

    .venv/bin/python bench/verify.py --items 220000 --rounds 3
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import MODEL, automation_runs, bench_env, database_recreate, manage  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432", help="PostgreSQL, as a superuser")
    parser.add_argument("--db", default="bench_bizvalue_verify")
    parser.add_argument("--items", type=int, default=220_000, help="batch items in the ledger")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    options = parser.parse_args()

    owner_url = f"{options.server}/{options.db}"
    env = {**bench_env(tempfile.mkdtemp(prefix="bench-verify-")), "DATABASE_URL": owner_url}
    database_recreate(f"{options.server}/postgres", options.db)
    try:
        print(f"setting up {options.db} ...", flush=True)
        manage(env, "migrate", "--noinput")
        manage(env, "create_tenant", "bench", "--name", "Bench", "--single-approver")
        os.environ.update(env)
        import django

        django.setup()
        measure(options)
    finally:
        from django.db import connections

        connections.close_all()
        if not options.keep:
            database_recreate(f"{options.server}/postgres", options.db, create=False)


def measure(options: argparse.Namespace) -> None:
    from django.conf import settings
    from django.test import Client

    from governance.ledger import Actor
    from governance.models import Tenant
    from governance.services import api_key_create
    from governance.tenancy import tenant_scope
    from roi.ingestion import events_ingest
    from roi.ledger_verification import ledger_verify
    from roi.services import financial_model_update

    system = Actor.system("bench")
    tenant = Tenant.objects.get(slug="bench")
    rng = random.Random(20261207)
    groups = {key: value for key, value in MODEL.items() if key not in ("change_reason", "effective_from")}
    with tenant_scope(tenant):
        financial_model_update(actor=system, groups=groups, change_reason="Benchmark figures")
    started = time.perf_counter()
    batches = max(options.items // 1000, 1)
    for batch in range(batches):
        with tenant_scope(tenant):
            events_ingest(actor=system, kind="automation-runs", payload=automation_runs(f"b{batch}", 1000, rng))
    print(f"ingested {batches * 1000:,} items in {time.perf_counter() - started:.0f} s", flush=True)

    with tenant_scope(tenant):
        raw_key = api_key_create(name="bench auditor", role="auditor").raw_key
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    settings.ALLOWED_HOSTS = ["*"]
    timings: dict[str, list[float]] = {"full": [], "incremental": [], "api": []}
    extra = 0
    for round_number in range(options.rounds):
        with tenant_scope(tenant):
            began = time.perf_counter()
            full = ledger_verify(actor="bench", full=True)
            timings["full"].append(time.perf_counter() - began)
            assert full.ok, full.as_dict()["failures"][:3]
            events_ingest(actor=system, kind="automation-runs", payload=automation_runs(f"x{extra}", 1000, rng))
            extra += 1
        with tenant_scope(tenant):
            began = time.perf_counter()
            incremental = ledger_verify(actor="bench")
            timings["incremental"].append(time.perf_counter() - began)
            assert incremental.ok and incremental.checked == 1, (
                incremental.checked,
                incremental.as_dict()["failures"][:3],
            )
        began = time.perf_counter()
        answer = client.post("/api/v1/ledger/verify", {"full": True}, content_type="application/json")
        timings["api"].append(time.perf_counter() - began)
        print(
            f"round {round_number + 1}: full {timings['full'][-1]:.2f} s ({full.checked} records), "
            f"incremental {timings['incremental'][-1]:.2f} s, API {answer.status_code} "
            f"in {timings['api'][-1]:.2f} s",
            flush=True,
        )
    baseline = statistics.median(timings["full"])
    for name, seconds in timings.items():
        median = statistics.median(seconds)
        print(f"{name:12} median {median:7.2f} s   ratio to full {median / baseline:5.2f}")


if __name__ == "__main__":
    main()
