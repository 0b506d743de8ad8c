"""Hand-written SQL goes through governance.sql, which writes the tenant condition from the scope.

A scan of the application's source: a cursor, `.execute(…)`, `.raw(…)`, `.extra(…)` or
`RawSQL` anywhere else is refused, and so is a statement that writes `"tenant_id" = %s`
by hand. The places below may hold raw SQL, each for the reason given beside it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("roi", "dashboards", "governance", "bizvalue", "bin")

# Path (a directory ends with "/") -> why raw SQL is allowed there.
ALLOWED = {
    "governance/sql.py": "the helper itself",
    "roi/ingestion/stores/": "the per-database event stores (COPY, upserts, the rollup cells' additive upsert)",
    "governance/stores/": "the per-database stores (locks, settings, the ledger's encoded insert, probes)",
    "governance/rls.py": "row-level security setup (DDL, roles, grants)",
    "governance/append_only.py": "append-only triggers (DDL)",
}
# For now: PostgreSQL-specific writes that the per-database stores are taking over.
PROVISIONAL: dict[str, str] = {}
MIGRATIONS = "/migrations/"

# Calls that run SQL by hand, or open what does.
RAW_CALLS = {"execute", "executemany", "executescript", "raw", "extra", "cursor", "Cursor", "RawSQL"}
RAW_NAMES = {"RawSQL"}
# The tenant condition written by hand: governance.sql writes it from `@tenant`.
HAND_WRITTEN_TENANT = re.compile(r'\btenant_id"?\s*=\s*%')


def allowed(path: str) -> bool:
    return MIGRATIONS in f"/{path}" or any(
        path.startswith(place) if place.endswith("/") else path == place for place in {**ALLOWED, **PROVISIONAL}
    )


def source_files() -> list[str]:
    return sorted(
        str(path.relative_to(ROOT)) for source in SOURCES for path in (ROOT / source).rglob("*.py") if path.is_file()
    )


def called_name(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    if isinstance(node.func, ast.Name):
        return node.func.id
    return None


def through_the_helper(node: ast.Call) -> bool:
    """`sql.select(…)`, `sql.execute(…)`: governance.sql, imported as `from governance import sql`."""
    return (
        isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name) and node.func.value.id == "sql"
    )


def raw_sql_in(path: str) -> list[str]:
    """Each place in `path` that runs SQL by hand or writes the tenant condition, as "line: what"."""
    tree = ast.parse((ROOT / path).read_text(), filename=path)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and called_name(node) in RAW_CALLS and not through_the_helper(node):
            found.append(f"{node.lineno}: {called_name(node)}(…)")
        elif isinstance(node, ast.Name) and node.id in RAW_NAMES:
            found.append(f"{node.lineno}: {node.id}")
        elif isinstance(node, ast.ImportFrom) and any(alias.name in RAW_NAMES for alias in node.names):
            found.append(f"{node.lineno}: import of {', '.join(a.name for a in node.names if a.name in RAW_NAMES)}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and HAND_WRITTEN_TENANT.search(node.value):
            found.append(f'{node.lineno}: "tenant_id" = %s written by hand (write @tenant)')
    return found


def test_hand_written_sql_goes_through_governance_sql():
    refused = {path: found for path in source_files() if not allowed(path) and (found := raw_sql_in(path))}

    assert refused == {}, (
        "Run hand-written SQL through governance.sql (select / execute / instances, with @tenant "
        "where the tenant condition goes), or use the ORM. Found:\n"
        + "\n".join(f"{path}:{place}" for path, places in refused.items() for place in places)
    )


@pytest.mark.parametrize(
    ("source", "refused"),
    [
        ("with connection.cursor() as cursor:\n    cursor.execute('SELECT 1')", 2),
        ("Alert.objects.raw('SELECT * FROM dashboards_alert')", 1),
        ("from django.db.models.expressions import RawSQL", 1),
        ("Q = 'SELECT 1 FROM roi_monthlyrollup WHERE \"tenant_id\" = %s'", 1),
        ("Q = f'SELECT 1 FROM {table} m WHERE m.tenant_id = %s'", 1),
        ("sql.select('SELECT 1 FROM roi_monthlyrollup WHERE @tenant', [], [None])", 0),
        ("sql.execute('DELETE FROM roi_monthlyrollup WHERE @tenant')", 0),
    ],
)
def test_the_scan_sees_raw_sql(tmp_path, monkeypatch, source: str, refused: int):
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    (tmp_path / "example.py").write_text(source)

    assert len(raw_sql_in("example.py")) == refused


def test_every_allowed_file_still_needs_its_place():
    # A file that no longer runs SQL by hand leaves the list, so the list stays the truth.
    stale = [place for place in ALLOWED if not place.endswith("/") and not raw_sql_in(place)]

    assert stale == []
