"""Fulfillment pages: pick queues, waves and pick lists, the packing screen (scanner input
over htmx), shipping and delivery, packing slips."""

from __future__ import annotations

import json
import re

import pytest

from tests.fulfillment_scenes import UPS, pack_all, packed_order, ready_order, reload, set_bin, shipments_of, wave_of
from tests.services.conftest import shop, stock  # noqa: F401  (shop is a fixture)

HX = {"HX-Request": "true"}


def rows(body: str, prefix: str) -> list[str]:
    return re.findall(rf'\sid="{prefix}-([^"]+)"', body)


@pytest.fixture
def stocked(shop):  # noqa: F811
    stock("AMS", "MUG", 20)
    stock("AMS", "TEE", 20)
    return shop


def test_the_section_shows_each_locations_pick_queue(login, stocked):
    ready_order("Q1")
    ready_order("Q2")
    body = login("ops").get("/fulfillment/").get_data(as_text=True)
    card = body[body.index('<a id="queue-AMS"') :].split("</a>")[0]
    assert 'href="/fulfillment/pick/AMS"' in card and ">2<" in card
    assert 'id="queue-LEJ"' in body


def test_the_pick_queue_lists_ready_orders_in_priority_with_checkboxes(login, stocked):
    later = ready_order("Q1", (("MUG", 1, "12.50"), ("TEE", 1, "25.00")))
    single = ready_order("Q2")
    client = login("ops")
    body = client.get("/fulfillment/pick/AMS").get_data(as_text=True)
    assert rows(body, "queue") == [single, later]  # same deadline and time: single-line first
    assert f'name="orders" value="{single}"' in body
    assert "Pick and pack as one parcel" in body  # both go to Ada Buyer at Damrak 1
    assert rows(client.get("/fulfillment/pick/AMS?channel=nope").get_data(as_text=True), "queue") == []
    assert "Nothing to pick here right now." in client.get("/fulfillment/pick/LEJ").get_data(as_text=True)
    assert client.get("/fulfillment/pick/NOPE").status_code == 404


def test_starting_a_wave_with_ticked_orders_opens_its_pick_list(login, stocked):
    set_bin("MUG", "AMS", "B-2")
    set_bin("TEE", "AMS", "A-1")
    a = ready_order("W1", (("MUG", 2, "12.50"), ("TEE", 1, "25.00")))
    b = ready_order("W2", (("MUG", 1, "12.50"),))
    client = login("ops")
    response = client.post("/fulfillment/pick/AMS/waves", data={"mode": "selected", "orders": [a, b]})
    assert response.status_code == 303 and response.headers["Location"] == "/fulfillment/waves/W-000001"

    page = client.get("/fulfillment/waves/W-000001").get_data(as_text=True)
    assert "Wave W-000001 started." in page
    assert re.findall(r'<td class="pick-bin">([^<]+)</td>', page) == ["A-1", "B-2"]
    mug_row = page[page.index('<td class="pick-bin">B-2</td>') :].split("</tr>")[0]
    assert f"{a} × 2" in mug_row and f"{b} × 1" in mug_row and '<td class="num">3</td>' in mug_row
    assert page.count('type="checkbox"') == 2
    assert "/fulfillment/waves/W-000001/pick-list.pdf" in page
    assert "/fulfillment/shipments/SH-000001" in page and "/fulfillment/shipments/SH-000002" in page
    assert (reload(a).status, reload(b).status) == ("picking", "picking")

    pdf = client.get("/fulfillment/waves/W-000001/pick-list.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")


def test_next_orders_by_priority_and_refusals(login, stocked):
    first = ready_order("N1")
    ready_order("N2")
    client = login("manager")
    response = client.post("/fulfillment/pick/AMS/waves", data={"mode": "next", "count": "1"})
    assert response.status_code == 303
    assert reload(first).status == "picking"
    refused = client.post("/fulfillment/pick/AMS/waves", data={"mode": "selected"}, follow_redirects=True)
    assert "Tick the orders to pick" in refused.get_data(as_text=True)
    refused = client.post(
        "/fulfillment/pick/AMS/waves", data={"mode": "selected", "orders": [first]}, follow_redirects=True
    )
    assert f"{first} is picking" not in refused.get_data(as_text=True)
    assert "nothing left to pick at AMS" in refused.get_data(as_text=True)


def test_the_packing_screen_scans_over_htmx_and_refuses_loudly(login, stocked):
    number = ready_order("PK", (("MUG", 2, "12.50"),))
    wave_of("AMS", number)
    client = login("ops")
    page = client.get("/fulfillment/shipments/SH-000001").get_data(as_text=True)
    assert "data-scan-input" in page and "autofocus" in page and "js/packing.js" in page
    assert "<strong>0</strong> of 2 units packed" in page

    ok = client.post("/fulfillment/shipments/SH-000001/scan", data={"code": "MUG"}, headers=HX)
    fragment = ok.get_data(as_text=True)
    assert ok.status_code == 200 and "<html" not in fragment and 'id="pack-status"' in fragment
    assert "scan-form" not in fragment  # the input stays on the page, keeping its focus
    assert "MUG: 1 of 2 packed." in fragment and "1 / 2" in fragment

    wrong = client.post("/fulfillment/shipments/SH-000001/scan", data={"code": "CAP"}, headers=HX)
    body = wrong.get_data(as_text=True)
    assert wrong.status_code == 422
    assert 'class="scan-message scan-error"' in body and "“CAP” is not in this parcel" in body
    assert 'role="alert"' in body and 'id="pack-status"' in body
    assert json.loads(wrong.headers["HX-Trigger"])["toast"]["level"] == "error"

    last = client.post("/fulfillment/shipments/SH-000001/scan", data={"code": "mug"}, headers=HX)
    body = last.get_data(as_text=True)
    assert last.status_code == 200 and "ready to ship" in body and "/shipments/SH-000001/packing-slip.pdf" in body
    assert (last.headers["HX-Retarget"], last.headers["HX-Reswap"]) == ("#work", "outerHTML")
    assert 'data-testid="ship-form"' in body
    assert reload(number).status == "packed"

    extra = client.post("/fulfillment/shipments/SH-000001/scan", data={"code": "MUG"}, headers=HX)
    assert extra.status_code == 409 and "already packed" in extra.get_data(as_text=True)


def test_too_many_units_answer_409_and_plain_posts_get_a_page(login, stocked):
    number = ready_order("PK2", (("MUG", 1, "12.50"), ("TEE", 1, "25.00")))
    wave_of("AMS", number)
    client = login("ops")
    client.post("/fulfillment/shipments/SH-000001/scan", data={"code": "MUG"}, headers=HX)
    extra = client.post("/fulfillment/shipments/SH-000001/scan", data={"code": "MUG"}, headers=HX)
    assert extra.status_code == 409 and "Too many MUG" in extra.get_data(as_text=True)
    plain = client.post("/fulfillment/shipments/SH-000001/scan", data={"code": "TEE"}, follow_redirects=True)
    assert "Parcel complete" in plain.get_data(as_text=True)


def test_shipping_from_the_screen_checks_the_tracking_number(login, stocked):
    number = packed_order("SH", (("MUG", 2, "12.50"),))
    client = login("manager")
    bad = client.post(
        "/fulfillment/shipments/SH-000001/ship", data={"carrier": "ups", "tracking_number": "1Z12", "qty-1": "2"}
    )
    assert bad.status_code == 422
    assert "A UPS tracking number is" in bad.get_data(as_text=True) and reload(number).status == "packed"

    line_id = shipments_of(number)[0].lines[0].id
    response = client.post(
        "/fulfillment/shipments/SH-000001/ship", data={"carrier": "ups", "tracking_number": UPS, f"qty-{line_id}": "2"}
    )
    assert response.status_code == 303
    page = client.get("/fulfillment/shipments/SH-000001").get_data(as_text=True)
    assert "Shipped SH-000001." in page and UPS in page and "ups.com" in page
    assert 'data-testid="invoice-link"' in page and "/invoices/INV-2026-000001.pdf" in page
    assert reload(number).status == "shipped"

    ops_page = login("ops").get("/fulfillment/shipments/SH-000001").get_data(as_text=True)
    assert 'data-testid="invoice-link"' not in ops_page  # ops cannot open invoices
    assert client.post("/fulfillment/shipments/SH-000001/deliver").status_code == 303
    assert reload(number).status == "delivered"
    again = client.post("/fulfillment/shipments/SH-000001/deliver", follow_redirects=True)
    assert "already delivered" in again.get_data(as_text=True)


def test_shipping_part_of_a_parcel_from_the_screen(login, stocked):
    number = packed_order("SP", (("MUG", 2, "12.50"),))
    line_id = shipments_of(number)[0].lines[0].id
    response = login("ops").post(
        "/fulfillment/shipments/SH-000001/ship",
        data={"carrier": "dpd", "tracking_number": "01234567890123", f"qty-{line_id}": "1"},
    )
    assert response.status_code == 303
    order = reload(number)
    assert order.status == "partially_shipped" and order.lines[0].qty_shipped == 1


def test_the_packing_slip_is_ready_once_packed(login, stocked):
    number = ready_order("SLIP")
    wave_of("AMS", number)
    client = login("ops")
    early = client.get("/shipments/SH-000001/packing-slip.pdf")
    assert early.status_code == 409
    pack_all("SH-000001")
    pdf = client.get("/shipments/SH-000001/packing-slip.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert 'filename="packing-slip-SH-000001.pdf"' in pdf.headers["Content-Disposition"]
    assert client.get("/shipments/SH-999999/packing-slip.pdf").status_code == 404
    assert login("finance").get("/shipments/SH-000001/packing-slip.pdf").status_code == 403


def test_accepting_and_dismissing_a_combined_parcel(login, stocked):
    a, b = ready_order("C1"), ready_order("C2")
    client = login("ops")
    response = client.post("/fulfillment/pick/AMS/parcels/accept", data={"orders": [a, b]})
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "packed as one parcel" in page
    shipment = client.get("/fulfillment/shipments/SH-000002").get_data(as_text=True)
    assert "Parcel SH-000001" in shipment and a in shipment and b in shipment

    c, d = ready_order("C3"), ready_order("C4")
    client.post("/fulfillment/pick/AMS/parcels/dismiss", data={"orders": [c, d]})
    body = client.get("/fulfillment/pick/AMS").get_data(as_text=True)
    assert "Pick and pack as one parcel" not in body and rows(body, "queue") == [c, d]
    stale = client.post("/fulfillment/pick/AMS/parcels/accept", data={"orders": [c, d]}, follow_redirects=True)
    assert "no longer applies" in stale.get_data(as_text=True)


def test_putting_a_parcel_back(login, stocked):
    number = ready_order("AB")
    wave_of("AMS", number)
    client = login("ops")
    assert 'data-testid="abort-button"' in client.get("/fulfillment/shipments/SH-000001").get_data(as_text=True)
    response = client.post("/fulfillment/shipments/SH-000001/abort", data={"reason": "bin empty"})
    assert response.status_code == 303 and response.headers["Location"] == "/fulfillment/pick/AMS"
    assert reload(number).status == "ready"
    again = client.post("/fulfillment/shipments/SH-000001/abort", data={}, follow_redirects=True)
    assert "only a parcel still being picked" in again.get_data(as_text=True)
