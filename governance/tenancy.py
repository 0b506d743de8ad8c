"""The one tenancy mechanism: a tenant in scope, or nothing at all.

The current tenant lives in a context variable that is reset in `finally`, and on
PostgreSQL the same scope sets `app.tenant_id` for row-level security with
`set_config(..., is_local => true)`, so the setting dies with the transaction and a pooled
connection can never carry one request's tenant into the next.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from django.db import connection, models, transaction

if TYPE_CHECKING:
    from governance.models import Tenant


class TenantScopeMissing(RuntimeError):
    """A tenant-owned model was queried with no tenant in scope: a bug, never a fallback."""


_current_tenant: contextvars.ContextVar[Tenant | None] = contextvars.ContextVar("bizvalue_current_tenant", default=None)

RLS_TENANT_SETTING = "app.tenant_id"
RLS_ALL_TENANTS_SETTING = "app.all_tenants"


def current_tenant() -> Tenant:
    """The tenant in scope; raises rather than guess."""
    tenant = _current_tenant.get()
    if tenant is None:
        raise TenantScopeMissing("No tenant in scope. Wrap the work in governance.tenancy.tenant_scope(tenant).")
    return tenant


def current_tenant_or_none() -> Tenant | None:
    return _current_tenant.get()


def _set_database_setting(name: str, value: str) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, %s, true)", [name, value])


@contextmanager
def tenant_scope(tenant: Tenant) -> Iterator[Tenant]:
    """Run the block as `tenant`: ORM scoping, and RLS on PostgreSQL, in one transaction.

    The block runs inside `transaction.atomic()` because the RLS setting is transaction
    local; nested scopes restore the outer tenant on the way out.
    """
    previous = _current_tenant.get()
    token = _current_tenant.set(tenant)
    # A scope that opens the transaction needs no reset: its setting ends with the commit.
    outermost = not connection.in_atomic_block and connection.get_autocommit()
    try:
        with transaction.atomic():
            _set_database_setting(RLS_TENANT_SETTING, str(tenant.pk))
            try:
                yield tenant
            finally:
                if not outermost and not connection.needs_rollback:
                    _set_database_setting(RLS_TENANT_SETTING, "" if previous is None else str(previous.pk))
    finally:
        _current_tenant.reset(token)


@contextmanager
def all_tenants_scope() -> Iterator[None]:
    """Escape hatch for platform admins and cross-tenant maintenance: every tenant's rows.

    Grep-able on purpose. Only Django admin (for superusers) and commands that walk every
    tenant use it; tenant-owned managers still refuse to run, so code must also name
    `Model.all_tenants` explicitly.
    """
    with transaction.atomic():
        _set_database_setting(RLS_ALL_TENANTS_SETTING, "on")
        try:
            yield
        finally:
            if not connection.needs_rollback:
                _set_database_setting(RLS_ALL_TENANTS_SETTING, "")


class TenantQuerySet(models.QuerySet):
    pass


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

    def bulk_create(self, objs: object, *args: object, **kwargs: object) -> list:  # type: ignore[override]
        raise self._refuse("bulk_create")

    update.alters_data = True  # type: ignore[attr-defined]
    bulk_update.alters_data = True  # type: ignore[attr-defined]
    bulk_create.alters_data = True  # type: ignore[attr-defined]


class TenantManager(models.Manager):
    """Default manager of tenant-owned models: filters by the tenant in scope, or raises."""

    def get_queryset(self) -> models.QuerySet:
        return super().get_queryset().filter(tenant=current_tenant())


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
