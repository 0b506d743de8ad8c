"""1,000 requests alternating tenants over pooled connections, some failing mid-view."""

import json
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

pytestmark = [pytest.mark.postgres]


def fetch(url: str, raw_key: str | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url)
    if raw_key:
        request.add_header("Authorization", f"Bearer {raw_key}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_no_request_ever_sees_another_tenants_rows(transactional_db, settings, live_server, acme, globex, make_key):
    from django.db import connection

    assert connection.settings_dict["OPTIONS"]["pool"], "the production setting: psycopg's pool"
    settings.ROOT_URLCONF = "tests.probe_urls"
    settings.DEBUG_PROPAGATE_EXCEPTIONS = False
    keys = {acme.pk: make_key(acme, "viewer"), globex.pk: make_key(globex, "viewer")}
    tenant_ids = [acme.pk, globex.pk]

    def one(i: int) -> tuple[int, int, dict, str]:
        if i % 5 == 0:  # no tenant at all: RLS must show nothing
            status, body = fetch(f"{live_server.url}/probe/unscoped")
            return i, status, body, "none"
        tenant_id = tenant_ids[i % 2]
        boom = "?boom=1" if i % 7 == 0 else ""
        status, body = fetch(f"{live_server.url}/api/v1/probe{boom}", keys[tenant_id])
        return i, status, body, str(tenant_id) + ("-boom" if boom else "")

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(one, range(1000)))

    outcomes = {"ok": 0, "boom": 0, "none": 0}
    for i, status, body, kind in results:
        if kind == "none":
            assert (status, body) == (200, {"tenant_ids": [], "setting": ""}), i
            outcomes["none"] += 1
        elif kind.endswith("-boom"):
            assert status == 500 and body == {"errors": {"detail": ["Internal error."]}}, i
            outcomes["boom"] += 1
        else:
            assert status == 200, (i, body)
            assert body == {"tenant_ids": [int(kind)], "setting": kind}, i
            outcomes["ok"] += 1
    assert outcomes["none"] == 200 and outcomes["boom"] > 100 and outcomes["ok"] > 600
