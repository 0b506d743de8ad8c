"""Period close: a closed month's events cannot change, and corrections land in the open month."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.core.exceptions import ValidationError

from governance.ledger import Actor
from governance.models import AuditEvent, AuditKind, ClosedPeriod
from governance.periods import period_close
from governance.tenancy import tenant_scope
from roi.ingestion import events_ingest
from roi.models import Incident
from roi.revaluation import events_revalue
from roi.services import financial_model_update

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("test")


def incident(external_id: str, started_at: str, minutes: int = 30) -> dict:
    return {"external_id": external_id, "severity": "sev2", "started_at": started_at, "downtime_minutes": minutes}


def close(tenant, month: str) -> ClosedPeriod:
    with tenant_scope(tenant):
        return period_close(month=datetime.strptime(month, "%Y-%m").date(), actor=SYSTEM)


def test_a_finance_admin_closes_a_month_through_the_api(api_as, acme):
    response = api_as(acme, "finance_admin").post("/api/v1/periods/2026-01/close")
    assert response.status_code == 201
    assert response.json()["month"] == "2026-01" and response.json()["closed_by"].startswith("api-key:")
    with tenant_scope(acme):
        assert ClosedPeriod.objects.get().month == date(2026, 1, 1)
        assert AuditEvent.objects.filter(kind=AuditKind.PERIOD_CLOSED).get().detail == {"month": "2026-01"}


@pytest.mark.parametrize(
    ("month", "message"), [("2026-13", "use YYYY-MM"), ("2999-01", "has not begun"), ("2026-01", "already closed")]
)
def test_a_bad_or_repeated_close_is_a_400_naming_the_month(api_as, acme, month, message):
    client = api_as(acme, "finance_admin")
    client.post("/api/v1/periods/2026-01/close")
    response = client.post(f"/api/v1/periods/{month}/close")
    assert response.status_code == 400 and message in str(response.json()["errors"]["month"])


def test_an_event_dated_in_a_closed_month_is_a_400_naming_index_and_field(api_as, acme, acme_model):
    close(acme, "2026-01")
    batch = [incident("ok", "2026-02-03T10:00:00Z"), incident("late", "2026-01-20T10:00:00Z")]
    response = api_as(acme, "analyst").post("/api/v1/events/incidents", batch, format="json")
    assert response.status_code == 400
    [message] = response.json()["errors"]["1.occurred_at"]
    assert "2026-01, a closed period" in message and "new event dated in an open month" in message
    with tenant_scope(acme):
        assert not Incident.objects.exists()  # nothing of the batch was stored


def test_moving_a_stored_event_out_of_a_closed_month_is_refused(acme, acme_model):
    with tenant_scope(acme):
        events_ingest(actor=SYSTEM, kind="incidents", payload=incident("i-1", "2026-01-20T10:00:00Z"))
    close(acme, "2026-01")
    with tenant_scope(acme), pytest.raises(ValidationError) as refused:
        events_ingest(actor=SYSTEM, kind="incidents", payload=incident("i-1", "2026-02-01T10:00:00Z", 5))
    assert "was stored in 2026-01" in str(refused.value.message_dict["0.occurred_at"])


def test_a_late_correction_is_a_new_event_in_the_open_month(acme, acme_model):
    with tenant_scope(acme):
        events_ingest(actor=SYSTEM, kind="incidents", payload=incident("i-1", "2026-01-20T10:00:00Z"))
    close(acme, "2026-01")
    with tenant_scope(acme):
        events_ingest(actor=SYSTEM, kind="incidents", payload=incident("i-1-correction", "2026-02-02T09:00:00Z", 10))
        assert sorted(Incident.objects.values_list("external_id", flat=True)) == ["i-1", "i-1-correction"]


def test_months_are_the_tenants_own(acme, acme_model):
    # acme's zone is UTC: 2026-01-31T23:30-01:00 is 2026-02-01 00:30 UTC, an open month.
    close(acme, "2026-01")
    with tenant_scope(acme):
        events_ingest(actor=SYSTEM, kind="incidents", payload=incident("edge", "2026-01-31T23:30:00-01:00"))


def test_revaluation_leaves_closed_months_alone(acme, acme_model):
    with tenant_scope(acme):
        events_ingest(
            actor=SYSTEM,
            kind="incidents",
            payload=[incident("jan", "2026-01-20T10:00:00Z"), incident("feb", "2026-02-20T10:00:00Z")],
        )
        before = dict(Incident.objects.values_list("external_id", "valuation"))
    close(acme, "2026-01")
    with tenant_scope(acme):
        financial_model_update(
            actor=SYSTEM,
            groups={"cost_model": {"it_staff_hourly_rate": "150"}},
            change_reason="Rates went up",
            effective_from=datetime(2020, 1, 1, tzinfo=UTC),
        )
        events_revalue(actor=SYSTEM, since=datetime(2026, 1, 1, tzinfo=UTC))
        after = dict(Incident.objects.values_list("external_id", "valuation"))
    assert after["jan"] == before["jan"]
    assert after["feb"] != before["feb"]


def test_the_periods_page_lets_a_finance_admin_close_and_an_auditor_only_look(client, alice, carol, acme):
    client.force_login(alice)
    assert client.post("/t/acme/periods/", {"month": "2026-01"}).status_code == 302
    assert "2026-01" in client.get("/t/acme/periods/").content.decode()
    assert "already closed" in client.post("/t/acme/periods/", {"month": "2026-01"}).content.decode()
    client.force_login(carol)
    page = client.get("/t/acme/periods/").content.decode()
    assert "2026-01" in page and "Close the month" not in page
    assert client.post("/t/acme/periods/", {"month": "2026-02"}).status_code == 403


def test_a_tenant_closes_only_its_own_months(api_as, acme, globex):
    assert api_as(globex, "finance_admin").post("/api/v1/periods/2026-01/close").status_code == 201
    with tenant_scope(acme):
        assert not ClosedPeriod.objects.exists()
    assert api_as(acme, "finance_admin").post("/api/v1/periods/2026-01/close").status_code == 201
