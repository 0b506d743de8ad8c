"""What a request carries once authentication and tenancy have resolved it, as types.

Types for annotations only: at run time each is the ordinary request, with the attributes
`governance.pages.tenant_page` or `governance.api.TenantAPIView` set on it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.models import User
from django.http import HttpRequest
from rest_framework.request import Request

if TYPE_CHECKING:
    from governance.models import Tenant


class SignedInRequest(HttpRequest):
    """The request a `login_required` view receives: its user is signed in, never anonymous."""

    user: User


class TenantRequest(SignedInRequest):
    """The request a `tenant_page` view receives: a signed-in member, its tenant and roles set."""

    tenant: Tenant
    roles: frozenset[str]


class TenantApiRequest(Request):
    """The request a `TenantAPIView` handler receives: the caller's tenant and roles set."""

    tenant: Tenant
    roles: frozenset[str]
