"""What the browser tests share: Debian's Chromium, where screenshots go, logging in."""

import base64
import os
import re
from decimal import Decimal
from pathlib import Path

from django_otp.oath import totp
from playwright.sync_api import Page

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def log_in(page: Page, username: str, password: str, next_path: str = "") -> None:
    page.goto(f"/accounts/login/?next={next_path}" if next_path else "/accounts/login/")
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
