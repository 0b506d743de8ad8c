"""A tenant never loses its last tenant admin: not through the API, a key, nor Django admin."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from rest_framework.test import APIClient

from governance.selectors import roles_for_user, tenant_admins
from governance.services import membership_set_role
from tests.conftest import _member

pytestmark = pytest.mark.django_db


def session(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def test_the_last_tenant_admin_cannot_be_demoted_or_removed_by_a_key(acme, tara, api_as):
    admin_key = api_as(acme, "tenant_admin")

    demoted = admin_key.put("/api/v1/members/tara", {"role": "viewer"}, format="json")
    removed = admin_key.delete("/api/v1/members/tara")

    assert demoted.status_code == 400 and "last tenant admin" in demoted.json()["errors"]["role"][0]
    assert removed.status_code == 400 and "last tenant admin" in removed.json()["errors"]["username"][0]
    assert roles_for_user(user=tara, tenant=acme) == {"tenant_admin"}


def test_the_last_tenant_admin_cannot_step_down_in_their_own_session(acme, tara):
    response = session(tara).put("/api/v1/members/tara", {"role": "finance_admin"}, format="json")

    assert response.status_code == 400 and list(response.json()["errors"]) == ["role"]
    assert tenant_admins(tenant=acme) == [tara]


def test_with_a_second_tenant_admin_either_may_go(acme, tara, api_as):
    tess = _member("tess", acme, "tenant_admin")

    assert session(tara).delete("/api/v1/members/tess").status_code == 204
    assert session(tara).put("/api/v1/members/tara", {"role": "viewer"}, format="json").status_code == 400
    assert tenant_admins(tenant=acme) == [tara] and not roles_for_user(user=tess, tenant=acme)


def test_a_deactivated_tenant_admin_does_not_count(acme, tara):
    tess = _member("tess", acme, "tenant_admin")
    tess.is_active = False
    tess.save()

    response = session(tara).put("/api/v1/members/tara", {"role": "viewer"}, format="json")

    assert response.status_code == 400
    assert "role" in response.json()["errors"]


def test_admins_of_another_tenant_do_not_count(acme, globex, tara, gus):
    # tara administers both; acme has a second admin, globex has gus only... until gus goes
    membership_set_role(tenant=globex, user=tara, role="tenant_admin")
    _member("tess", acme, "tenant_admin")
    membership_set_role(tenant=globex, user=gus, role="viewer")

    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        membership_set_role(tenant=globex, user=tara, role=None)
    assert "last tenant admin of globex" in refused.value.message_dict["role"][0]
    membership_set_role(tenant=acme, user=tara, role=None)  # acme still has tess
    assert tenant_admins(tenant=globex) == [tara]


def test_another_tenants_key_cannot_reach_the_member(acme, globex, tara, api_as):
    response = api_as(globex, "tenant_admin").delete("/api/v1/members/tara")

    assert response.status_code == 404
    assert tenant_admins(tenant=acme) == [tara]


# --- Django admin ---------------------------------------------------------------------


def test_the_admin_object_permissions_page_refuses_to_take_the_last_admin_role(root_client, acme, tara):
    url = reverse("admin:governance_tenant_permissions_manage_user", args=[acme.pk, tara.pk])

    response = root_client.post(url, {"permissions": ["role_viewer"]})

    assert response.status_code == 200 and "last tenant admin of acme" in response.content.decode()
    assert roles_for_user(user=tara, tenant=acme) == {"tenant_admin"}
    _member("tess", acme, "tenant_admin")
    assert root_client.post(url, {"permissions": ["role_viewer"]}).status_code == 302
    assert roles_for_user(user=tara, tenant=acme) == {"viewer"}


def test_the_admin_refuses_to_deactivate_the_last_tenant_admin(root_client, acme, tara):
    url = reverse("admin:auth_user_change", args=[tara.pk])
    form = {"username": "tara", "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00"}  # is_active unticked

    response = root_client.post(url, form)

    assert response.status_code == 200 and "Cannot deactivate" in response.content.decode()
    tara.refresh_from_db()
    assert tara.is_active


def test_the_admin_refuses_to_delete_the_last_tenant_admin_alone_or_in_bulk(root_client, acme, tara, bob):
    single = root_client.post(reverse("admin:auth_user_delete", args=[tara.pk]), {"post": "yes"})
    bulk = root_client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "delete_selected", "_selected_action": [tara.pk, bob.pk], "post": "yes"},
    )

    assert single.status_code == 200 and "last tenant admin of acme" in single.content.decode()
    assert bulk.status_code == 200 and "last tenant admin of acme" in bulk.content.decode()
    assert get_user_model().objects.filter(username__in=["tara", "bob"]).count() == 2
    # Someone who administers nothing goes as before.
    root_client.post(reverse("admin:auth_user_delete", args=[bob.pk]), {"post": "yes"})
    assert not get_user_model().objects.filter(username="bob").exists()
