"""Who is sending: each tool proves itself its own way, for the tenant named in the path.

These tools cannot all send a bearer key, so the tenant is named in the path: Alertmanager
sends an API key of that tenant, PagerDuty and GitHub an HMAC-SHA256 of the raw body under
the tenant's stored secret.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os

from rest_framework import exceptions
from rest_framework.authentication import get_authorization_header
from rest_framework.request import Request

from governance import roles
from governance.auth import api_key_find
from governance.ledger import Actor
from governance.models import IntegrationTool
from governance.secrets import SecretUndecryptable, integration_secret_reveal, secret_strength_problem
from governance.tenancy import current_tenant

logger = logging.getLogger(__name__)

# The same answer whatever was wrong (no key, another tenant's key, no secret set, bad
# signature), so a caller learns nothing beyond "not accepted".
NOT_ACCEPTED = "Missing or invalid credentials for this webhook."


def hmac_sha256_hex(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_matches(*, tool: str, body: bytes, candidates: list[str]) -> bool:
    """Whether any candidate is the HMAC-SHA256 of the raw body under the scope tenant's secret for `tool`."""
    try:
        secret = integration_secret_reveal(tool=tool)
    except SecretUndecryptable:
        logger.exception("The %s webhook secret of %s does not decrypt", tool, current_tenant().slug)
        secret = None
    if secret is None:
        logger.warning("%s webhook for %s refused: no secret is set", tool, current_tenant().slug)
    elif secret_strength_problem(secret) is not None:
        # Stored before secrets had a minimum strength: guessable, so nothing it signs is trusted.
        logger.warning(
            "%s webhook for %s refused: the stored secret is too weak; set a new one", tool, current_tenant().slug
        )
        secret = None
    # Compared against a throwaway secret when none is set, so timing does not tell either.
    expected = hmac_sha256_hex(secret or os.urandom(32).hex(), body).encode()
    matches = [hmac.compare_digest(expected, candidate.strip().encode()) for candidate in candidates]
    return secret is not None and any(matches)


def pagerduty_sender(request: Request, body: bytes) -> Actor:
    """PagerDuty signs with `v1=<hex>`, several comma-separated while a secret is being changed."""
    header = request.headers.get("X-PagerDuty-Signature", "")
    candidates = [part.strip()[3:] for part in header.split(",") if part.strip().startswith("v1=")]
    if not signature_matches(tool=IntegrationTool.PAGERDUTY, body=body, candidates=candidates):
        raise exceptions.AuthenticationFailed(NOT_ACCEPTED)
    return Actor.system("webhook:pagerduty")


def github_sender(request: Request, body: bytes) -> Actor:
    scheme, _, digest = request.headers.get("X-Hub-Signature-256", "").partition("=")
    candidates = [digest] if scheme == "sha256" else []
    if not signature_matches(tool=IntegrationTool.GITHUB, body=body, candidates=candidates):
        raise exceptions.AuthenticationFailed(NOT_ACCEPTED)
    return Actor.system("webhook:github")


def alertmanager_sender(request: Request, body: bytes) -> Actor:
    """An active API key of the tenant in the path, with a role that may send events."""
    scheme, _, raw_key = get_authorization_header(request).decode("latin-1").partition(" ")
    raw_key = raw_key.strip()
    api_key = api_key_find(raw_key) if scheme.lower() == "bearer" and raw_key else None
    if api_key is None or api_key.tenant_id != current_tenant().pk:
        raise exceptions.AuthenticationFailed(NOT_ACCEPTED)
    if api_key.role not in roles.RECORD_EVENTS:
        raise exceptions.PermissionDenied("Your role may not do this.")
    return Actor.of_key(api_key)
