"""Celery tasks run in a real worker, each inside the tenant it names."""

from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from bizvalue.celery import app
from governance.models import ApiKey
from governance.tasks import api_keys_revoke_expired, api_keys_revoke_expired_all_tenants
from governance.tenancy import tenant_scope


def expired_key(tenant, make_key, name):
    make_key(tenant, "viewer", name=name)
    with tenant_scope(tenant):
        key = ApiKey.objects.get(name=name)
        key.expires_at = timezone.now() - timedelta(minutes=1)
        key.save()


def revoked(tenant, name):
    with tenant_scope(tenant):
        return ApiKey.objects.get(name=name).revoked_at is not None


@pytest.fixture
def worker(transactional_db):
    app.conf.task_always_eager = False
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30) as running:
        yield running


def test_a_tenant_task_touches_only_its_tenant(worker, acme, globex, make_key):
    expired_key(acme, make_key, "acme-old")
    expired_key(globex, make_key, "globex-old")

    assert api_keys_revoke_expired.delay(tenant_id=acme.pk).get(timeout=30) == 1

    assert revoked(acme, "acme-old")
    assert not revoked(globex, "globex-old")


def test_the_beat_entry_point_fans_out_to_every_tenant(worker, acme, globex, make_key):
    expired_key(acme, make_key, "acme-old")
    expired_key(globex, make_key, "globex-old")

    assert api_keys_revoke_expired_all_tenants.delay().get(timeout=30) == 2
    for _ in range(100):
        if revoked(acme, "acme-old") and revoked(globex, "globex-old"):
            break
        import time

        time.sleep(0.1)
    assert revoked(acme, "acme-old") and revoked(globex, "globex-old")


def test_the_beat_schedule_names_a_registered_task():
    from django.conf import settings

    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks
