"""The API's tenancy and roles: the base every tenant API view inherits, and its helpers.

The endpoints are in `tenant_api` (tenant, settings, members), `credentials_api` (keys,
integration secrets), `audit_api` (audit log, period close) and the other apps' `*_api`.

Every tenant API view inherits `TenantAPIView`: once DRF has authenticated the caller, the
tenant is resolved (from the key, or the session user's membership and `X-Tenant`) and the
rest of the request runs inside `tenant_scope`, one transaction, rolled back on error.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any, ClassVar, cast

from django.contrib.auth.models import User
from django.db import transaction
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request

from governance import mfa, roles, selectors
from governance.errors import DATABASE_ERRORS
from governance.idempotency import IdempotentMixin
from governance.ledger import Actor
from governance.models import ApiKey, Tenant
from governance.tenancy import tenant_scope

TENANT_HEADER = "X-Tenant"


def resolve_tenant(request: Request) -> tuple[Tenant, frozenset[str]]:
    """The tenant this request acts on, and the caller's roles there.

    A key names its tenant; a session user has their only tenant or the one named by
    `X-Tenant`. A tenant the caller does not belong to is a 404, like one that does not exist.
    """
    named = request.headers.get(TENANT_HEADER, "").strip()
    api_key = request.auth if isinstance(request.auth, ApiKey) else None
    if api_key is not None:
        if named and named != api_key.tenant.slug:
            raise exceptions.NotFound("No such tenant.")
        return api_key.tenant, frozenset({api_key.role})
    if not mfa.mfa_satisfied(request):
        raise exceptions.PermissionDenied(mfa.MFA_REQUIRED_MESSAGE)
    user = cast(User, request.user)  # called for an authenticated caller only, and not a key: a user
    if named:
        tenant = Tenant.objects.filter(slug=named).first()
        held = selectors.roles_for_user(user=user, tenant=tenant) if tenant else frozenset()
        if tenant is None or not held:
            raise exceptions.NotFound("No such tenant.")
        return tenant, held
    tenants = list(selectors.tenants_for_user(user=user)[:2])
    if not tenants:
        raise exceptions.PermissionDenied("You are not a member of any tenant.")
    if len(tenants) > 1:
        raise exceptions.ValidationError({TENANT_HEADER: ["You belong to several tenants: name one in this header."]})
    return tenants[0], selectors.roles_for_user(user=user, tenant=tenants[0])


def actor_of(request: Request) -> Actor:
    """The person or key behind an authenticated request, as the ledger and history name it."""
    if isinstance(request.auth, ApiKey):
        return Actor.of_key(request.auth)
    return Actor.of_user(cast(User, request.user))  # authenticated, and not by a key: a user


class HasTenantRole(BasePermission):
    """The caller holds one of the roles the view allows for this HTTP method."""

    message = "Your role may not do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        if not hasattr(view, (request.method or "").lower()):  # (a request always has a method)
            return True  # let DRF answer 405 for a method the view does not have
        allowed = view.roles_for(request.method)
        return bool(getattr(request, "roles", frozenset()) & allowed)


class TenantAPIView(IdempotentMixin, GenericAPIView):
    """Base of every tenant API view: tenant scope after authentication, roles per method.

    Unsafe requests may carry an `Idempotency-Key` (governance.idempotency).
    """

    permission_classes = [IsAuthenticated, HasTenantRole]
    # HTTP method -> roles allowed; "*" is the fallback for methods not listed.
    allowed_roles: ClassVar[dict[str, frozenset[str]]] = {"*": roles.READ}

    def roles_for(self, method: str) -> frozenset[str]:
        if method == "HEAD":
            method = "GET"  # HEAD is GET without the body: the same callers may ask
        if method == "OPTIONS":
            # Whoever may call some method here may ask which methods there are.
            return frozenset().union(*(self.roles_for(name) for name in self.allowed_roles if name != "OPTIONS"))
        return self.allowed_roles.get(method, self.allowed_roles.get("*", frozenset()))

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            with ExitStack() as stack:
                self._scope_stack = stack
                response = super().dispatch(request, *args, **kwargs)
                if getattr(response, "exception", False) and getattr(self, "_tenant_scoped", False):
                    transaction.set_rollback(True)
                return response
        except DATABASE_ERRORS as error:
            # The connection died in the scope, so leaving its transaction failed as well:
            # the same 503 as a failure inside the view.
            return self.finalize_response(self.request, self.handle_exception(error))

    def perform_authentication(self, request: Request) -> None:
        super().perform_authentication(request)
        if not request.user or not request.user.is_authenticated:
            return  # the permission check answers 401
        tenant, held = resolve_tenant(request)
        request.tenant = tenant  # type: ignore[attr-defined]
        request.roles = held  # type: ignore[attr-defined]
        self._scope_stack.enter_context(tenant_scope(tenant))
        self._tenant_scoped = True


def query_of(request: Request) -> dict[str, str]:
    """The query string as a plain mapping, for a filter serializer to validate.

    DRF reads a QueryDict as form input, where an empty optional field counts as not sent:
    `?date=` would be answered as if no date were given. Here an empty value is a value,
    refused by the field like any other it cannot read.
    """
    return request.query_params.dict()


TENANT_PARAMETER = OpenApiParameter(
    TENANT_HEADER,
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Tenant slug, for session users in several tenants.",
)
