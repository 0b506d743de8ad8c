"""API key authentication: `Authorization: Bearer <key>`."""

from __future__ import annotations

from django.db import connection, transaction
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from governance.models import ApiKey
from governance.services import api_key_hash

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


def api_key_find(raw_key: str) -> ApiKey | None:
    """The active key matching `raw_key`, with its tenant, or None."""
    key_hash = api_key_hash(raw_key)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config(%s, %s, true)", [RLS_KEY_HASH_SETTING, key_hash])
        api_key = ApiKey.all_tenants.active().select_related("tenant").filter(key_hash=key_hash).first()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config(%s, '', true)", [RLS_KEY_HASH_SETTING])
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
