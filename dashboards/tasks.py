"""Report and alert tasks: one tenant each, idempotent, so redelivery or a second beat run changes nothing."""

from __future__ import annotations

from functools import partial
from typing import Any

from celery import shared_task
from django.db import connection, transaction
from django.utils import timezone

from dashboards import alert_delivery, alerts, reports
from dashboards.models import Alert, Report
from dashboards.report_schedule import scheduled_report_kinds
from governance.ledger import Actor
from governance.models import Tenant
from governance.tasks import NETWORK_ERRORS, enqueue_or_defer, in_tenant_scope

TASK_OPTIONS: dict[str, Any] = {
    "bind": True,
    "acks_late": True,
    "reject_on_worker_lost": True,
    # The network's failures only: a malformed period will not get better by retrying, and
    # reports and alerts are sent before they are marked sent, so a retry after a database
    # failure would send them twice (the pending sweeps pick up what was never sent).
    "autoretry_for": NETWORK_ERRORS,
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
    """Make the reports of every period that has just closed on this tenant's fiscal calendar,
    of the kinds its reporting frequency asks for."""
    from zoneinfo import ZoneInfo

    today = timezone.localdate(timezone=ZoneInfo(tenant.time_zone))
    closed = reports.periods_just_closed(today=today, start_month=tenant.fiscal_year_start_month)
    wanted = scheduled_report_kinds(reporting_frequency=tenant.reporting_frequency)
    actor = Actor.system("report-schedule")
    return [
        reports.report_make(actor=actor, kind=kind, period=period).report.pk
        for kind, period in closed.items()
        if kind in wanted
    ]


@shared_task(acks_late=True)
def reports_make_closed_all_tenants() -> int:
    """Beat entry point: one scoped task per tenant, so one tenant's failure delays no other."""
    tenant_ids = list(Tenant.objects.values_list("pk", flat=True))
    for tenant_id in tenant_ids:
        reports_make_closed.delay(tenant_id=tenant_id)
    return len(tenant_ids)


@shared_task(**TASK_OPTIONS)
@in_tenant_scope
def reports_deliver_pending(self: Any, *, tenant: Tenant) -> int:
    """Deliver this tenant's reports not yet e-mailed (their enqueueing failed); returns how many."""
    pending = list(Report.objects.filter(emailed_at__isnull=True).values_list("pk", flat=True))
    for report_id in pending:
        reports.report_deliver(report=Report.objects.get(pk=report_id))
    return len(pending)


@shared_task(acks_late=True)
def reports_deliver_pending_all_tenants() -> int:
    """Beat entry point: the sweep that delivers what a request could not enqueue while Redis was down."""
    tenant_ids = list(Tenant.objects.values_list("pk", flat=True))
    for tenant_id in tenant_ids:
        reports_deliver_pending.delay(tenant_id=tenant_id)
    return len(tenant_ids)


def report_deliver_after_commit(report: Report) -> None:
    """Mail a report from a worker once the request's transaction commits: SMTP is slow and fails.

    With the broker down the report stays pending (`emailed_at` empty) and the request
    still succeeds; `reports_deliver_pending_all_tenants` sends it when Redis is back.
    """
    tenant_id, report_id = report.tenant_id, report.pk
    transaction.on_commit(lambda: enqueue_or_defer(report_deliver, tenant_id=tenant_id, report_id=report_id))


# --- Alerts ---------------------------------------------------------------------------


@shared_task(**{**TASK_OPTIONS, "soft_time_limit": 50, "time_limit": 60})
@in_tenant_scope
def alerts_evaluate(self: Any, *, tenant: Tenant) -> dict[str, list[int]]:
    """Judge one tenant's alert rules; new alerts are delivered once this task's transaction commits."""
    evaluation = alerts.alerts_evaluate(on_open=alert_deliver_after_commit)
    # Catch-up for alerts opened while the broker was down (their delivery was never queued).
    swept = alert_delivery.deliveries_never_queued()
    for alert_id, channel in swept:
        enqueue_or_defer(alert_deliver, tenant_id=tenant.pk, alert_id=alert_id, channel=channel)
    return {
        "opened": [a.pk for a in evaluation.opened],
        "resolved": [a.pk for a in evaluation.resolved],
        "swept": [alert_id for alert_id, _ in swept],
    }


@shared_task(acks_late=True)
def alerts_evaluate_all_tenants() -> int:
    """Beat entry point: one scoped evaluation per tenant."""
    tenant_ids = list(Tenant.objects.values_list("pk", flat=True))
    for tenant_id in tenant_ids:
        alerts_evaluate.delay(tenant_id=tenant_id)
    return len(tenant_ids)


# Delivery retries network failures and 5xx answers (WebhookTransientError) with exponential
# backoff (1 s, 2 s, 4 s, ... capped at ten minutes), without jitter: one message per alert
# has no herd to spread.
DELIVERY_OPTIONS: dict[str, Any] = {
    **TASK_OPTIONS,
    "autoretry_for": (*NETWORK_ERRORS, alert_delivery.WebhookTransientError),
    "retry_jitter": False,
    "max_retries": 12,
    "soft_time_limit": 45,
    "time_limit": 60,
}


@shared_task(**DELIVERY_OPTIONS)
def alert_deliver(self: Any, *, tenant_id: int, alert_id: int, channel: str) -> str:
    """Send one alert on one channel (e-mail or webhook), once; the tenant's scope is entered per step."""
    tenant = Tenant.objects.get(pk=tenant_id)
    return alert_delivery.alert_deliver(tenant=tenant, alert_id=alert_id, channel=channel)


def alert_deliver_after_commit(alert: Alert) -> None:
    """Queue an alert's e-mail and webhook once the transaction that opened it commits."""
    tenant_id, alert_id = alert.tenant_id, alert.pk
    for channel in alert_delivery.CHANNELS:
        # Broker down: the request still answers; the hourly evaluation's sweep queues it later.
        transaction.on_commit(
            partial(enqueue_or_defer, alert_deliver, tenant_id=tenant_id, alert_id=alert_id, channel=channel),
            robust=True,
        )


def alerts_evaluate_after_ingestion(*, tenant_id: int) -> None:
    """Queue one evaluation for when the ingesting transaction commits (once per transaction).

    Evaluating is a handful of queries on rollups, in a worker: ingestion only pays for
    the enqueue.
    """
    marker = ("alerts-evaluate", tenant_id)
    # A CSV import ingests in chunks inside one transaction: one evaluation is enough.
    # django-stubs type run_on_commit's entries as pairs; Django 5 keeps (savepoints, callback, robust).
    pending = connection.run_on_commit
    if any(getattr(callback, "marker", None) == marker for _, callback, _ in pending):  # type: ignore[misc]
        return

    def enqueue() -> None:
        # Broker down: the hourly evaluation catches up; the ingestion still answers.
        enqueue_or_defer(alerts_evaluate, tenant_id=tenant_id)

    enqueue.marker = marker  # type: ignore[attr-defined]
    transaction.on_commit(enqueue, robust=True)
