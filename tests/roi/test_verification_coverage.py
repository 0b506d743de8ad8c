"""Verification covers every figure the pages show: event columns against their ledger items, ledger items
against their events, rollup cells against what they roll up. Tampering is done as someone with the
database's keys would: through the owner connection on PostgreSQL (past row-level security), through
the test's own connection on SQLite.
"""

import subprocess
import sys
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

from governance.ledger import Actor
from governance.tenancy import tenant_scope
from roi.ingestion import events_ingest
from roi.ledger_verification import ledger_verify
from roi.models import AutomationRun, Incident, Investment, MonthlyRollup, PerformanceMonth, Stream
from roi.rollups import rollups_rebuild
from roi.services import financial_model_update
from tests.conftest import ACME_MODEL

pytestmark = pytest.mark.django_db(transaction=True)
SYSTEM = Actor.system("test")
FIVE_MILLION = "+5000000.00"


def incident(n, **extra):
    return {
        "external_id": f"INC-{n}",
        "title": f"Incident {n}",
        "severity": "sev2",
        "started_at": "2026-10-05T10:00:00+00:00",
        "resolved_at": "2026-10-05T10:45:00+00:00",
        "department": "payments",
        "product": "checkout",
        **extra,
    }


def ingest(tenant):
    """A small ledger of every valued kind, plus performance and deployments, all verifying."""
    with tenant_scope(tenant):
        events_ingest(
            actor=SYSTEM,
            kind="incidents",
            payload=[
                incident(1),
                incident(2, prevented=True, estimated_downtime_minutes=30, prevention_confidence=0.5),
                incident(3, resolved_at=None, department="ops"),  # open: stored unvalued
            ],
        )
        events_ingest(
            actor=SYSTEM,
            kind="automation-runs",
            payload=[
                {
                    "external_id": "RUN-1",
                    "process": "invoice-matching",
                    "started_at": "2026-10-06T02:00:00Z",
                    "execution_time": 60,
                    "manual_time_equivalent": 3600,
                    "department": "finance",
                }
            ],
        )
        events_ingest(
            actor=SYSTEM,
            kind="investments",
            payload=[
                {
                    "external_id": "INV-1",
                    "name": "Autoscaling",
                    "started_at": "2026-10-01T00:00:00Z",
                    "upfront_cost": 1000,
                }
            ],
        )
        events_ingest(
            actor=SYSTEM,
            kind="performance-samples",
            payload=[
                {
                    "external_id": f"PS-{n}",
                    "service": "web",
                    "measured_at": f"2026-{month}-10T00:00:00Z",
                    "response_time_ms": ms,
                }
                for n, (month, ms) in enumerate([("09", 400), ("10", 300), ("10", 320)])
            ],
        )
        assert ledger_verify().ok, ledger_verify().as_dict()


def tamper(owner_sql_any, sql: str, *params) -> None:
    """Run SQL behind the application's back: as the owner on PostgreSQL, on the test's connection on SQLite."""
    if connection.vendor == "postgresql":
        owner_sql_any(sql, *params)
    else:
        with connection.cursor() as cursor:
            cursor.execute(sql, list(params))


@pytest.fixture
def owner_sql_any(request):
    return request.getfixturevalue("owner_sql") if connection.vendor == "postgresql" else None


def failures_of(tenant) -> list[dict]:
    with tenant_scope(tenant):
        verification = ledger_verify()
    assert not verification.ok
    return verification.as_dict()["failures"]


def reasons(failures) -> list[str]:
    """Every reason as the command prints it: a row that answers to no ledger record leads its reasons."""
    return [f"{f['row']}: {r}" if f["row"] else r for f in failures for r in f["reasons"]]


def command_output(slug: str) -> str:
    out = StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("verify_ledger", slug, stdout=out)
    assert raised.value.returncode == 1
    return out.getvalue()


def test_five_million_added_to_an_events_value_is_named_with_the_amount(acme, acme_model, owner_sql_any, api_as):
    ingest(acme)
    with tenant_scope(acme):
        prevented = Incident.objects.get(external_id="INC-2")
    tamper(owner_sql_any, "UPDATE roi_incident SET value = value + 5000000 WHERE id = %s", prevented.pk)

    failures = failures_of(acme)
    [event_failure] = [f for f in failures if f["id"] == prevented.ledger_record_id]
    assert event_failure["sequence"] is not None
    [reason] = [r for r in event_failure["reasons"] if r.startswith("event INC-2: value")]
    assert f"(difference {FIVE_MILLION})" in reason and f"ledger {prevented.value}" in reason
    # The rollup cell still holds the real figure, so it no longer adds up from the events either.
    assert any(
        r.startswith("monthly rollup 2026-10 incident_prevention payments/checkout: value") and "-5000000.00" in r
        for r in reasons(failures)
    )
    assert f"event INC-2: value differs from ledger item 1: stored {prevented.value + 5000000}" in command_output(
        "acme"
    )
    answer = api_as(acme, "auditor").post("/api/v1/ledger/verify").json()
    assert not answer["ok"] and any(f"(difference {FIVE_MILLION})" in r for r in reasons(answer["failures"]))


def test_after_the_nightly_rebuild_the_edited_event_still_fails(acme, acme_model, owner_sql_any):
    # given an edited downtime cost that the rollup rebuild has carried into the dashboards
    ingest(acme)
    with tenant_scope(acme):
        real = Incident.objects.get(external_id="INC-1")
    tamper(owner_sql_any, "UPDATE roi_incident SET downtime_cost = downtime_cost + 5000000 WHERE id = %s", real.pk)
    with tenant_scope(acme):
        rollups_rebuild()
        cell = MonthlyRollup.objects.get(stream=Stream.DOWNTIME, department="payments")
        assert cell.value == real.downtime_cost + 5000000

    # then the rollups add up, but the event no longer matches its ledger item
    failures = failures_of(acme)
    assert [r for r in reasons(failures) if "rollup" in r] == []
    assert any(r.startswith("event INC-1: downtime_cost differs") and FIVE_MILLION in r for r in reasons(failures))


def test_a_summed_input_and_hours_saved_are_held_against_the_ledger(acme, acme_model, owner_sql_any):
    ingest(acme)
    with tenant_scope(acme):
        investment = Investment.objects.get(external_id="INV-1")
        run = AutomationRun.objects.get(external_id="RUN-1")
    tamper(
        owner_sql_any, "UPDATE roi_investment SET upfront_cost = upfront_cost + 5000000 WHERE id = %s", investment.pk
    )
    tamper(owner_sql_any, "UPDATE roi_automationrun SET hours_saved = hours_saved + 100 WHERE id = %s", run.pk)

    found = reasons(failures_of(acme))
    assert any(r.startswith("event INV-1: input upfront_cost differs") and FIVE_MILLION in r for r in found)
    assert any(r.startswith("event RUN-1: hours_saved differs") and "(difference +100" in r for r in found)


def test_a_deleted_event_row_names_its_ledger_item(acme, acme_model, owner_sql_any):
    ingest(acme)
    with tenant_scope(acme):
        real = Incident.objects.get(external_id="INC-1")
    tamper(owner_sql_any, "DELETE FROM roi_incident WHERE id = %s", real.pk)

    failures = failures_of(acme)
    [held] = [f for f in failures if f["id"] == real.ledger_record_id]
    assert held["reasons"] == [f"incidents INC-1: ledger item {real.ledger_item} has no stored row (deleted)"]
    assert any(
        r.startswith("monthly rollup 2026-10 downtime payments/checkout: event_count stored 1")
        for r in reasons(failures)
    )
    assert "incidents INC-1: ledger item 0 has no stored row (deleted)" in command_output("acme")


def test_an_edited_rollup_cell_is_named_with_the_difference(acme, acme_model, owner_sql_any):
    ingest(acme)
    with tenant_scope(acme):
        cell = MonthlyRollup.objects.get(stream=Stream.DOWNTIME, department="payments")
    tamper(owner_sql_any, "UPDATE roi_monthlyrollup SET value = value + 5000000 WHERE id = %s", cell.pk)

    [failure] = failures_of(acme)
    assert failure["row"] == "monthly rollup 2026-10 downtime payments/checkout"
    assert failure["reasons"] == [
        f"value stored {cell.value + 5000000}, its rows add up to {cell.value} (difference {FIVE_MILLION})"
    ]
    assert f"monthly rollup 2026-10 downtime payments/checkout: value stored {cell.value + 5000000}" in command_output(
        "acme"
    )


def test_a_value_given_to_an_unvalued_event_or_service_month_is_caught(acme, acme_model, owner_sql_any):
    ingest(acme)
    with tenant_scope(acme):
        open_incident = Incident.objects.get(external_id="INC-3")
        month = PerformanceMonth.objects.get(month="2026-10-01")
    tamper(owner_sql_any, "UPDATE roi_incident SET downtime_cost = 5000000 WHERE id = %s", open_incident.pk)
    tamper(owner_sql_any, "UPDATE roi_performancemonth SET value = value + 5000000 WHERE id = %s", month.pk)
    tamper(owner_sql_any, "UPDATE roi_performancemonth SET samples = 7 WHERE id = %s", month.pk)

    found = reasons(failures_of(acme))
    assert "event INC-3: downtime_cost has no ledger item: stored 5000000.00, ledger nothing" in found
    assert any(r.startswith("performance web 2026-10: value differs") and FIVE_MILLION in r for r in found)
    assert (
        "performance web 2026-10: samples is not the sum of its samples: stored 7, samples 2 (difference +5)" in found
    )


def test_another_tenants_tampering_is_neither_seen_nor_reported(acme, acme_model, globex, owner_sql_any, api_as):
    # given both tenants with events and globex's edited behind the app's back
    ingest(acme)
    with tenant_scope(globex):
        financial_model_update(
            actor=SYSTEM,
            groups=ACME_MODEL,
            change_reason="globex model",
            effective_from=datetime(2020, 1, 1, tzinfo=UTC),
        )
    ingest(globex)
    tamper(
        owner_sql_any, "UPDATE roi_incident SET value = value + 5000000 WHERE tenant_id = %s AND prevented", globex.pk
    )
    tamper(owner_sql_any, "UPDATE roi_monthlyrollup SET value = value + 1 WHERE tenant_id = %s", globex.pk)

    # then acme verifies clean everywhere, and globex's failures name only globex rows
    with tenant_scope(acme):
        assert ledger_verify().ok
    assert api_as(acme, "auditor").post("/api/v1/ledger/verify").json()["failures"] == []
    answer = api_as(globex, "auditor").post("/api/v1/ledger/verify").json()
    with tenant_scope(globex):
        globex_records = set(Incident.objects.values_list("ledger_record_id", flat=True))
    assert not answer["ok"]
    assert {f["id"] for f in answer["failures"] if f["id"] is not None} <= globex_records


# --- The export verifier, run as an outsider would ------------------------------------------

VERIFIER = Path(settings.BASE_DIR) / "bin" / "verify_ledger_export.py"


def export_and_verify(api, tmp_path) -> subprocess.CompletedProcess[str]:
    response = api.get("/api/v1/ledger/export.jsonl", {"rows": "true"})
    assert response.status_code == 200
    path = tmp_path / "export.jsonl"
    path.write_bytes(b"".join(response.streaming_content))
    # -I -S: no environment, no site-packages: nothing of BizValue can be imported.
    return subprocess.run(
        [sys.executable, "-I", "-S", str(VERIFIER), str(path)], capture_output=True, text=True, timeout=60, check=False
    )


def test_the_export_verifier_checks_the_stored_rows_against_the_records(
    acme, acme_model, owner_sql_any, api_as, tmp_path
):
    ingest(acme)
    auditor = api_as(acme, "auditor")
    clean = export_and_verify(auditor, tmp_path)
    assert clean.returncode == 0, clean.stdout
    assert "stored rows checked against the records and the rollup cells" in clean.stdout

    with tenant_scope(acme):
        prevented = Incident.objects.get(external_id="INC-2")
        cell = MonthlyRollup.objects.get(stream=Stream.AUTOMATION)
        run = AutomationRun.objects.get(external_id="RUN-1")
    tamper(owner_sql_any, "UPDATE roi_incident SET value = value + 5000000 WHERE id = %s", prevented.pk)
    tamper(owner_sql_any, "UPDATE roi_monthlyrollup SET hours_saved = hours_saved + 7 WHERE id = %s", cell.pk)
    tamper(owner_sql_any, "DELETE FROM roi_automationrun WHERE id = %s", run.pk)

    verified = export_and_verify(auditor, tmp_path)
    assert verified.returncode == 1
    assert (
        f"incidents INC-2: value differs from item 1 of record {prevented.ledger_record_id}: "
        f"stored {prevented.value + 5000000}, ledger {prevented.value} (difference {FIVE_MILLION})"
    ) in verified.stdout
    assert (
        f"automation-runs RUN-1: item 0 of record {run.ledger_record_id} has no stored row (deleted)" in verified.stdout
    )
    assert "rollup 2026-10 automation finance/-: hours_saved stored" in verified.stdout
    assert "rollup 2026-10 incident_prevention payments/checkout: value stored" in verified.stdout


def test_the_exported_rows_are_the_tenants_own_and_come_with_the_whole_ledger_only(acme, acme_model, globex, api_as):
    ingest(acme)
    with tenant_scope(globex):
        financial_model_update(
            actor=SYSTEM,
            groups=ACME_MODEL,
            change_reason="globex model",
            effective_from=datetime(2020, 1, 1, tzinfo=UTC),
        )
        events_ingest(actor=SYSTEM, kind="incidents", payload=[incident("GLOBEX-ONLY")])
    response = api_as(acme, "auditor").get("/api/v1/ledger/export.jsonl", {"rows": "true"})
    text = b"".join(response.streaming_content).decode()
    assert "INC-1" in text and "GLOBEX-ONLY" not in text
    refused = api_as(acme, "auditor").get("/api/v1/ledger/export.jsonl", {"rows": "true", "since": "2026-01-01"})
    assert refused.status_code == 400 and "rows" in refused.json()["errors"]
