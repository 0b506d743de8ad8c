"""Pages people look at."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import markdown
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe

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


@cache
def methodology_html() -> str:
    """docs/methodology.md as HTML: the one text of every method, shown as written."""
    text = Path(settings.BASE_DIR, "docs", "methodology.md").read_text(encoding="utf-8")
    return markdown.markdown(text, extensions=["tables", "toc"])


@tenant_page()
def methodology(request: HttpRequest) -> HttpResponse:
    # Our own file, rendered by Markdown without raw user input: safe to mark as HTML.
    return render(request, "dashboards/methodology.html", {"methodology": mark_safe(methodology_html())})  # noqa: S308
