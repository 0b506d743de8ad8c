"""Reads for tenants, members and keys."""

from __future__ import annotations

from typing import Any, cast

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission, User
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import QuerySet
from guardian.models import UserObjectPermission
from guardian.shortcuts import get_objects_for_user, get_users_with_perms

from governance import roles, sql
from governance.models import ApiKey, AuditEvent, AuditKind, Tenant
from governance.roles import Role, permission_codename, role_from_codename

ROLE_PERMISSIONS = [f"governance.{permission_codename(role)}" for role in Role.values]


def tenants_for_user(*, user: User) -> QuerySet[Tenant]:
    """Tenants where `user` holds any role, in one query."""
    if not user.is_authenticated:
        return Tenant.objects.none()
    return get_objects_for_user(
        user, ROLE_PERMISSIONS, klass=Tenant, any_perm=True, with_superuser=False, accept_global_perms=False
    ).order_by("name")


def roles_for_user(*, user: User, tenant: Tenant) -> frozenset[str]:
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


USER_PERMISSIONS = UserObjectPermission._meta.db_table
PERMISSIONS = Permission._meta.db_table


def _tenant_columns(alias: str) -> str:
    return ", ".join(f'{alias}."{field.column}"' for field in Tenant._meta.concrete_fields)


def _tenant_of(values: list[Any]) -> Tenant:
    return Tenant.from_db(connection.alias, [f.attname for f in Tenant._meta.concrete_fields], values)


def tenant_and_roles_for_user(*, user: User, slug: str) -> tuple[Tenant | None, frozenset[str]]:
    """The tenant `slug` and the roles `user` holds there (as `roles_for_user` reads them), in
    one statement: every page resolves these before anything else."""
    statement = (
        f'SELECT {_tenant_columns("t")}, p."codename" FROM "{Tenant._meta.db_table}" t'  # noqa: S608
        f' LEFT JOIN "{USER_PERMISSIONS}" u ON u."object_pk" = CAST(t."id" AS VARCHAR(255))'
        ' AND u."user_id" = %s AND u."content_type_id" = %s'
        f' LEFT JOIN "{PERMISSIONS}" p ON p."id" = u."permission_id"'
        ' WHERE t."slug" = %s'
    )
    tenant_type = ContentType.objects.get_for_model(Tenant).pk
    rows = sql.select(statement, [user.pk, tenant_type, slug], [*Tenant._meta.concrete_fields, None])
    if not rows:
        return None, frozenset()
    held = frozenset(role for role in (role_from_codename(row[-1] or "") for row in rows) if role is not None)
    return _tenant_of(rows[0][:-1]), held


def holds_role_on_any_tenant(*, user: User, roles_held: frozenset[str]) -> bool:
    """Whether `user` holds one of `roles_held` on any tenant, in one statement: every page
    asks it (MFA), so it is written in SQL rather than compiled by the ORM each time."""
    codenames = [permission_codename(role) for role in sorted(roles_held)]
    statement = (
        f'SELECT 1 FROM "{USER_PERMISSIONS}" u JOIN "{PERMISSIONS}" p ON p."id" = u."permission_id"'  # noqa: S608
        ' WHERE u."user_id" = %s AND u."content_type_id" = %s'
        f' AND p."codename" IN ({", ".join(["%s"] * len(codenames))}) LIMIT 1'
    )
    tenant_type = ContentType.objects.get_for_model(Tenant).pk
    return bool(sql.select(statement, [user.pk, tenant_type, *codenames], [None]))


def tenant_choices_for_user(*, user: User) -> list[Tenant]:
    """The tenants where `user` holds a role, by name (the page header's switcher), in one statement.

    Direct (user) permissions, as `roles_for_user` reads them: a tenant listed here is one
    whose pages the user can open.
    """
    if not user.is_authenticated:
        return []
    codenames = [permission_codename(role) for role in Role.values]
    statement = (
        f'SELECT {_tenant_columns("t")} FROM "{Tenant._meta.db_table}" t WHERE EXISTS ('  # noqa: S608
        f'SELECT 1 FROM "{USER_PERMISSIONS}" u JOIN "{PERMISSIONS}" p ON p."id" = u."permission_id"'
        ' WHERE u."object_pk" = CAST(t."id" AS VARCHAR(255)) AND u."user_id" = %s AND u."content_type_id" = %s'
        f' AND p."codename" IN ({", ".join(["%s"] * len(codenames))})) ORDER BY t."name"'
    )
    tenant_type = ContentType.objects.get_for_model(Tenant).pk
    rows = sql.select(statement, [user.pk, tenant_type, *codenames], Tenant._meta.concrete_fields)
    return [_tenant_of(row) for row in rows]


def members_of(*, tenant: Tenant) -> list[tuple[User, frozenset[str]]]:
    """Every member of `tenant` with their roles, ordered by username."""
    # With attach_perms, guardian answers a dict of user to codenames (its annotation covers both forms).
    users = cast(
        dict[User, list[str]],
        get_users_with_perms(tenant, attach_perms=True, with_superusers=False, with_group_users=False),
    )
    members = []
    for user, codenames in users.items():
        roles = frozenset(r for r in map(role_from_codename, codenames) if r is not None)
        if roles:
            members.append((user, roles))
    return sorted(members, key=lambda pair: pair[0].get_username())


def tenant_admins(*, tenant: Tenant) -> list[User]:
    """Active members holding tenant_admin on `tenant`: who can still manage its members and keys."""
    return [user for user, held in members_of(tenant=tenant) if user.is_active and Role.TENANT_ADMIN.value in held]


def tenants_user_alone_administers(*, user: User) -> list[Tenant]:
    """Tenants whose only active tenant admin is `user`: deactivating or deleting them would orphan these."""
    administered = get_objects_for_user(
        user,
        f"governance.{permission_codename(Role.TENANT_ADMIN.value)}",
        klass=Tenant,
        with_superuser=False,
        accept_global_perms=False,
    )
    return [tenant for tenant in administered.order_by("name") if tenant_admins(tenant=tenant) == [user]]


def api_keys_list() -> QuerySet[ApiKey]:
    """The keys of the tenant in scope, newest first."""
    return ApiKey.objects.select_related("created_by", "created_by_key", "root_user").order_by("-created_at")


def user_by_username(*, username: str) -> User | None:
    return get_user_model().objects.filter(username=username).first()


def model_approvers(*, tenant: Tenant) -> list[User]:
    """Members who may change, and so approve changes of, the financial model and KPIs."""
    return [user for user, held in members_of(tenant=tenant) if held & roles.MANAGE_MODEL]


def business_context_last_change(*, tenant: Tenant) -> AuditEvent | None:
    """The audit event of the last business context change (None: never changed since creation)."""
    return AuditEvent.all_tenants.filter(tenant=tenant, kind=AuditKind.BUSINESS_CONTEXT_CHANGED).first()


def dual_approval_last_change(*, tenant: Tenant) -> AuditEvent | None:
    """The audit event of the last time dual approval was switched on or off (None: never, the default)."""
    return AuditEvent.all_tenants.filter(tenant=tenant, kind=AuditKind.DUAL_APPROVAL_CHANGED).first()
