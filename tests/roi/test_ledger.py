"""The ledger: chained, append-only at the database, verified by recomputation."""

import json
from concurrent.futures import ThreadPoolExecutor
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from governance.anchors import Anchor, anchor_breaks, anchor_latest
from governance.ledger import Actor, chain_breaks, record_hash
from governance.models import GENESIS_HASH, LedgerRecord
from governance.tenancy import tenant_scope
from roi.ledger_verification import ledger_verify
from roi.services import calculation_run, financial_model_update
from tests.live_http import post_json

SYSTEM = Actor.system("test")


def run_calculations(tenant, count=3):
    with tenant_scope(tenant):
        return [
            calculation_run(actor=SYSTEM, method="availability_economics", body={"current_target": f"99.{n}"})
            for n in range(1, count + 1)
        ]


@pytest.mark.django_db
class TestChain:
    def test_records_chain_per_tenant(self, acme, acme_model, globex):
        records = run_calculations(acme)
        assert [r.sequence for r in records] == [1, 2, 3]
        assert records[0].previous_hash == GENESIS_HASH
        assert [r.previous_hash for r in records[1:]] == [r.hash for r in records[:2]]
        assert all(record_hash(r) == r.hash for r in records)

    def test_a_fresh_chain_verifies(self, acme, acme_model, api_as):
        run_calculations(acme)
        answer = api_as(acme, "auditor").post("/api/v1/ledger/verify").json()
        assert answer["ok"] and answer["checked"] == 3 and answer["failures"] == []
        assert answer["head_sequence"] == 3 and len(answer["head_hash"]) == 64

    def test_the_database_refuses_update_and_delete(self, acme, acme_model):
        [record] = run_calculations(acme, count=1)
        with tenant_scope(acme):
            with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
                LedgerRecord.objects.filter(pk=record.pk).update(actor="someone else")
            with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
                LedgerRecord.objects.filter(pk=record.pk).delete()
            assert LedgerRecord.objects.get(pk=record.pk).actor == "system:test"

    def test_a_record_made_under_an_older_model_still_verifies_after_the_model_changes(self, acme, acme_model):
        with tenant_scope(acme):
            old = calculation_run(actor=SYSTEM, method="performance_impact", body={"response_time_improvement_ms": 100})
            financial_model_update(
                actor=SYSTEM,
                groups={"revenue_model": {"annual_recurring_revenue": "90000000"}},
                change_reason="Acquisition closed",
            )
            new = calculation_run(actor=SYSTEM, method="availability_economics", body={"current_target": "99.9"})
            verification = ledger_verify()
        assert (old.model_version, new.model_version) == (1, 2)
        assert old.figures["annual_recurring_revenue"] == "56000000"
        assert new.result["downtime_cost_per_month"] == "7500.00"
        assert verification.ok, verification.as_dict()

    def test_ledger_list_filters_and_detail(self, acme, acme_model, api_as):
        run_calculations(acme, count=2)
        with tenant_scope(acme):
            calculation_run(actor=SYSTEM, method="performance_impact", body={"response_time_improvement_ms": 1})
        auditor = api_as(acme, "auditor")
        listed = auditor.get("/api/v1/ledger/", {"method": "performance_impact"}).json()
        assert listed["count"] == 1
        record_id = listed["results"][0]["id"]
        assert auditor.get(f"/api/v1/ledger/{record_id}/").json()["method"] == "performance_impact"
        assert auditor.get("/api/v1/ledger/", {"actor": "system"}).json()["count"] == 3
        assert auditor.get("/api/v1/ledger/", {"since": "not-a-date"}).json()["errors"]["since"]

    def test_the_command_says_ok_and_exits_0(self, acme, acme_model):
        run_calculations(acme)
        out = StringIO()
        call_command("verify_ledger", "acme", stdout=out)
        assert "acme: OK, 3 records" in out.getvalue()


class TestChainBreaks:
    """Each kind of damage is caught, naming the first record it breaks (no database needed)."""

    def chain(self, count=4):
        records, previous = [], GENESIS_HASH
        from django.utils import timezone

        for n in range(1, count + 1):
            record = LedgerRecord(
                pk=n,
                tenant_id=1,
                sequence=n,
                method="m",
                method_version=1,
                inputs={"n": n},
                figures={},
                result={"v": str(n)},
                currency="USD",
                actor="a",
                created_at=timezone.now(),
                previous_hash=previous,
            )
            record.hash = record_hash(record)
            records.append(record)
            previous = record.hash
        return records

    def test_an_intact_chain_has_no_breaks(self):
        assert chain_breaks(self.chain()) == []

    def test_an_edited_field_is_caught(self):
        records = self.chain()
        records[1].result = {"v": "999"}
        [first, *_] = chain_breaks(records)
        assert (first.sequence, "edited" in first.reason) == (2, True)

    def test_a_deleted_row_is_caught(self):
        records = self.chain()
        del records[1]
        first = chain_breaks(records)[0]
        assert first.sequence == 3 and "missing" in first.reason

    def test_reordered_rows_are_caught(self):
        records = self.chain()
        records[1], records[2] = records[2], records[1]
        assert chain_breaks(records)[0].sequence == 3

    def anchor(self, record):
        return Anchor(tenant=1, sequence=record.sequence, hash=record.hash, verified_at="2026-01-01T00:00:00+00:00")

    def test_a_truncated_tail_is_caught_against_the_anchor(self):
        records = self.chain()
        anchor = self.anchor(records[-1])
        [cut] = anchor_breaks(records[:2], anchor)
        assert chain_breaks(records[:2]) == []  # what the chain alone cannot see
        assert cut.sequence == 3 and "truncated" in cut.reason and "#4 was anchored" in cut.reason

    def test_a_rewritten_chain_is_caught_against_the_anchor(self):
        anchor = self.anchor(self.chain()[-1])
        rebuilt = self.chain()  # the same rows, re-hashed at another time: internally perfect
        rebuilt = [r for r in rebuilt]
        for record in rebuilt:
            record.actor = "b"
        previous = GENESIS_HASH
        for record in rebuilt:
            record.previous_hash = previous
            record.hash = record_hash(record)
            previous = record.hash
        assert chain_breaks(rebuilt) == []
        [rewritten] = anchor_breaks(rebuilt, anchor)
        assert rewritten.sequence == 4 and "rewritten" in rewritten.reason

    def test_a_chain_that_grew_past_its_anchor_is_fine(self):
        records = self.chain()
        assert anchor_breaks(records, self.anchor(records[1])) == []


def assert_tamper_is_caught(acme, record):
    with tenant_scope(acme):
        verification = ledger_verify()
    failure = verification.as_dict()["failures"][0]
    assert (failure["id"], failure["sequence"]) == (record.pk, record.sequence)
    assert any("edited" in reason for reason in failure["reasons"])
    assert any("does not recompute" in reason for reason in failure["reasons"])
    out = StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("verify_ledger", stdout=out)
    assert raised.value.returncode == 1
    assert f"record {record.pk} (#{record.sequence})" in out.getvalue()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_tampering_behind_the_apps_back_is_caught_on_postgres(acme, acme_model, owner_sql):
    records = run_calculations(acme)
    owner_sql("ALTER TABLE governance_ledgerrecord DISABLE TRIGGER ledger_append_only")
    try:
        owner_sql(
            "UPDATE governance_ledgerrecord "
            "SET result = jsonb_set(result::jsonb, '{downtime_cost_per_month}', '\"0.00\"')::json WHERE id = %s",
            records[1].pk,
        )
    finally:
        owner_sql("ALTER TABLE governance_ledgerrecord ENABLE TRIGGER ledger_append_only")
    assert_tamper_is_caught(acme, records[1])


@pytest.mark.sqlite
@pytest.mark.django_db
def test_tampering_behind_the_apps_back_is_caught_on_sqlite(acme, acme_model):
    records = run_calculations(acme)
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER ledger_no_update")
        cursor.execute(
            "UPDATE governance_ledgerrecord SET result = json_set(result, '$.downtime_cost_per_month', '0.00') WHERE id = %s",
            [records[1].pk],
        )
    assert_tamper_is_caught(acme, records[1])


def test_parallel_calculations_never_fork_the_chain(transactional_db, live_server, acme, acme_model, make_key):
    raw_key = make_key(acme, "analyst")

    def post(n: int) -> int:
        body = {"current_target": f"99.{n % 9 + 1}"}
        return post_json(f"{live_server.url}/api/v1/calculate/availability", raw_key, body, timeout=60)

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(post, range(40)))

    assert statuses == [201] * 40
    with tenant_scope(acme):
        sequences = list(LedgerRecord.objects.order_by("sequence").values_list("sequence", flat=True))
        verification = ledger_verify()
    assert sequences == list(range(1, 41))
    assert verification.ok, verification.as_dict()


def delete_ledger_rows(owner_sql, where: str, params: list) -> None:
    """Delete ledger rows behind the app's back, as someone with the database's keys could."""
    if connection.vendor == "postgresql":
        owner_sql("ALTER TABLE governance_ledgerrecord DISABLE TRIGGER ledger_append_only")
        try:
            owner_sql(f"DELETE FROM governance_ledgerrecord WHERE {where}", *params)
        finally:
            owner_sql("ALTER TABLE governance_ledgerrecord ENABLE TRIGGER ledger_append_only")
        return
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER IF EXISTS ledger_no_delete")
        cursor.execute(f"DELETE FROM governance_ledgerrecord WHERE {where}", params)
        cursor.execute(
            "CREATE TRIGGER ledger_no_delete BEFORE DELETE ON governance_ledgerrecord "
            "BEGIN SELECT RAISE(ABORT, 'ledger records are append-only'); END;"
        )


@pytest.fixture
def owner_sql_any(request):
    """owner_sql on PostgreSQL; SQLite needs none (the test's own connection drops the trigger)."""
    return request.getfixturevalue("owner_sql") if connection.vendor == "postgresql" else None


@pytest.mark.django_db(transaction=True)
class TestAnchoredHead:
    def verify_as_command(self) -> str:
        out = StringIO()
        with pytest.raises(CommandError):
            call_command("verify_ledger", "acme", stdout=out)
        return out.getvalue()

    def test_a_good_verification_anchors_the_head_in_the_file(self, acme, acme_model, settings):
        records = run_calculations(acme)
        with tenant_scope(acme):
            verification = ledger_verify()
        anchor = anchor_latest(tenant_id=acme.pk)
        assert (
            (anchor.sequence, anchor.hash)
            == (3, records[-1].hash)
            == (verification.head_sequence, verification.head_hash)
        )
        [line] = settings.LEDGER_ANCHOR_FILE.read_text().splitlines()
        assert json.loads(line) == {
            "tenant": acme.pk,
            "sequence": 3,
            "hash": records[-1].hash,
            "verified_at": anchor.verified_at,
        }

    def test_a_truncated_tail_is_caught_naming_the_first_missing_record(self, acme, acme_model, owner_sql_any):
        records = run_calculations(acme)
        with tenant_scope(acme):
            assert ledger_verify().ok
        delete_ledger_rows(owner_sql_any, "id = %s", [records[-1].pk])
        with tenant_scope(acme):
            verification = ledger_verify().as_dict()
        [failure] = verification["failures"]
        assert (failure["id"], failure["sequence"]) == (None, 3) and "truncated" in failure["reasons"][0]
        assert "(#3): truncated: the chain ends at #2" in self.verify_as_command()
        assert anchor_latest(tenant_id=acme.pk).sequence == 3  # a failing run anchors nothing

    def test_a_rewritten_chain_is_caught_at_the_anchored_record(self, acme, acme_model, owner_sql_any):
        run_calculations(acme)
        with tenant_scope(acme):
            assert ledger_verify().ok
        delete_ledger_rows(owner_sql_any, "tenant_id = %s", [acme.pk])
        rebuilt = run_calculations(acme)  # a perfect chain of three, with other hashes
        with tenant_scope(acme):
            verification = ledger_verify().as_dict()
        [failure] = verification["failures"]
        assert (failure["id"], failure["sequence"]) == (rebuilt[-1].pk, 3) and "rewritten" in failure["reasons"][0]
        assert f"record {rebuilt[-1].pk} (#3): rewritten" in self.verify_as_command()
