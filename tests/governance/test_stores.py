"""The database store's locks are held to the commit, so asking for one outside a transaction is refused."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.db.transaction import TransactionManagementError

from governance.stores import database_store

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    "take",
    [
        lambda store: store.lock_tenant(1),
        lambda store: store.try_lock("idempotency:1:key"),
        lambda store: store.lock(["webhook:1:a", "webhook:1:b"]),
    ],
    ids=["tenant", "try-named", "named"],
)
def test_a_lock_outside_a_transaction_is_refused_and_inside_one_is_taken(take):
    store = database_store()
    # when: asked for in autocommit, where PostgreSQL would release it at once
    with pytest.raises(TransactionManagementError):
        take(store)
    # then: inside a transaction it is taken (try_lock answers that it was free)
    with transaction.atomic():
        assert take(store) in (None, True)
