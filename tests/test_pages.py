"""Pages: login, landing on your tenant, switching, and what a non-member sees."""

import pytest

pytestmark = pytest.mark.django_db


def test_anonymous_visitors_are_sent_to_login(client, acme):
    response = client.get("/t/acme/")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_a_member_of_one_tenant_lands_on_its_home(client, bob):
    client.force_login(bob)
    response = client.get("/", follow=True)
    assert response.redirect_chain[-1][0] == "/t/acme/"
    page = response.content.decode()
    assert "Acme Corp" in page and "viewer" in page


def test_a_member_of_several_tenants_chooses_and_can_switch(client, bob, globex):
    from governance.services import membership_set_role

    membership_set_role(tenant=globex, user=bob, role="analyst")
    client.force_login(bob)
    chooser = client.get("/").content.decode()
    assert 'href="/t/acme/"' in chooser and 'href="/t/globex/"' in chooser
    home = client.get("/t/globex/").content.decode()
    assert 'id="tenant-switch"' in home
    assert 'value="/t/acme/"' in home and "analyst" in home


def test_a_tenant_you_do_not_belong_to_is_404_like_one_that_does_not_exist(client, bob, globex):
    client.force_login(bob)
    assert client.get("/t/globex/").status_code == 404
    assert client.get("/t/no-such-tenant/").status_code == 404


def test_tenant_admins_see_members_and_keys_viewers_do_not(client, tara, bob, make_key, acme):
    make_key(acme, "ingest", name="alertmanager")
    client.force_login(tara)
    page = client.get("/t/acme/settings/").content.decode()
    assert "alertmanager" in page and "bob" in page
    client.force_login(bob)
    page = client.get("/t/acme/settings/").content.decode()
    assert "alertmanager" not in page


def test_the_home_page_runs_a_bounded_number_of_queries(client, tara, acme, make_key, django_assert_max_num_queries):
    for n in range(20):
        make_key(acme, "viewer", name=f"key {n}")
    client.force_login(tara)
    with django_assert_max_num_queries(15):
        assert client.get("/t/acme/settings/").status_code == 200


def test_login_is_rate_limited(client, bob):
    for _ in range(5):
        client.post("/accounts/login/", {"username": "bob", "password": "wrong"})
    response = client.post("/accounts/login/", {"username": "bob", "password": "bob-long-password"})
    assert response.status_code == 429


def test_a_correct_login_lands_on_the_tenant(client, bob):
    response = client.post("/accounts/login/", {"username": "bob", "password": "bob-long-password"}, follow=True)
    assert response.redirect_chain[-1][0] == "/t/acme/"


def test_the_methodology_is_shown_in_the_app(client, bob):
    client.force_login(bob)
    page = client.get("/t/acme/methodology/").content.decode()
    assert "<h3" in page and "incident_cost" in page and "Assumption register" in page
