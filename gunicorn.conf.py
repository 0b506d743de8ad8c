"""gunicorn settings for BizValue: `gunicorn -c gunicorn.conf.py bizvalue.wsgi`.

Sync workers behind a buffering reverse proxy (docs/deployment.md): the proxy absorbs slow
clients, so a worker only ever sees a whole request; these limits bound what still gets
through. Every value can be overridden from the environment without editing this file.
"""

import multiprocessing
import os
import re
from pathlib import Path


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    return int(raw) if raw else default


bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = _env_int("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1)
worker_class = "sync"

# A request (dashboard, report, ledger verify) taking longer than this is a bug or an attack:
# the worker is killed and restarted rather than held.
timeout = _env_int("GUNICORN_TIMEOUT", 30)
# On SIGTERM (deploys), in-flight requests get this long to finish.
graceful_timeout = _env_int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = 5

# Header limits: a request line or header set beyond these is refused with 400 before Django.
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190

# Heartbeat files on tmpfs: a worker blocked on a disk-backed /tmp would look dead.
worker_tmp_dir = "/dev/shm" if Path("/dev/shm").is_dir() else None  # noqa: S108

# Recycled now and then, so a slow leak cannot grow without bound.
max_requests = 1000
max_requests_jitter = 100

# Each pool (pages and API; events) has a control socket of its own for `gunicornc -s PATH`.
# gunicorn's default is one path per user ($HOME/.gunicorn/gunicorn.ctl): the events pool
# started beside the web pool would take it over, and `gunicornc` would scale or stop the
# wrong pool. GUNICORN_CONTROL_SOCKET names it; otherwise it is named after the pool's bind
# address (known only once the command line is read, hence the hook).
control_socket_env = os.environ.get("GUNICORN_CONTROL_SOCKET", "")


def control_socket_for(bind_addresses: list[str], default_path: str) -> str:
    """`gunicorn-<first bind address>.ctl` beside gunicorn's default socket."""
    name = re.sub(r"[^A-Za-z0-9.]+", "-", bind_addresses[0]).strip("-") if bind_addresses else "default"
    return str(Path(default_path).with_name(f"gunicorn-{name}.ctl"))


def on_starting(server) -> None:  # type: ignore[no-untyped-def]
    setting = server.cfg.settings["control_socket"]
    if control_socket_env:
        server.cfg.set("control_socket", control_socket_env)
    elif server.cfg.control_socket == setting.default:  # not given on the command line either
        server.cfg.set("control_socket", control_socket_for(server.cfg.bind, setting.default))
    # gunicorn makes the socket's directory without exist_ok: of two pools started at once,
    # the one that loses the race would run without a control socket.
    Path(server.cfg.control_socket).parent.mkdir(mode=0o700, parents=True, exist_ok=True)


# Only the proxy may set X-Forwarded-*; see BEHIND_TLS_PROXY in settings.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
