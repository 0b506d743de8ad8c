"""Template context for the tenant switcher."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from governance import selectors


def tenancy(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "current_tenant": getattr(request, "tenant", None),
        "current_roles": sorted(getattr(request, "roles", ())),
        # Lazy: only pages that draw the switcher run the query, once.
        "my_tenants": SimpleLazyObject(lambda: selectors.tenant_choices_for_user(user=user)),
    }
