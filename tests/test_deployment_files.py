"""compose.yaml and the Dockerfile stay consistent with bizvalue/settings.py (they cannot be run here)."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("migrate", "web", "ingest", "worker", "beat")
# What production must set: without these the app refuses to start, is insecure, or
# silently falls back to an embedded default (SQLite, filesystem broker).
REQUIRED_IN_PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": None,
    "FIELD_ENCRYPTION_KEYS": None,
    "ALLOWED_HOSTS": None,
    "CSRF_TRUSTED_ORIGINS": None,
    "BEHIND_TLS_PROXY": "1",
    "DATABASE_URL": None,
    "DATABASE_APP_ROLE": None,
    "REDIS_URL": None,
    "BIZVALUE_VAR_DIR": None,
    "MEDIA_ROOT": None,
    "LEDGER_ANCHOR_FILE": None,
}
ENV_READ = re.compile(r"""(?:env_[a-z_]+|os\.environ\.get|os\.environ\[)\(?\s*["']([A-Z][A-Z0-9_]*)["']""")


def env_names_read_by(path: Path) -> set[str]:
    """Environment variable names a Python file reads through the settings helpers or os.environ."""
    return set(ENV_READ.findall(path.read_text()))


SETTINGS_ENV = env_names_read_by(ROOT / "bizvalue" / "settings.py")
GUNICORN_ENV = env_names_read_by(ROOT / "gunicorn.conf.py")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_the_reader_finds_the_settings_environment():
    assert {"DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "FIELD_ENCRYPTION_KEYS"} <= SETTINGS_ENV
    assert {"GUNICORN_BIND", "WEB_CONCURRENCY"} <= GUNICORN_ENV


def test_compose_has_every_service(compose):
    assert set(compose["services"]) >= {"web", "ingest", "worker", "beat", "postgres", "redis", "migrate"}


@pytest.mark.parametrize("service", APP_SERVICES)
def test_every_variable_compose_sets_is_read_by_the_app(compose, service):
    unknown = set(compose["services"][service]["environment"]) - SETTINGS_ENV - GUNICORN_ENV

    assert unknown == set(), f"{service} sets variables nothing reads: {sorted(unknown)}"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_every_required_production_setting_is_set(compose, service):
    environment = compose["services"][service]["environment"]

    for name, value in REQUIRED_IN_PRODUCTION.items():
        assert name in SETTINGS_ENV, f"{name} is no longer read by settings: update this test"
        assert environment.get(name), f"{service} does not set {name}"
        if value is not None:
            assert str(environment[name]) == value, f"{service}: {name} must be {value}"


def test_migrations_run_as_the_owner_and_the_app_as_its_own_role(compose):
    migrate_url = compose["services"]["migrate"]["environment"]["DATABASE_URL"]
    role = compose["services"]["web"]["environment"]["DATABASE_APP_ROLE"]

    assert migrate_url.startswith("postgres://bizvalue_owner:")
    for service in ("web", "ingest", "worker", "beat"):
        assert compose["services"][service]["environment"]["DATABASE_URL"].startswith(f"postgres://{role}:")
    assert "NOBYPASSRLS" in compose["configs"]["create-app-role"]["content"]


def test_exactly_one_beat_and_both_gunicorn_pools_run_the_gunicorn_config(compose):
    beats = [name for name, service in compose["services"].items() if "beat" in service.get("command", [])]

    assert beats == ["beat"]
    for pool in ("web", "ingest"):
        assert compose["services"][pool]["command"] == ["gunicorn", "-c", "gunicorn.conf.py", "bizvalue.wsgi"]


def test_the_dockerfile_serves_with_the_gunicorn_config_as_a_non_root_user():
    dockerfile = (ROOT / "Dockerfile").read_text()

    assert 'CMD ["gunicorn", "-c", "gunicorn.conf.py", "bizvalue.wsgi"]' in dockerfile
    assert re.search(r"^USER (?!root)\w+", dockerfile, re.MULTILINE)
    assert "COPY requirements.txt" in dockerfile
    for name in re.findall(r"^\s*([A-Z][A-Z0-9_]+)=", dockerfile, re.MULTILINE):
        assert name in SETTINGS_ENV | GUNICORN_ENV | {"PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "PIP_NO_CACHE_DIR"}


def test_each_gunicorn_pool_in_compose_has_a_control_socket_of_its_own(compose):
    # web and ingest share the appdata volume (and HOME, /var/lib/bizvalue, lies in it)
    sockets = {
        pool: compose["services"][pool]["environment"].get("GUNICORN_CONTROL_SOCKET") for pool in ("web", "ingest")
    }

    assert all(sockets.values()) and len(set(sockets.values())) == 2, sockets
    for pool, path in sockets.items():
        mounts = [volume.split(":")[1] for volume in compose["services"][pool].get("volumes", [])]
        assert not any(path.startswith(mount) for mount in mounts), f"{pool}: {path} lies in a shared volume"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_two_pools_started_as_the_docs_say_get_a_control_socket_each(tmp_path):
    # given: the web pool and the events pool of docs/deployment.md, as one user (one HOME)
    env = {key: value for key, value in os.environ.items() if key not in {"XDG_RUNTIME_DIR", "DATABASE_URL"}}
    env |= {"HOME": str(tmp_path), "WEB_CONCURRENCY": "1", "DEBUG": "1"}
    env.pop("GUNICORN_CONTROL_SOCKET", None)
    ports = {"web": free_port(), "ingest": free_port()}
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    pools = {
        name: subprocess.Popen(
            [gunicorn, "-c", "gunicorn.conf.py", "bizvalue.wsgi"],
            cwd=ROOT,
            env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name, port in ports.items()
    }
    try:
        # when: both have started their control sockets
        deadline = time.monotonic() + 60
        while len(list(tmp_path.glob(".gunicorn/*.ctl"))) < 2 and time.monotonic() < deadline:
            assert all(pool.poll() is None for pool in pools.values()), "a pool exited while starting"
            time.sleep(0.2)
        sockets = sorted(tmp_path.glob(".gunicorn/*.ctl"))
        # then: two sockets, each answering for its own pool
        assert len(sockets) == 2, sockets
        listening = set()
        for path in sockets:
            answer = subprocess.run(
                [str(Path(sys.executable).with_name("gunicornc")), "-s", str(path), "-c", "show listeners", "-j"],
                capture_output=True,
                text=True,
                timeout=10,
                check=True,
            )
            [listener] = json.loads(answer.stdout)["listeners"]
            listening.add(listener["address"])
        assert listening == {f"http://127.0.0.1:{port}" for port in ports.values()}
    finally:
        for pool in pools.values():
            pool.terminate()
        for pool in pools.values():
            pool.wait(timeout=30)


def test_container_health_checks_probe_liveness_not_readiness(compose):
    # A database outage must not make the platform restart every app container.
    for pool in ("web", "ingest"):
        check = " ".join(compose["services"][pool]["healthcheck"]["test"])
        assert "/healthz" in check and "/readyz" not in check
        assert "timeout=" in check
    assert "HEALTHCHECK" not in (ROOT / "Dockerfile").read_text() or "/healthz" in (ROOT / "Dockerfile").read_text()
