"""The one tenancy mechanism: a tenant in scope, or nothing at all.

The current tenant lives in a context variable that is reset in `finally`, and on
PostgreSQL the same scope sets `app.tenant_id` for row-level security with
`set_config(..., is_local => true)`, so the setting dies with the transaction and a pooled
connection can never carry one request's tenant into the next. The value is the tenant's
token, "<id>:<HMAC>" (governance.rls.tenant_token): the policies accept no bare id, so a
session of the application's role cannot name a tenant without DATABASE_RLS_KEY.

No setting widens what the application's role sees: work across tenants (`all_tenants_scope`)
runs on a second connection, the `platform` database alias, whose role has BYPASSRLS and
which the application's role can neither log in as nor SET ROLE to (docs/deployment.md).
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from governance.rls import tenant_token
from governance.stores import database_store

if TYPE_CHECKING:
    from governance.models import Tenant


class TenantScopeMissing(RuntimeError):
    """A tenant-owned model was queried with no tenant in scope: a bug, never a fallback."""


_current_tenant: contextvars.ContextVar[Tenant | None] = contextvars.ContextVar("bizvalue_current_tenant", default=None)

# True inside `all_tenants_scope` (and False again inside a `tenant_scope` nested in it).
_platform_scope: contextvars.ContextVar[bool] = contextvars.ContextVar("bizvalue_platform_scope", default=False)

RLS_TENANT_SETTING = "app.tenant_id"
PLATFORM_DATABASE = "platform"


def current_tenant() -> Tenant:
    """The tenant in scope; raises rather than guess."""
    tenant = _current_tenant.get()
    if tenant is None:
        raise TenantScopeMissing("No tenant in scope. Wrap the work in governance.tenancy.tenant_scope(tenant).")
    return tenant


def current_tenant_or_none() -> Tenant | None:
    return _current_tenant.get()


def _set_database_setting(name: str, value: str) -> None:
    database_store().set_transaction_setting(name, value)


@contextmanager
def tenant_scope(tenant: Tenant) -> Iterator[Tenant]:
    """Run the block as `tenant`: ORM scoping, and RLS on PostgreSQL, in one transaction.

    The block runs inside `transaction.atomic()` because the RLS setting is transaction
    local; nested scopes restore the outer tenant on the way out.
    """
    previous = _current_tenant.get()
    token = _current_tenant.set(tenant)
    # Tenant work inside a platform scope (an admin action calling a service) runs as the
    # application's role again, under RLS, like any request of that tenant.
    platform_token = _platform_scope.set(False)
    # A scope that opens the transaction needs no reset: its setting ends with the commit.
    outermost = not connection.in_atomic_block and connection.get_autocommit()
    try:
        with transaction.atomic():
            _set_database_setting(RLS_TENANT_SETTING, tenant_token(tenant.pk))
            try:
                yield tenant
            finally:
                if not outermost and not connection.needs_rollback:
                    _set_database_setting(RLS_TENANT_SETTING, "" if previous is None else tenant_token(previous.pk))
    finally:
        _platform_scope.reset(platform_token)
        _current_tenant.reset(token)


@contextmanager
def all_tenants_scope() -> Iterator[None]:
    """Escape hatch for platform admins and cross-tenant maintenance: every tenant's rows.

    Grep-able on purpose. Inside it the ORM reads and writes through the platform role's
    connection (`platform_database()`, routed by `PlatformScopeRouter`), in one transaction
    on that connection; raw SQL must take `platform_connection()`, since the default
    connection still runs as the application's role and sees no tenant. Tenant-owned
    managers still refuse to run, so code must also name `Model.all_tenants` explicitly.
    On SQLite there is one connection and no RLS: the scoping is Python's alone.
    """
    token = _platform_scope.set(True)
    try:
        with transaction.atomic(using=platform_database()):
            yield
    finally:
        _platform_scope.reset(token)


def platform_database() -> str:
    """The alias cross-tenant work runs on: the platform role on PostgreSQL, the one database on SQLite."""
    return PLATFORM_DATABASE if PLATFORM_DATABASE in settings.DATABASES else DEFAULT_DB_ALIAS


def platform_connection() -> BaseDatabaseWrapper:
    """The connection for raw SQL inside `all_tenants_scope`."""
    return connections[platform_database()]


def scoped_connection() -> BaseDatabaseWrapper:
    """The connection the ORM would use here: the platform's inside `all_tenants_scope`, else default."""
    return connections[platform_database()] if _platform_scope.get() else connection


class PlatformScopeRouter:
    """Routes the ORM to the platform role's connection while `all_tenants_scope` is active.

    Both aliases are the same database under two roles, so relations between them are fine;
    migrations run only on `default` (as the owner, who runs `migrate`).
    """

    def db_for_read(self, model: type[models.Model], **hints: object) -> str | None:
        if PLATFORM_DATABASE not in settings.DATABASES:
            return None
        # Outside the scope, even a row fetched through the platform is saved as the app role.
        return PLATFORM_DATABASE if _platform_scope.get() else DEFAULT_DB_ALIAS

    db_for_write = db_for_read

    def allow_relation(self, obj1: models.Model, obj2: models.Model, **hints: object) -> bool | None:
        aliases = {DEFAULT_DB_ALIAS, PLATFORM_DATABASE}
        return True if {obj1._state.db, obj2._state.db} <= aliases else None

    def allow_migrate(self, db: str, app_label: str, **hints: object) -> bool | None:
        return False if db == PLATFORM_DATABASE else None


class HistoryBypassRefused(RuntimeError):
    """A bulk write on an audited model would skip its history rows (SOX): refused."""


class HistoryGuardedQuerySet(models.QuerySet):
    """Queryset of audited models: `update`, `bulk_update` and `bulk_create` are refused.

    django-simple-history records a row only from `save()` and `delete()`; these three
    paths write without it, so an audited change could leave no trace. Save each object.
    """

    def _refuse(self, path: str) -> RuntimeError:
        return HistoryBypassRefused(
            f"{self.model.__name__}.{path}() is refused: it would skip the audit history. "
            "Change rows one by one through the model's service (save() records history)."
        )

    def update(self, **kwargs: object) -> int:
        raise self._refuse("update")

    def bulk_update(self, objs: object, fields: object, batch_size: int | None = None) -> int:
        raise self._refuse("bulk_update")

    def bulk_create(self, objs: object, *args: object, **kwargs: object) -> list:
        raise self._refuse("bulk_create")

    update.alters_data = True  # type: ignore[attr-defined]
    bulk_update.alters_data = True  # type: ignore[attr-defined]
    bulk_create.alters_data = True  # type: ignore[attr-defined]


class TenantManager(models.Manager):
    """Default manager of tenant-owned models: filters by the tenant in scope, or raises."""

    def get_queryset(self) -> models.QuerySet:
        return super().get_queryset().filter(tenant=current_tenant())


# Managers of audited tenant-owned models. Named at module level, and declared ClassVar where
# used, so that mypy's Django plugin knows their queryset methods.
HistoryGuardedTenantManager = TenantManager.from_queryset(HistoryGuardedQuerySet)
HistoryGuardedManager = models.Manager.from_queryset(HistoryGuardedQuerySet)


class TenantOwned(models.Model):
    """Base of every tenant-owned model.

    `objects` is scoped to the current tenant and fails closed; `all_tenants` is the named
    escape hatch for admin and migrations. Saving a row for another tenant than the one in
    scope is refused here, and again by RLS on PostgreSQL.
    """

    tenant = models.ForeignKey("governance.Tenant", on_delete=models.PROTECT, related_name="+")

    objects = TenantManager()
    all_tenants = models.Manager()  # noqa: DJ012 (a manager, not a field)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        scoped = _current_tenant.get()
        if scoped is not None and self.tenant_id is None:
            self.tenant = scoped
        if scoped is not None and self.tenant_id != scoped.pk:
            raise TenantScopeMissing(
                f"Refusing to save a row of tenant {self.tenant_id} inside tenant {scoped.pk}'s scope."
            )
        super().save(*args, **kwargs)


def tenant_owned_models() -> list[type[models.Model]]:
    """Every concrete tenant-owned model, with its history model where it has one."""
    from django.apps import apps

    found: list[type[models.Model]] = []
    for model in apps.get_models():
        if issubclass(model, TenantOwned) and not model._meta.abstract:
            found.append(model)
            history = getattr(model, "history", None)
            if history is not None:
                found.append(history.model)
    return found
