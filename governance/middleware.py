"""Request middleware: the platform admins' view of Django admin, and JSON-only routing under `/api/`."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve

from governance import mfa
from governance.tenancy import all_tenants_scope


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
