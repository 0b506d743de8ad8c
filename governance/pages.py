"""Tenancy for server-rendered pages: `/t/<slug>/...` resolves the tenant once, then scopes the view."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponseBase

from governance import mfa, roles, selectors
from governance.requests import TenantRequest
from governance.tenancy import tenant_scope

View = Callable[..., HttpResponseBase]


def tenant_page(allowed_roles: frozenset[str] = roles.READ) -> Callable[[View], View]:
    """Decorate a page taking `slug`: members only (others get 404), `allowed_roles` or 403.

    The view runs, and renders, inside the tenant's scope, so it cannot read another
    tenant's rows even by mistake; `request.tenant` and `request.roles` are set.
    """

    def decorator(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, slug: str, *args: Any, **kwargs: Any) -> HttpResponseBase:
            member = cast(TenantRequest, request)  # login_required: the user is signed in
            tenant, held = selectors.tenant_and_roles_for_user(user=member.user, slug=slug)
            if tenant is None or not held:
                raise Http404("No such tenant.")
            if not mfa.mfa_satisfied(request):
                return mfa.mfa_redirect(request)
            if not held & allowed_roles:
                raise PermissionDenied
            member.tenant = tenant
            member.roles = held
            with tenant_scope(tenant):
                response = view(member, *args, **kwargs)
                if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                    response.render()
                return response

        return wrapped

    return decorator
