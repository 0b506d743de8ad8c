"""The security audit log: who logged in, changed roles, keys and secrets, exported, verified.

`audit_record` is the one writer (services and views call it); `audit_events` the reader
behind the API and the auditor's page. Rows are append-only at the database.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpRequest

from governance.models import AuditEvent, AuditKind, Tenant
from governance.tenancy import all_tenants_scope, current_tenant_or_none, tenant_scope

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def client_ip(request: HttpRequest | None) -> str | None:
    """The caller's address as the server saw it (the proxy sets REMOTE_ADDR in production)."""
    return None if request is None else request.META.get("REMOTE_ADDR") or None


def audit_record(
    *,
    kind: str,
    actor: str,
    tenant: Tenant | None = None,
    detail: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> AuditEvent:
    """Append one security event for `tenant` (default: the one in scope; none: a platform event).

    Platform events are written through the all-tenants hatch because RLS lets a row with no
    tenant be written and read only there.
    """
    tenant = tenant or current_tenant_or_none()
    event = AuditEvent(tenant=tenant, kind=kind, actor=actor[:200], detail=detail or {}, ip_address=client_ip(request))
    if tenant is None:
        with all_tenants_scope():
            event.save(force_insert=True)
    else:
        with tenant_scope(tenant):
            event.save(force_insert=True)
    return event


def audit_events(
    *, kind: str | None = None, since: datetime | None = None, until: datetime | None = None
) -> QuerySet[AuditEvent]:
    """The scope tenant's events, newest first, filtered by kind and time window."""
    events = AuditEvent.objects.all()
    if kind:
        events = events.filter(kind=kind)
    if since is not None:
        events = events.filter(occurred_at__gte=since)
    if until is not None:
        events = events.filter(occurred_at__lt=until)
    return events


def last_verification() -> AuditEvent | None:
    """The scope tenant's latest ledger verification, for the audit page."""
    return AuditEvent.objects.filter(kind=AuditKind.LEDGER_VERIFIED).first()


def csv_safe(value: object) -> str:
    """A cell a spreadsheet will show, never run: formula-looking text gets a leading quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """CSV with every cell neutralised against formula injection (=HYPERLINK(...) and kin)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([csv_safe(cell) for cell in header])
    for row in rows:
        writer.writerow([csv_safe(cell) for cell in row])
    return out.getvalue()


def audit_events_csv(events: Iterable[AuditEvent]) -> str:
    return csv_text(
        ["occurred_at", "kind", "actor", "ip_address", "detail"],
        ([e.occurred_at.isoformat(), e.kind, e.actor, e.ip_address, e.detail] for e in events),
    )


# --- Logins: Django's auth signals (connected in GovernanceConfig.ready) ---------------


def _tenants_of(user: User) -> list[Tenant]:
    from governance.selectors import tenants_for_user

    return list(tenants_for_user(user=user))


def _record_for_user(kind: str, actor: str, user: User | None, request: Any, detail: dict) -> None:
    # One event per tenant the user belongs to, so each tenant's auditor sees it; a
    # stranger's attempt is a platform event.
    tenants: list[Tenant | None] = [*_tenants_of(user)] if user is not None else []
    for tenant in tenants or [None]:
        audit_record(kind=kind, actor=actor, tenant=tenant, detail=detail, request=request)


def on_user_logged_in(sender: Any, request: Any, user: User, **kwargs: Any) -> None:
    _record_for_user(AuditKind.LOGIN, f"user:{user.get_username()}", user, request, {})


def on_user_login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    username = str(credentials.get("username") or "")[:150]
    user = get_user_model()._default_manager.filter(username=username).first() if username else None
    detail = {"username": username, "known_user": user is not None}
    _record_for_user(AuditKind.LOGIN_FAILED, f"user:{username or '?'}", user, request, detail)
