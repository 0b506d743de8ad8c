"""What the verified tenant setting costs per statement: the bare-id policies against the proven ones.

    .venv/bin/python bench/rls_policy.py [--server postgres://postgres@127.0.0.1:5432] \
        [--db bench_rls_policy] [--tenants 20] [--rows-per-tenant 10000] [--rounds 7] [--keep]

In one scratch database (dropped first if left over) it installs what dashboards 0005 installs
(the key's schema and table, `bizvalue_rls_tenant_id()`, the key), then three copies of an
events table (tenant, day, value, downtime cost; same rows, same index), each with RLS forced:
`none` (no RLS: the floor), `bare` (the previous policies: `tenant_id = current_setting(...)`)
and `proven` (`tenant_id = (SELECT bizvalue_rls_tenant_id())`). As the application's role
(SET ROLE, so RLS binds), with one tenant's token set, it times in alternating rounds:

- rollup: one tenant's monthly sums of value and downtime cost (the dashboards' read);
- point: 200 single-row reads by primary key, one statement each (per-statement overhead);
- insert: one multi-row INSERT of 1,000 events (the events API's upsert);
- insert-select: 1,000 events from a temporary staging table (the path after the COPY).

It prints the median of each, and the ratio of `proven` to `bare` (the baseline, same run).
"""

# ruff: noqa: S608 (table names are this script's own constants, never input)
from __future__ import annotations

import argparse
import hashlib
import hmac
import statistics
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from governance.rls import TENANT_FUNCTION_SQL, TENANT_MATCHES, TENANT_MATCHES_PROVEN, hmac_pads

APP_ROLE = "bizvalue_app"
KEY = b"bench-key-" * 4
POLICIES = {"none": None, "bare": TENANT_MATCHES, "proven": TENANT_MATCHES_PROVEN}


def token(tenant_id: int) -> str:
    return f"{tenant_id}:{hmac.new(KEY, str(tenant_id).encode(), hashlib.sha256).hexdigest()}"


def setup(conn: psycopg.Connection, tenants: int, rows_per_tenant: int) -> None:
    inner, outer = hmac_pads(KEY)
    with conn.cursor() as cursor:
        cursor.execute(f'DO $$ BEGIN CREATE ROLE "{APP_ROLE}" LOGIN; EXCEPTION WHEN duplicate_object THEN END $$')
        cursor.execute("CREATE SCHEMA bizvalue_rls")
        cursor.execute("REVOKE ALL ON SCHEMA bizvalue_rls FROM PUBLIC")
        cursor.execute(
            "CREATE TABLE bizvalue_rls.tenant_proof_key"
            " (id smallint PRIMARY KEY CHECK (id = 1), inner_pad bytea NOT NULL, outer_pad bytea NOT NULL)"
        )
        cursor.execute("INSERT INTO bizvalue_rls.tenant_proof_key VALUES (1, %s, %s)", [inner, outer])
        cursor.execute(TENANT_FUNCTION_SQL)
        cursor.execute("REVOKE ALL ON FUNCTION public.bizvalue_rls_tenant_id() FROM PUBLIC")
        cursor.execute(f'GRANT EXECUTE ON FUNCTION public.bizvalue_rls_tenant_id() TO "{APP_ROLE}"')
        for name, matches in POLICIES.items():
            table = f"events_{name}"
            cursor.execute(
                f"CREATE TABLE {table} (id bigserial PRIMARY KEY, tenant_id bigint NOT NULL, day date NOT NULL,"
                " value numeric(16, 2) NOT NULL, downtime_cost numeric(16, 2) NOT NULL)"
            )
            cursor.execute(
                f"INSERT INTO {table} (tenant_id, day, value, downtime_cost)"
                " SELECT t, date '2025-01-01' + (r % 365), (r % 1000) * 1.25, (r % 77) * 3.5"
                f" FROM generate_series(1, {tenants}) t, generate_series(1, {rows_per_tenant}) r"
            )
            cursor.execute(f"CREATE INDEX ON {table} (tenant_id, day)")
            cursor.execute(f'GRANT SELECT, INSERT ON {table} TO "{APP_ROLE}"')
            cursor.execute(f'GRANT USAGE ON SEQUENCE {table}_id_seq TO "{APP_ROLE}"')
            if matches is not None:
                cursor.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
                cursor.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
                cursor.execute(f"CREATE POLICY tenant_read ON {table} FOR SELECT USING {matches}")
                cursor.execute(f"CREATE POLICY tenant_insert ON {table} FOR INSERT WITH CHECK {matches}")
            cursor.execute(f"ANALYZE {table}")


def timed(conn: psycopg.Connection, table: str, workload: str, tenant_id: int, ids: list[int]) -> float:
    """Seconds for one run of `workload` on `table`, in one transaction rolled back after."""
    with conn.cursor() as cursor:
        cursor.execute("BEGIN")
        cursor.execute(f'SET LOCAL ROLE "{APP_ROLE}"')
        # Each policy reads the setting it was written for: the bare id, or the token.
        setting = str(tenant_id) if table == "events_bare" else token(tenant_id)
        cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [setting])
        if workload == "insert-select":
            cursor.execute(
                "CREATE TEMP TABLE staging ON COMMIT DROP AS SELECT %s::bigint AS tenant_id,"
                " date '2026-01-01' + (r %% 28) AS day, r * 1.5 AS value, r * 0.5 AS downtime_cost"
                " FROM generate_series(1, 1000) r",
                [tenant_id],
            )
        started = time.perf_counter()
        if workload == "rollup":
            cursor.execute(
                f"SELECT date_trunc('month', day), sum(value), sum(downtime_cost), count(*) FROM {table}"
                " WHERE tenant_id = %s AND day >= date '2025-01-01' GROUP BY 1 ORDER BY 1",
                [tenant_id],
            )
            assert len(cursor.fetchall()) == 12
        elif workload == "point":
            for row_id in ids:
                cursor.execute(f"SELECT value FROM {table} WHERE id = %s", [row_id])
                assert cursor.fetchone() is not None
        elif workload == "insert":
            values = [(tenant_id, f"2026-01-{1 + i % 28:02d}", i * 1.5, i * 0.5) for i in range(1000)]
            placeholders = ", ".join(["(%s, %s::date, %s, %s)"] * len(values))
            cursor.execute(
                f"INSERT INTO {table} (tenant_id, day, value, downtime_cost) VALUES {placeholders}",
                [item for row in values for item in row],
            )
        else:
            cursor.execute(f"INSERT INTO {table} (tenant_id, day, value, downtime_cost) SELECT * FROM staging")
        elapsed = time.perf_counter() - started
        cursor.execute("ROLLBACK")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--db", default="bench_rls_policy")
    parser.add_argument("--tenants", type=int, default=20)
    parser.add_argument("--rows-per-tenant", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    with psycopg.connect(f"{args.server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{args.db}"')
        admin.execute(f'CREATE DATABASE "{args.db}"')
    try:
        with psycopg.connect(f"{args.server}/{args.db}", autocommit=True) as conn:
            setup(conn, args.tenants, args.rows_per_tenant)
            tenant_id = args.tenants // 2
            with conn.cursor() as cursor:
                cursor.execute("SELECT id FROM events_proven WHERE tenant_id = %s ORDER BY id LIMIT 200", [tenant_id])
                ids = [row[0] for row in cursor.fetchall()]
                # Every table holds the same rows under the same ids.
                cursor.execute("BEGIN")
                cursor.execute(f'SET LOCAL ROLE "{APP_ROLE}"')
                cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [token(tenant_id)])
                cursor.execute("EXPLAIN SELECT sum(value) FROM events_proven WHERE day >= date '2025-06-01'")
                plan = "\n".join(row[0] for row in cursor.fetchall())
                cursor.execute("SELECT count(DISTINCT tenant_id) FROM events_proven")
                assert cursor.fetchone() == (1,), "RLS did not bind the application's role"
                cursor.execute("ROLLBACK")
            print("plan of a read under the proven policy (the function runs once, as an InitPlan):")
            print("  " + plan.replace("\n", "\n  "))
            workloads = ("rollup", "point", "insert", "insert-select")
            times: dict[tuple[str, str], list[float]] = {}
            for workload in workloads:  # warm-up, untimed
                for name in POLICIES:
                    timed(conn, f"events_{name}", workload, tenant_id, ids)
            for _ in range(args.rounds):
                for workload in workloads:
                    for name in POLICIES:
                        times.setdefault((workload, name), []).append(
                            timed(conn, f"events_{name}", workload, tenant_id, ids)
                        )
        print(f"\nmedian of {args.rounds} rounds, ms; ratio = proven / bare (the previous policies, same run)")
        print(f"{'workload':<14}{'none':>10}{'bare':>10}{'proven':>10}{'ratio':>8}")
        for workload in workloads:
            medians = {name: statistics.median(times[(workload, name)]) * 1000 for name in POLICIES}
            ratio = medians["proven"] / medians["bare"]
            print(
                f"{workload:<14}{medians['none']:>10.2f}{medians['bare']:>10.2f}{medians['proven']:>10.2f}{ratio:>8.2f}"
            )
    finally:
        if not args.keep:
            with psycopg.connect(f"{args.server}/postgres", autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{args.db}"')


if __name__ == "__main__":
    main()
