"""Sessions are Django's database sessions, read by hand (governance.sessions): same rows, same answers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from governance.sessions import SessionStore

pytestmark = pytest.mark.django_db


def test_a_saved_session_reads_back_as_saved():
    saved = SessionStore()
    saved["figure"] = "1234.50"
    saved.save()

    again = SessionStore(session_key=saved.session_key)
    assert again["figure"] == "1234.50"
    assert again.session_key == saved.session_key


def test_an_expired_or_unknown_session_reads_empty_and_starts_afresh():
    saved = SessionStore()
    saved["figure"] = "1"
    saved.save()
    Session.objects.filter(session_key=saved.session_key).update(expire_date=timezone.now() - timedelta(seconds=1))

    expired = SessionStore(session_key=saved.session_key)
    assert expired.load() == {}
    assert expired.session_key is None
    unknown = SessionStore(session_key="x" * 32)
    assert unknown.load() == {}
    assert unknown.session_key is None


def test_pages_log_in_through_it(client, bob):
    client.force_login(bob)
    assert client.session.__class__ is SessionStore
    assert client.get("/t/acme/").status_code == 200
