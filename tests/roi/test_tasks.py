"""The nightly rollup rebuild runs in a real worker, each tenant inside its own scope."""

import time
from decimal import Decimal

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import OperationalError

from bizvalue.celery import app
from governance.tenancy import tenant_scope
from roi.models import MonthlyRollup, Stream
from roi.tasks import rebuild_rollups_all_tenants, rollups_rebuild


@pytest.fixture
def worker(transactional_db):
    app.conf.task_always_eager = False
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30) as running:
        yield running


def invent_cell(tenant):
    """A rollup cell no event supports, as if written behind the application's back."""
    with tenant_scope(tenant):
        MonthlyRollup.objects.create(month="2026-01-01", stream=Stream.AUTOMATION, value=Decimal("5"), event_count=1)


def cells(tenant):
    with tenant_scope(tenant):
        return MonthlyRollup.objects.count()


def test_a_tenant_rebuild_repairs_only_its_tenant(worker, acme, globex):
    invent_cell(acme)
    invent_cell(globex)

    assert rollups_rebuild.delay(tenant_id=acme.pk).get(timeout=30) == 1

    assert (cells(acme), cells(globex)) == (0, 1)


def settled(tenant):
    """Whether the tenant's invented cell is gone; not yet while the worker holds the table."""
    try:
        return cells(tenant) == 0
    except OperationalError:  # SQLite's shared in-memory test database locks whole tables
        return False


def test_the_nightly_entry_point_fans_out_to_every_tenant(worker, acme, globex):
    invent_cell(acme)
    invent_cell(globex)

    assert rebuild_rollups_all_tenants.delay().get(timeout=30) == 2
    for _ in range(200):
        if settled(acme) and settled(globex):
            break
        time.sleep(0.1)
    assert cells(acme) == cells(globex) == 0


def test_it_is_scheduled_nightly():
    entry = settings.CELERY_BEAT_SCHEDULE["rebuild-rollups"]
    assert entry["task"] == rebuild_rollups_all_tenants.name
    assert entry["schedule"].hour == {3}
