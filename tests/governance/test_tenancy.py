"""The ORM wall: tenant-owned managers fail closed and never cross tenants."""

import pytest

from governance.models import ApiKey
from governance.tenancy import TenantScopeMissing, current_tenant_or_none, tenant_owned_models, tenant_scope

pytestmark = pytest.mark.django_db


def test_every_tenant_owned_model_refuses_an_unscoped_query():
    models = [m for m in tenant_owned_models() if hasattr(m, "all_tenants")]
    assert ApiKey in models
    for model in models:
        with pytest.raises(TenantScopeMissing):
            list(model.objects.all())  # type: ignore[attr-defined]  # tenant-owned: its manager is `objects`


def test_it_returns_only_the_scoped_tenants_rows(acme, globex, make_key):
    make_key(acme, "viewer", name="acme key")
    make_key(globex, "viewer", name="globex key")

    with tenant_scope(acme):
        assert [k.name for k in ApiKey.objects.all()] == ["acme key"]
    with tenant_scope(globex):
        assert [k.name for k in ApiKey.objects.all()] == ["globex key"]


def test_it_refuses_to_save_a_row_for_another_tenant_inside_a_scope(acme, globex, make_key):
    make_key(globex, "viewer")
    with tenant_scope(globex):
        globex_key = ApiKey.objects.get()

    with tenant_scope(acme), pytest.raises(TenantScopeMissing):
        globex_key.save()


def test_nested_scopes_restore_the_outer_tenant(acme, globex):
    with tenant_scope(acme):
        with tenant_scope(globex):
            assert current_tenant_or_none() == globex
        assert current_tenant_or_none() == acme
    assert current_tenant_or_none() is None


def test_the_scope_is_cleared_when_the_block_raises(acme):
    with pytest.raises(ValueError), tenant_scope(acme):
        raise ValueError("boom")
    assert current_tenant_or_none() is None
