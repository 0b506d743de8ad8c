"""Pages people look at."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from governance import roles, selectors
from governance.pages import tenant_page


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Land a member on their tenant; someone in several tenants picks one."""
    tenants = list(selectors.tenants_for_user(user=request.user))
    if len(tenants) == 1:
        return redirect("tenant-home", slug=tenants[0].slug)
    return render(request, "dashboards/choose_tenant.html", {"tenants": tenants})


@tenant_page()
def tenant_home(request: HttpRequest) -> HttpResponse:
    can_manage = bool(request.roles & (roles.MANAGE_TENANT | roles.AUDIT))  # type: ignore[attr-defined]
    context = {
        "can_manage": can_manage,
        "members": selectors.members_of(tenant=request.tenant) if can_manage else [],  # type: ignore[attr-defined]
        "api_keys": list(selectors.api_keys_list()) if can_manage else [],
    }
    return render(request, "dashboards/tenant_home.html", context)
