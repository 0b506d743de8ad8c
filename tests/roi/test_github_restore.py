"""GitHub deployments get their time to restore: a success ends the failure before it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from governance.ledger import Actor
from governance.models import Tenant
from governance.periods import period_close
from governance.tenancy import tenant_scope
from roi.models import Deployment, MonthlyRollup
from tests.roi.test_webhooks import arm, deliver, deployment_status

pytestmark = pytest.mark.django_db


def status(state: str, deployment_id: int, at: str, environment: str = "production") -> dict[str, Any]:
    """A status of a deployment GitHub flags production (as the fixture is), to `environment`."""
    payload = deployment_status(state)
    payload["deployment"]["id"] = deployment_id
    payload["deployment"]["environment"] = environment
    payload["deployment_status"]["environment"] = environment
    payload["deployment_status"]["created_at"] = at
    return payload


def deployment(tenant: Tenant, deployment_id: int) -> Deployment:
    with tenant_scope(tenant):
        return Deployment.objects.get(external_id=f"github:{deployment_id}")


def restore_totals(tenant: Tenant) -> tuple[Decimal, int]:
    with tenant_scope(tenant):
        rows = list(MonthlyRollup.objects.filter(stream="deployments"))
    return sum((r.restore_seconds_sum for r in rows), Decimal(0)), sum(r.restore_count for r in rows)


@pytest.fixture
def secret(acme: Tenant, make_key: Any) -> str:
    return arm(acme, "github", make_key)


def send(client: Any, secret: str, payload: dict[str, Any], slug: str = "acme") -> Any:
    response = deliver(client, "github", slug, payload, secret)
    assert response.status_code in (200, 201), response.json()
    return response


def test_a_success_after_a_failure_restores_it(client, acme, secret):
    # given: a failed deploy of checkout to production
    send(client, secret, status("failure", 101, "2026-10-08T14:00:00Z"))

    # when: the fix is deployed 45 minutes later
    send(client, secret, status("success", 102, "2026-10-08T14:45:00Z"))

    # then: the failure is restored at the success's time, and the rollup counts it
    failed = deployment(acme, 101)
    assert failed.failed is True
    assert failed.restored_at == datetime(2026, 10, 8, 14, 45, tzinfo=UTC)
    assert failed.committed_at == datetime(2026, 10, 8, 11, 58, 40, tzinfo=UTC)  # the rest kept
    assert deployment(acme, 102).restored_at is None
    assert restore_totals(acme) == (Decimal(2700), 1)


def test_a_success_with_no_failure_before_it_restores_nothing(client, acme, secret):
    send(client, secret, status("success", 101, "2026-10-08T14:00:00Z"))
    send(client, secret, status("success", 102, "2026-10-08T14:45:00Z"))
    assert deployment(acme, 101).restored_at is None
    assert restore_totals(acme) == (Decimal(0), 0)


def test_only_the_latest_deployment_before_the_success_is_restored(client, acme, secret):
    # failure, then a success (restores it), then a failure, then a success
    send(client, secret, status("failure", 101, "2026-10-08T10:00:00Z"))
    send(client, secret, status("success", 102, "2026-10-08T10:30:00Z"))
    send(client, secret, status("failure", 103, "2026-10-08T12:00:00Z"))
    send(client, secret, status("success", 104, "2026-10-08T12:10:00Z"))
    assert deployment(acme, 101).restored_at == datetime(2026, 10, 8, 10, 30, tzinfo=UTC)
    assert deployment(acme, 103).restored_at == datetime(2026, 10, 8, 12, 10, tzinfo=UTC)
    assert restore_totals(acme) == (Decimal(1800 + 600), 2)


def test_a_success_earlier_than_the_failure_restores_nothing(client, acme, secret):
    # delivered late: the success happened before the failure
    send(client, secret, status("failure", 101, "2026-10-08T14:00:00Z"))
    send(client, secret, status("success", 102, "2026-10-08T13:00:00Z"))
    assert deployment(acme, 101).restored_at is None


def test_a_failure_in_another_environment_is_untouched(client, acme, secret):
    # two production environments (both flagged so): a fix in one does not restore the other
    send(client, secret, status("failure", 101, "2026-10-08T14:00:00Z", environment="production-eu"))
    send(client, secret, status("success", 102, "2026-10-08T14:45:00Z", environment="production-us"))
    assert deployment(acme, 101).restored_at is None
    assert restore_totals(acme) == (Decimal(0), 0)


def test_a_staging_success_between_does_not_hide_the_production_fix(client, acme, secret):
    # given: production failed, then staging (not production, so not stored) succeeded
    send(client, secret, status("failure", 101, "2026-10-08T14:00:00Z"))
    staging = status("success", 102, "2026-10-08T14:20:00Z", environment="staging")
    staging["deployment"]["production_environment"] = False
    assert deliver(client, "github", "acme", staging, secret).status_code == 202

    # when: production is fixed
    send(client, secret, status("success", 103, "2026-10-08T14:45:00Z"))

    # then
    assert deployment(acme, 101).restored_at == datetime(2026, 10, 8, 14, 45, tzinfo=UTC)
    assert restore_totals(acme) == (Decimal(2700), 1)


def test_a_re_delivered_success_is_idempotent(client, acme, secret):
    send(client, secret, status("failure", 101, "2026-10-08T14:00:00Z"))
    success = status("success", 102, "2026-10-08T14:45:00Z")
    send(client, secret, success)

    assert send(client, secret, success).status_code == 200

    assert deployment(acme, 101).restored_at == datetime(2026, 10, 8, 14, 45, tzinfo=UTC)
    assert restore_totals(acme) == (Decimal(2700), 1)
    with tenant_scope(acme):
        assert Deployment.objects.count() == 2


def test_a_re_delivered_failure_keeps_its_restoration(client, acme, secret):
    failure = status("failure", 101, "2026-10-08T14:00:00Z")
    send(client, secret, failure)
    send(client, secret, status("success", 102, "2026-10-08T14:45:00Z"))
    send(client, secret, failure)
    assert deployment(acme, 101).restored_at == datetime(2026, 10, 8, 14, 45, tzinfo=UTC)
    assert restore_totals(acme) == (Decimal(2700), 1)


def test_another_tenants_failed_deployment_of_the_same_repo_is_untouched(client, acme, globex, secret, make_key):
    # given: globex's checkout/production failed, and acme's too
    theirs = arm(globex, "github", make_key)
    send(client, theirs, status("failure", 901, "2026-10-08T14:00:00Z"), slug="globex")
    send(client, secret, status("failure", 101, "2026-10-08T14:00:00Z"))

    # when: acme deploys a fix
    send(client, secret, status("success", 102, "2026-10-08T14:45:00Z"))

    # then: only acme's failure is restored
    assert deployment(acme, 101).restored_at is not None
    assert deployment(globex, 901).restored_at is None
    assert restore_totals(globex) == (Decimal(0), 0)


def test_a_failure_in_a_closed_month_is_left_as_it_was_closed(client, acme, secret):
    # given: September failed and was closed unrestored
    send(client, secret, status("failure", 101, "2026-09-30T23:00:00Z"))
    with tenant_scope(acme):
        period_close(month=date(2026, 9, 1), actor=Actor.system("test"))

    # when: the fix lands in October
    response = send(client, secret, status("success", 102, "2026-10-01T09:00:00Z"))

    # then: the success is stored; the closed month is not changed
    assert response.status_code == 201
    assert deployment(acme, 101).restored_at is None
