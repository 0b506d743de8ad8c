"""Every API error is JSON `{"errors": {"<field>": ["<message>", ...]}}`, never HTML or a 500 page."""

from __future__ import annotations

import logging
import sys
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig, ValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from governance.parsers import BODY, RequestBodyTooLarge, body_too_large_message

logger = logging.getLogger(__name__)

NON_FIELD = "detail"
# Seconds a client is told to wait before retrying when the database is unreachable.
DATABASE_RETRY_AFTER = 5
DATABASE_ERRORS = (OperationalError, InterfaceError)


class DatabaseUnavailable(exceptions.APIException):
    """The database connection failed (restart, failover, network): the transaction did not complete; retry."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The database is unavailable; retry shortly."
    default_code = "database_unavailable"
    # DRF's handler turns `wait` into a Retry-After header.
    wait = DATABASE_RETRY_AFTER


def _as_field_errors(detail: Any) -> dict[str, Any]:
    if isinstance(detail, dict):
        return {str(key): value if isinstance(value, list | dict) else [value] for key, value in detail.items()}
    if isinstance(detail, list):
        return {NON_FIELD: detail}
    return {NON_FIELD: [detail]}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, reshaped to our error envelope; Django's own errors mapped too."""
    if isinstance(exc, ValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = RequestBodyTooLarge()
    elif isinstance(exc, DATABASE_ERRORS):
        logger.warning("Database unavailable: %s", exc)
        exc = DatabaseUnavailable()
    response = exception_handler(exc, context)
    if response is None:
        # An unexpected error: logged with its traceback, answered as JSON.
        logger.exception("Unhandled API error", exc_info=exc)
        return Response({"errors": {NON_FIELD: ["Internal error."]}}, status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    if isinstance(exc, exceptions.ParseError):
        response.data = {"errors": {"body": [str(exc.detail)]}}
    else:
        response.data = {"errors": _as_field_errors(response.data)}
    return response


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or request.path.startswith("/webhooks/")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"errors": {NON_FIELD: ["Not found."]}}, status=404)
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if isinstance(sys.exc_info()[1], DATABASE_ERRORS):
        return _database_unavailable(request)
    if _wants_json(request):
        return JsonResponse({"errors": {NON_FIELD: ["Internal error."]}}, status=500)
    return render(request, "500.html", status=500)


def _database_unavailable(request: HttpRequest) -> HttpResponse:
    # Outside a view (middleware reading the session, say): same answer as the API's.
    # The page is rendered without the request: its context processors would query the database.
    if _wants_json(request):
        response: HttpResponse = JsonResponse(
            {"errors": {NON_FIELD: [str(DatabaseUnavailable.default_detail)]}}, status=503
        )
    else:
        response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = str(DATABASE_RETRY_AFTER)
    return response


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request) and isinstance(exception, RequestDataTooBig):
        return JsonResponse({"errors": {BODY: [body_too_large_message()]}}, status=413)
    if _wants_json(request):
        return JsonResponse({"errors": {NON_FIELD: ["Bad request."]}}, status=400)
    return HttpResponse("Bad request", status=400, content_type="text/plain")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"errors": {NON_FIELD: ["You do not have permission to perform this action."]}}, status=403)
    return render(request, "403.html", status=403)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"errors": {"csrf": [f"CSRF check failed: {reason}"]}}, status=403)
    return render(request, "403.html", {"reason": reason}, status=403)
