"""The live server and a Chromium page for the browser tests, and the little history they share."""

import pytest
from playwright.sync_api import sync_playwright

from tests.dashboards.conftest import history  # noqa: F401  (the same little history, in the browser)
from tests.e2e.browser import CHROMIUM, SHOTS


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
        page = context.new_page()
        # Chromium reports every blocked script, style or handler on the console: none may occur.
        page.csp_violations = []  # type: ignore[attr-defined]  # the test's own note on Playwright's page
        page.on("console", lambda message: _note_csp_violation(page, message.text))
        yield page
        context.close()
        browser.close()
    assert page.csp_violations == [], "Content-Security-Policy violations in the browser"  # type: ignore[attr-defined]


def _note_csp_violation(page, text: str) -> None:
    if "Content Security Policy" in text:
        page.csp_violations.append(text)
