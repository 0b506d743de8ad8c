"""The database is asked which it is in one place per store: every other module goes through a store."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("bizvalue", "dashboards", "governance", "roi")
# Where a vendor check belongs: the two stores' choice, and migration-time DDL (each says why).
ALLOWED = {
    "governance/stores/__init__.py",
    "roi/ingestion/stores/__init__.py",
    "governance/append_only.py",
    "governance/rls.py",
    "governance/models.py",
}
VENDOR_CHECK = re.compile(r"\.vendor\b")


def test_no_module_outside_the_stores_branches_on_the_database_vendor() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for app in APPS
        for path in sorted((ROOT / app).rglob("*.py"))
        if "migrations" not in path.parts and str(path.relative_to(ROOT)) not in ALLOWED
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if VENDOR_CHECK.search(line)
    ]
    assert found == [], "use governance.stores.database_store() or roi.ingestion.stores.event_store()"
