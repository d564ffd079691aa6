"""The Content-Security-Policy in a real browser: every main page loads, and works, with no
violation reported (an inline style or script, an inline handler, eval); and the check
itself does see a violation when there is one."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.factories import make_location, make_order, make_product, make_stock

pytestmark = pytest.mark.browser

# Chromium reports each blocked inline style/script/eval on the console, and fires
# `securitypolicyviolation` on the document; both are collected.
COLLECT_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline")
                    + " at " + e.sourceFile + ":" + e.lineNumber);
});
"""


@pytest.fixture
def watch_csp(page: Page):
    console: list[str] = []
    page.on("console", lambda msg: console.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.add_init_script(COLLECT_VIOLATIONS)

    def violations() -> list[str]:
        return console + page.evaluate("window.__csp || []")

    return violations


def test_the_check_sees_a_violation_when_there_is_one(app, page: Page, watch_csp, live_server):
    @app.get("/csp-probe")
    def probe():
        return ('<!doctype html><html><head><title>probe</title></head><body>'
                '<p style="color: red">inline style</p><script>document.title = "ran";</script></body></html>')

    page.goto("/csp-probe")
    expect(page).to_have_title("probe")  # the inline script did not run
    found = watch_csp()
    assert any("style" in v for v in found) and any("script" in v for v in found), found


@pytest.fixture
def shop(app):
    mug = make_product("MUG", name="Blue mug")
    ams = make_location("AMS", name="Amsterdam DC")
    make_stock(mug, ams, 5, bin="A-01-1")
    for _ in range(2):
        make_order("new", lines=[(mug, 1)])
    make_order("on_hold", hold_reason="stock", lines=[(mug, 9)])
    return ams


MAIN_PAGES = [
    "/", "/orders/", "/orders/board", "/orders/import", "/inventory/", "/inventory/routing", "/inventory/counts",
    "/inventory/verify", "/inventory/receive", "/fulfillment/", "/returns/", "/documents/", "/documents/audit",
    "/sla/", "/sla/outbox", "/sla/reports", "/admin/", "/admin/users", "/admin/channels", "/admin/locations",
    "/admin/locations/AMS/calendar",
]


def test_main_pages_load_without_a_csp_violation(page: Page, sign_in, shop, watch_csp):
    page.goto("/login")
    assert watch_csp() == []
    sign_in("admin")
    for path in MAIN_PAGES:
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")
        assert watch_csp() == [], f"{path}: {watch_csp()}"


def test_scripted_controls_still_work_under_the_policy(page: Page, sign_in, shop, watch_csp):
    sign_in("admin")
    # "Select every order" was an inline onchange handler; now a listener in app.js.
    page.goto("/inventory/routing")
    boxes = page.locator("#routing-form input[name=orders]")
    expect(boxes).not_to_have_count(0)
    page.get_by_test_id("select-all").check()
    for i in range(boxes.count()):
        expect(boxes.nth(i)).to_be_checked()
    page.get_by_test_id("select-all").uncheck()
    expect(boxes.first).not_to_be_checked()

    # An htmx swap with a toast (the toast is made by app.js, the swap by htmx without eval).
    page.goto("/admin/channels")
    page.get_by_label("Code").fill("WEB2")
    page.get_by_label("Name").fill("Second webshop")
    page.get_by_role("button", name="Create channel").click()
    expect(page.locator("#toasts")).to_contain_text("Channel WEB2 created.")
    expect(page.get_by_role("cell", name="WEB2", exact=True)).to_be_visible()
    assert watch_csp() == []
