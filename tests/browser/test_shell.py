"""The dashboard shell in a real browser: sign in and out, navigation by role,
the live counts on the home page, and htmx meeting an expired session or CSRF."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, Response, expect

from tests.factories import make_order

pytestmark = pytest.mark.browser

LOGIN_ERROR = "That e-mail and password do not match an active account."
LOGIN_URL = re.compile(r"/login(\?.*)?$")
# The login page, remembering to send the user back to the dashboard afterwards.
NEXT_HOME_LOGIN_URL = re.compile(r"/login\?next=(/|%2F)$")


def is_login_post(response: Response) -> bool:
    return response.request.method == "POST" and "/login" in response.url


def refresh_counts(page: Page) -> None:
    """What the 30-second poll on #home-counts does, without waiting 30 seconds."""
    page.evaluate("htmx.ajax('GET', '/', {target: '#home-counts', swap: 'outerHTML'})")


def test_wrong_password_gets_one_message_that_does_not_say_which_part_was_wrong(page: Page, sign_in, make_user):
    user = make_user("ops")

    with page.expect_response(is_login_post) as wrong_password:
        sign_in(user, password="not-the-password", expect_signed_in=False)

    assert wrong_password.value.status == 401
    expect(page.get_by_role("alert")).to_have_text(LOGIN_ERROR)
    # One message for the whole form, none under the e-mail field.
    expect(page.locator(".field-error")).to_have_text([LOGIN_ERROR])
    expect(page.locator("#password")).to_have_value("")
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)

    # An unknown e-mail reads exactly the same: the page does not reveal which accounts exist.
    with page.expect_response(is_login_post) as unknown_email:
        page.locator("#email").fill("nobody-here@example.com")
        page.locator("#password").fill("not-the-password")
        page.get_by_role("button", name="Sign in").click()

    assert unknown_email.value.status == 401
    expect(page.locator(".field-error")).to_have_text([LOGIN_ERROR])
    expect(page.locator("#email")).to_have_value("nobody-here@example.com")


def test_ops_dashboard_shows_counts_from_the_database_and_only_ops_sections(page: Page, sign_in):
    make_order(status="new")
    make_order(status="new")
    make_order(status="on_hold", hold_reason="stock")

    sign_in("ops")

    expect(page).to_have_title("Dashboard · OrderDeck")
    expect(page.get_by_test_id("count-new")).to_have_text("2")
    expect(page.get_by_test_id("count-on_hold")).to_have_text("1")
    expect(page.get_by_test_id("count-ready")).to_have_text("0")
    expect(page.get_by_test_id("hold-stock")).to_have_text("1")
    expect(page.get_by_test_id("hold-payment")).to_have_text("0")
    expect(page.get_by_text("3 open orders in total.")).to_be_visible()

    nav = page.get_by_role("navigation", name="Sections")
    expect(nav.get_by_role("link")).to_have_text(["Orders", "Inventory", "Fulfillment", "Returns"])
    for hidden in ("Documents", "SLA", "Admin"):
        expect(page.get_by_role("link", name=hidden, exact=True)).to_have_count(0)

    assert page.evaluate("typeof htmx") == "object", "static/vendor/htmx.min.js did not load"


def test_ops_typing_the_admin_address_sees_not_allowed(page: Page, sign_in):
    sign_in("ops")

    response = page.goto("/admin/")

    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    expect(page.get_by_text("Your role does not allow this.")).to_be_visible()
    expect(page.get_by_role("link", name="Back to the dashboard")).to_be_visible()


def test_sign_out_returns_to_the_login_page_and_the_dashboard_needs_a_new_sign_in(page: Page, sign_in):
    sign_in("ops")

    page.get_by_role("button", name="Sign out").click()

    expect(page).to_have_url(LOGIN_URL)
    expect(page.get_by_role("status").filter(has_text="You are signed out.")).to_be_visible()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()

    page.goto("/")
    expect(page).to_have_url(NEXT_HOME_LOGIN_URL)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()


def test_home_counts_refresh_in_place_without_reloading_the_page(page: Page, sign_in):
    make_order(status="new")
    sign_in("ops")
    expect(page.get_by_test_id("count-new")).to_have_text("1")
    page.evaluate("window.loadedOnce = 'still here'")

    make_order(status="new")
    make_order(status="on_hold", hold_reason="address")
    refresh_counts(page)

    expect(page.get_by_test_id("count-new")).to_have_text("2")
    expect(page.get_by_test_id("hold-address")).to_have_text("1")
    assert page.evaluate("window.loadedOnce") == "still here", "the page reloaded instead of swapping"
    # The fragment replaced the block: no second copy of it, nor of the page around it.
    expect(page.locator("#home-counts")).to_have_count(1)
    expect(page.locator("header.topbar")).to_have_count(1)
    expect(page.get_by_role("heading", name="Today")).to_have_count(1)


def test_home_counts_poll_by_themselves_every_30_seconds(page: Page, sign_in):
    # The page's clock stands still unless the test moves it: no waiting, and no race
    # between real time passing and the 29 seconds below.
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    page.clock.install(time=start)
    page.clock.pause_at(start + timedelta(seconds=1))
    sign_in("ops")
    expect(page.get_by_test_id("count-new")).to_have_text("0")

    make_order(status="new")
    page.clock.run_for("00:29")
    expect(page.get_by_test_id("count-new")).to_have_text("0")
    page.clock.run_for("00:02")

    expect(page.get_by_test_id("count-new")).to_have_text("1")


def test_htmx_request_with_an_expired_session_takes_the_whole_window_to_login(page: Page, sign_in):
    sign_in("ops")
    expect(page.get_by_test_id("count-new")).to_be_visible()

    page.context.clear_cookies()
    with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true") as poll:
        # Not awaited: the answer navigates away, which would end this evaluation.
        page.evaluate("() => { htmx.ajax('GET', '/', {target: '#home-counts', swap: 'outerHTML'}); }")

    assert poll.value.status == 401
    assert (poll.value.header_value("hx-redirect") or "").startswith("/login?next=")
    expect(page).to_have_url(NEXT_HOME_LOGIN_URL)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    expect(page.locator("#home-counts")).to_have_count(0)


@pytest.mark.parametrize("app_config_overrides", [{"WTF_CSRF_ENABLED": True}])
def test_with_csrf_on_the_login_form_and_htmx_posts_carry_their_token(page: Page, sign_in):
    page.goto("/login")
    expect(page.locator("form input[name=csrf_token]")).to_have_attribute("value", re.compile(r".{20,}"))

    sign_in("ops")
    expect(page.get_by_test_id("count-new")).to_be_visible()

    # The protection is really on: a POST without the token is refused ...
    status_without_token = page.evaluate("fetch('/logout', {method: 'POST'}).then(r => r.status)")
    assert status_without_token == 400
    page.reload()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    # ... while htmx sends the token from <body hx-headers> with its own POST.
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/logout")) as logout:
        page.evaluate("htmx.ajax('POST', '/logout', {target: '#home-counts', swap: 'none'})")
    assert logout.value.status == 302
    assert logout.value.request.headers.get("x-csrftoken")

    page.goto("/")
    expect(page).to_have_url(NEXT_HOME_LOGIN_URL)
