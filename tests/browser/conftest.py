"""Browser tests: Debian's chromium, driven by Playwright, against a live server.

No pytest-playwright and never `playwright install`: both download browsers of
their own. The system chromium (`apt-get install chromium`) is launched
through `executable_path` instead.

Each test gets the `app` of tests/conftest.py (so it runs on SQLite and on
PostgreSQL like every other test) served by werkzeug on a free port, and a
page in a fresh browser context (no cookies from earlier tests). Rows made by
the test in its own thread are committed, so the server sees them at once.

A test fails as well when the server raised an unhandled exception, the page
threw a JavaScript error, or a static file did not load; a failing test
leaves a screenshot in test-results/browser/.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask, got_request_exception
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    Request,
    Response,
    expect,
    sync_playwright,
)
from werkzeug.serving import make_server

from tests.conftest import PASSWORD

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "test-results" / "browser"
_reports = pytest.StashKey[dict]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    """Remember each phase's outcome so the page fixture knows whether the test failed."""
    report = yield
    item.stash.setdefault(_reports, {})[report.when] = report
    return report


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not os.access(CHROMIUM, os.X_OK):
        message = f"browser tests need chromium at {CHROMIUM} (apt-get install -y chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def app_config_overrides() -> dict:
    """Settings applied to the app before the server starts. Override per test with
    @pytest.mark.parametrize("app_config_overrides", [{"WTF_CSRF_ENABLED": True}])."""
    return {}


@pytest.fixture
def live_server(app: Flask, app_config_overrides: dict) -> Iterator[str]:
    """The test's app on http://127.0.0.1:<free port>; yields the base URL."""
    app.config.update(app_config_overrides)
    crashes: list[BaseException] = []

    def record_crash(sender, exception, **extra):
        crashes.append(exception)

    got_request_exception.connect(record_crash, app)
    server = make_server(host="127.0.0.1", port=0, app=app, threaded=True)
    # A short poll interval: shutdown() waits for the loop's next turn.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="live-server", daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        got_request_exception.disconnect(record_crash, app)
    if crashes:
        pytest.fail(f"the server raised during the test: {crashes[0]!r} (traceback in the captured stderr)")


@pytest.fixture
def context(browser: Browser, live_server: str) -> Iterator[BrowserContext]:
    """A fresh browser profile per test: no cookies, no storage. Relative URLs go to the live server."""
    context = browser.new_context(
        base_url=live_server, viewport={"width": 1280, "height": 800}, locale="en-GB", timezone_id="UTC"
    )
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext, request: pytest.FixtureRequest) -> Iterator[Page]:
    page = context.new_page()
    js_errors: list[str] = []
    broken_assets: list[str] = []

    def asset_failed(req: Request) -> None:
        if "/static/" in req.url:
            broken_assets.append(f"{req.url} ({req.failure})")

    def asset_answered(resp: Response) -> None:
        if "/static/" in resp.url and resp.status >= 400:
            broken_assets.append(f"{resp.url} ({resp.status})")

    page.on("pageerror", lambda exc: js_errors.append(str(exc)))
    page.on("requestfailed", asset_failed)
    page.on("response", asset_answered)
    yield page
    reports = request.node.stash.get(_reports, {})
    if "call" in reports and reports["call"].failed:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid.split("::", 1)[-1])
        page.screenshot(path=str(SCREENSHOT_DIR / f"{name}.png"), full_page=True)
        return
    assert not js_errors, f"JavaScript errors on the page: {js_errors}"
    assert not broken_assets, f"static files that did not load: {sorted(set(broken_assets))}"


@pytest.fixture
def sign_in(page: Page, make_user) -> Callable:
    """sign_in("ops") makes an ops user and signs in through the login form, as a person would.

    Pass a User instead of a role to sign in as that user, and
    `expect_signed_in=False` to stay on the form (a wrong password, say).
    Returns the user.
    """

    def _sign_in(who="ops", password: str = PASSWORD, *, expect_signed_in: bool = True):
        user = make_user(who) if isinstance(who, str) else who
        page.goto("/login")
        page.locator("#email").fill(user.email)
        page.locator("#password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        if expect_signed_in:
            expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        return user

    return _sign_in


def run_jobs_at(app: Flask, at) -> str:
    """`flask jobs tick --at`: every SLA job once, as of `at` (the scheduler moving on)."""
    result = CliRunner().invoke(app.cli, ["jobs", "tick", "--at", at.isoformat()], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output
