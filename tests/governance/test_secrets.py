"""Integration secrets: write-only over the API, encrypted at rest, rotatable, one tenant's own."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from governance.ledger import Actor
from governance.models import IntegrationSecret
from governance.secrets import (
    SecretUndecryptable,
    decrypt,
    encrypt,
    integration_secret_reveal,
    integration_secret_set,
)
from governance.tenancy import tenant_scope

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent.parent
SECRET = "whsec-7f3a9c1e5b2d8e4f6a0c91d2b7e4"
FIRST, SECOND = "first-3b8e1f0c6a9d42e7b5c1a0f9d8e7c6b5", "second-9d2c7a1e4f8b03d6c5e2a1b0f9e8d7c6"
GLOBEX_SECRET = "globex-5e0a9c3f7b1d48e2a6c0b9f8e7d6c5b4"
PATH = "/api/v1/config/integrations/pagerduty"
OLD_KEY, NEW_KEY = os.urandom(32), os.urandom(32)


def stored_column(tenant, tool: str = "pagerduty") -> tuple[str, str]:
    """The row as the database holds it, read with raw SQL (no model code in between)."""
    with tenant_scope(tenant), connection.cursor() as cursor:
        cursor.execute(
            "SELECT ciphertext, key_id FROM governance_integrationsecret WHERE tenant_id = %s AND tool = %s",
            [tenant.pk, tool],
        )
        return cursor.fetchone()


def set_secret(tenant, secret: str = SECRET, tool: str = "pagerduty") -> IntegrationSecret:
    with tenant_scope(tenant):
        return integration_secret_set(tool=tool, secret=secret, actor=Actor.system("test"))


def reveal(tenant, tool: str = "pagerduty") -> str | None:
    with tenant_scope(tenant):
        return integration_secret_reveal(tool=tool)


class TestTheApi:
    def test_put_stores_the_secret_and_answers_only_that_it_is_set(self, api_as, acme):
        response = api_as(acme, "tenant_admin").put(PATH, {"secret": SECRET}, format="json")
        assert response.status_code == 200, response.json()
        body = response.json()
        assert set(body) == {"tool", "set", "set_at", "problem"}
        assert body["problem"] is None
        assert (body["tool"], body["set"]) == ("pagerduty", True)
        assert SECRET not in response.content.decode()
        assert reveal(acme) == SECRET

    def test_get_tells_whether_one_is_set_and_since_when_never_the_secret(self, api_as, acme):
        admin, auditor = api_as(acme, "tenant_admin"), api_as(acme, "auditor")
        assert admin.get(PATH).json() == {"tool": "pagerduty", "set": False, "set_at": None, "problem": None}
        set_at = admin.put(PATH, {"secret": SECRET}, format="json").json()["set_at"]
        for client in (admin, auditor):
            response = client.get(PATH)
            assert response.json() == {"tool": "pagerduty", "set": True, "set_at": set_at, "problem": None}
            assert SECRET not in response.content.decode()
        assert admin.get("/api/v1/config/integrations/github").json()["set"] is False

    def test_a_new_secret_replaces_the_old_one(self, api_as, acme):
        admin = api_as(acme, "tenant_admin")
        admin.put(PATH, {"secret": FIRST}, format="json")
        admin.put(PATH, {"secret": SECOND}, format="json")
        assert reveal(acme) == SECOND
        with tenant_scope(acme):
            assert IntegrationSecret.objects.count() == 1

    def test_it_records_who_set_it(self, api, api_as, acme, tara):
        api_as(acme, "tenant_admin").put(PATH, {"secret": FIRST}, format="json")
        with tenant_scope(acme):
            row = IntegrationSecret.objects.get()
            assert (row.set_by, row.set_by_key.role) == (None, "tenant_admin")
        api.force_login(tara)
        api.put(PATH, {"secret": SECOND}, format="json")
        with tenant_scope(acme):
            row = IntegrationSecret.objects.get()
            assert (row.set_by, row.set_by_key) == (tara, None)

    @pytest.mark.parametrize(
        ("body", "field"), [({}, "secret"), ({"secret": "   "}, "secret"), ([], "non_field_errors")]
    )
    def test_a_missing_or_blank_secret_is_a_400_naming_it(self, api_as, acme, body, field):
        response = api_as(acme, "tenant_admin").put(PATH, body, format="json")
        assert response.status_code == 400
        assert field in response.json()["errors"]

    def test_an_unknown_tool_is_404(self, api_as, acme):
        client = api_as(acme, "tenant_admin")
        assert client.get("/api/v1/config/integrations/jira").status_code == 404
        assert client.put("/api/v1/config/integrations/jira", {"secret": "x"}, format="json").status_code == 404

    def test_another_tenants_admin_sets_only_their_own(self, api_as, acme, globex):
        set_secret(acme)
        theirs = api_as(globex, "tenant_admin")
        assert theirs.get(PATH).json()["set"] is False
        assert theirs.put(PATH, {"secret": GLOBEX_SECRET}, format="json").status_code == 200
        assert (reveal(acme), reveal(globex)) == (SECRET, GLOBEX_SECRET)


class TestStrength:
    @pytest.mark.parametrize(
        "weak",
        [
            "0",
            "a",
            "correct horse battery staple",  # 28 characters
            "a" * 64,
            "ab" * 20,
            "0123456789" * 3 + "0",  # 31 characters
        ],
    )
    def test_a_weak_secret_is_a_400_naming_it_and_nothing_is_stored(self, api_as, acme, weak):
        response = api_as(acme, "tenant_admin").put(PATH, {"secret": weak}, format="json")

        assert response.status_code == 400, response.json()
        assert "Too weak" in response.json()["errors"]["secret"][0]
        assert reveal(acme) is None

    def test_a_random_token_is_strong_enough(self, api_as, acme):
        token = secrets.token_hex(16)  # 32 characters, as `openssl rand -hex 16` prints
        assert api_as(acme, "tenant_admin").put(PATH, {"secret": token}, format="json").status_code == 200

    def test_a_weak_secret_stored_before_the_minimum_refuses_deliveries_until_reset(self, client, api_as, acme):
        # given: "0" stored the way it was accepted before (the service now refuses it)
        from tests.roi.test_webhooks import deliver, deployment_status

        store_unchecked(acme, "0", tool="github")
        admin = api_as(acme, "tenant_admin")

        # when: GitHub delivers, signed with "0"
        refused = deliver(client, "github", "acme", deployment_status("success"), "0")

        # then: refused, and the status says why and what to do
        assert refused.status_code == 401
        problem = admin.get("/api/v1/config/integrations/github").json()["problem"]
        assert "weaker than the minimum" in problem and "sets a new one" in problem
        strong = secrets.token_hex(20)
        assert admin.put("/api/v1/config/integrations/github", {"secret": strong}, format="json").status_code == 200
        assert admin.get("/api/v1/config/integrations/github").json()["problem"] is None
        assert deliver(client, "github", "acme", deployment_status("success"), strong).status_code == 201

    def test_one_tenants_weak_secret_does_not_touch_another_tenants_deliveries(self, client, acme, globex):
        from tests.roi.test_webhooks import deliver, deployment_status

        store_unchecked(acme, "0", tool="github")
        set_secret(globex, GLOBEX_SECRET, tool="github")

        assert deliver(client, "github", "globex", deployment_status("success"), GLOBEX_SECRET).status_code == 201
        # globex's strong secret signs nothing for acme
        assert deliver(client, "github", "acme", deployment_status("success"), GLOBEX_SECRET).status_code == 401


def store_unchecked(tenant, secret: str, tool: str) -> None:
    """Write a secret past the strength check, as rows stored before it existed were."""
    from django.utils import timezone

    from governance.secrets import _context

    with tenant_scope(tenant):
        row = IntegrationSecret(tenant=tenant, tool=tool, set_at=timezone.now())
        row.key_id, row.ciphertext = encrypt(secret, context=_context(row))
        row.save()


class TestEncryptionAtRest:
    def test_the_database_column_does_not_hold_the_secret(self, acme):
        set_secret(acme)
        ciphertext, key_id = stored_column(acme)
        assert SECRET not in ciphertext
        assert SECRET.encode() not in base64.b64decode(ciphertext)
        assert key_id == "embedded"  # the default derived from SECRET_KEY in these tests

    def test_the_same_secret_encrypts_differently_each_time(self, acme, globex):
        set_secret(acme)
        set_secret(globex)
        assert stored_column(acme)[0] != stored_column(globex)[0]

    def test_a_ciphertext_is_bound_to_its_tenant_and_tool(self, acme, globex):
        # Copied into another tenant's row (e.g. with database access), it does not decrypt.
        key_id, ciphertext = encrypt(SECRET, context=f"integration-secret:{acme.pk}:pagerduty")
        with pytest.raises(SecretUndecryptable):
            decrypt(ciphertext, key_id=key_id, context=f"integration-secret:{globex.pk}:pagerduty")
        with pytest.raises(SecretUndecryptable):
            decrypt(ciphertext, key_id=key_id, context=f"integration-secret:{acme.pk}:github")

    def test_tampered_or_unknown_ciphertexts_are_refused_not_garbled(self):
        key_id, ciphertext = encrypt(SECRET, context="c")
        flipped = bytearray(base64.b64decode(ciphertext))
        flipped[-1] ^= 1
        for bad in (base64.b64encode(bytes(flipped)).decode(), "not base64!", ""):
            with pytest.raises(SecretUndecryptable):
                decrypt(bad, key_id=key_id, context="c")
        with pytest.raises(SecretUndecryptable, match="not in FIELD_ENCRYPTION_KEYS"):
            decrypt(ciphertext, key_id="retired", context="c")


class TestRotation:
    def test_old_ciphertexts_decrypt_until_rotation_re_encrypts_them_with_the_new_key(self, settings, acme, globex):
        # given: secrets made under the old key
        settings.FIELD_ENCRYPTION_KEYS = {"2025": OLD_KEY}
        set_at = set_secret(acme).set_at
        set_secret(globex, GLOBEX_SECRET, tool="github")
        before = stored_column(acme)

        # when: a new key goes first, the old one still listed
        settings.FIELD_ENCRYPTION_KEYS = {"2026": NEW_KEY, "2025": OLD_KEY}

        # then: nothing re-encrypted yet, and the old ciphertexts still decrypt
        assert stored_column(acme) == before
        assert reveal(acme) == SECRET

        # when: rotation runs
        out = StringIO()
        call_command("rotate_encryption_key", stdout=out)

        # then: every row carries the new key id and a new ciphertext, and decrypts without the old key
        assert "Re-encrypted 2 secret(s) with key '2026'" in out.getvalue()
        after = stored_column(acme)
        assert after[1] == "2026" and after[0] != before[0]
        assert stored_column(globex, "github")[1] == "2026"
        settings.FIELD_ENCRYPTION_KEYS = {"2026": NEW_KEY}
        assert (reveal(acme), reveal(globex, "github")) == (SECRET, GLOBEX_SECRET)
        with tenant_scope(acme):
            assert IntegrationSecret.objects.get().set_at == set_at  # rotation is not a new secret

    def test_rotating_twice_changes_nothing_the_second_time(self, settings, acme):
        settings.FIELD_ENCRYPTION_KEYS = {"2026": NEW_KEY}
        set_secret(acme)
        before = stored_column(acme)
        out = StringIO()
        call_command("rotate_encryption_key", stdout=out)
        assert "Re-encrypted 0 secret(s)" in out.getvalue()
        assert stored_column(acme) == before

    def test_a_secret_whose_key_was_removed_too_early_is_reported(self, settings, acme):
        settings.FIELD_ENCRYPTION_KEYS = {"2025": OLD_KEY}
        set_secret(acme)
        settings.FIELD_ENCRYPTION_KEYS = {"2026": NEW_KEY}
        with pytest.raises(CommandError, match="acme pagerduty"):
            call_command("rotate_encryption_key", stdout=StringIO())


# --- Configuration --------------------------------------------------------------------------


def check(**env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "FIELD_ENCRYPTION_KEYS"}}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


PRODUCTION = {"DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(64), "ALLOWED_HOSTS": "bizvalue.example.com"}


def test_it_refuses_to_start_with_debug_off_and_no_encryption_keys():
    result = check(**PRODUCTION)
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS must be set" in result.stderr


@pytest.mark.parametrize(
    "keys",
    ["k1", "k1:c2hvcnQ=", f"k1:{secrets.token_urlsafe(32)},k1:{secrets.token_urlsafe(32)}", "bad id:AAAA"],
)
def test_it_refuses_malformed_encryption_keys(keys):
    result = check(FIELD_ENCRYPTION_KEYS=keys)
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS" in result.stderr


def test_it_starts_with_keys_in_either_base64_alphabet():
    standard = base64.b64encode(os.urandom(32)).decode()
    result = check(**PRODUCTION, FIELD_ENCRYPTION_KEYS=f"2026:{secrets.token_urlsafe(32)},2025:{standard}")
    assert result.returncode == 0, result.stderr
