"""API key authentication: `Authorization: Bearer <key>`."""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from governance import sql
from governance.models import ApiKey, Tenant
from governance.services import api_key_hash
from governance.stores import database_store

# Before the tenant is known, RLS lets a request see exactly one key row: the one whose
# hash it presents (see the ApiKey policy in governance/migrations).
RLS_KEY_HASH_SETTING = "app.api_key_hash"


class ApiKeyUser:
    """The principal of a key-authenticated request: not a Django user, never staff."""

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_superuser = False
    is_active = True

    def __init__(self, api_key: ApiKey) -> None:
        self.api_key = api_key
        self.pk = None
        self.username = f"api-key:{api_key.prefix}"

    def __str__(self) -> str:
        return self.username

    def get_username(self) -> str:
        return self.username


def _key_lookup() -> tuple[str, list[Any], list[Any]]:
    """The SQL of an active key by hash, joined to its tenant, and both models' fields."""
    key_fields, tenant_fields = list(ApiKey._meta.concrete_fields), list(Tenant._meta.concrete_fields)
    columns = [f'k."{f.column}"' for f in key_fields] + [f't."{f.column}"' for f in tenant_fields]
    statement = (
        f'SELECT {", ".join(columns)} FROM "{ApiKey._meta.db_table}" k'  # noqa: S608
        f' JOIN "{Tenant._meta.db_table}" t ON t."id" = k."tenant_id"'
        ' WHERE k."key_hash" = %s AND k."revoked_at" IS NULL AND (k."expires_at" IS NULL OR k."expires_at" > %s)'
    )
    return statement, key_fields, tenant_fields


KEY_LOOKUP, KEY_FIELDS, TENANT_FIELDS = _key_lookup()


def api_key_find(raw_key: str) -> ApiKey | None:
    """The active key matching `raw_key`, with its tenant, or None.

    One hand-written statement (governance.sql) under the RLS key-hash setting, which must
    not outlive it: every request with a key runs this.
    """
    key_hash = api_key_hash(raw_key)
    now = sql.adapt_datetime(timezone.now())
    store = database_store()
    if not store.row_security:
        return _found_key(
            sql.select(KEY_LOOKUP, [key_hash, now], [*KEY_FIELDS, *TENANT_FIELDS], before_tenant_known=(ApiKey,))
        )
    if not connection.in_atomic_block and connection.get_autocommit():
        # The usual case, a request's first statement: setting and look-up in one round trip
        # and one implicit transaction, which the setting dies with.
        rows = sql.select(
            KEY_LOOKUP,
            [key_hash, now],
            [*KEY_FIELDS, *TENANT_FIELDS],
            setting=(RLS_KEY_HASH_SETTING, key_hash),
            before_tenant_known=(ApiKey,),
        )
        return _found_key(rows)
    # A transaction-local setting dies with a transaction opened here; inside an outer
    # transaction it must be cleared again before the caller goes on.
    with transaction.atomic():
        store.set_transaction_setting(RLS_KEY_HASH_SETTING, key_hash)
        rows = sql.select(KEY_LOOKUP, [key_hash, now], [*KEY_FIELDS, *TENANT_FIELDS], before_tenant_known=(ApiKey,))
        store.set_transaction_setting(RLS_KEY_HASH_SETTING, "")
    return _found_key(rows)


def _found_key(rows: list[list[Any]]) -> ApiKey | None:
    if not rows:
        return None
    values, split = rows[0], len(KEY_FIELDS)
    api_key = ApiKey.from_db(connection.alias, [f.attname for f in KEY_FIELDS], values[:split])
    api_key.tenant = Tenant.from_db(connection.alias, [f.attname for f in TENANT_FIELDS], values[split:])
    return api_key


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[ApiKeyUser, ApiKey] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, raw_key = header.partition(" ")
        if scheme.lower() != self.keyword.lower():
            return None
        raw_key = raw_key.strip()
        if not raw_key or " " in raw_key:
            raise exceptions.AuthenticationFailed("Malformed bearer token.")
        api_key = api_key_find(raw_key)
        if api_key is None:
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked API key.")
        return ApiKeyUser(api_key), api_key

    def authenticate_header(self, request: Request) -> str:
        return self.keyword
