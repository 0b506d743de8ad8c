"""The trends page in a real browser: its charts fit their boxes in print, and a bar opens its drill-down."""

import re

from playwright.sync_api import expect

from tests.dashboards.test_trends import long_history, months_ago  # noqa: F401  (a fixture)
from tests.e2e.browser import log_in, shot

OVERFLOWING_TEXT = """() => [...document.querySelectorAll('svg.chart')].map(svg => {
    const box = svg.getBoundingClientRect();
    return [...svg.querySelectorAll('text')].filter(text => {
        const r = text.getBoundingClientRect();
        return r.left < box.left - 0.5 || r.right > box.right + 0.5 || r.top < box.top - 0.5 || r.bottom > box.bottom + 0.5;
    }).length;
})"""


def test_the_trends_charts_print_whole_and_open_their_drill_downs(transactional_db, page, bob, long_history):  # noqa: F811
    log_in(page, "bob", "bob-long-password")
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    page.goto("/t/acme/trends/")
    page.emulate_media(media="print")
    assert page.evaluate(OVERFLOWING_TEXT) == [0, 0, 0, 0]  # four charts, no label cut off
    shot(page, "trends-print")
    page.emulate_media(media="screen")
    month = f"{months_ago(2):%Y-%m}"
    page.locator(f"svg.chart a[href='/t/acme/drill/automation/{month}/'] rect").click()
    expect(page).to_have_url(re.compile(rf"/t/acme/drill/automation/{month}/$"))
