"""SOX controls: audited history cannot be dodged (bulk paths) or edited (raw SQL, admin revert)."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from governance.ledger import Actor
from governance.models import ApiKey
from governance.tenancy import HistoryBypassRefused, tenant_scope
from roi.models import BusinessKpis, FinancialModel
from roi.services import business_kpis_update

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("test")
APPEND_ONLY_TABLES = (
    "governance_historicalapikey",
    "roi_historicalfinancialmodel",
    "roi_historicalbusinesskpis",
    "governance_auditevent",
)


@pytest.fixture
def audited(acme, acme_model, make_key):
    """One row of each audited model for acme, each with a history row."""
    make_key(acme, "viewer", name="k")
    with tenant_scope(acme):
        business_kpis_update(actor=SYSTEM, sections={}, change_reason="Initial KPIs")
    return acme


AUDITED = [ApiKey, FinancialModel, BusinessKpis]


def managers(model):
    return [model.objects, model.all_tenants]


@pytest.mark.parametrize("model", AUDITED, ids=lambda m: m.__name__)
def test_queryset_update_is_refused(model, audited):
    with tenant_scope(audited):
        for manager in managers(model):
            with pytest.raises(HistoryBypassRefused, match=rf"{model.__name__}\.update\(\) is refused"):
                manager.all().update(change_reason="x") if model is not ApiKey else manager.all().update(name="x")
            with pytest.raises(HistoryBypassRefused, match="update"):
                manager.update(tenant=audited)


@pytest.mark.parametrize("model", AUDITED, ids=lambda m: m.__name__)
def test_bulk_update_is_refused(model, audited):
    with tenant_scope(audited):
        rows = list(model.objects.all())
        for manager in managers(model):
            with pytest.raises(HistoryBypassRefused, match=r"bulk_update\(\) is refused"):
                manager.bulk_update(rows, ["tenant"])


@pytest.mark.parametrize("model", AUDITED, ids=lambda m: m.__name__)
def test_bulk_create_is_refused(model, audited):
    with tenant_scope(audited):
        for manager in managers(model):
            with pytest.raises(HistoryBypassRefused, match=r"bulk_create\(\) is refused"):
                manager.bulk_create([model(tenant=audited)])


def test_a_single_save_still_records_history(audited):
    with tenant_scope(audited):
        key = ApiKey.objects.get()
        key.name = "renamed"
        key.save()
        assert [h.name for h in key.history.all()] == ["renamed", "k"]


def changeable(table: str) -> str:
    return "actor" if table == "governance_auditevent" else "history_change_reason"


def raw(sql: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.parametrize("table", APPEND_ONLY_TABLES)
def test_raw_update_of_a_history_or_audit_table_is_refused(table, audited):
    with tenant_scope(audited):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            raw(f"UPDATE {table} SET {changeable(table)} = 'rewritten'")
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {table} WHERE {changeable(table)} = 'rewritten'")
            assert cursor.fetchone() == (0,)


@pytest.mark.parametrize("table", APPEND_ONLY_TABLES)
def test_raw_delete_from_a_history_or_audit_table_is_refused(table, audited):
    with tenant_scope(audited):
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {table}")
            (before,) = cursor.fetchone()
        assert before >= 1
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            raw(f"DELETE FROM {table}")
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {table}")
            assert cursor.fetchone() == (before,)


def test_simple_history_revert_is_off(settings):
    assert settings.SIMPLE_HISTORY_REVERT_DISABLED is True


# Transactional: admin reads through the platform role's connection, which sees committed rows.
@pytest.mark.django_db(transaction=True)
def test_admin_revert_of_an_api_key_is_refused(audited, client, django_user_model):
    # given a key renamed once, so there is an older version to revert to
    with tenant_scope(audited):
        key = ApiKey.objects.get()
        first = key.history.earliest()
        key.name = "renamed"
        key.save()
    root = django_user_model.objects.create_superuser("root", "root@example.invalid", "root-long-password")
    client.force_login(root)
    url = reverse("admin:governance_apikey_simple_history", args=[key.pk, first.history_id])
    # when the platform admin posts the old version back to its revert form
    posted = client.post(url, {"tenant": audited.pk, "name": "k", "expires_at": ""})
    # then it is refused, the name stays, and the history list still shows both versions
    assert posted.status_code == 403
    history = client.get(reverse("admin:governance_apikey_history", args=[key.pk]))
    assert history.status_code == 200 and b"renamed" in history.content
    with tenant_scope(audited):
        assert ApiKey.objects.get().name == "renamed"
        assert key.history.count() == 2


def test_admin_revert_of_a_financial_model_is_refused(audited, client, django_user_model):
    with tenant_scope(audited):
        model = FinancialModel.objects.get()
        version = model.history.earliest()
    root = django_user_model.objects.create_superuser("root", "root@example.invalid", "root-long-password")
    client.force_login(root)
    url = reverse("admin:roi_financialmodel_simple_history", args=[model.pk, version.history_id])
    assert client.post(url, {"change_reason": "sneaky"}).status_code == 403
    with tenant_scope(audited):
        assert FinancialModel.objects.get().change_reason == "Initial figures"
