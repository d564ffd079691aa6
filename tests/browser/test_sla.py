"""SLA chips in a real browser: a manager keeps the SLA page open while time moves on.

Time moves twice, in step: the scheduler runs as of a later time (`flask jobs tick --at`
through the CLI runner) and the page's clock jumps forward (Playwright's clock), so
nobody sleeps. The chip turns amber and then red without a reload; after a reload the
breach the tick recorded is in the breached list.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from app.models import SlaClock
from app.services.tx import begin_write
from tests.browser.conftest import run_jobs_at
from tests.factories import make_order

pytestmark = pytest.mark.browser


def test_a_chip_turns_amber_then_red_as_time_moves(app, db, page: Page, sign_in, make_user):
    start = datetime.now(UTC).replace(second=0, microsecond=0)
    order = make_order(status="ready", paid_at=start - timedelta(hours=1))
    begin_write()
    db.session.add(SlaClock(order_id=order.id, kind="dispatch", state="running", started_at=start - timedelta(hours=1),
                            warn_at=start + timedelta(hours=1), due_at=start + timedelta(hours=2)))
    db.session.commit()
    make_user("manager", email="boss@example.com")  # gets the escalations

    page.clock.install(time=start - timedelta(minutes=1))
    page.clock.pause_at(start)  # the page's time moves only when the test moves it
    sign_in("manager")
    page.goto("/sla/")
    chip = page.locator(f"#clocks-table tr:has(a:text('{order.number}')) [data-sla-chip]")
    expect(chip).to_have_attribute("data-tone", "ok")
    expect(chip).to_contain_text("due in 2 h")
    expect(chip).to_have_class("badge sla-chip badge-ok")

    # An hour and a half later: past the warning.
    output = run_jobs_at(app, start + timedelta(minutes=90))
    assert "dispatch_sla: 1 warnings" in output
    page.clock.fast_forward("01:30:00")
    expect(chip).to_have_attribute("data-tone", "warn")
    expect(chip).to_contain_text("due in 30 min")
    expect(chip).to_have_class("badge sla-chip badge-warn")

    # Past the deadline: red at once in the browser, breached by the next run.
    page.clock.fast_forward("01:00:00")
    expect(chip).to_have_attribute("data-tone", "bad")
    expect(chip).to_contain_text("30 min overdue")
    output = run_jobs_at(app, start + timedelta(hours=2, minutes=30))
    assert "dispatch_sla: 1 breaches" in output

    page.reload()
    breached = page.locator(f"#breach-table tr:has(a:text('{order.number}')) [data-sla-chip]")
    expect(breached).to_have_attribute("data-tone", "bad")
    expect(breached).to_contain_text("overdue")
    expect(page.locator("#clocks-table")).not_to_contain_text(order.number)
    expect(page.locator("#breach-table")).to_contain_text("ready, not picked")
    expect(page.get_by_test_id("job-dispatch_sla")).to_contain_text("1 breaches")
