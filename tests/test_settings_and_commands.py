"""Configuration refuses unsafe production settings; the commands work as api.md says."""

import json
import os
import secrets
import subprocess
import sys
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from governance.models import Tenant

ROOT = Path(__file__).resolve().parent.parent


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS"}}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


def test_it_refuses_to_start_with_debug_off_on_the_default_secret_key():
    result = manage("check", DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_the_deploy_check_reports_nothing_when_configured_for_production():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="bizvalue.example.com",
        FIELD_ENCRYPTION_KEYS=f"k1:{secrets.token_urlsafe(32)}",
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_a_malformed_boolean_is_an_error_not_a_guess():
    result = manage("check", DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


def database_options(**env: str) -> dict[str, Any]:
    """DATABASES["default"]["OPTIONS"] as the settings build them from `env` (in a fresh interpreter)."""
    script = (
        "import json; from django.conf import settings; print(json.dumps(settings.DATABASES['default']['OPTIONS']))"
    )
    result = manage("shell", "-c", script, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_database_connection_fails_fast_and_keeps_what_database_url_says():
    options = database_options(
        DATABASE_URL="postgres://app:secret@db.example:5432/bizvalue?sslmode=verify-full&connect_timeout=3",
        DATABASE_LOCK_TIMEOUT_MS="2500",
    )
    # the URL's own options are kept (sslmode used to be dropped) and win over the defaults
    assert options["sslmode"] == "verify-full" and options["connect_timeout"] == 3
    assert (options["keepalives"], options["keepalives_idle"], options["tcp_user_timeout"]) == (1, 5, 10000)
    assert "-c statement_timeout=25000 -c lock_timeout=2500" in options["options"]
    assert "-c tcp_keepalives_idle=5" in options["options"] and "-c tcp_user_timeout=10000" in options["options"]
    assert options["pool"]["timeout"] == 10


@pytest.mark.django_db
class TestCreateTenant:
    def test_it_creates_a_tenant(self):
        call_command("create_tenant", "initech", "--name", "Initech", "--currency", "gbp", "--fiscal-year-start", "4")
        tenant = Tenant.objects.get(slug="initech")
        assert (tenant.name, tenant.currency, tenant.fiscal_year_start_month) == ("Initech", "GBP", 4)

    @pytest.mark.parametrize(
        ("args", "field"),
        [
            (["--currency", "dollars"], "currency"),
            (["--fiscal-year-start", "13"], "fiscal_year_start_month"),
            (["--time-zone", "Mars/Olympus"], "time_zone"),
        ],
    )
    def test_it_names_the_bad_field(self, args, field):
        with pytest.raises(CommandError, match=field):
            call_command("create_tenant", "initech", "--name", "Initech", *args)

    def test_a_duplicate_slug_is_refused(self, acme):
        with pytest.raises(CommandError, match="slug"):
            call_command("create_tenant", "acme", "--name", "Another")


@pytest.mark.django_db
class TestCreateApiKey:
    def test_it_prints_a_working_key_on_the_last_line(self, acme):
        out = StringIO()
        call_command("create_api_key", "acme", "--role", "analyst", stdout=out, stderr=StringIO())
        raw_key = out.getvalue().strip().splitlines()[-1]
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
        assert client.get("/api/v1/tenant").json()["roles"] == ["analyst"]

    def test_an_unknown_tenant_is_an_error(self, db):
        with pytest.raises(CommandError, match="No tenant"):
            call_command("create_api_key", "nope", "--role", "viewer")


@pytest.mark.django_db
def test_seed_demo_creates_one_user_per_role_once(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    out = StringIO()
    call_command("seed_demo", stdout=out)
    call_command("seed_demo", stdout=StringIO())
    printed = out.getvalue()
    for username in ("demo-viewer", "demo-analyst", "demo-finance-admin", "demo-tenant-admin", "demo-auditor", "admin"):
        assert username in printed
    assert Tenant.objects.filter(slug="demo").count() == 1
    assert (tmp_path / "demo-logins.txt").read_text().count("demo-viewer") == 1
