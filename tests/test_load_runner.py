"""The load test's runner works end to end (bench/load/run.py --smoke): a real gunicorn,
PostgreSQL database, Celery worker on Redis and locust, for a few seconds, without a failure."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.postgres
@pytest.mark.redis
def test_the_load_runner_drives_every_kind_of_user_without_a_failure(tmp_path):
    params = connection.settings_dict
    server = f"postgres://{os.environ.get('DATABASE_OWNER', 'postgres')}@{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}"
    with socket.socket() as probe:  # a free port for gunicorn
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    done = subprocess.run(
        [
            sys.executable, str(ROOT / "bench" / "load" / "run.py"), "--smoke",
            "--server", server, "--db", f"{params['NAME']}_load_smoke", "--redis", settings.REDIS_URL,
            "--port", str(port),
        ],
        cwd=ROOT, capture_output=True, text=True, timeout=240, check=False,
        env={**os.environ, "TMPDIR": str(tmp_path)},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    summary = done.stdout.strip().splitlines()[-1]
    assert summary.startswith("users 3, requests ") and ", failures 0," in summary, summary
    for endpoint in ("POST /accounts/login/", "GET /t/<slug>/ (overview page)", "POST /api/v1/events/automation-runs"):
        assert f"`{endpoint}`" in done.stdout, done.stdout[-3000:]
