"""The tenant token's proof, on any database: what the PostgreSQL function recomputes is HMAC-SHA256."""

import hashlib
import hmac

import pytest
from django.db import connection

from governance.rls import check_rls_key, hmac_pads, rls_key_in_sync, tenant_token


def test_a_token_is_the_id_and_its_hmac_under_the_rls_key(settings):
    settings.DATABASE_RLS_KEY = "k" * 40
    expected = hmac.new(b"k" * 40, b"42", hashlib.sha256).hexdigest()
    assert tenant_token(42) == f"42:{expected}"
    assert tenant_token(42) != tenant_token(43)
    settings.DATABASE_RLS_KEY = "j" * 40
    assert tenant_token(42) != f"42:{expected}"


@pytest.mark.parametrize("key", [b"k" * 40, b"x" * 64, b"long" * 40, b"\xff" * 32])
def test_the_stored_pads_recompute_hmac_sha256_with_sha256_alone(key):
    inner, outer = hmac_pads(key)
    recomputed = hashlib.sha256(outer + hashlib.sha256(inner + b"1234").digest()).hexdigest()
    assert recomputed == hmac.new(key, b"1234", hashlib.sha256).hexdigest()
    assert key not in (inner, outer)


@pytest.mark.sqlite
@pytest.mark.django_db
def test_off_postgresql_there_is_no_key_to_check():
    assert rls_key_in_sync(connection) is None
    assert check_rls_key(None, databases=["default"]) == []
