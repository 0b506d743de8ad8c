"""MFA (TOTP): finance admins, tenant admins, auditors and platform staff pass a token; others and keys do not."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from governance.mfa import mfa_required
from tests.conftest import plain_login, verified_login

pytestmark = pytest.mark.django_db

PAGE = "/t/acme/"


def token_for(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def test_an_elevated_member_without_a_device_is_sent_to_enrolment(alice):
    client = Client()
    plain_login(client, alice)

    response = client.get(PAGE)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/mfa/setup/?next=%2Ft%2Facme%2F"


def test_enrolment_shows_the_key_and_a_valid_token_confirms_it(alice):
    # given alice on the enrolment page
    client = Client()
    plain_login(client, alice)
    page = client.get("/accounts/mfa/setup/?next=/t/acme/")
    device = TOTPDevice.objects.get(user=alice)
    assert page.status_code == 200
    assert device.config_url in page.content.decode().replace("&amp;", "&")
    assert not device.confirmed

    # when she types the code her app shows
    response = client.post("/accounts/mfa/setup/", {"token": token_for(device), "next": "/t/acme/"})

    # then the device is confirmed, the session verified, and the page opens
    assert response.status_code == 302
    assert response["Location"] == "/t/acme/"
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(PAGE).status_code == 200


def test_enrolment_refuses_a_wrong_token(alice):
    client = Client()
    plain_login(client, alice)
    client.get("/accounts/mfa/setup/")
    device = TOTPDevice.objects.get(user=alice)
    wrong = f"{(int(token_for(device)) + 1) % 1_000_000:06d}"

    response = client.post("/accounts/mfa/setup/", {"token": wrong})

    assert response.status_code == 400
    device.refresh_from_db()
    assert not device.confirmed
    assert client.get(PAGE).status_code == 302


def test_a_member_with_a_device_is_asked_for_a_token_and_passes_with_it(carol):
    device = TOTPDevice.objects.create(user=carol, name="phone", confirmed=True)
    client = Client()
    plain_login(client, carol)

    asked = client.get(PAGE)
    assert asked["Location"] == "/accounts/mfa/verify/?next=%2Ft%2Facme%2F"
    response = client.post("/accounts/mfa/verify/", {"token": token_for(device), "next": PAGE})

    assert response["Location"] == PAGE
    assert client.get(PAGE).status_code == 200


def test_a_wrong_token_does_not_verify(tara):
    device = TOTPDevice.objects.create(user=tara, name="phone", confirmed=True)
    client = Client()
    plain_login(client, tara)
    wrong = f"{(int(token_for(device)) + 1) % 1_000_000:06d}"

    assert client.post("/accounts/mfa/verify/", {"token": wrong}).status_code == 400
    assert client.get(PAGE).status_code == 302


def test_the_session_api_refuses_an_unverified_elevated_member(tara):
    api = APIClient()
    plain_login(api, tara)

    response = api.get("/api/v1/tenant")

    assert response.status_code == 403
    assert response.json() == {
        "errors": {"detail": ["Multi-factor authentication required: verify at /accounts/mfa/verify/."]}
    }


def test_the_session_api_serves_a_verified_elevated_member(tara):
    api = APIClient()
    verified_login(api, tara)

    assert api.get("/api/v1/tenant").status_code == 200


def test_viewers_and_analysts_are_not_asked(bob, charlie):
    viewer, analyst = Client(), APIClient()
    plain_login(viewer, bob)
    plain_login(analyst, charlie)

    assert viewer.get(PAGE).status_code == 200
    assert analyst.get("/api/v1/tenant").status_code == 200
    assert not mfa_required(bob)
    assert not mfa_required(charlie)


def test_an_elevated_role_on_any_tenant_applies_everywhere(bob, globex):
    from governance.services import membership_set_role

    membership_set_role(tenant=globex, user=bob, role="auditor")
    client = Client()
    plain_login(client, bob)

    assert client.get(PAGE).status_code == 302  # bob is only a viewer of acme, but an auditor of globex


@pytest.mark.parametrize("role", ["finance_admin", "tenant_admin", "auditor"])
def test_each_elevated_role_requires_it_and_losing_it_lifts_it(bob, globex, gus, role):  # gus: globex keeps an admin
    from governance.services import membership_set_role

    membership_set_role(tenant=globex, user=bob, role=role)
    assert mfa_required(bob)
    membership_set_role(tenant=globex, user=bob, role="analyst")
    assert not mfa_required(bob)


@pytest.mark.parametrize("role", ["finance_admin", "tenant_admin", "auditor"])
def test_api_keys_are_not_affected(acme, api_as, role):
    assert api_as(acme, role).get("/api/v1/tenant").status_code == 200


def test_platform_staff_need_it_in_admin(db):
    root = get_user_model().objects.create_superuser(username="root", password="root-long-password")
    client = Client()
    plain_login(client, root)

    assert client.get("/admin/")["Location"].startswith("/accounts/mfa/setup/")
    verified_login(client, root)
    assert client.get("/admin/").status_code == 200


def test_the_mfa_pages_need_a_login():
    response = Client().get("/accounts/mfa/setup/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_next_cannot_send_the_user_off_site(carol):
    device = TOTPDevice.objects.create(user=carol, name="phone", confirmed=True)
    client = Client()
    plain_login(client, carol)

    response = client.post("/accounts/mfa/verify/", {"token": token_for(device), "next": "https://evil.example/"})

    assert response["Location"] == "/"


def _session_client(session_key: str) -> Client:
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = session_key
    return client


def test_verifying_rotates_the_session_key_and_the_old_key_is_dead(carol):
    # given carol signed in with her password only
    device = TOTPDevice.objects.create(user=carol, name="phone", confirmed=True)
    client = Client()
    plain_login(client, carol)
    before = client.cookies[settings.SESSION_COOKIE_NAME].value

    # when she enters her code
    response = client.post("/accounts/mfa/verify/", {"token": token_for(device), "next": PAGE})

    # then her session goes on under a new key, and the old key opens nothing
    after = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert response["Location"] == PAGE
    assert after != before
    assert client.get(PAGE).status_code == 200
    stale = _session_client(before).get(PAGE)
    assert stale.status_code == 302
    assert stale["Location"].startswith("/accounts/login/")
    assert not Session.objects.filter(session_key=before).exists()


def test_enrolment_rotates_the_session_key_too(alice):
    client = Client()
    plain_login(client, alice)
    client.get("/accounts/mfa/setup/")
    device = TOTPDevice.objects.get(user=alice)
    before = client.cookies[settings.SESSION_COOKIE_NAME].value

    client.post("/accounts/mfa/setup/", {"token": token_for(device), "next": PAGE})

    assert client.cookies[settings.SESSION_COOKIE_NAME].value != before
    assert client.get(PAGE).status_code == 200
    assert _session_client(before).get(PAGE)["Location"].startswith("/accounts/login/")


def test_a_wrong_token_keeps_the_session_key(carol):
    device = TOTPDevice.objects.create(user=carol, name="phone", confirmed=True)
    client = Client()
    plain_login(client, carol)
    before = client.cookies[settings.SESSION_COOKIE_NAME].value
    wrong = f"{(int(token_for(device)) + 1) % 1_000_000:06d}"

    client.post("/accounts/mfa/verify/", {"token": wrong})

    assert client.cookies[settings.SESSION_COOKIE_NAME].value == before
