"""SQLite, the embedded mode: one writer at a time, so no lock of its own is needed.

Every transaction begins IMMEDIATE (`"transaction_mode"` in `bizvalue/settings.py`): it takes
the database's write lock at its start and keeps it to its end, and another writer waits for
it (up to the connection's timeout). A tenant's lock, a named lock, a ledger append's place
in the chain are therefore all held already by any transaction that asks for them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections

from governance.stores import require_transaction


class SqliteDatabaseStore:
    row_security = False

    def lock_tenant(self, tenant_id: int) -> None:
        require_transaction()  # and then held already: the transaction began IMMEDIATE

    def try_lock(self, name: str) -> bool:
        require_transaction()
        return True  # held already: no other transaction is running

    def lock(self, names: Iterable[str]) -> None:
        require_transaction()  # and then held already: the transaction began IMMEDIATE

    def set_transaction_setting(self, name: str, value: str) -> None:
        return  # no row-level security to configure

    def reserve_id(self, model: type[Any]) -> int | None:
        return None  # the row gets its id when it is written

    def insert_ledger_record(self, record: Any, encoded: Mapping[str, str]) -> None:
        record.save(force_insert=True)

    def probe(self, timeout_seconds: int) -> None:
        # A local file: it answers at once or not at all.
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
