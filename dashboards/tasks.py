"""Report tasks: one tenant each, idempotent, so redelivery or a second beat run changes nothing."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from dashboards import reports
from dashboards.models import Report
from governance.ledger import Actor
from governance.models import Tenant
from governance.tasks import in_tenant_scope

# Transient failures only: a malformed period will not get better by retrying.
RETRY_ON = (OSError, ConnectionError, TimeoutError)
TASK_OPTIONS: dict[str, Any] = {
    "bind": True,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": RETRY_ON,
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 5,
    # A report renders a PDF: minutes at most; the soft limit lets the transaction roll back.
    "soft_time_limit": 240,
    "time_limit": 300,
}


@shared_task(**TASK_OPTIONS)
@in_tenant_scope
def report_make(self: Any, *, tenant: Tenant, kind: str, period: str) -> int:
    """Generate (or find) one tenant's report and deliver it; returns the report's id."""
    return reports.report_make(actor=Actor.system("report-schedule"), kind=kind, period=period).report.pk


@shared_task(**TASK_OPTIONS)
@in_tenant_scope
def report_deliver(self: Any, *, tenant: Tenant, report_id: int) -> int:
    """E-mail a stored report to its subscribers (once); returns how many messages went out."""
    return reports.report_deliver(report=Report.objects.get(pk=report_id))


@shared_task(**TASK_OPTIONS)
@in_tenant_scope
def reports_make_closed(self: Any, *, tenant: Tenant) -> list[int]:
    """Make the reports of every period that has just closed on this tenant's fiscal calendar."""
    from zoneinfo import ZoneInfo

    today = timezone.localdate(timezone=ZoneInfo(tenant.time_zone))
    closed = reports.periods_just_closed(today=today, start_month=tenant.fiscal_year_start_month)
    actor = Actor.system("report-schedule")
    return [reports.report_make(actor=actor, kind=kind, period=period).report.pk for kind, period in closed.items()]


@shared_task(acks_late=True)
def reports_make_closed_all_tenants() -> int:
    """Beat entry point: one scoped task per tenant, so one tenant's failure delays no other."""
    tenant_ids = list(Tenant.objects.values_list("pk", flat=True))
    for tenant_id in tenant_ids:
        reports_make_closed.delay(tenant_id=tenant_id)
    return len(tenant_ids)


def report_deliver_after_commit(report: Report) -> None:
    """Mail a report from a worker once the request's transaction commits: SMTP is slow and fails."""
    tenant_id, report_id = report.tenant_id, report.pk
    transaction.on_commit(lambda: report_deliver.delay(tenant_id=tenant_id, report_id=report_id))
