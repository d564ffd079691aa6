"""The order board in a real browser: dragging cards (a legal and an illegal move), the
keyboard move menu, a bulk action with one refusal, a second person's board following
along, and a payment on the order page that makes an order ready."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from app.models import SlaClock
from app.services import orders as order_service
from app.services.actors import Actor
from app.services.tx import begin_write
from tests.browser.conftest import run_jobs_at
from tests.conftest import PASSWORD
from tests.factories import make_order
from tests.services.conftest import order_body, shop, stock  # noqa: F401  (shop is a fixture)

pytestmark = pytest.mark.browser

LIVE = 10_000  # ms: the board polls every 3 s; a change must show within one or two polls


def card(page: Page, number: str) -> Locator:
    return page.locator(f"#order-{number}")


def column(page: Page, status: str) -> Locator:
    return page.locator(f"#cards-{status}")


def drag(page: Page, item: Locator, target: Locator) -> None:
    """Press on the card, move in small steps (SortableJS follows the pointer), let go over the column."""
    start = item.locator(".card-customer").bounding_box()
    end = target.bounding_box()
    assert start and end
    x, y = start["x"] + start["width"] / 2, start["y"] + start["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 8, y + 8, steps=4)
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + min(end["height"] / 2, 120), steps=20)
    page.mouse.up()


def open_board(page: Page) -> None:
    page.goto("/orders/board")
    expect(page.get_by_role("heading", name="Orders")).to_be_visible()
    page.wait_for_function("typeof Sortable === 'function' && typeof htmx === 'object'")


@pytest.mark.parametrize("app_config_overrides", [{"WTF_CSRF_ENABLED": True}])
def test_dragging_a_card_to_a_legal_column_moves_it_and_updates_the_counts(page: Page, sign_in, db):
    order = make_order("ready")
    make_order("ready")
    sign_in("ops")
    open_board(page)
    expect(page.get_by_test_id("count-ready")).to_have_text("2")

    drag(page, card(page, order.number), column(page, "picking"))

    expect(column(page, "picking").locator(f"#order-{order.number}")).to_be_visible()
    expect(card(page, order.number)).to_have_attribute("data-status", "picking")
    expect(page.get_by_test_id("count-picking")).to_have_text("1")
    expect(page.get_by_test_id("count-ready")).to_have_text("1")
    expect(page.locator(".toast").filter(has_text=f"{order.number} moved to picking.")).to_be_visible()
    db.session.rollback()  # end the test's read snapshot: the server committed since
    assert order_service.get_order(order.number).status == "picking"


def test_dragging_a_card_to_an_illegal_column_snaps_it_back_with_the_reason(page: Page, sign_in):
    first, order, last = make_order("new"), make_order("new"), make_order("new")
    sign_in("ops")
    open_board(page)

    drag(page, card(page, order.number), column(page, "picking"))

    toast = page.locator(".toast-error")
    expect(toast).to_contain_text("An order that is new cannot be moved to picking")
    expect(column(page, "new").locator(".card")).to_have_count(3)
    # Back where it was, between the same neighbours.
    ids = column(page, "new").locator(".card").evaluate_all("cards => cards.map(c => c.id)")
    assert ids == [f"order-{first.number}", f"order-{order.number}", f"order-{last.number}"]
    expect(column(page, "picking").locator(".card")).to_have_count(0)
    expect(page.get_by_test_id("count-new")).to_have_text("3")
    expect(page.get_by_test_id("count-picking")).to_have_text("0")


def test_the_move_menu_works_from_the_keyboard(page: Page, sign_in):
    order = make_order("new")
    sign_in("ops")
    open_board(page)

    menu = card(page, order.number).locator("summary")
    menu.focus()
    page.keyboard.press("Enter")
    select = card(page, order.number).get_by_label(f"Move {order.number} to")
    page.keyboard.press("Tab")
    expect(select).to_be_focused()
    expect(select.locator("option")).to_have_text(["on hold", "ready", "cancelled"])  # only what ALLOWED permits
    page.keyboard.press("Tab")
    expect(card(page, order.number).get_by_role("button", name="Move", exact=True)).to_be_focused()
    page.keyboard.press("Enter")

    expect(column(page, "on_hold").locator(f"#order-{order.number}")).to_be_visible()
    expect(card(page, order.number).get_by_test_id("hold")).to_have_text("manual")
    expect(page.get_by_test_id("count-on_hold")).to_have_text("1")
    expect(page.get_by_test_id("count-new")).to_have_text("0")


def test_a_bulk_move_shows_which_order_was_refused_and_why_and_moves_the_rest(page: Page, sign_in):
    first, unpaid, second = make_order("ready"), make_order("new"), make_order("ready")
    sign_in("ops")
    open_board(page)
    bar = page.get_by_role("form", name="Change the selected orders")
    expect(bar).to_be_hidden()

    for order in (first, unpaid, second):
        card(page, order.number).get_by_label(f"Select {order.number}").check()
    expect(bar).to_be_visible()
    expect(page.get_by_test_id("bulk-count")).to_have_text("3")
    bar.get_by_label("Action").select_option("move:picking")
    bar.get_by_role("button", name="Apply").click()

    results = page.get_by_test_id("bulk-result")
    expect(results).to_have_count(3)
    refused = results.filter(has_text=unpaid.number)
    expect(refused).to_have_class(re.compile("failed"))
    expect(refused).to_contain_text("cannot be moved to picking")
    expect(results.filter(has_text=first.number)).to_have_class(re.compile("ok"))
    expect(page.get_by_label("Bulk results")).to_contain_text("2 of 3 orders changed")
    expect(column(page, "picking").locator(".card")).to_have_count(2)
    expect(page.get_by_test_id("count-picking")).to_have_text("2")
    # The refused order stays selected, the moved ones are fresh cards.
    expect(card(page, unpaid.number).get_by_label(f"Select {unpaid.number}")).to_be_checked()
    expect(page.get_by_test_id("bulk-count")).to_have_text("1")


def sign_in_on(page: Page, user) -> None:
    page.goto("/login")
    page.locator("#email").fill(user.email)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_another_persons_board_follows_moves_without_losing_an_open_menu(page: Page, sign_in, browser: Browser,
                                                                          live_server: str, make_user):
    moving, watched = make_order("ready"), make_order("ready")
    sign_in("ops")
    open_board(page)
    other_context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 800})
    try:
        other = other_context.new_page()
        sign_in_on(other, make_user("manager"))
        open_board(other)
        other.evaluate("window.stillTheSamePage = true")
        # The other person is about to move `watched` with its menu.
        card(other, watched.number).locator("summary").click()
        expect(card(other, watched.number).locator("details")).to_have_attribute("open", "")

        drag(page, card(page, moving.number), column(page, "picking"))
        expect(card(page, moving.number)).to_have_attribute("data-status", "picking")
        order_service.transition(watched.number, "on_hold", actor=Actor(label="test:third"))

        expect(column(other, "picking").locator(f"#order-{moving.number}")).to_be_visible(timeout=LIVE)
        expect(other.get_by_test_id("count-picking")).to_have_text("1", timeout=LIVE)
        expect(other.get_by_test_id("count-on_hold")).to_have_text("1", timeout=LIVE)
        # The card under the open menu stays put until the menu closes ...
        expect(column(other, "ready").locator(f"#order-{watched.number} details[open]")).to_be_visible()
        card(other, watched.number).locator("summary").click()
        # ... then it follows too.
        expect(column(other, "on_hold").locator(f"#order-{watched.number}")).to_be_visible(timeout=LIVE)
        assert other.evaluate("window.stillTheSamePage") is True

        created = make_order("new")
        expect(column(other, "new").locator(f"#order-{created.number}")).to_be_visible(timeout=LIVE)
        expect(other.get_by_test_id("count-new")).to_have_text("1", timeout=LIVE)
    finally:
        other_context.close()


def test_recording_a_payment_on_the_order_page_moves_an_allocated_order_to_ready(page: Page, sign_in,
                                                                                   shop):  # noqa: F811
    stock("AMS", "MUG", 3)
    order, _ = order_service.create_order(order_body("PAY-1"), actor=shop)
    assert order.status == "new"
    sign_in("finance")
    page.goto(f"/orders/{order.number}")
    badges = page.locator(".detail-badges")
    expect(badges.locator("[data-status]")).to_have_text("new")
    # Finance may record payments only; the rest says why not.
    expect(page.get_by_test_id("why-hold")).to_contain_text("Your role (finance) cannot put orders on hold")

    page.locator("summary", has_text="Record payment").click()
    expect(page.get_by_label("Amount")).to_have_value("17.45")
    page.get_by_label("Reference").fill("NL-BANK-77")
    page.locator(".action-body").get_by_role("button", name="Record payment").click()

    expect(badges.locator("[data-status]")).to_have_text("ready")
    expect(badges.locator("[data-payment]")).to_have_text("paid")
    expect(page.locator("#payments")).to_contain_text("NL-BANK-77")
    expect(page.locator(".toast-success")).to_contain_text(f"Recorded a payment of 17.45 on {order.number}.")
    page.reload()
    expect(badges.locator("[data-status]")).to_have_text("ready")


def test_a_card_shows_its_sla_countdown_chip(page: Page, sign_in, shop):  # noqa: F811
    stock("AMS", "MUG", 3)
    now = datetime.now(UTC)
    unpaid, _ = order_service.create_order(order_body("CHIP-1", placed_at=now - timedelta(hours=60)), actor=shop,
                                           now=now - timedelta(hours=60))
    plain = make_order("new")  # no clock running: no chip
    sign_in("ops")
    open_board(page)

    chip = card(page, unpaid.number).get_by_test_id("sla-chip")
    expect(chip).to_be_visible()
    expect(chip).to_contain_text("payment")
    # 60 of its 72 hours are gone: past the warning, so the chip is amber (sla.js keeps it so).
    expect(chip).to_contain_text(re.compile(r"due in 11 h \d+ min|due in 12 h"))
    expect(chip).to_have_attribute("data-tone", "warn")
    expect(chip).to_have_class(re.compile("badge-warn"))
    expect(card(page, plain.number).get_by_test_id("sla-chip")).to_have_count(0)


def test_a_cards_chip_turns_amber_then_red_as_the_scheduler_moves_on(app, db, page: Page, sign_in):
    """Time moves in step on both sides, nobody sleeps: the scheduler runs as of a later time
    (`flask jobs tick --at`) and the page's clock jumps forward (Playwright's clock)."""
    start = datetime.now(UTC).replace(second=0, microsecond=0)
    order = make_order(status="ready", paid_at=start - timedelta(hours=1))
    begin_write()
    db.session.add(SlaClock(order_id=order.id, kind="dispatch", state="running", started_at=start - timedelta(hours=1),
                            warn_at=start + timedelta(hours=1), due_at=start + timedelta(hours=2)))
    db.session.commit()

    page.clock.install(time=start - timedelta(minutes=1))
    page.clock.pause_at(start)
    sign_in("ops")
    open_board(page)
    chip = card(page, order.number).get_by_test_id("sla-chip")
    expect(chip).to_contain_text("dispatch")
    expect(chip).to_have_attribute("data-tone", "ok")
    expect(chip).to_contain_text("due in 2 h")

    assert "dispatch_sla: 1 warnings" in run_jobs_at(app, start + timedelta(minutes=90))
    page.clock.fast_forward("01:30:00")
    expect(chip).to_have_attribute("data-tone", "warn")
    expect(chip).to_have_class(re.compile("badge-warn"))
    expect(chip).to_contain_text("due in 30 min")

    page.clock.fast_forward("01:00:00")
    expect(chip).to_have_attribute("data-tone", "bad")
    expect(chip).to_have_class(re.compile("badge-bad"))
    expect(chip).to_contain_text("30 min overdue")
    assert "dispatch_sla: 1 breaches" in run_jobs_at(app, start + timedelta(hours=2, minutes=30))

    page.reload()  # the breach the run recorded is what the server renders now
    chip = card(page, order.number).get_by_test_id("sla-chip")
    expect(chip).to_have_attribute("data-tone", "bad")
    expect(chip).to_contain_text("overdue")
