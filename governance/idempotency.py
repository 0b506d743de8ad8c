"""`Idempotency-Key` on unsafe API requests: a retry gets the first answer instead of a second write.

Same key and body within 24 hours: the stored response. Same key, other body: 422. Same
key while the first request is still running: 409 (a PostgreSQL advisory lock taken for
the request's transaction; SQLite runs one writer at a time, so it never overlaps).
Only successful answers are stored: a failed request wrote nothing and may be retried.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from django.db import connection
from django.http.request import RawPostDataException
from django.utils import timezone
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from governance.models import IdempotencyRecord
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


class _Replay(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def _request_hash(request: Request) -> str:
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    try:
        digest.update(request._request.body)
    except RawPostDataException:
        # A multipart body already streamed into fields and files: hash what it held.
        files = {name: [f.name, f.size] for name, f in request.FILES.items()}
        digest.update(json.dumps([sorted(request.POST.lists()), files], sort_keys=True, default=str).encode())
    return digest.hexdigest()


def _lock(tenant_id: int, key: str) -> bool:
    if connection.vendor != "postgresql":
        return True
    lock_id = int.from_bytes(hashlib.sha256(f"idempotency:{tenant_id}:{key}".encode()).digest()[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [lock_id])
        return bool(cursor.fetchone()[0])


class IdempotentMixin:
    """For TenantAPIView: runs after authentication, inside the tenant's transaction."""

    _idempotency: tuple[str, str] | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        key = request.headers.get(HEADER)
        self._idempotency = None
        if key is None or request.method not in UNSAFE_METHODS:
            return
        if not key.strip() or len(key) > MAX_KEY_LENGTH:
            raise ValidationError({HEADER: [f"Must be 1 to {MAX_KEY_LENGTH} characters."]})
        tenant = current_tenant()
        if not _lock(tenant.pk, key):
            raise IdempotencyKeyInFlight()
        request_hash = _request_hash(request)
        IdempotencyRecord.objects.filter(key=key, created_at__lt=timezone.now() - TTL).delete()
        stored = IdempotencyRecord.objects.filter(key=key).first()
        if stored is not None:
            if stored.request_hash != request_hash:
                raise IdempotencyKeyReused()
            replay = Response(stored.response_body, status=stored.status)
            replay["Idempotent-Replayed"] = "true"
            raise _Replay(replay)
        self._idempotency = (key, request_hash)

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, _Replay):
            return exc.response
        return super().handle_exception(exc)  # type: ignore[misc]

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        if self._idempotency is not None and 200 <= response.status_code < 300 and not response.exception:
            key, request_hash = self._idempotency
            data = getattr(response, "data", None)
            IdempotencyRecord.objects.create(
                key=key,
                request_hash=request_hash,
                status=response.status_code,
                response_body=None if data is None else json.loads(JSONRenderer().render(data)),
            )
            self._idempotency = None
        return response
