"""What the database does differently: locks, row-security settings, the ledger's insert.

One `DatabaseStore` per database, chosen once from the default connection's vendor
(`database_store`), so no other module branches on the vendor. PostgreSQL
(`stores.postgresql`) locks rows and named (advisory) locks; SQLite (`stores.sqlite`)
needs none of them, because every transaction of the embedded mode begins IMMEDIATE
(`bizvalue/settings.py`): it holds the database's one write lock from its start to its
end, so writers queue instead of racing. Raw SQL of these stores lives only in their
implementation modules.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.transaction import TransactionManagementError


class DatabaseStore(Protocol):
    """The writes and locks whose SQL differs between PostgreSQL and SQLite."""

    # Whether the database enforces row-level security (the tenant and key-hash settings matter).
    row_security: bool

    def lock_tenant(self, tenant_id: int) -> None:
        """Hold, to the commit, the lock that serialises a tenant's ledger appends and ingestion."""

    def try_lock(self, name: str) -> bool:
        """Take, to the commit, the lock named `name` if it is free; whether it was."""

    def lock(self, names: Iterable[str]) -> None:
        """Take, to the commit, the locks named `names` (waiting for each; taken in one order)."""

    def set_transaction_setting(self, name: str, value: str) -> None:
        """Set a transaction-local setting (the RLS tenant token, the key hash)."""

    def reserve_id(self, model: type[Any]) -> int | None:
        """An id for a row of `model` taken before the row is written (None: not reserved in advance)."""

    def insert_ledger_record(self, record: Any, encoded: Mapping[str, str]) -> None:
        """INSERT a ledger record; `encoded` holds the canonical JSON of its JSON columns, as hashed."""

    def probe(self, timeout_seconds: int) -> None:
        """Raise unless the database answers `SELECT 1` within about `timeout_seconds`."""


def require_transaction() -> None:
    """Refuse a lock asked for outside a transaction: it would be released at once (PostgreSQL
    autocommit) or never taken (SQLite takes it when its transaction begins), as Django's
    select_for_update refuses too."""
    if not connection.in_atomic_block:
        raise TransactionManagementError("A lock held to the commit needs a transaction (transaction.atomic).")


@functools.cache
def database_store() -> DatabaseStore:
    """The store of the default database (the one place that asks which database it is)."""
    if connections[DEFAULT_DB_ALIAS].vendor == "postgresql":
        from governance.stores.postgresql import PostgresDatabaseStore

        return PostgresDatabaseStore()
    from governance.stores.sqlite import SqliteDatabaseStore

    return SqliteDatabaseStore()
