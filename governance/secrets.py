"""Integration secrets: encrypted at rest with AES-256-GCM under keys named in settings.

`FIELD_ENCRYPTION_KEYS` maps key ids to keys, the current one first. Each row records the
id of the key that encrypted it, so old keys keep decrypting until
`rotate_encryption_key` has re-encrypted every row with the current one. The ciphertext
is bound to its tenant and tool (GCM associated data), so a row copied to another tenant
or tool does not decrypt.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from governance.audit import audit_record
from governance.ledger import Actor
from governance.models import AuditKind, IntegrationSecret, IntegrationTool
from governance.tenancy import current_tenant

NONCE_BYTES = 12
MAX_SECRET_LENGTH = 1000
# A signing secret must not be guessable: an attacker who guesses it signs deliveries that
# change a tenant's figures. 32 characters of at least 10 different ones is what a random
# token from any generator has (`openssl rand -hex 32`), and what a word or a short
# phrase does not.
MIN_SECRET_LENGTH = 32
MIN_SECRET_DISTINCT_CHARACTERS = 10
WEAK_STORED_MESSAGE = (
    "The stored secret is weaker than the minimum ({problem}): deliveries are refused until a "
    "tenant admin sets a new one."
)


class SecretUndecryptable(Exception):
    """A stored secret cannot be decrypted: its key is gone from settings, or it was tampered with."""


def _keys() -> dict[str, bytes]:
    keys: dict[str, bytes] = settings.FIELD_ENCRYPTION_KEYS
    if not keys:
        raise SecretUndecryptable("FIELD_ENCRYPTION_KEYS is empty")
    return keys


def current_key_id() -> str:
    """The id of the key new ciphertexts are made with: the first one configured."""
    return next(iter(_keys()))


def encrypt(plaintext: str, *, context: str) -> tuple[str, str]:
    """(key id, base64 of nonce ‖ ciphertext) under the current key, bound to `context`."""
    key_id = current_key_id()
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(_keys()[key_id]).encrypt(nonce, plaintext.encode(), context.encode())
    return key_id, base64.b64encode(nonce + sealed).decode()


def decrypt(ciphertext: str, *, key_id: str, context: str) -> str:
    """The plaintext of `ciphertext`, which `key_id` made for `context`; raises if it cannot be."""
    key = _keys().get(key_id)
    if key is None:
        raise SecretUndecryptable(f"encryption key {key_id!r} is not in FIELD_ENCRYPTION_KEYS")
    try:
        raw = base64.b64decode(ciphertext, validate=True)
        return AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode()).decode()
    except (InvalidTag, ValueError) as error:
        raise SecretUndecryptable(f"ciphertext does not decrypt with key {key_id!r}") from error


# The length is stated in the API's schema too; DRF refuses a shorter secret with this.
TOO_SHORT_MESSAGE = (
    f"Too weak: at least {MIN_SECRET_LENGTH} characters are needed "
    "(generate one with `openssl rand -hex 32`, and set it in the tool too)."
)


def secret_strength_problem(secret: str) -> str | None:
    """Why `secret` is too weak to sign webhooks with, or None when it is strong enough."""
    if len(secret) < MIN_SECRET_LENGTH:
        return f"at least {MIN_SECRET_LENGTH} characters are needed, {len(secret)} were given"
    if len(set(secret)) < MIN_SECRET_DISTINCT_CHARACTERS:
        return f"at least {MIN_SECRET_DISTINCT_CHARACTERS} different characters are needed, e.g. a random token"
    return None


def secret_strength_check(*, secret: str, field: str) -> None:
    """Refuse a weak signing secret with a ValidationError naming `field`."""
    problem = secret_strength_problem(secret)
    if problem is not None:
        raise ValidationError(
            {field: [f"Too weak: {problem} (generate one with `openssl rand -hex 32`, and set it in the tool too)."]}
        )


def _context(secret: IntegrationSecret) -> str:
    return f"integration-secret:{secret.tenant_id}:{secret.tool}"


def integration_secret_set(*, tool: str, secret: str, actor: Actor) -> IntegrationSecret:
    """Store (or replace) the scope tenant's secret for `tool`, encrypted; the plaintext is never kept."""
    if tool not in IntegrationTool.values:
        raise ValidationError({"tool": [f"Unknown tool {tool!r}; choose one of {', '.join(IntegrationTool.values)}."]})
    if not secret.strip():
        raise ValidationError({"secret": ["Must not be blank."]})
    if len(secret) > MAX_SECRET_LENGTH:
        raise ValidationError({"secret": [f"Must be at most {MAX_SECRET_LENGTH} characters."]})
    secret_strength_check(secret=secret, field="secret")
    row = IntegrationSecret.objects.filter(tool=tool).first() or IntegrationSecret(tenant=current_tenant(), tool=tool)
    row.key_id, row.ciphertext = encrypt(secret, context=_context(row))
    row.set_at = timezone.now()
    row.set_by = actor.user
    row.set_by_key = actor.api_key
    row.save()
    audit_record(kind=AuditKind.SECRET_CHANGED, actor=actor.label, detail={"tool": tool, "key_id": row.key_id})
    return row


def integration_secret_status(*, tool: str) -> IntegrationSecret | None:
    """The scope tenant's secret row for `tool` (for when it was set), or None."""
    return IntegrationSecret.objects.filter(tool=tool).first()


def integration_secret_reveal(*, tool: str) -> str | None:
    """The scope tenant's plaintext secret for `tool`, for checking a signature; None if unset."""
    row = integration_secret_status(tool=tool)
    return None if row is None else decrypt(row.ciphertext, key_id=row.key_id, context=_context(row))


def integration_secret_problem(*, tool: str) -> str | None:
    """Why deliveries signed with the scope tenant's stored secret for `tool` are refused, or None.

    Secrets stored before the minimum strength existed stay stored (nothing is lost), but
    a delivery is not accepted under one until it is replaced.
    """
    try:
        secret = integration_secret_reveal(tool=tool)
    except SecretUndecryptable:
        return "The stored secret cannot be decrypted: deliveries are refused until a tenant admin sets a new one."
    problem = None if secret is None else secret_strength_problem(secret)
    return None if problem is None else WEAK_STORED_MESSAGE.format(problem=problem)


@dataclass(frozen=True)
class Reencrypted:
    count: int
    failures: list[str]


# Encrypted fields of other apps (the alert webhook's secret) register their re-encryption
# here, so `rotate_encryption_key` covers them without governance importing those apps.
OTHER_REENCRYPTIONS: list[Callable[[], Reencrypted]] = []


def integration_secrets_reencrypt() -> Reencrypted:
    """Re-encrypt the scope tenant's secrets made with an older key, so that key can be retired."""
    key_id = current_key_id()
    count, failures = 0, []
    for row in IntegrationSecret.objects.exclude(key_id=key_id):
        try:
            plaintext = decrypt(row.ciphertext, key_id=row.key_id, context=_context(row))
        except SecretUndecryptable as error:
            failures.append(f"{row.tool}: {error}")
            continue
        row.key_id, row.ciphertext = encrypt(plaintext, context=_context(row))
        row.save(update_fields=["key_id", "ciphertext"])
        count += 1
    return Reencrypted(count=count, failures=failures)
