"""Event ingestion: whole batches, upserts, valuation under the right model, rollups that add up."""

import io
import random
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum

from governance.ledger import Actor
from governance.models import LedgerRecord
from governance.tenancy import tenant_scope
from roi.kinds.contributions import seconds
from roi.ledger_verification import ledger_verify
from roi.models import AutomationRun, Deployment, Incident, MonthlyRollup, PerformanceMonth, Stream
from roi.rollups import rollup_cells_from_events, rollup_cells_stored
from roi.services import financial_model_update
from tests.live_http import post_json

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("test")


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


def run(n, **extra):
    return {
        "external_id": f"RUN-{n}",
        "process": "invoice-matching",
        "started_at": "2026-10-06T02:00:00Z",
        "execution_time": 60,
        "manual_time_equivalent": 3600,
        "runs": 1,
        "department": "finance",
        **extra,
    }


@pytest.fixture
def ingester(api_as, acme, acme_model):
    return api_as(acme, "ingest")


def test_a_batch_is_valued_upserted_and_ledgered(ingester, acme):
    body = [incident(1), incident(2, prevented=True, estimated_downtime_minutes=30, prevention_confidence=0.5)]
    response = ingester.post("/api/v1/events/incidents", body, format="json")
    assert response.status_code == 201, response.json()
    outcome = response.json()
    assert (outcome["received"], outcome["created"], outcome["valued"]) == (2, 2, 2)

    with tenant_scope(acme):
        real, prevented = Incident.objects.order_by("external_id")
        assert real.downtime_minutes == 45 and real.value is None and real.downtime_cost > 0
        assert prevented.value == Decimal(prevented.valuation["prevention_value"])
        record = LedgerRecord.objects.get(pk=outcome["ledger_record"])
        assert record.method == "event_batch" and record.result["count"] == 2
        assert ledger_verify().ok


def test_verification_names_an_event_whose_ledger_record_does_not_exist(ingester, acme):
    # Event tables carry no foreign key constraint (see Event), so the ledger check stands in for it.
    ingester.post("/api/v1/events/automation-runs", [run(1), run(2)], format="json")
    with tenant_scope(acme):
        missing = LedgerRecord.objects.order_by("-pk").first().pk + 1000
        AutomationRun.objects.filter(external_id=run(2)["external_id"]).update(ledger_record_id=missing)
        AutomationRun.objects.filter(external_id=run(1)["external_id"]).update(valuation={"total_value": "1.00"})
        verification = ledger_verify()
    assert not verification.ok
    altered, failure = verification.as_dict()["failures"]
    assert altered["sequence"] is not None and "differs from ledger item" in altered["reasons"][0]
    assert failure["id"] == missing and failure["sequence"] is None
    assert failure["reasons"] == [f"event {run(2)['external_id']}: its ledger record {missing} does not exist"]
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("verify_ledger", "acme", stdout=out)
    assert f"record {missing} (not in the chain): event {run(2)['external_id']}" in out.getvalue()


def test_resending_updates_and_never_duplicates(ingester, acme):
    ingester.post("/api/v1/events/automation-runs", [run(1), run(2)], format="json")
    again = ingester.post("/api/v1/events/automation-runs", [run(1, runs=3), run(2)], format="json").json()
    assert (again["created"], again["updated"]) == (0, 2)
    with tenant_scope(acme):
        assert AutomationRun.objects.count() == 2
        assert AutomationRun.objects.get(external_id="RUN-1").runs == 3
        rollup = MonthlyRollup.objects.get(stream=Stream.AUTOMATION)
        assert rollup.event_count == 2
        assert rollup.value == AutomationRun.objects.aggregate(total=Sum("value"))["total"]


def test_an_invalid_item_refuses_the_whole_batch_naming_index_and_field(ingester, acme):
    body = [incident(1), incident(2, severity="sev9"), incident(3, started_at="yesterday"), incident(4, bogus=1)]
    response = ingester.post("/api/v1/events/incidents", body, format="json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"1.severity", "2.started_at", "3.bogus"}
    with tenant_scope(acme):
        assert Incident.objects.count() == 0 and LedgerRecord.objects.count() == 0


def test_a_number_finer_than_its_column_is_valued_and_recorded_as_the_row_holds_it(ingester, acme):
    # The columns keep 6 decimal places: what the engine values and the ledger records is
    # what the row stores, so verification compares like with like (never a 500 either).
    body = (
        '[{"external_id": "RUN-1", "process": "p", "started_at": "2026-10-06T02:00:00Z",'
        ' "execution_time": 1.7e-211, "manual_time_equivalent": "60.0000005"}]'
    )
    response = ingester.post("/api/v1/events/automation-runs", body, content_type="application/json")
    assert response.status_code == 201, response.content
    with tenant_scope(acme):
        recorded = LedgerRecord.objects.get().inputs["items"][0]["inputs"]
        run_row = AutomationRun.objects.get()
        assert (recorded["execution_time"], recorded["manual_time_equivalent"]) == ("0.000000", "60.000001")
        assert (run_row.execution_time, run_row.manual_time_equivalent) == (Decimal(0), Decimal("60.000001"))
        assert ledger_verify().ok


def test_times_need_an_offset_and_duplicates_in_a_batch_are_named(ingester):
    body = [incident(1, started_at="2026-10-05T10:00:00"), incident(1)]
    errors = ingester.post("/api/v1/events/incidents", body, format="json").json()["errors"]
    assert "0.started_at" in errors and "1.external_id" in errors


def test_an_event_is_valued_with_the_model_in_force_when_it_occurred(ingester, acme):
    with tenant_scope(acme):
        financial_model_update(
            actor=SYSTEM,
            groups={"cost_model": {"it_staff_hourly_rate": "150"}},
            change_reason="New rates",
            effective_from=datetime(2026, 10, 15, tzinfo=UTC),
        )
    before, after = run(1, started_at="2026-10-10T00:00:00Z"), run(2, started_at="2026-10-20T00:00:00Z")
    ingester.post("/api/v1/events/automation-runs", [before, after], format="json")
    with tenant_scope(acme):
        first, second = AutomationRun.objects.order_by("external_id")
    assert (first.model_version, second.model_version) == (1, 2)
    assert (first.value, second.value) == (Decimal("73.75"), Decimal("147.50"))  # 59 minutes at 75, then 150


def test_performance_is_valued_per_service_and_month(ingester, acme):
    samples = [
        {"external_id": f"P-{m}-{i}", "service": "web", "measured_at": f"2026-{m:02d}-10T00:00:00Z",
         "response_time_ms": rt, "product": "shop"}
        for m, rts in ((8, (400, 400)), (9, (300, 300))) for i, rt in enumerate(rts)
    ]  # fmt: skip
    ingester.post("/api/v1/events/performance-samples", samples, format="json")
    with tenant_scope(acme):
        august, september = PerformanceMonth.objects.order_by("month")
        assert (august.value, september.value) == (Decimal("0.00"), Decimal("50000.00"))  # 100 ms faster
        assert MonthlyRollup.objects.get(stream=Stream.PERFORMANCE, month="2026-09-01").value == Decimal("50000.00")
        assert ledger_verify().ok


def test_the_bulk_path_runs_a_fixed_number_of_queries(ingester, django_assert_max_num_queries):
    def batch(offset, size):
        return [run(offset + n, started_at=f"2026-{(n % 12) + 1:02d}-06T02:00:00Z") for n in range(size)]

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        ingester.post("/api/v1/events/automation-runs", batch(0, 10), format="json")
    with CaptureQueriesContext(connection) as large:
        ingester.post("/api/v1/events/automation-runs", batch(1000, 900), format="json")
    # SQLite splits a large insert into batches of its variable limit; nothing else grows.
    inserts = sum(1 for q in large.captured_queries if q["sql"].startswith('INSERT INTO "roi_automationrun"'))
    assert len(large) - inserts <= len(small)


def test_rollups_equal_a_recomputation_from_raw_events(ingester, acme):
    rng = random.Random(20261127)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    for batch_number in range(6):
        batch = []
        for _ in range(40):
            n = rng.randrange(120)  # ids repeat across batches: updates, including to past months
            when = start + timedelta(days=rng.randrange(600), hours=rng.randrange(24))
            prevented = rng.random() < 0.4
            extra = {"prevented": True, "estimated_downtime_minutes": rng.randrange(5, 300)} if prevented else {}
            item = incident(n, started_at=when.isoformat(), department=rng.choice(["ops", "payments", ""]), **extra)
            if prevented:
                item.pop("resolved_at")
            else:
                item["resolved_at"] = (when + timedelta(minutes=rng.randrange(1, 240))).isoformat()
            batch.append(item)
        unique = list({item["external_id"]: item for item in batch}.values())
        assert ingester.post("/api/v1/events/incidents", unique, format="json").status_code in {200, 201}, batch_number
        # and deployments: re-sent ids move lead time and time to restore between months and cells
        sent = {}
        for _ in range(40):
            n = rng.randrange(60)
            deployed = start + timedelta(
                days=rng.randrange(600), seconds=rng.randrange(86400), microseconds=rng.randrange(10**6)
            )
            failed = rng.random() < 0.3
            committed = deployed - timedelta(seconds=rng.randrange(1, 20 * 86400), microseconds=rng.randrange(10**6))
            restored = deployed + timedelta(seconds=rng.randrange(0, 3 * 86400), microseconds=rng.randrange(10**6))
            sent[f"DEP-{n}"] = {
                "external_id": f"DEP-{n}",
                "service": "web",
                "deployed_at": deployed.isoformat(),
                "committed_at": committed.isoformat() if rng.random() < 0.8 else None,
                "failed": failed,
                "restored_at": restored.isoformat() if rng.random() < 0.7 else None,
                "department": rng.choice(["ops", "payments", ""]),
            }
        response = ingester.post("/api/v1/events/deployments", list(sent.values()), format="json")
        assert response.status_code in {200, 201}, (batch_number, response.content)

    with tenant_scope(acme):
        # every column of every cell, deployments' lead and restore sums included, equals a rebuild
        stored = rollup_cells_stored()
        assert stored == rollup_cells_from_events(ZoneInfo(acme.time_zone))
        deployment_cells = [amounts for (_, stream, _, _), amounts in stored.items() if stream == Stream.DEPLOYMENTS]
        assert (
            sum(a["lead_time_count"] for a in deployment_cells) == Deployment.objects.exclude(committed_at=None).count()
        )
        assert (
            sum(a["restore_count"] for a in deployment_cells)
            == Deployment.objects.filter(failed=True).exclude(restored_at=None).count()
        )
        lead = sum((d.deployed_at - d.committed_at for d in Deployment.objects.exclude(committed_at=None)), timedelta())
        assert sum(a["lead_time_seconds_sum"] for a in deployment_cells) == seconds(lead)
        expected: dict[Any, Any] = {}
        for event in Incident.objects.all():
            month = event.occurred_at.astimezone(UTC).date().replace(day=1)
            stream = Stream.INCIDENT_PREVENTION if event.prevented else Stream.DOWNTIME
            cell = expected.setdefault((month, stream, event.department, event.product), [Decimal(0), 0])
            cell[0] += event.value if event.prevented else event.downtime_cost
            cell[1] += 1
        actual = {
            (r.month, r.stream, r.department, r.product): [r.value, r.event_count]
            for r in MonthlyRollup.objects.filter(event_count__gt=0).exclude(stream=Stream.DEPLOYMENTS)
        }
        assert actual == expected
        assert ledger_verify().ok


def test_business_impact_reads_rollups_and_matches_the_ledger(ingester, api_as, acme):
    ingester.post("/api/v1/events/automation-runs", [run(1), run(2)], format="json")
    ingester.post(
        "/api/v1/events/incidents",
        [incident(1, prevented=True, estimated_downtime_minutes=10), incident(2)],
        format="json",
    )
    body = api_as(acme, "viewer").get("/api/v1/metrics/business-impact", {"start": "2026-10", "end": "2026-10"}).json()
    with tenant_scope(acme):
        pairs = [
            (item, result)
            for record in LedgerRecord.objects.filter(method="event_batch")
            for item, result in zip(record.inputs["items"], record.result["items"], strict=True)
        ]
    automation = sum(Decimal(r["total_value"]) for i, r in pairs if i["method"] == "automation_value")
    # Prevented incidents are the ones valued with a prevention confidence.
    prevention = sum(Decimal(r["prevention_value"]) for i, r in pairs if "prevention_confidence" in i["inputs"])
    downtime = sum(Decimal(r["total_impact"]) for i, r in pairs if i["method"] == "incident_cost") - sum(
        Decimal(r["total_impact"]) for i, r in pairs if "prevention_confidence" in i["inputs"]
    )
    assert body["streams"] == {
        "incident_prevention": str(prevention),
        "automation": str(automation),
        "performance": "0.00",
    }
    assert body["total"] == str(automation + prevention)
    assert body["downtime_cost"] == str(downtime)
    assert Decimal(body["downtime_cost"]) > 0 and body["currency"] == "USD"


def test_events_are_listed_newest_first_with_their_value_and_filters(ingester, api_as, acme):
    ingester.post(
        "/api/v1/events/automation-runs",
        [run(1, started_at="2026-10-01T00:00:00Z"), run(2, started_at="2026-10-02T00:00:00Z", department="it")],
        format="json",
    )
    viewer = api_as(acme, "viewer")
    listed = viewer.get("/api/v1/events/automation-runs").json()["results"]
    assert [e["external_id"] for e in listed] == ["RUN-2", "RUN-1"]
    assert listed[0]["value"] and listed[0]["ledger_record"]
    assert viewer.get("/api/v1/events/automation-runs", {"department": "it"}).json()["count"] == 1
    assert ingester.get("/api/v1/events/automation-runs").status_code == 403  # ingest keys only send


def test_events_before_any_model_are_stored_unvalued(api_as, globex):
    response = api_as(globex, "ingest").post("/api/v1/events/automation-runs", [run(1)], format="json")
    assert response.status_code == 201
    assert response.json()["unvalued"] == 1 and response.json()["notes"]


def test_concurrent_re_sends_leave_one_row_each_and_exact_rollups(
    transactional_db, live_server, acme, acme_model, make_key
):
    # given: three overlapping batches (ids 0-59, 30-89, 60-119), each sent several times at once
    raw_key = make_key(acme, "ingest")
    batches = [
        [run(n, started_at=f"2026-{n % 12 + 1:02d}-06T02:00:00Z", department=("it", "finance")[n % 2], runs=n % 5 + 1)
         for n in range(start, start + 60)]
        for start in (0, 30, 60)
    ]  # fmt: skip

    def post(batch: list[dict]) -> int:
        return post_json(f"{live_server.url}/api/v1/events/automation-runs", raw_key, batch)

    # when
    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(post, batches * 4))

    # then: every request stored its batch, each event exists once, and each rollup cell
    # equals a recomputation from the rows (no delta counted twice by a concurrent re-send)
    assert set(statuses) <= {200, 201}
    with tenant_scope(acme):
        assert AutomationRun.objects.count() == 120
        expected: dict[tuple, list] = {}
        for event in AutomationRun.objects.all():
            cell = expected.setdefault((event.occurred_at.date().replace(day=1), event.department), [0, 0, 0])
            cell[0] += event.value
            cell[1] += event.hours_saved
            cell[2] += 1
        actual = {
            (r.month, r.department): [r.value, r.hours_saved, r.event_count]
            for r in MonthlyRollup.objects.filter(stream=Stream.AUTOMATION, event_count__gt=0)
        }
        assert actual == expected
        assert LedgerRecord.objects.count() == 12
        assert ledger_verify().ok


def test_text_with_tabs_newlines_and_backslashes_is_stored_as_sent(ingester, acme):
    # The PostgreSQL path COPYs rows through a staging table: its separators must not leak.
    odd = "ops\t\\N\nline two \\ end ünïcode"
    body = [run(1, external_id="RUN-\t1\\N", process=odd, department="d\\t", product="p\r\nq")]
    assert ingester.post("/api/v1/events/automation-runs", body, format="json").status_code == 201
    assert ingester.post("/api/v1/events/automation-runs", body, format="json").status_code == 200

    with tenant_scope(acme):
        stored = AutomationRun.objects.get()
        assert (stored.external_id, stored.process, stored.department) == ("RUN-\t1\\N", odd.strip(), "d\\t")
        assert stored.product == "p\r\nq".strip()
        assert stored.valuation["total_value"] == str(stored.value)


@pytest.mark.parametrize("written", ["1_000", "\u0661\u0660\u0660\u0660", " 1000 ", "1e3", "1E+3", "01000"])
def test_event_inputs_are_recorded_in_canonical_decimal_text(ingester, acme, written):
    body = [run(1, manual_time_equivalent=written)]
    response = ingester.post("/api/v1/events/automation-runs", body, format="json")
    assert response.status_code == 201, response.json()
    with tenant_scope(acme):
        record = LedgerRecord.objects.get(pk=response.json()["ledger_record"])
        assert ledger_verify().ok
    assert record.inputs["items"][0]["inputs"]["manual_time_equivalent"] == "1000"
