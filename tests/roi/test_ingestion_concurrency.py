"""Concurrent batches that share events, in different orders and with different values.

New events are written before the tenant's ingestion lock (PostgresEventStore.insert_new) and
replaced ones under it; whatever the interleaving, every event must exist once, carry the
values of one of the batches that sent it, and every rollup cell must equal a
recomputation from the stored rows, with no deadlock and no failed request.
"""

import random
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

from governance.models import LedgerRecord
from governance.tenancy import tenant_scope
from roi.ledger_verification import ledger_verify
from roi.models import AutomationRun, MonthlyRollup, Stream
from tests.live_http import post_json

pytestmark = pytest.mark.django_db


def automation_run(n: int, rng: random.Random) -> dict:
    return {
        "external_id": f"RUN-{n}",
        "process": "invoice-matching",
        "started_at": f"2026-{n % 12 + 1:02d}-{rng.randint(1, 28):02d}T02:00:00Z",
        "execution_time": str(rng.randint(1, 300)),
        "manual_time_equivalent": str(rng.randint(600, 7200)),
        "runs": rng.randint(1, 9),
        "errors_avoided": rng.randint(0, 2),
        "department": rng.choice(("it", "finance", "ops")),
        "product": rng.choice(("erp", "crm")),
    }


def test_overlapping_batches_with_different_values_in_any_order_stay_exact(
    transactional_db, live_server, acme, acme_model, make_key
):
    # given: 12 batches over 150 event ids, each a random overlapping slice, shuffled, with its own values
    rng = random.Random(4)
    raw_key = make_key(acme, "ingest")
    batches = []
    for _ in range(12):
        start = rng.randrange(0, 100)
        ids = list(range(start, start + 50))
        rng.shuffle(ids)
        batches.append([automation_run(n, rng) for n in ids])

    def post(batch: list[dict]) -> int:
        return post_json(f"{live_server.url}/api/v1/events/automation-runs", raw_key, batch)

    # when: all sent at once
    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(post, batches))

    # then
    assert set(statuses) <= {200, 201}
    sent = {event["external_id"] for batch in batches for event in batch}
    sent_values = {
        (event["external_id"], event["manual_time_equivalent"], event["execution_time"], event["runs"])
        for batch in batches
        for event in batch
    }
    with tenant_scope(acme):
        rows = list(AutomationRun.objects.all())
        assert sorted(r.external_id for r in rows) == sorted(sent)
        for r in rows:
            assert (r.external_id, f"{r.manual_time_equivalent:f}".rstrip("0").rstrip("."),
                    f"{r.execution_time:f}".rstrip("0").rstrip("."), r.runs) in sent_values  # fmt: skip
        expected: dict[tuple, list] = {}
        for event in rows:
            key = (event.occurred_at.date().replace(day=1), event.department, event.product)
            cell = expected.setdefault(key, [Decimal(0), Decimal(0), 0])
            cell[0] += event.value
            cell[1] += event.hours_saved
            cell[2] += 1
        actual = {
            (r.month, r.department, r.product): [r.value, r.hours_saved, r.event_count]
            for r in MonthlyRollup.objects.filter(stream=Stream.AUTOMATION)
            if r.event_count or r.value or r.hours_saved
        }
        assert actual == expected
        assert LedgerRecord.objects.count() == len(batches)
        assert ledger_verify().ok
