"""The pages in a real browser: Debian's Chromium driven by Playwright, against a live server.

Screenshots of each page land in test-artifacts/screenshots/ for a human to look at.
"""

import base64
import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django_otp.oath import totp
from playwright.sync_api import Page, expect, sync_playwright

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture
def page(live_server, monkeypatch):
    # Playwright's sync API keeps an event loop in this thread; the ORM calls the other
    # fixtures make happen outside any coroutine, so Django's async guard can stand down.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"],
        )  # fmt: skip
        context = browser.new_context(base_url=live_server.url)
        yield context.new_page()
        context.close()
        browser.close()


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def log_in(page: Page, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("main button[type=submit]")
    if "/accounts/mfa/setup/" in page.url:
        # Elevated roles enrol a TOTP device first: type the shown key into "the app" (oath.totp).
        shown = page.locator("#manual-key").inner_text().strip()
        key = base64.b32decode(shown + "=" * (-len(shown) % 8))
        page.fill("#id_token", f"{totp(key):06d}")
        with page.expect_navigation():
            page.click("main button[type=submit]")


def money_text(text: str) -> Decimal:
    return Decimal(re.sub(r"[^0-9.\-]", "", text))


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
