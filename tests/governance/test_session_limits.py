"""Elevated sessions end after 30 idle minutes or 12 hours; viewers keep the normal session age.

The clock is Django's `timezone.now`, moved forward by the `clock` fixture.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from governance.services import membership_set_role
from governance.session_limits import LAST_SEEN_AT, SIGNED_IN_AT

pytestmark = pytest.mark.django_db

PAGE = "/t/acme/"
IDLE_MESSAGE = "You were signed out after 30 minutes without activity: please sign in again."
ABSOLUTE_MESSAGE = "You were signed out 12 hours after signing in: please sign in again."


class Clock:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = timezone.now()
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)  # with MFA passed (tests/conftest.py)
    return client


def assert_signed_out(client: Client, response, message: str) -> None:
    """Sent to sign in, coming back to the page afterwards, and told why."""
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={PAGE}"
    assert message in client.get(response["Location"]).content.decode()


def test_an_elevated_session_ends_after_30_idle_minutes_with_a_message(clock, alice):
    client = signed_in(alice)
    clock.advance(minutes=29)
    assert client.get(PAGE).status_code == 200

    clock.advance(minutes=30)
    response = client.get(PAGE)

    assert_signed_out(client, response, IDLE_MESSAGE)
    assert client.get(PAGE)["Location"].startswith("/accounts/login/")  # the session is gone, not just refused


def test_activity_keeps_an_elevated_session_until_the_absolute_limit(clock, alice):
    client = signed_in(alice)
    for _ in range(35):  # a request every 20 minutes: 11 h 40 min
        clock.advance(minutes=20)
        assert client.get(PAGE).status_code == 200

    clock.advance(minutes=20)  # 12 h after signing in
    response = client.get(PAGE)

    assert_signed_out(client, response, ABSOLUTE_MESSAGE)


def test_a_viewer_keeps_the_normal_session_age(clock, bob):
    client = signed_in(bob)
    clock.advance(hours=3)
    assert client.get(PAGE).status_code == 200
    clock.advance(hours=13)
    assert client.get(PAGE).status_code == 200
    clock.advance(days=7)
    assert client.get(PAGE).status_code == 200


def test_a_finance_admin_of_another_tenant_has_the_strict_limits_here_too(clock, bob, globex):
    # bob is a viewer of acme but finance admin of globex: one session serves both, so the
    # strictest role he holds anywhere sets its limits, whichever tenant's page he opens.
    membership_set_role(tenant=globex, user=bob, role="finance_admin")
    client = signed_in(bob)

    clock.advance(minutes=31)

    assert_signed_out(client, client.get(PAGE), IDLE_MESSAGE)


def test_a_lesser_role_in_another_tenant_does_not_shorten_a_viewers_session(clock, bob, globex):
    membership_set_role(tenant=globex, user=bob, role="analyst")
    client = signed_in(bob)

    clock.advance(hours=13)

    assert client.get(PAGE).status_code == 200
    assert client.get("/t/globex/").status_code == 200


def test_another_persons_elevated_role_does_not_touch_a_viewers_session(clock, bob, alice, charlie):
    viewer, admin = signed_in(bob), signed_in(alice)

    clock.advance(minutes=45)

    assert admin.get(PAGE).status_code == 302
    assert viewer.get(PAGE).status_code == 200


def test_a_role_granted_during_a_long_session_applies_the_limits_at_once(clock, bob, globex):
    client = signed_in(bob)
    clock.advance(hours=2)
    assert client.get(PAGE).status_code == 200  # a viewer: idle two hours is fine

    membership_set_role(tenant=globex, user=bob, role="tenant_admin")
    clock.advance(hours=11)

    assert_signed_out(client, client.get(PAGE), ABSOLUTE_MESSAGE)


def test_the_session_api_answers_401_with_the_reason(clock, tara):
    api = APIClient()
    api.force_login(tara)
    assert api.get("/api/v1/tenant").status_code == 200

    clock.advance(minutes=31)
    response = api.get("/api/v1/tenant")

    assert response.status_code == 401
    assert response.json() == {"errors": {"detail": [IDLE_MESSAGE]}}
    assert api.get("/api/v1/tenant").status_code in (401, 403)


def test_api_keys_are_not_affected(clock, acme, api_as):
    key_client = api_as(acme, "tenant_admin")
    clock.advance(hours=13)
    assert key_client.get("/api/v1/tenant").status_code == 200


def test_the_pages_own_polling_does_not_keep_an_idle_session_alive(clock, alice):
    client = signed_in(alice)
    for _ in range(5):  # the overview refreshing itself every few minutes
        clock.advance(minutes=5)
        assert client.get("/t/acme/live/", headers={"X-BizValue-Background": "1"}).status_code == 200

    clock.advance(minutes=6)  # 31 minutes since alice last did anything
    polled = client.get("/t/acme/live/", headers={"X-BizValue-Background": "1"})

    assert polled.status_code == 401  # live.js reloads the page, which shows the sign-in page and why
    assert client.get(PAGE)["Location"].startswith("/accounts/login/")


def test_a_form_post_after_the_limit_is_not_carried_out(clock, alice):
    client = signed_in(alice)
    clock.advance(minutes=31)

    response = client.post("/t/acme/model/edit/", {"change_reason": "late"})

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


def test_platform_staff_in_admin_have_the_limits(clock, root_client):
    assert root_client.get("/admin/").status_code == 200
    clock.advance(minutes=31)
    response = root_client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_idle_limit_is_a_setting(clock, alice, settings):
    settings.ELEVATED_SESSION_IDLE_TIMEOUT = timedelta(minutes=5)
    client = signed_in(alice)
    clock.advance(minutes=4)
    assert client.get(PAGE).status_code == 200

    clock.advance(minutes=5)
    response = client.get(PAGE)

    assert response.status_code == 302
    assert "after 5 minutes without activity" in client.get(response["Location"]).content.decode()


def test_the_absolute_limit_is_a_setting(clock, alice, settings):
    settings.ELEVATED_SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=1)
    client = signed_in(alice)
    for _ in range(3):
        clock.advance(minutes=20)
        response = client.get(PAGE)
    assert response.status_code == 302
    assert "1 hour after signing in" in client.get(response["Location"]).content.decode()


def test_an_elevated_session_from_before_the_limits_is_signed_out(alice, bob):
    # Sessions made before this release carry no sign-in time: their age is unknown.
    admin, viewer = signed_in(alice), signed_in(bob)
    for client in (admin, viewer):
        session = client.session
        del session[SIGNED_IN_AT], session[LAST_SEEN_AT]
        session.save()

    assert admin.get(PAGE).status_code == 302
    assert viewer.get(PAGE).status_code == 200
    assert SIGNED_IN_AT in viewer.session


def test_the_default_limits(db):
    limits = (settings.ELEVATED_SESSION_IDLE_TIMEOUT, settings.ELEVATED_SESSION_ABSOLUTE_TIMEOUT)
    assert limits == (timedelta(minutes=30), timedelta(hours=12))


def test_the_limits_come_from_the_environment_and_refuse_zero():
    from tests.test_settings_and_commands import manage

    show = "from django.conf import settings as s; print(s.ELEVATED_SESSION_IDLE_TIMEOUT, s.ELEVATED_SESSION_ABSOLUTE_TIMEOUT)"
    result = manage("shell", "-c", show, ELEVATED_SESSION_IDLE_MINUTES="15", ELEVATED_SESSION_MAX_HOURS="8")
    assert result.stdout.strip().splitlines()[-1].split() == ["0:15:00", "8:00:00"], result.stderr

    refused = manage("check", ELEVATED_SESSION_IDLE_MINUTES="0")
    assert refused.returncode != 0
    assert "ELEVATED_SESSION_IDLE_MINUTES and ELEVATED_SESSION_MAX_HOURS must be at least 1" in refused.stderr
