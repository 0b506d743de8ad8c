"""An elevated session's limits in a real browser: the overview's own polling ends on the sign-in page."""

import re
from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.browser import log_in


def test_a_signed_out_overview_reloads_onto_the_sign_in_page(transactional_db, page, alice, monkeypatch):
    log_in(page, "alice", "alice-long-password")
    page.clock.install()
    page.goto("/t/acme/")

    # 31 minutes pass on the server (the live server runs in this process) while the tab polls.
    later = timezone.now() + timedelta(minutes=31)
    monkeypatch.setattr(timezone, "now", lambda: later)
    with page.expect_navigation():
        page.clock.run_for(30_000)

    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/t/acme/$"))
    expect(page.locator("main")).to_contain_text("signed out after 30 minutes without activity")
