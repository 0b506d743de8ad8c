"""Content-Security-Policy: every page, admin and the API docs carry it, and nothing we serve needs an exception.

The policy allows scripts and styles from our own origin only, so an injected `<script>`,
`onerror=` or `style=` does nothing. That holds only while no template (or HTML a template
tag draws) relies on inline code itself, which the scans below keep true.
"""

from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings

from tests.dashboards.conftest import history  # noqa: F401  (charts on the pages rendered below)

pytestmark = pytest.mark.django_db

STRICT = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
}


def directives(response) -> dict[str, str]:
    header = response.headers.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.request['PATH_INFO']}"
    return {name: value for name, _, value in (part.strip().partition(" ") for part in header.split(";"))}


def assert_strict(response) -> None:
    policy = directives(response)
    for name, value in STRICT.items():
        assert policy.get(name) == value, (response.request["PATH_INFO"], name, policy.get(name))
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert "unsafe-eval" not in response.headers["Content-Security-Policy"]


class InlineCode(HTMLParser):
    """Collects what a strict policy would block: script bodies, on* handlers, style attributes and blocks."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name.lower() for name, _ in attrs}
        self.found += [f"<{tag} {name}=…>" for name in sorted(names) if name.startswith("on") or name == "style"]
        if tag == "style":
            self.found.append("<style>")
        self._in_inline_script = tag == "script" and "src" not in names

    def handle_endtag(self, tag: str) -> None:
        self._in_inline_script = False

    def handle_data(self, data: str) -> None:
        if self._in_inline_script and data.strip():
            self.found.append(f"<script>{data.strip()[:40]}…")


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found


# Rendered by WeasyPrint into PDF files, never served to a browser as HTML.
PDF_TEMPLATES = {"dashboards/ledger_record_pdf.html", "dashboards/report_pdf.html"}


def served_templates() -> list[Path]:
    folders = [Path(folder) for folder in settings.TEMPLATES[0]["DIRS"]]
    folders += [settings.BASE_DIR / app / "templates" for app in ("governance", "roi", "dashboards")]
    return sorted(
        path
        for folder in folders
        if folder.is_dir()
        for path in folder.rglob("*.html")
        if path.relative_to(folder).as_posix() not in PDF_TEMPLATES
    )


def test_the_template_scan_sees_our_templates():
    names = {path.name for path in served_templates()}
    assert {"base.html", "overview.html", "login.html", "mfa_verify.html", "swagger_ui.html"} <= names


@pytest.mark.parametrize("template", served_templates(), ids=lambda path: path.name)
def test_no_template_has_inline_script_handler_or_style(template):
    assert inline_code(template.read_text()) == []


def test_the_scan_finds_what_it_looks_for():
    html = '<script>alert(1)</script><img src=x onerror="x()"><p style="color:red"><style>p{}</style>'
    assert inline_code(html) == ["<script>alert(1)…", "<img onerror=…>", "<p style=…>", "<style>"]
    assert inline_code('<script src="/static/js/live.js" defer></script>') == []


TENANT_PAGES = [
    "/t/acme/",
    "/t/acme/live/",
    "/t/acme/trends/",
    "/t/acme/service-levels/",
    "/t/acme/comparative/",
    "/t/acme/investments/",
    "/t/acme/investments/budget/",
    "/t/acme/model/",
    "/t/acme/calculate/",
    "/t/acme/ledger/",
    "/t/acme/reports/",
    "/t/acme/alerts/",
    "/t/acme/methodology/",
    "/t/acme/settings/",
]


@pytest.mark.usefixtures("history")
@pytest.mark.parametrize("path", TENANT_PAGES)
def test_tenant_pages_carry_the_policy_and_render_no_inline_code(client, alice, bob, globex, path):
    from governance.services import membership_set_role

    membership_set_role(tenant=globex, user=alice, role="viewer")  # the tenant switcher shows
    client.force_login(alice)

    response = client.get(path)

    assert response.status_code == 200, path
    assert_strict(response)
    assert inline_code(response.content.decode()) == []


def test_the_login_page_and_error_pages_carry_it(client, bob):
    assert_strict(client.get("/accounts/login/"))
    client.force_login(bob)
    assert_strict(client.get("/t/no-such-tenant/"))


def test_the_session_api_carries_it(client, bob):
    client.force_login(bob)
    assert_strict(client.get("/api/v1/tenant"))


def test_django_admin_carries_it(root_client):
    for path in ("/admin/", "/admin/governance/tenant/", "/admin/governance/tenant/add/"):
        response = root_client.get(path)
        assert response.status_code == 200, path
        assert_strict(response)
        assert inline_code(response.content.decode()) == [], path


def test_the_api_docs_load_their_script_from_our_origin_under_the_policy(client):
    page = client.get("/api/docs/")

    assert page.status_code == 200
    assert_strict(page)
    html = page.content.decode()
    assert inline_code(html) == []
    assert 'src="/api/docs/?script="' in html
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()
    assert "/api/schema/" in script.content.decode()
