"""The Content-Security-Policy in a real browser: what we serve runs under it, and injected code does not."""

import re

from playwright.sync_api import expect

from tests.e2e.browser import log_in


def test_the_api_docs_render_under_the_policy(transactional_db, page):
    page.goto("/api/docs/")

    expect(page.locator(".swagger-ui .opblock").first).to_be_visible(timeout=15_000)
    expect(page.locator(".swagger-ui")).to_contain_text("BizValue API")


def test_the_tenant_switcher_runs_from_its_static_script(transactional_db, page, bob, globex):
    from governance.services import membership_set_role

    membership_set_role(tenant=globex, user=bob, role="viewer")
    log_in(page, "bob", "bob-long-password")
    page.goto("/t/acme/")

    with page.expect_navigation():
        page.select_option("#tenant-switch", "/t/globex/")
    expect(page).to_have_url(re.compile(r"/t/globex/$"))


def test_injected_inline_code_is_blocked_and_reported(transactional_db, page, bob):
    log_in(page, "bob", "bob-long-password")
    page.goto("/t/acme/")

    # What a stored XSS would add to the page: a handler attribute and a script element.
    page.evaluate(
        """() => {
            document.body.insertAdjacentHTML("beforeend", '<img id="x" src="/nothing" onerror="window.pwned = 1">');
            const script = document.createElement("script");
            script.textContent = "window.pwned = 2";
            document.body.appendChild(script);
        }"""
    )
    page.wait_for_timeout(300)

    assert page.evaluate("() => window.pwned") is None
    assert len(page.csp_violations) >= 2, page.csp_violations
    page.csp_violations.clear()  # seen and expected: the fixture's own check stays for every other test


def test_django_admin_runs_under_the_policy(transactional_db, page, acme, django_user_model):
    django_user_model.objects.create_superuser("root", "root@example.invalid", "root-long-password")
    log_in(page, "root", "root-long-password", next_path="/admin/")

    for path in (
        "/admin/",
        "/admin/governance/tenant/",
        f"/admin/governance/tenant/{acme.pk}/change/",
        "/admin/auth/user/add/",
        "/admin/roi/financialmodel/",
        "/admin/governance/apikey/",
        "/admin/dashboards/reportsubscription/add/",
    ):
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        assert page.url.endswith(path), page.url
    page.goto("/admin/auth/user/")
    page.click("#action-toggle")  # admin's own script (actions.js) ticks every row
    expect(page.locator("input.action-select").first).to_be_checked()
