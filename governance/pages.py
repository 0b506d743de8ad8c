"""Tenancy for server-rendered pages: `/t/<slug>/...` resolves the tenant once, then scopes the view."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from governance import mfa, roles, selectors
from governance.tenancy import tenant_scope

View = Callable[..., HttpResponse]


def tenant_page(allowed_roles: frozenset[str] = roles.READ) -> Callable[[View], View]:
    """Decorate a page taking `slug`: members only (others get 404), `allowed_roles` or 403.

    The view runs, and renders, inside the tenant's scope, so it cannot read another
    tenant's rows even by mistake; `request.tenant` and `request.roles` are set.
    """

    def decorator(view: View) -> View:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, slug: str, *args: Any, **kwargs: Any) -> HttpResponse:
            tenant, held = selectors.tenant_and_roles_for_user(user=request.user, slug=slug)
            if tenant is None or not held:
                raise Http404("No such tenant.")
            if not mfa.mfa_satisfied(request):
                return mfa.mfa_redirect(request)
            if not held & allowed_roles:
                raise PermissionDenied
            request.tenant = tenant  # type: ignore[attr-defined]
            request.roles = held  # type: ignore[attr-defined]
            with tenant_scope(tenant):
                response = view(request, *args, **kwargs)
                if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                    response.render()
                return response

        return wrapped

    return decorator
