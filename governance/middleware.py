"""Request middleware: the platform admins' view of Django admin, JSON-only routing under `/api/`, and
request text no database can store refused with a 400."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.urls import Resolver404, resolve

from governance import mfa
from governance.tenancy import all_tenants_scope
from governance.text import escaped, unstorable_reason


class PlatformAdminScopeMiddleware:
    """Runs a superuser's admin requests in `all_tenants_scope`: admin reads every tenant through the platform role."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Staff in admin must have passed MFA like tenant admins; the login page itself stays open.
        if (
            request.path.startswith("/admin/")
            and request.user.is_authenticated
            and request.user.is_staff
            and not mfa.mfa_satisfied(request)
        ):
            return mfa.mfa_redirect(request)
        if request.path.startswith("/admin/") and request.user.is_authenticated and request.user.is_superuser:
            with all_tenants_scope():
                return self.get_response(request)
        return self.get_response(request)


class ApiRoutingMiddleware:
    """Under `/api/`, a path no route matches is a JSON 404 in every mode, never a page or a redirect.

    Django answers such a miss with its HTML debug page when DEBUG is on (the embedded
    default), and `APPEND_SLASH` redirects `ledger` to `ledger/` with an HTML 301, or fails
    with a 500 on a POST. API clients follow neither, so a path that differs from a route only
    by its trailing slash is served as that route, whatever the method.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if path.startswith("/api/") and not _routes(path, request):
            other = path[:-1] if path.endswith("/") else f"{path}/"
            if not _routes(other, request):
                return JsonResponse({"errors": {"detail": ["Not found."]}}, status=404)
            request.path_info = other
        return self.get_response(request)


def _routes(path: str, request: HttpRequest) -> bool:
    try:
        resolve(path, getattr(request, "urlconf", None))
    except Resolver404:
        return False
    return True


class UnstorableInputMiddleware:
    """A NUL or a lone surrogate in a header, a cookie, a path parameter, a query parameter or a
    page's form field is a 400 naming it.

    Views hand these values to queries and services (a session key, an Idempotency-Key, a
    filter); PostgreSQL refuses NUL in text (a 500) where SQLite matches or stores it, so they
    are refused once, here, before any view runs, with the same answer on both databases.
    Headers and cookies are checked before anything reads the session. JSON bodies are checked
    by the API's parser (governance.parsers); the API's multipart upload by its serializer.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        fields = list(request.headers.items())
        # A quoted cookie may spell a NUL as the octal escape \000, which Django decodes.
        fields.extend((f"cookie.{name}", value) for name, value in request.COOKIES.items())
        return _refusal(request, fields) or self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., HttpResponse], view_args: Any, view_kwargs: dict[str, Any]
    ) -> HttpResponse | None:
        fields: list[tuple[str, str]] = [(name, str(value)) for name, value in view_kwargs.items()]
        fields.extend((name, value) for name, values in request.GET.lists() for value in values)
        if request.method == "POST" and not request.path_info.startswith("/api/"):
            fields.extend((name, value) for name, values in request.POST.lists() for value in values)
        return _refusal(request, fields)


def _refusal(request: HttpRequest, fields: list[tuple[str, str]]) -> HttpResponse | None:
    """A 400 naming each of `fields` that holds unstorable text, or None if none does."""
    errors: dict[str, list[str]] = {}
    for name, value in fields:
        reason = unstorable_reason(name) or unstorable_reason(value)
        if reason:
            errors.setdefault(escaped(name), [reason])
    if not errors:
        return None
    if request.path_info.startswith("/api/"):
        return JsonResponse({"errors": errors}, status=400)
    # Without the request: its context processors would read the session the cookie names.
    # Pairs, not the dict: a template's `errors.items` would read a parameter named "items".
    return HttpResponse(render_to_string("400.html", {"errors": sorted(errors.items())}), status=400)
