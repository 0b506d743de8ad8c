"""The auditor's JSON Lines export: verifiable outside BizValue, by days, streamed, recorded, tenant-bound."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.http import StreamingHttpResponse

from governance.ledger import Actor, record_payload
from governance.models import GENESIS_HASH, AuditEvent, AuditKind, LedgerRecord
from governance.tenancy import tenant_scope
from roi.ingestion import events_ingest
from roi.services import calculation_run, financial_model_update
from tests.conftest import ACME_MODEL, _member
from tests.dashboards.conftest import automation_runs

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("test")
VERIFIER = Path(settings.BASE_DIR) / "bin" / "verify_ledger_export.py"


def load_verifier():
    spec = importlib.util.spec_from_file_location("verify_ledger_export", VERIFIER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_verifier(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # -I -S: no environment, no site-packages, so Django could not be imported even by mistake.
    return subprocess.run(
        [sys.executable, "-I", "-S", str(VERIFIER), *args, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def body(response) -> bytes:
    assert isinstance(response, StreamingHttpResponse), type(response)
    return response.getvalue()


def lines(response) -> list[dict]:
    return [json.loads(line) for line in body(response).decode().splitlines()]


def ledger_of(tenant, *, on_days: list[datetime] | None = None, monkeypatch=None) -> list[LedgerRecord]:
    """Calculation records around a batch record; each made on the given day when `on_days` is given."""
    days = on_days or [None, None, None]

    def at(day):
        if day is not None:
            monkeypatch.setattr("governance.ledger.timezone", SimpleNamespace(now=lambda: day))

    with tenant_scope(tenant):
        at(days[0])
        calculation_run(actor=SYSTEM, method="availability_economics", body={"current_target": "99.9"})
        at(days[1])
        events_ingest(actor=SYSTEM, kind="automation-runs", payload=automation_runs("batch", 3, datetime.now(UTC)))
        at(days[2])
        calculation_run(actor=SYSTEM, method="performance_impact", body={"response_time_improvement_ms": 120})
        return list(LedgerRecord.objects.order_by("sequence"))


@pytest.fixture
def auditor_client(client, carol):
    client.force_login(carol)
    return client


def test_an_auditor_export_verifies_outside_the_app(auditor_client, acme, acme_model, tmp_path):
    # given a chain with calculation and batch records
    records = ledger_of(acme)
    assert {r.method for r in records} >= {"availability_economics", "event_batch", "performance_impact"}

    # when the auditor downloads it from the ledger page
    response = auditor_client.get("/t/acme/ledger/export.jsonl")

    # then every record is a line, in chain order, with every hashed field as stored
    assert response.status_code == 200 and response["Content-Type"].startswith("application/jsonl")
    assert response["Content-Disposition"] == 'attachment; filename="bizvalue-ledger-acme.jsonl"'
    content = body(response)
    exported = [json.loads(line) for line in content.decode().splitlines()]
    assert [line["sequence"] for line in exported] == [r.sequence for r in records]
    assert exported[0]["previous_hash"] == GENESIS_HASH
    for line, record in zip(exported, records, strict=True):
        assert line["hash"] == record.hash and line["id"] == record.pk
        assert json.loads(json.dumps(record_payload(record))) == {
            k: v for k, v in line.items() if k not in ("id", "hash")
        }
    batch = next(line for line in exported if line["method"] == "event_batch")
    assert len(batch["inputs"]["items"]) == 3 and batch["result"]["merkle_root"]

    # and the standalone verifier, run as an outsider would, says it all holds
    path = tmp_path / "export.jsonl"
    path.write_bytes(content)
    verified = run_verifier(path)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f"{len(records)} records checked" in verified.stdout and "Full chain" in verified.stdout
    assert f"Last hash: {records[-1].hash}" in verified.stdout

    # and the export is in the audit log like every export
    with tenant_scope(acme):
        event = AuditEvent.objects.filter(kind=AuditKind.EXPORT).latest("occurred_at")
    assert event.detail == {"export": "ledger_jsonl", "filters": {}} and event.actor == "user:carol"


def test_a_tampered_export_fails_naming_the_record(auditor_client, acme, acme_model, tmp_path):
    records = ledger_of(acme)
    exported = lines(auditor_client.get("/t/acme/ledger/export.jsonl"))
    last = exported[-1]

    # an edited figure: the record's hash no longer matches
    edited = [dict(line) for line in exported]
    edited[-1]["result"] = {**last["result"], "annual_revenue_impact": "999999999.00"}
    path = tmp_path / "edited.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in edited))
    verified = run_verifier(path)
    assert verified.returncode == 1
    assert (
        f"FAIL line {len(records)}, sequence {last['sequence']}, id {last['id']}: hash does not match"
        in verified.stdout
    )

    # a record left out: the next one's link and sequence fail, naming it
    path.write_text("".join(json.dumps(line) + "\n" for line in exported[:1] + exported[2:]))
    verified = run_verifier(path)
    assert verified.returncode == 1
    assert (
        f"sequence {exported[2]['sequence']}, id {exported[2]['id']}: previous_hash does not match" in verified.stdout
    )
    assert "records missing or reordered" in verified.stdout


def test_a_forged_batch_item_fails_its_merkle_root_even_when_rehashed(auditor_client, acme, acme_model, tmp_path):
    # given a forger who changes a batch item and recomputes every hash after it
    verifier = load_verifier()
    ledger_of(acme)
    exported = lines(auditor_client.get("/t/acme/ledger/export.jsonl"))
    batch_index = next(i for i, line in enumerate(exported) if line["method"] == "event_batch")
    exported[batch_index]["result"]["items"][0] = {**exported[batch_index]["result"]["items"][0], "value": "1.00"}
    previous = exported[batch_index - 1]["hash"]
    for line in exported[batch_index:]:
        line["previous_hash"] = previous
        line["hash"] = previous = verifier.record_hash(line)
    path = tmp_path / "forged.jsonl"
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in exported))

    # then the hashes and links hold, but the Merkle root does not
    verified = run_verifier(path)
    assert verified.returncode == 1
    assert f"sequence {exported[batch_index]['sequence']}" in verified.stdout
    assert "merkle_root does not match" in verified.stdout
    assert "hash does not match" not in verified.stdout


def test_a_date_filtered_export_checks_its_links_and_reports_its_anchor(
    auditor_client, acme, acme_model, tmp_path, monkeypatch
):
    # given records on three days
    days = [datetime(2026, 3, day, 12, tzinfo=UTC) for day in (1, 2, 3)]
    records = ledger_of(acme, on_days=days, monkeypatch=monkeypatch)

    # when the auditor takes the last two days
    response = auditor_client.get("/t/acme/ledger/export.jsonl", {"since": "2026-03-02", "until": "2026-03-03"})
    assert response["Content-Disposition"].endswith('bizvalue-ledger-acme-from-20260302-to-20260303.jsonl"')
    content = body(response)
    assert [json.loads(line)["sequence"] for line in content.splitlines()] == [2, 3]

    # then the verifier checks them, and names the anchor to compare with record 1's hash
    path = tmp_path / "march.jsonl"
    path.write_bytes(content)
    verified = run_verifier(path)
    assert verified.returncode == 0, verified.stdout
    assert f"Partial export: it starts at sequence 2. Anchor (its previous_hash): {records[0].hash}" in verified.stdout
    assert run_verifier(path, "--anchor", records[0].hash).returncode == 0
    wrong = run_verifier(path, "--anchor", GENESIS_HASH)
    assert wrong.returncode == 1 and "is not the anchor given" in wrong.stdout

    # and the page, the CSV and the API take the same days
    page = auditor_client.get("/t/acme/ledger/", {"since": "2026-03-02", "until": "2026-03-02"}).content.decode()
    assert f"/t/acme/ledger/{records[1].pk}/" in page and f"/t/acme/ledger/{records[0].pk}/" not in page
    assert "export.jsonl?since=2026-03-02&amp;until=2026-03-02" in page
    csv = auditor_client.get("/t/acme/ledger/export.csv", {"until": "2026-03-01"}).content.decode()
    assert records[0].hash in csv and records[1].hash not in csv
    with tenant_scope(acme):
        event = AuditEvent.objects.filter(kind=AuditKind.EXPORT, detail__export="ledger_jsonl").latest("occurred_at")
    assert event.detail["filters"] == {"since": "2026-03-02", "until": "2026-03-03"}


def test_the_api_streams_the_same_export_to_auditors(api_as, acme, acme_model, auditor_client):
    ledger_of(acme)
    response = api_as(acme, "auditor").get("/api/v1/ledger/export.jsonl", HTTP_ACCEPT="application/jsonl")
    assert response.status_code == 200 and response.streaming
    assert body(response) == body(auditor_client.get("/t/acme/ledger/export.jsonl"))
    with tenant_scope(acme):
        assert AuditEvent.objects.filter(kind=AuditKind.EXPORT, detail__export="ledger_jsonl").count() == 2


@pytest.mark.parametrize("role", ["viewer", "analyst", "finance_admin", "tenant_admin"])
def test_only_auditors_take_the_verifiable_export(role, api_as, client, acme, acme_model):
    assert api_as(acme, role).get("/api/v1/ledger/export.jsonl").status_code == 403
    client.force_login(_member(f"member-{role}", acme, role))
    assert client.get("/t/acme/ledger/export.jsonl").status_code == 403
    if role != "viewer":  # the ledger page and its CSV stay open to analysts and up, without the link
        page = client.get("/t/acme/ledger/")
        assert page.status_code == 200 and b"export.jsonl" not in page.content
        assert client.get("/t/acme/ledger/export.csv").status_code == 200


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"since": "not-a-date"}, "since"),
        ({"until": "2026-13-01"}, "until"),
        ({"since": "2026-03-02", "until": "2026-03-01"}, "until"),
    ],
)
def test_a_bad_day_is_a_400_naming_the_field(query, field, api_as, auditor_client, acme, acme_model):
    api = api_as(acme, "auditor").get("/api/v1/ledger/export.jsonl", query)
    assert api.status_code == 400 and field in api.json()["errors"]
    for export in ("export.jsonl", "export.csv"):
        response = auditor_client.get(f"/t/acme/ledger/{export}", query)
        assert response.status_code == 400 and response.content.decode().startswith(f"{field}:")
    page = auditor_client.get("/t/acme/ledger/", query)
    assert page.status_code == 400 and b'role="alert"' in page.content
    with tenant_scope(acme):
        assert not AuditEvent.objects.filter(kind=AuditKind.EXPORT).exists()  # nothing was exported


def test_another_tenants_export_holds_nothing_of_ours(api_as, client, acme, acme_model, globex, tmp_path):
    ours = ledger_of(acme)
    with tenant_scope(globex):  # globex has a ledger of its own, so its export is not empty
        financial_model_update(actor=SYSTEM, groups=ACME_MODEL, change_reason="globex figures")
    theirs_record = calculation_run_in(globex)
    gina = _member("gina", globex, "auditor")
    client.force_login(gina)
    # our page under our slug is 404 for globex's auditor, as if it did not exist
    assert client.get("/t/acme/ledger/export.jsonl").status_code == 404
    # globex's own export, from the page and the API, holds none of our records
    theirs = body(client.get("/t/globex/ledger/export.jsonl")) + body(
        api_as(globex, "auditor").get("/api/v1/ledger/export.jsonl")
    )
    assert client.get("/t/globex/ledger/export.jsonl").status_code == 200
    assert theirs.count(theirs_record.hash.encode()) == 2  # once in each download
    for record in ours:
        assert record.hash.encode() not in theirs
    assert f'"tenant":{acme.pk},'.encode() not in theirs


def test_the_verifier_hashes_exactly_the_fields_the_ledger_does(acme, acme_model):
    record = calculation_run_in(acme)
    assert set(load_verifier().HASHED_FIELDS) == set(record_payload(record))


def calculation_run_in(tenant) -> LedgerRecord:
    with tenant_scope(tenant):
        return calculation_run(actor=SYSTEM, method="availability_economics", body={"current_target": 99})


def test_the_export_is_streamed_in_small_fetches(auditor_client, acme, acme_model, monkeypatch):
    # given more records than one fetch holds
    monkeypatch.setattr("roi.ledger_export.CHUNK", 2)
    for _ in range(5):
        calculation_run_in(acme)
    response = auditor_client.get("/t/acme/ledger/export.jsonl")
    # then it comes as a stream, a line per record, fetched a few records at a time
    assert response.streaming
    stream = iter(response.streaming_content)
    first = json.loads(next(stream))
    assert first["sequence"] == 1
    assert [json.loads(line)["sequence"] for line in stream] == [2, 3, 4, 5]


def test_head_answers_the_headers_and_exports_nothing(api_as, acme, acme_model):
    calculation_run_in(acme)
    response = api_as(acme, "auditor").head("/api/v1/ledger/export.jsonl", {"since": "2026-03-01"})
    assert response.status_code == 200 and response.content == b""
    assert response["Content-Disposition"].endswith('bizvalue-ledger-acme-from-20260301.jsonl"')
    with tenant_scope(acme):
        assert not AuditEvent.objects.filter(kind=AuditKind.EXPORT).exists()


@pytest.mark.parametrize("content", ["", "\n\n", "   \n"])
def test_an_empty_export_fails_verification(content, tmp_path):
    # An emptied or cut-to-nothing download must not pass as a verified ledger.
    path = tmp_path / "empty.jsonl"
    path.write_text(content)
    verified = run_verifier(path)
    assert verified.returncode == 1
    assert "FAIL: no records in this export" in verified.stdout and "OK" not in verified.stdout


def test_an_empty_date_range_of_a_real_ledger_fails_verification(auditor_client, acme, acme_model, tmp_path):
    ledger_of(acme)
    content = body(auditor_client.get("/t/acme/ledger/export.jsonl", {"since": "2001-01-01", "until": "2001-01-02"}))
    assert content == b""
    path = tmp_path / "nothing.jsonl"
    path.write_bytes(content)
    assert run_verifier(path).returncode == 1


def test_the_ledger_page_offers_the_export_with_stored_rows_for_the_whole_ledger_only(auditor_client, acme, acme_model):
    ledger_of(acme)
    page = auditor_client.get("/t/acme/ledger/").content.decode()
    assert "/t/acme/ledger/export.jsonl?rows=1" in page
    exported = lines(auditor_client.get("/t/acme/ledger/export.jsonl", {"rows": "1"}))
    assert {line.get("row") for line in exported} >= {None, "event", "rollup"}
    dated = lines(auditor_client.get("/t/acme/ledger/export.jsonl", {"rows": "1", "since": "2001-01-01"}))
    assert all("row" not in line for line in dated)
    with tenant_scope(acme):
        event = AuditEvent.objects.filter(kind=AuditKind.EXPORT, detail__export="ledger_jsonl").earliest("occurred_at")
    assert event.detail["filters"] == {"rows": "1"}
