"""Returns in a real browser: from a shipped order's page open an RMA, approve it, receive
one line as resellable (restocked) and one as damaged (written off), refund, and open the
credit note PDF."""

from __future__ import annotations

import io
import re

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from tests.fulfillment_scenes import reload
from tests.services.conftest import shop, stock  # noqa: F401  (shop is a fixture)
from tests.services.test_returns import fresh_return, level, shipped_mugs_and_tee, stocked  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("stocked")]


def test_an_rma_from_order_to_credit_note(page: Page, sign_in):
    order = shipped_mugs_and_tee("B-RMA")
    sign_in("manager")

    # The order's page offers the return; the form lists what can come back.
    page.goto(f"/orders/{order}")
    page.get_by_test_id("create-return").click()
    expect(page.get_by_role("heading", name=f"New return for {order}")).to_be_visible()
    page.get_by_label("Return how many MUG").fill("1")
    page.get_by_label("Return how many TEE").fill("1")
    page.locator("#reason").select_option("damaged")
    page.get_by_test_id("create-return").click()
    expect(page.get_by_role("heading", name="RMA-000001")).to_be_visible()
    expect(page.locator("#return-page")).to_have_attribute("data-status", "requested")

    # Approve (htmx swaps the page region and shows a toast).
    page.get_by_test_id("open-approve").click()
    page.get_by_test_id("approve").click()
    expect(page.locator("#return-page")).to_have_attribute("data-status", "approved")
    expect(page.locator(".toast-success", has_text="RMA-000001 approved")).to_be_visible()

    # The parcel: the mug is fine and goes back on the shelf, the tee is damaged.
    mug = page.get_by_test_id("receive-row").filter(has_text="MUG")
    tee = page.get_by_test_id("receive-row").filter(has_text="TEE")
    mug.get_by_label("MUG condition").select_option("resellable")
    mug.get_by_label("MUG disposition").select_option("restock")
    mug.get_by_label("MUG location").select_option("AMS")
    tee.get_by_label("TEE condition").select_option("damaged")
    tee.get_by_label("TEE disposition").select_option("write_off")
    page.get_by_test_id("receive").click()
    expect(page.locator("#return-page")).to_have_attribute("data-status", "received")
    lines = page.get_by_test_id("return-line")
    expect(lines.filter(has_text="MUG").get_by_test_id("receipt")).to_have_text(
        re.compile(r"1 × resellable → restocked at AMS"))
    expect(lines.filter(has_text="TEE").get_by_test_id("receipt")).to_have_text(
        re.compile(r"1 × damaged → written off"))
    assert level("MUG").on_hand == 9 and level("TEE").on_hand == 9

    # Refund what arrived: 12.50 + 25.00.
    expect(page.get_by_test_id("refund-value")).to_have_text("37.50 EUR")
    page.get_by_test_id("refund").click()
    expect(page.locator("#return-page")).to_have_attribute("data-status", "closed")
    expect(page.get_by_test_id("refund-total")).to_have_text("37.50 EUR")
    assert reload(order).payment_status == "partially_refunded"

    # The credit note: a PDF the browser can fetch with the session, naming its number.
    link = page.get_by_test_id("credit-note-pdf")
    expect(link).to_have_text("CN-2026-000001 (PDF)")
    pdf = page.request.get(link.get_attribute("href"))
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    text = PdfReader(io.BytesIO(pdf.body())).pages[0].extract_text()
    assert "CN-2026-000001" in text and "INV-2026-000001" in text

    # Back on the order's page, the return is listed with what came back.
    page.get_by_test_id("order-link").click()
    row = page.get_by_test_id("order-return")
    expect(row).to_contain_text("RMA-000001")
    expect(row).to_contain_text("2 of 2")
    assert fresh_return("RMA-000001").refund_total == 37.5
