"""Probes for the proxy and the orchestrator: `/healthz` (liveness) and `/readyz` (readiness).

- `/healthz`: the process answers HTTP. It touches nothing else, so a database outage
  never makes an orchestrator restart healthy app processes.
- `/readyz`: the database answers a query, within seconds, on a connection of its own (the
  pool would make a probe wait its 10 s for a connection). `503` names what is down.
  Redis is checked and named too, but being down leaves the instance ready: requests
  need nothing from Redis (docs/operations.md), so taking every web instance out of
  rotation for it would turn a degraded service into an outage.

Both are answered by a middleware ahead of every other, so that a probe addressed to the
instance's own IP (not in ALLOWED_HOSTS) over plain HTTP is not refused or redirected, and
no session, user or tenant is ever looked at. The answer carries no error text: what is
down is logged, not shown.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import redis
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from governance.errors import DATABASE_RETRY_AFTER
from governance.stores import database_store

logger = logging.getLogger(__name__)

# libpq counts connect_timeout in whole seconds and treats anything under 2 as 2.
PROBE_TIMEOUT_SECONDS = 2
OK, DOWN = "ok", "down"


def database_state(*, timeout_seconds: int = PROBE_TIMEOUT_SECONDS) -> str:
    """ "ok" when the database answers `SELECT 1` within about `timeout_seconds`, else "down"."""
    try:
        database_store().probe(timeout_seconds)
    except Exception:
        logger.warning("Readiness: the database is down", exc_info=True)
        return DOWN
    return OK


def redis_state(*, url: str, timeout_seconds: float = PROBE_TIMEOUT_SECONDS) -> str:
    """ "ok" when Redis at `url` answers PING within `timeout_seconds`, else "down"."""
    client = redis.Redis.from_url(url, socket_connect_timeout=timeout_seconds, socket_timeout=timeout_seconds)
    try:
        client.ping()
    except Exception:
        logger.warning("Readiness: Redis is down", exc_info=True)
        return DOWN
    finally:
        client.close()
    return OK


# The last readiness answer of this process and when it was made: /readyz is unauthenticated,
# so however often it is asked, a process opens at most one probe connection every
# READINESS_CHECK_EVERY_SECONDS (nobody can use it to exhaust the database's connections).
_last_readiness: tuple[float, tuple[bool, dict[str, str]]] | None = None


def readiness() -> tuple[bool, dict[str, str]]:
    """(ready, the state of each dependency): ready while the database answers."""
    global _last_readiness
    now = time.monotonic()
    if _last_readiness is not None and now - _last_readiness[0] < settings.READINESS_CHECK_EVERY_SECONDS:
        return _last_readiness[1]
    checks = {"database": database_state()}
    if settings.REDIS_URL:
        checks["redis"] = redis_state(url=settings.REDIS_URL)
    answer = checks["database"] == OK, checks
    _last_readiness = (now, answer)
    return answer


def liveness_response() -> HttpResponse:
    return JsonResponse({"status": "ok"})


def readiness_response() -> HttpResponse:
    ready, checks = readiness()
    if not ready:
        response = JsonResponse({"status": "unavailable", "checks": checks}, status=503)
        response["Retry-After"] = str(DATABASE_RETRY_AFTER)
    else:
        status = "ready" if all(state == OK for state in checks.values()) else "degraded"
        response = JsonResponse({"status": status, "checks": checks})
    response["Cache-Control"] = "no-store"
    return response


PROBES: dict[str, Callable[[], HttpResponse]] = {"/healthz": liveness_response, "/readyz": readiness_response}


class ProbeMiddleware:
    """Answers GET/HEAD /healthz and /readyz before host validation, the HTTPS redirect and sessions."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = PROBES.get(request.path_info)
        if probe is not None and request.method in {"GET", "HEAD"}:
            return probe()
        return self.get_response(request)
