"""Django admin is the platform admins' tool: for superusers it sees every tenant."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from governance import mfa
from governance.tenancy import all_tenants_scope


class PlatformAdminScopeMiddleware:
    """Runs a superuser's admin requests in `all_tenants_scope`, so RLS lets admin list every tenant's rows."""

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
