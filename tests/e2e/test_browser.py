"""The pages in a real browser: Debian's Chromium driven by Playwright, against a live server.

Screenshots of each page land in test-artifacts/screenshots/ for a human to look at.
"""

import re
from decimal import Decimal

from playwright.sync_api import expect

from tests.e2e.browser import log_in, money_text, shot


def test_an_executive_journey(transactional_db, page, alice, acme, globex, history, api_as):
    log_in(page, "alice", "alice-long-password")
    expect(page).to_have_url(re.compile(r"/t/acme/$"))
    shot(page, "overview")

    api = api_as(acme, "viewer").get("/api/v1/dashboard/executive").json()
    shown = page.locator("[data-live-field=month_to_date_value]").inner_text()
    assert money_text(shown) == Decimal(api["month_to_date_value"])
    assert page.locator("#as-of").inner_text() == api["as_of"]

    # Drill down from a figure to the events, then to the ledger record, and verify it.
    page.click("text=Trends")
    shot(page, "trends")
    page.goto(f"/t/acme/drill/automation/{history[0]:%Y-%m}/")
    shot(page, "drill-down")
    page.locator("a[href*='#item-']").first.click()
    page.click("#verify")
    expect(page.locator("#verification")).to_contain_text("This record recomputes and its chain link holds.")
    shot(page, "ledger-record")

    # A calculator: the result is a ledger record.
    page.goto("/t/acme/calculate/availability_economics/")
    page.fill("#f-current_target", "99.9")
    shot(page, "calculator")
    page.click("text=Calculate and record")
    expect(page.locator("body")).to_contain_text("availability_economics")
    expect(page.locator("body")).to_contain_text("'recommendation': 'hold'")

    page.goto("/t/acme/comparative/?by=department")
    shot(page, "comparative")

    # Another tenant's page does not exist, as far as alice can tell.
    response = page.goto("/t/globex/")
    assert response is not None and response.status == 404
