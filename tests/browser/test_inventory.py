"""The stock page in a real browser: booking stock from a grid row, a refusal shown
beside the field, a level's ledger, a count file taken through dry run and confirm."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.factories import make_location, make_product, make_stock

pytestmark = pytest.mark.browser


@pytest.fixture
def mugs(app):
    """Blue mugs: 4 in Amsterdam (bin A-01-3), 2 in Rotterdam."""
    mug = make_product("MUG", name="Blue mug")
    ams, rtm = make_location("AMS", name="Amsterdam DC"), make_location("RTM", name="Rotterdam store")
    make_stock(mug, ams, 4, bin="A-01-3")
    make_stock(mug, rtm, 2)
    return mug


def row(page: Page, sku: str, location: str):
    return page.locator(f"#level-{sku}-{location}")


@pytest.mark.parametrize("app_config_overrides", [{"WTF_CSRF_ENABLED": True}])
def test_receiving_through_the_form_changes_the_row_without_a_reload(page: Page, sign_in, mugs):
    sign_in("ops")
    page.goto("/inventory/")
    page.evaluate("window.stillHere = true")
    expect(row(page, "MUG", "AMS").get_by_test_id("on-hand")).to_have_text("4")

    row(page, "MUG", "AMS").get_by_role("link", name="Receive MUG at AMS").click()
    form = page.get_by_test_id("receive-form")
    expect(form.get_by_label("SKU")).to_have_value("MUG")
    expect(form.get_by_label("Location")).to_have_value("AMS")
    expect(form.get_by_label("Quantity")).to_be_focused()
    form.get_by_label("Quantity").fill("6")
    form.get_by_label("Reference").fill("PO-1042")
    form.get_by_role("button", name="Receive stock").click()

    expect(row(page, "MUG", "AMS").get_by_test_id("on-hand")).to_have_text("10")
    expect(row(page, "MUG", "AMS").get_by_test_id("available")).to_have_text("10")
    expect(row(page, "MUG", "RTM").get_by_test_id("on-hand")).to_have_text("2")
    expect(page.get_by_role("status").filter(has_text="Received 6 × MUG at AMS. On hand now 10.")).to_be_visible()
    # Ready for the next delivery of the same product.
    expect(page.get_by_test_id("receive-form").get_by_label("Quantity")).to_have_value("")
    expect(page.get_by_test_id("receive-form").get_by_label("SKU")).to_have_value("MUG")
    expect(page.locator("#stock-table tbody tr[data-testid=level-row]")).to_have_count(2)
    assert page.evaluate("window.stillHere") is True, "the page reloaded instead of swapping"


def test_an_adjustment_that_would_go_negative_is_explained_beside_the_field(page: Page, sign_in, mugs):
    sign_in("manager")
    page.goto("/inventory/")

    row(page, "MUG", "AMS").get_by_role("link", name="Adjust MUG at AMS").click()
    form = page.get_by_test_id("adjust-form")
    form.get_by_label("Change").fill("-5")
    form.get_by_label("Reason").select_option("loss")
    form.get_by_label("Note").fill("shelf empty")
    form.get_by_role("button", name="Book adjustment").click()

    error = page.get_by_test_id("adjust-form").get_by_test_id("error-delta")
    expect(error).to_have_text("Only 4 of MUG are on hand at AMS; you can remove at most 4.")
    expect(page.get_by_test_id("adjust-form").get_by_label("Change")).to_have_value("-5")
    expect(page.get_by_test_id("adjust-form").get_by_label("Change")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_test_id("adjust-form").get_by_label("Reason")).to_have_value("loss")
    expect(row(page, "MUG", "AMS").get_by_test_id("on-hand")).to_have_text("4")

    # Correct it and book it: the message goes, the row follows.
    page.get_by_test_id("adjust-form").get_by_label("Change").fill("-1")
    page.get_by_test_id("adjust-form").get_by_role("button", name="Book adjustment").click()
    expect(row(page, "MUG", "AMS").get_by_test_id("on-hand")).to_have_text("3")
    expect(page.get_by_test_id("error-delta")).to_have_count(0)


def test_a_levels_ledger_shows_the_running_balance(page: Page, sign_in, mugs):
    sign_in("ops")
    page.goto("/inventory/")
    page.get_by_role("link", name="Transfer").click()  # the tab above the grid
    form = page.get_by_test_id("transfer-form")
    form.get_by_label("SKU").fill("MUG")
    form.get_by_label("From").select_option("AMS")
    form.get_by_label("To").select_option("RTM")
    form.get_by_label("Quantity").fill("3")
    form.get_by_role("button", name="Move stock").click()
    expect(row(page, "MUG", "AMS").get_by_test_id("on-hand")).to_have_text("1")
    expect(row(page, "MUG", "RTM").get_by_test_id("on-hand")).to_have_text("5")

    row(page, "MUG", "RTM").get_by_role("link", name="MUG", exact=True).click()

    expect(page).to_have_url(re.compile(r"/inventory/MUG/RTM$"))
    expect(page.get_by_role("heading", name="MUG at RTM")).to_be_visible()
    expect(page.get_by_test_id("move-row").get_by_test_id("qty")).to_have_text(["+2", "+3"])
    expect(page.get_by_test_id("move-row").get_by_test_id("balance")).to_have_text(["2", "5"])
    expect(page.get_by_test_id("on-hand")).to_have_text("5")
    expect(page.get_by_test_id("move-row").nth(1)).to_contain_text("transfer in")


@pytest.mark.parametrize("app_config_overrides", [{"WTF_CSRF_ENABLED": True}])
def test_a_count_file_is_previewed_then_booked(page: Page, sign_in, mugs, tmp_path):
    counts = tmp_path / "counts.csv"
    counts.write_bytes("\ufeffsku;location;counted\r\nMUG;AMS;7\r\nMUG;RTM;2\r\nNOPE;AMS;1\r\n".encode())
    sign_in("ops")
    page.goto("/inventory/")
    page.get_by_role("link", name="Import counts").click()

    page.get_by_label("Count file (CSV)").set_input_files(str(counts))
    page.get_by_role("button", name="Check the file").click()

    results = page.get_by_test_id("count-result")
    expect(results).to_have_text([re.compile(r"Adjustment \+3, reason count"), "No change", "Unknown SKU NOPE."])
    expect(page.get_by_test_id("bad-rows")).to_have_text("1")
    page.get_by_test_id("confirm-import").click()
    expect(page.get_by_test_id("count-error")).to_contain_text("nothing was imported")

    page.get_by_label("Skip bad rows and import the others").check()
    page.get_by_test_id("confirm-import").click()

    expect(page.get_by_role("heading", name=re.compile(r"Stock count COUNT-\d{8}-\d{6} booked"))).to_be_visible()
    expect(page.get_by_test_id("count-adjusted")).to_have_text("1")
    page.get_by_role("link", name="Back to stock levels").click()
    expect(row(page, "MUG", "AMS").get_by_test_id("on-hand")).to_have_text("7")
