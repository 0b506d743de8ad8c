"""`Idempotency-Key` on unsafe API requests: a retry gets the first answer instead of a second write.

Same key and body within 24 hours, from the same principal (user or API key): the stored
response. Same key, other body: 422. Same key while the first request is still running:
409 (a lock named after the key, taken for the request's transaction: a PostgreSQL
advisory lock; SQLite runs one writer at a time, so a second request waits for the first
and is then answered from what it stored). Only successful answers are stored: a failed
request wrote nothing and may be retried. Another principal of the tenant sending the
same key is a request of its own, never a replay of someone else's answer.

No secret is stored: a view names the fields of its answer that are secrets
(`idempotency_secret_fields`, e.g. a new API key's raw value), they are removed before the
answer is kept, and a retry of such a request gets a 409 naming what was made instead
(`IdempotentSecretNotReplayed`): the secret was shown once, and the retry makes nothing.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.http.request import RawPostDataException
from django.utils import timezone
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from governance.models import ApiKey, IdempotencyRecord
from governance.stores import database_store
from governance.tenancy import current_tenant

HEADER = "Idempotency-Key"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 255


class IdempotencyKeyInFlight(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "A request with this Idempotency-Key is still being processed; retry once it has finished."
    default_code = "idempotency_in_flight"


class IdempotencyKeyReused(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was used with a different request; use a new key for a new request."
    default_code = "idempotency_key_reused"


class IdempotentSecretNotReplayed(APIException):
    """A retry of a request whose answer held a secret: that answer is not kept, so it is not repeated."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "idempotent_secret_not_replayed"


def _withheld_message(body: Any) -> str:
    made = ""
    if isinstance(body, dict) and "id" in body:
        made = f" (id {body['id']}" + (f", prefix {body['prefix']}" if "prefix" in body else "") + ")"
    return (
        f"This request already succeeded{made}; its answer held a secret, which was shown once and is "
        "not stored, so it cannot be sent again and nothing new was made. If the first answer was lost, "
        "revoke what it made and send a new request with a new Idempotency-Key."
    )


class _Replay(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def _request_hash(request: Request) -> str:
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    try:
        digest.update(request._request.body)
    except RawPostDataException:
        # A multipart body already streamed into fields and files: hash what it held.
        # (A name's value is typed as possibly its empty list; a parsed upload never is.)
        files = {name: [f.name, f.size] for name, f in request.FILES.items() if isinstance(f, UploadedFile)}
        digest.update(json.dumps([sorted(request.POST.lists()), files], sort_keys=True, default=str).encode())
    return digest.hexdigest()


def _principal(request: Request) -> str:
    """The caller an answer belongs to: the API key, or the signed-in user."""
    if isinstance(request.auth, ApiKey):
        return f"key:{request.auth.pk}"
    return f"user:{request.user.pk}"


def _lock(tenant_id: int, principal: str, key: str) -> bool:
    return database_store().try_lock(f"idempotency:{tenant_id}:{principal}:{key}")


class IdempotentMixin:
    """For TenantAPIView: runs after authentication, inside the tenant's transaction."""

    _idempotency: tuple[str, str, str] | None = None
    # Fields of a successful answer that are secrets: never stored, so never replayed.
    idempotency_secret_fields: frozenset[str] = frozenset()

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        key = request.headers.get(HEADER)
        self._idempotency = None
        if key is None or request.method not in UNSAFE_METHODS:
            return
        if not key.strip() or len(key) > MAX_KEY_LENGTH:
            raise ValidationError({HEADER: [f"Must be 1 to {MAX_KEY_LENGTH} characters."]})
        tenant, principal = current_tenant(), _principal(request)
        if not _lock(tenant.pk, principal, key):
            raise IdempotencyKeyInFlight()
        request_hash = _request_hash(request)
        IdempotencyRecord.objects.filter(key=key, created_at__lt=timezone.now() - TTL).delete()
        stored = IdempotencyRecord.objects.filter(principal=principal, key=key).first()
        if stored is not None:
            if stored.request_hash != request_hash:
                raise IdempotencyKeyReused()
            if stored.secret_withheld:
                raise IdempotentSecretNotReplayed({HEADER: [_withheld_message(stored.response_body)]})
            replay = Response(stored.response_body, status=stored.status)
            replay["Idempotent-Replayed"] = "true"
            raise _Replay(replay)
        self._idempotency = (principal, key, request_hash)

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, _Replay):
            return exc.response
        return super().handle_exception(exc)  # type: ignore[misc]

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        if self._idempotency is not None and 200 <= response.status_code < 300 and not response.exception:
            principal, key, request_hash = self._idempotency
            data = getattr(response, "data", None)
            body: Any = None if data is None else json.loads(JSONRenderer().render(data))
            withheld = isinstance(body, dict) and bool(self.idempotency_secret_fields & body.keys())
            if withheld:
                body = {name: value for name, value in body.items() if name not in self.idempotency_secret_fields}
            IdempotencyRecord.objects.create(
                principal=principal,
                key=key,
                request_hash=request_hash,
                status=response.status_code,
                response_body=body,
                secret_withheld=withheld,
            )
            self._idempotency = None
        return response
