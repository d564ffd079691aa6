"""Fulfillment in a real browser: start a wave, pack by scanning into the input, ship,
download the packing slip and the invoice; then a bulk export whose progress finishes."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from tests.fulfillment_scenes import UPS, ready_order, reload
from tests.services.conftest import shop, stock  # noqa: F401  (shop is a fixture)

pytestmark = pytest.mark.browser


def scan(page: Page, code: str) -> None:
    """What a barcode scanner does: type the code into the focused input and press Enter."""
    with page.expect_response(lambda r: r.url.endswith("/scan")):
        page.keyboard.type(code)
        page.keyboard.press("Enter")


def test_wave_pack_ship_and_documents(page: Page, sign_in, shop, app, tmp_path):  # noqa: F811
    app.config.update(EXPORT_DIR=str(tmp_path / "exports"), EXPORT_PROCESSES=0)
    stock("AMS", "MUG", 10)
    stock("AMS", "TEE", 10)
    number = ready_order("B-1", (("MUG", 2, "12.50"), ("TEE", 1, "25.00")))
    other = ready_order("B-2", customer={"name": "Bo Other", "email": "bo@example.com"})
    sign_in("manager")

    # Pick queue → wave of the ticked order.
    page.goto("/fulfillment/")
    page.locator("#queue-AMS").click()
    expect(page.get_by_role("heading", name=re.compile("Pick queue"))).to_be_visible()
    expect(page.get_by_test_id("queue-row")).to_have_count(2)
    page.get_by_label(f"Pick {number}").check()
    page.get_by_test_id("wave-selected").click()
    expect(page.get_by_role("heading", name="Wave W-000001")).to_be_visible()
    expect(page.get_by_test_id("pick-row")).to_have_count(2)
    page.get_by_test_id("pick-row").first.get_by_role("checkbox").check()  # ticking a picked line is local
    assert reload(other).status == "ready"

    # Packing: the input has the focus; a wrong item is refused loudly and the focus stays.
    page.get_by_role("link", name="Pack").click()
    scan_input = page.locator("#scan-code")
    expect(scan_input).to_be_focused()
    scan(page, "MUG")
    expect(page.get_by_test_id("pack-progress")).to_contain_text("1 of 3 units packed")
    expect(scan_input).to_be_focused()
    scan(page, "CAP")
    message = page.get_by_test_id("scan-message")
    expect(message).to_contain_text("“CAP” is not in this parcel")
    expect(message).to_have_css("color", "rgb(192, 57, 43)")
    expect(page.locator(".toast-error")).to_contain_text("not in this parcel")
    expect(page.locator("#scan-code")).to_be_focused()
    expect(page.get_by_test_id("pack-progress")).to_contain_text("1 of 3 units packed")
    # A scanner does not wait for the server: two codes fired back to back both count.
    page.keyboard.type("MUG")
    page.keyboard.press("Enter")
    page.keyboard.type("TEE")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Packed · ready to ship")).to_be_visible()
    assert reload(number).status == "packed"

    # The packing slip is a PDF the browser can fetch with the session.
    slip_href = page.get_by_test_id("packing-slip").get_attribute("href")
    slip = page.request.get(slip_href)
    assert slip.ok and slip.headers["content-type"] == "application/pdf"
    assert number in PdfReader(io.BytesIO(slip.body())).pages[0].extract_text()

    # Ship with a tracking number: first a wrong one, then the right one.
    page.locator("#carrier").select_option("ups")
    page.locator("#tracking_number").fill("1Z12")
    page.get_by_test_id("ship-button").click()
    expect(page.get_by_test_id("ship-error")).to_contain_text("A UPS tracking number is")
    page.locator("#tracking_number").fill(UPS)
    page.get_by_test_id("ship-button").click()
    expect(page.get_by_role("heading", name="Shipped", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name=UPS)).to_be_visible()
    assert reload(number).status == "shipped"

    # The invoice, from the finance list, as a real download.
    page.goto("/documents/")
    row = page.locator("#doc-INV-2026-000001, [data-testid=document-row]").first
    with page.expect_download() as download_info:
        row.get_by_test_id("document-pdf").click()
    download = download_info.value
    assert re.fullmatch(r"INV-\d{4}-000001\.pdf", download.suggested_filename)
    text = PdfReader(download.path()).pages[0].extract_text()
    assert number in text and "Page 1 of 1" in text

    # A bulk export of today: the progress row polls until the ZIP can be downloaded.
    today = datetime.now(ZoneInfo(app.config["TIMEZONE"])).date().isoformat()
    page.get_by_test_id("export-from").fill(today)
    page.get_by_test_id("export-to").fill(today)
    page.get_by_test_id("export-start").click()
    job = page.get_by_test_id("export-job").first
    expect(job).to_have_attribute("data-state", "done", timeout=15_000)
    expect(job.locator("progress")).to_have_attribute("value", "100")
    # Leaving the page and coming back shows the same finished job.
    page.goto("/fulfillment/")
    page.goto("/documents/")
    with page.expect_download() as zip_info:
        page.get_by_test_id("export-download").first.click()
    names = zipfile.ZipFile(zip_info.value.path()).namelist()
    assert sorted(names) == sorted([download.suggested_filename, "register.csv"])
