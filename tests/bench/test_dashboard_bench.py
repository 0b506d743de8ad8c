"""The dashboard benchmark's small scale runs end to end: CI's smoke test, not a timing test.

It builds its own database next to the test database (same server, as the owner), serves
the product with gunicorn as the application role, and must print a measured line per
tenant and endpoint with every ratio computed. Whether targets are met is the full scale's
business (bench/README.md); a loaded CI machine must not fail this.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connections

from bench.dashboard import ENDPOINTS

ROOT = Path(__file__).resolve().parents[2]
MS = r"\d+\.\d"


@pytest.mark.postgres
def test_the_small_scale_measures_every_endpoint_of_both_tenants() -> None:
    # given the test server, reached as its owner
    params = connections["default"].settings_dict
    owner = os.environ.get("DATABASE_OWNER", "postgres")
    server = f"postgres://{owner}@{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}"

    # when the small scale runs, in its own database dropped afterwards
    done = subprocess.run(
        [sys.executable, "bench/dashboard.py", "--scale", "small", "--requests", "10", "--server", server,
         "--db", f"{params['NAME']}_dashbench"],
        cwd=ROOT, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip

    # then it ran to the end and printed the whole table
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert re.search(r"rollups check: \d+ cells of .* equal the app's rebuild from events", out)
    assert re.search(r"ingestion: max [\d,]+ rows/s, loader target [\d,]+ rows/s, achieved [\d,]+ rows/s", out)
    for tenant in ("largest", "median"):
        for endpoint in ENDPOINTS:
            line = re.search(
                rf"^{tenant}\s+[\d,]+\s+{re.escape(endpoint.name)}\s+(\d+)\s+({MS})\s+({MS})\s+({MS})\s+(50|75)\s+"
                rf"(pass|FAIL)\s+({MS})\s+({MS})\s+(\d+\.\d\d)\s+(pass|FAIL)\s+(\d+)x$",
                out,
                re.MULTILINE,
            )
            assert line, f"no line for {tenant} {endpoint.name} in:\n{out}"
            queries, sql, http, bound = int(line[1]), float(line[2]), float(line[3]), float(line[4])
            assert queries > 0 and http > 0
            assert bound == pytest.approx(max(2 * sql, sql + 10), abs=0.11)
            assert float(line[8]) > 0  # the SQL alone under load
            assert float(line[9]) == pytest.approx(float(line[7]) / http, rel=0.05, abs=0.01)
            assert line[5] == ("75" if endpoint.html else "50")
        assert re.search(rf"^{tenant}\s+[\d,]+\s+naive ORM\s+\d+\s+{MS}\s+{MS}\s", out, re.MULTILINE)
    assert re.search(r"^(all targets met|targets missed: .+)$", out, re.MULTILINE)
