"""Celery tasks. A tenant task takes `tenant_id` and runs inside that tenant's scope."""

from __future__ import annotations

import logging
import smtplib
import socket
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from celery import shared_task
from celery.app.task import Task
from django.db import InterfaceError as DatabaseInterfaceError
from django.db import OperationalError as DatabaseOperationalError
from kombu.exceptions import OperationalError as BrokerUnavailable

from governance import services
from governance.anchors import anchor_chain_head
from governance.models import Tenant
from governance.tenancy import tenant_scope

F = TypeVar("F", bound=Callable[..., Any])
logger = logging.getLogger(__name__)

# A request that enqueues work waits at most about this long for a dead broker.
PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 1}

# Failures of the network a retry can outlast: a socket refused, reset or timed out, a name
# not resolved, an SMTP server's refusal (outbound HTTP failures reach tasks as
# governance.outbound.OutboundUnreachable, a ConnectionError).
NETWORK_ERRORS: tuple[type[Exception], ...] = (ConnectionError, TimeoutError, socket.gaierror, smtplib.SMTPException)
# The failures a retry can outlast, and the only ones a task retries: the network's, and
# the database restarting, failing over or refusing connections (OperationalError,
# InterfaceError). A bug (ValueError, KeyError, a missing row or file...) fails the task at
# once. A task that sends something outside before recording it retries NETWORK_ERRORS
# only: after a database failure a retry would send it again.
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (DatabaseOperationalError, DatabaseInterfaceError, *NETWORK_ERRORS)
# Retry options of a tenant's periodic task: transient errors only, backing off 1 s, 2 s, 4 s...
RETRY_TRANSIENT: dict[str, Any] = {"autoretry_for": TRANSIENT_ERRORS, "retry_backoff": True, "max_retries": 5}


def enqueue_or_defer(task: Task, **kwargs: Any) -> bool:
    """Send `task` from a web request; False, logged, when the broker is unreachable.

    Only for work whose pending state is kept in the database, so a sweep run by beat
    finds and sends it again once the broker is back: a web request must answer even
    when Redis is down, and must not hang on it either. The result is not stored: a
    request never waits for it, and subscribing to it would need Redis too.
    """
    try:
        task.apply_async(kwargs=kwargs, ignore_result=True, retry_policy=PUBLISH_RETRY_POLICY)
    except (BrokerUnavailable, OSError) as error:
        logger.warning("Broker unavailable, %s(%s) deferred to its sweep: %s", task.name, kwargs, error)
        return False
    return True


def in_tenant_scope(func: F) -> F:
    """Run a task body as the tenant named by its `tenant_id` argument.

    Tasks take the id, never a model instance, so the tenant is re-read at run time and
    the scope (with its RLS setting) is entered in the worker, not inherited from anywhere.
    """

    @wraps(func)
    def wrapper(*args: Any, tenant_id: int, **kwargs: Any) -> Any:
        tenant = Tenant.objects.get(pk=tenant_id)
        with tenant_scope(tenant):
            return func(*args, tenant=tenant, **kwargs)

    return wrapper  # type: ignore[return-value]


@shared_task(bind=True, **RETRY_TRANSIENT)
@in_tenant_scope
def api_keys_revoke_expired(self: Any, *, tenant: Tenant) -> int:
    """Revoke one tenant's expired keys; returns how many."""
    return services.api_keys_revoke_expired()


@shared_task
def api_keys_revoke_expired_all_tenants() -> int:
    """Beat entry point: fan out one scoped task per tenant."""
    tenant_ids = list(Tenant.objects.values_list("pk", flat=True))
    for tenant_id in tenant_ids:
        api_keys_revoke_expired.delay(tenant_id=tenant_id)
    return len(tenant_ids)


@shared_task(bind=True, **RETRY_TRANSIENT)
@in_tenant_scope
def ledger_anchor_head(self: Any, *, tenant: Tenant) -> int | None:
    """Anchor one tenant's chain head if its tail links on; returns the anchored sequence."""
    anchor = anchor_chain_head()
    return None if anchor is None else anchor.sequence


@shared_task
def ledger_anchor_heads_all_tenants() -> int:
    """Beat entry point (every LEDGER_ANCHOR_INTERVAL_SECONDS): fan out one scoped anchoring per tenant."""
    tenant_ids = list(Tenant.objects.values_list("pk", flat=True))
    for tenant_id in tenant_ids:
        ledger_anchor_head.delay(tenant_id=tenant_id)
    return len(tenant_ids)
