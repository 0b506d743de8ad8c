"""Shared dashboard data: a little history for acme, built from real ingestion."""

from datetime import timedelta

import pytest
from django.utils import timezone

from governance.ledger import Actor
from governance.tenancy import tenant_scope
from roi.ingestion import events_ingest
from tests.fake_network import dns, network  # noqa: F401 (fixtures for the webhook tests)

SYSTEM = Actor.system("test")


def month_start(moment):
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def automation_runs(prefix, count, when):
    return [
        {
            "external_id": f"{prefix}-{n}",
            "process": "reconcile",
            "started_at": (when + timedelta(minutes=n)).isoformat(),
            "execution_time": 60,
            "manual_time_equivalent": 3660,
            "department": ["finance", "ops"][n % 2],
            "product": "erp",
        }
        for n in range(count)
    ]


@pytest.fixture
def history(acme, acme_model):
    """Automation this month and last month, a prevented incident this month, an investment."""
    now = timezone.now()
    this_month, last_month = month_start(now), month_start(month_start(now) - timedelta(days=1))
    with tenant_scope(acme):
        events_ingest(actor=SYSTEM, kind="automation-runs", payload=automation_runs("now", 4, this_month))
        events_ingest(actor=SYSTEM, kind="automation-runs", payload=automation_runs("then", 10, last_month))
        events_ingest(
            actor=SYSTEM,
            kind="incidents",
            payload={
                "external_id": "save-1",
                "severity": "sev1",
                "started_at": this_month.isoformat(),
                "prevented": True,
                "estimated_downtime_minutes": 60,
            },
        )
        events_ingest(
            actor=SYSTEM,
            kind="investments",
            payload={
                "external_id": "rpa",
                "name": "RPA platform",
                "started_at": last_month.isoformat(),
                "upfront_cost": 1000,
                "monthly_cost": 100,
            },
        )
    return this_month, last_month
