"""Reads for tenants, members and keys."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from guardian.models import UserObjectPermission
from guardian.shortcuts import get_objects_for_user, get_users_with_perms

from governance import roles
from governance.models import ApiKey, AuditEvent, AuditKind, Tenant
from governance.roles import Role, permission_codename, role_from_codename

ROLE_PERMISSIONS = [f"governance.{permission_codename(role)}" for role in Role.values]


def tenants_for_user(*, user: AbstractBaseUser) -> QuerySet[Tenant]:
    """Tenants where `user` holds any role, in one query."""
    if not user.is_authenticated:
        return Tenant.objects.none()
    return get_objects_for_user(
        user, ROLE_PERMISSIONS, klass=Tenant, any_perm=True, with_superuser=False, accept_global_perms=False
    ).order_by("name")


def roles_for_user(*, user: AbstractBaseUser, tenant: Tenant) -> frozenset[str]:
    """The roles `user` holds on `tenant` (empty: not a member)."""
    if not user.is_authenticated:
        return frozenset()
    codenames = UserObjectPermission.objects.filter(
        user=user,
        content_type__app_label="governance",
        content_type__model="tenant",
        object_pk=str(tenant.pk),
    ).values_list("permission__codename", flat=True)
    return frozenset(role for role in map(role_from_codename, codenames) if role is not None)


def members_of(*, tenant: Tenant) -> list[tuple[AbstractBaseUser, frozenset[str]]]:
    """Every member of `tenant` with their roles, ordered by username."""
    users = get_users_with_perms(tenant, attach_perms=True, with_superusers=False, with_group_users=False)
    members = []
    for user, codenames in users.items():
        roles = frozenset(r for r in map(role_from_codename, codenames) if r is not None)
        if roles:
            members.append((user, roles))
    return sorted(members, key=lambda pair: pair[0].get_username())


def api_keys_list() -> QuerySet[ApiKey]:
    """The keys of the tenant in scope, newest first."""
    return ApiKey.objects.select_related("created_by").order_by("-created_at")


def user_by_username(*, username: str) -> AbstractBaseUser | None:
    return get_user_model().objects.filter(username=username).first()


def model_approvers(*, tenant: Tenant) -> list[AbstractBaseUser]:
    """Members who may change, and so approve changes of, the financial model and KPIs."""
    return [user for user, held in members_of(tenant=tenant) if held & roles.MANAGE_MODEL]


def dual_approval_last_change(*, tenant: Tenant) -> AuditEvent | None:
    """The audit event of the last time dual approval was switched on or off (None: never, the default)."""
    return AuditEvent.all_tenants.filter(tenant=tenant, kind=AuditKind.DUAL_APPROVAL_CHANGED).first()
