"""Returns pages: the queue per status, opening a return from an order, one return's page
and its actions (each a plain form and an htmx fragment of the same page), the order
page's Returns section, and the managers' report with its CSV."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Location, StockMove
from app.services import returns as returns_service
from app.services.tx import begin_write
from tests.fulfillment_scenes import ready_order, reload
from tests.services.conftest import ACTOR, shop, stock  # noqa: F401  (shop is a fixture)
from tests.services.test_returns import (  # noqa: F401  (stocked is a fixture)
    approved_return,
    fresh_return,
    level,
    open_return,
    receive,
    restock,
    shipped_mugs_and_tee,
    stocked,
    write_off,
)

pytestmark = pytest.mark.usefixtures("stocked")
HX = {"HX-Request": "true"}


def rows(body: str) -> list[str]:
    return re.findall(r'id="return-([^"]+)" data-testid="return-row"', body)


def toast_of(response) -> dict:
    return json.loads(response.headers["HX-Trigger"])["toast"]


def version_of(number: str) -> int:
    return fresh_return(number).version


# The queue ------------------------------------------------------------------------------------


def test_the_queue_has_a_tab_per_status_with_counts_and_the_work_oldest_first(login):
    order = shipped_mugs_and_tee()
    first = open_return(order, (("MUG", 1),))
    second = approved_return(order, (("MUG", 1),))
    third = open_return(order, (("TEE", 1),), reason="changed_mind", resolution="exchange")
    returns_service.reject(third, reason="worn", actor=ACTOR)
    client = login("ops")

    body = client.get("/returns/").get_data(as_text=True)
    assert rows(body) == [third, second, first]  # everything, newest first
    assert re.search(r'data-testid="count-open">2<', body) and re.search(r'data-testid="count-rejected">1<', body)
    row = body[body.index(f'id="return-{second}"'):].split("</tr>")[0]
    assert all(s in row for s in (order, "Ada Buyer", 'data-status="approved"', "damaged", "refund",
                                  '<td class="num">1</td>', "12.50 EUR", 'data-testid="age"'))

    open_tab = client.get("/returns/?status=open").get_data(as_text=True)
    assert rows(open_tab) == [first, second]  # the longest waiting first
    assert rows(client.get("/returns/?status=rejected").get_data(as_text=True)) == [third]
    assert rows(client.get("/returns/?reason=changed_mind").get_data(as_text=True)) == [third]
    assert rows(client.get(f"/returns/?order={order}&status=requested").get_data(as_text=True)) == [first]
    assert "No returns match these filters." in client.get("/returns/?order=SO-999999").get_data(as_text=True)
    assert 'href="/returns/new"' in body and "/returns/report" not in body  # ops do not see the report


def test_the_queue_pages_with_a_cursor_and_htmx_gets_rows_only(login, app):
    app.config["PAGE_SIZE"] = 2
    order = shipped_mugs_and_tee()
    numbers = [open_return(order, ((sku, 1),)) for sku in ("MUG", "MUG", "TEE")]
    client = login("finance")
    page = client.get("/returns/?status=open").get_data(as_text=True)
    assert rows(page) == numbers[:2]
    link = html.unescape(re.search(r'<a class="button" href="([^"]+)"[^>]*data-testid="load-more"', page).group(1))
    fragment = client.get(link, headers=HX).get_data(as_text=True)
    assert rows(fragment) == numbers[2:] and "<html" not in fragment
    whole = client.get(link).get_data(as_text=True)
    assert "<html" in whole and rows(whole) == numbers[2:]


# Opening a return -------------------------------------------------------------------------------


def test_the_order_page_offers_create_return_once_something_shipped(login):
    order = shipped_mugs_and_tee()
    waiting = ready_order("WEB-READY")
    ops = login("ops")
    page = ops.get(f"/orders/{order}").get_data(as_text=True)
    assert f'href="/returns/new?order={order}" data-testid="create-return"' in page
    assert "No returns." in page
    assert 'data-testid="create-return"' not in ops.get(f"/orders/{waiting}").get_data(as_text=True)
    finance = login("finance").get(f"/orders/{order}").get_data(as_text=True)
    assert 'data-testid="create-return"' not in finance and "Your role does not open returns." in finance

    number = open_return(order, (("MUG", 2),))
    page = ops.get(f"/orders/{order}").get_data(as_text=True)
    section = page[page.index('id="order-returns"'):].split("</section>")[0]
    assert f'href="/returns/{number}"' in section and "0 of 2" in section and 'data-status="requested"' in section


def test_opening_a_return_from_the_form(login):
    order = shipped_mugs_and_tee()
    client = login("ops")
    ask = client.get("/returns/new").get_data(as_text=True)
    assert 'name="order"' in ask and "Continue" in ask
    form = client.get(f"/returns/new?order={order}").get_data(as_text=True)
    mug_id = re.search(r'name="qty-(\d+)"[^>]*max="2"', form).group(1)
    tee_id = re.search(r'name="qty-(\d+)"[^>]*max="1"', form).group(1)

    response = client.post("/returns/", data={"order": order, f"qty-{mug_id}": "2", f"qty-{tee_id}": "0",
                                              "reason": "wrong_item", "resolution": "exchange"})

    assert (response.status_code, response.headers["Location"]) == (303, "/returns/RMA-000001")
    ret = fresh_return("RMA-000001")
    assert ([(ln.line.sku, ln.qty) for ln in ret.lines], ret.reason, ret.resolution) == (
        [("MUG", 2)], "wrong_item", "exchange")
    page = client.get("/returns/RMA-000001").get_data(as_text=True)
    assert "RMA-000001 opened for SO-000001." in page
    # The units are now held: the form offers only the tee.
    again = client.get(f"/returns/new?order={order}").get_data(as_text=True)
    assert f'name="qty-{mug_id}"' not in again and f'name="qty-{tee_id}"' in again


def test_a_refused_return_shows_the_form_again_with_the_reason(login):
    order = shipped_mugs_and_tee()
    client = login("ops")
    form = client.get(f"/returns/new?order={order}").get_data(as_text=True)
    mug_id = re.search(r'name="qty-(\d+)"[^>]*max="2"', form).group(1)

    too_many = client.post("/returns/", data={"order": order, f"qty-{mug_id}": "3", "reason": "damaged"})
    body = too_many.get_data(as_text=True)
    assert too_many.status_code == 422 and "Only 2 × MUG can still be returned" in body
    assert f'name="qty-{mug_id}" min="0" max="2"\n                   value="3"' in body  # what was typed stays
    nothing = client.post("/returns/", data={"order": order, "reason": "damaged"}, headers=HX)
    assert nothing.status_code == 422 and "Choose at least one unit to return." in nothing.get_data(as_text=True)
    assert toast_of(nothing)["level"] == "error" and "<html" not in nothing.get_data(as_text=True)
    other = client.post("/returns/", data={"order": order, f"qty-{mug_id}": "1", "reason": "other"})
    assert other.status_code == 422 and "Say what the reason is" in other.get_data(as_text=True)

    unshipped = ready_order("WEB-READY")
    refused = client.post("/returns/", data={"order": unshipped, "reason": "damaged"})
    assert refused.status_code == 409 and "has not shipped anything yet" in refused.get_data(as_text=True)
    assert client.get("/returns/new?order=SO-999999").status_code == 404
    ok = client.post("/returns/", data={"order": order, f"qty-{mug_id}": "1", "reason": "damaged"}, headers=HX)
    assert (ok.status_code, ok.headers["HX-Redirect"]) == (204, "/returns/RMA-000001")


# One return's page -----------------------------------------------------------------------------


def test_the_return_page_and_its_fragment_twin(login):
    order = shipped_mugs_and_tee()
    number = open_return(order, (("MUG", 2),), reason_note="handle broke")
    client = login("ops")

    page = client.get(f"/returns/{number}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in body
    assert f'href="/orders/{order}" data-testid="order-link"' in body and "“handle broke”" in body
    assert "SH-000001" in body and "MUG × 2, TEE × 1" in body  # the order's shipment
    assert 'data-testid="open-approve"' in body and 'data-testid="why-cancel"' in body
    assert "Vary" in page.headers and "HX-Request" in page.headers["Vary"]

    fragment = client.get(f"/returns/{number}", headers=HX).get_data(as_text=True)
    assert "<html" not in fragment and fragment.lstrip().startswith('<div id="return-page"')
    assert client.get("/returns/RMA-999999").status_code == 404


def test_approve_plain_and_over_htmx_and_a_stale_form_is_refused(login):
    order = shipped_mugs_and_tee()
    first, second = open_return(order, (("MUG", 1),)), open_return(order, (("TEE", 1),))
    client = login("ops")

    plain = client.post(f"/returns/{first}/approve", data={"version": version_of(first), "note": "label sent"})
    assert (plain.status_code, plain.headers["Location"]) == (303, f"/returns/{first}")
    assert fresh_return(first).status == "approved"

    htmx = client.post(f"/returns/{second}/approve", data={"version": version_of(second)}, headers=HX)
    assert htmx.status_code == 200 and toast_of(htmx)["message"] == f"{second} approved: the customer can send " \
                                                                    "the goods."
    assert 'data-status="approved"' in htmx.get_data(as_text=True)

    stale = client.post(f"/returns/{first}/cancel", data={"version": 1}, headers=HX)
    body = stale.get_data(as_text=True)
    assert stale.status_code == 409 and "was changed by someone else" in body
    assert f'name="version" type="hidden" value="{version_of(first)}"' in body  # the form now carries the news
    assert fresh_return(first).status == "approved"


def test_reject_needs_a_reason(login):
    number = open_return(shipped_mugs_and_tee())
    client = login("manager")
    refused = client.post(f"/returns/{number}/reject", data={"note": ""})
    assert refused.status_code == 422 and "Say why the return is rejected" in refused.get_data(as_text=True)
    client.post(f"/returns/{number}/reject", data={"note": "worn"})
    assert fresh_return(number).status == "rejected"
    assert login("finance").post(f"/returns/{number}/approve", data={}).status_code == 403


def _receive_ids(body: str) -> dict[str, str]:
    return dict(re.findall(r'name="sku-(\d+)" value="([^"]+)"', body)[i][::-1]
                for i in range(len(re.findall(r'name="sku-(\d+)"', body))))


def test_receiving_from_the_page_restocks_writes_off_and_marks_what_will_not_come(login):
    order = shipped_mugs_and_tee()
    number = approved_return(order, (("MUG", 2), ("TEE", 1)))
    client = login("ops")
    page = client.get(f"/returns/{number}").get_data(as_text=True)
    ids = _receive_ids(page)
    assert set(ids) == {"MUG", "TEE"} and 'option value="AMS"' in page

    response = client.post(f"/returns/{number}/receive", headers=HX, data={
        "version": version_of(number),
        f"sku-{ids['MUG']}": "MUG", f"qty-{ids['MUG']}": "1", f"condition-{ids['MUG']}": "resellable",
        f"disposition-{ids['MUG']}": "restock", f"location-{ids['MUG']}": "AMS", f"missing-{ids['MUG']}": "1",
        f"sku-{ids['TEE']}": "TEE", f"qty-{ids['TEE']}": "1", f"condition-{ids['TEE']}": "damaged",
        f"disposition-{ids['TEE']}": "write_off", f"location-{ids['TEE']}": "AMS",
    })

    assert response.status_code == 200, response.get_data(as_text=True)
    assert toast_of(response)["message"] == f"Recorded 2 units received on {number}. Not coming back: MUG."
    body = response.get_data(as_text=True)
    assert "1 × resellable → restocked at AMS" in body and "1 × damaged → written off" in body
    assert "1 not coming back" in body and 'data-testid="refund-panel"' in body
    ret = fresh_return(number)
    assert ret.status == "received" and [r.location_id is None for r in ret.lines[1].receipts] == [True]
    assert level("MUG").on_hand == 9 and level("TEE").on_hand == 9
    timeline = client.get(f"/returns/{number}").get_data(as_text=True).split('id="return-timeline"')[1]
    assert "1 × MUG resellable, restock at AMS; 1 × TEE damaged, write off; 1 × MUG not coming back" in timeline


def test_restocking_to_an_inactive_location_from_the_page_shows_why(login):
    order = shipped_mugs_and_tee()
    number = approved_return(order, (("MUG", 1),))
    client = login("ops")
    ids = _receive_ids(client.get(f"/returns/{number}").get_data(as_text=True))
    session = begin_write()
    session.scalar(select(Location).where(Location.code == "LEJ")).active = False
    session.commit()

    refused = client.post(f"/returns/{number}/receive", data={
        "version": version_of(number), f"sku-{ids['MUG']}": "MUG", f"qty-{ids['MUG']}": "1",
        f"disposition-{ids['MUG']}": "restock", f"location-{ids['MUG']}": "LEJ"})

    body = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "Location LEJ is inactive" in body
    assert 'role="alert" data-testid="action-error"' in body
    assert 'option value="LEJ"' not in body  # only active locations are offered
    assert fresh_return(number).status == "approved"
    assert db.session.scalar(select(StockMove).where(StockMove.kind == "return_restock")) is None


def test_finance_refunds_from_the_page_and_sees_the_credit_note_pdf(login):
    order = shipped_mugs_and_tee()
    number = approved_return(order, (("MUG", 2),))
    receive(number, restock("MUG", 2))
    ops_page = login("ops").get(f"/returns/{number}").get_data(as_text=True)
    assert 'data-testid="why-refund">Your role does not do this.' in ops_page
    assert 'data-testid="exchange-form"' in ops_page
    finance = login("finance")
    page = finance.get(f"/returns/{number}").get_data(as_text=True)
    assert 'data-testid="refund-value">25.00 EUR<' in page and "29.95 EUR with shipping" in page

    lowered = finance.post(f"/returns/{number}/refund", data={"version": version_of(number), "amount": "20.00",
                                                              "method": "original"}, headers=HX)
    assert lowered.status_code == 422 and "Say why the refund is lower" in lowered.get_data(as_text=True)
    assert fresh_return(number).status == "received"

    done = finance.post(f"/returns/{number}/refund", data={"version": version_of(number), "method": "original",
                                                           "include_shipping": "y"})
    assert done.status_code == 303
    page = finance.get(f"/returns/{number}").get_data(as_text=True)
    assert f"{number} closed: 29.95 EUR refunded." in page
    assert 'href="/invoices/CN-2026-000001.pdf" target="_blank" data-testid="credit-note-pdf"' in page
    assert "INV-2026-000001" in page and 'data-status="closed"' in page
    pdf = finance.get("/invoices/CN-2026-000001.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    # Ops see the refund but not the finance document link.
    assert "credit-note-pdf" not in login("ops").get(f"/returns/{number}").get_data(as_text=True)
    assert reload(order).payment_status == "partially_refunded"


def test_ops_send_a_replacement_from_the_page(login):
    order = shipped_mugs_and_tee()
    number = approved_return(order, (("TEE", 1),), resolution="exchange")
    receive(number, write_off("TEE", 1))
    client = login("ops")
    assert client.post(f"/returns/{number}/refund", data={}).status_code == 403
    response = client.post(f"/returns/{number}/exchange", data={"version": version_of(number)}, headers=HX)
    assert response.status_code == 200
    assert toast_of(response)["message"] == f"{number} closed: replacement order SO-000002 created."
    assert 'href="/orders/SO-000002" data-testid="exchange-order"' in response.get_data(as_text=True)
    assert reload("SO-000002").status == "ready"


def test_closing_before_everything_arrived_is_explained(login):
    order = shipped_mugs_and_tee()
    number = approved_return(order, (("MUG", 2),))
    receive(number, restock("MUG", 1))
    client = login("manager")
    page = client.get(f"/returns/{number}").get_data(as_text=True)
    assert "Still waiting for 1 × MUG" in page and 'data-testid="why-exchange">Still waiting for 1 × MUG.' in page
    refused = client.post(f"/returns/{number}/exchange", data={"version": version_of(number)})
    assert refused.status_code == 409 and "cannot be closed yet: 1 × MUG not received" in refused.get_data(
        as_text=True)


# The report -----------------------------------------------------------------------------------


def test_the_returns_report_and_its_csv(login):
    from app.models.base import utcnow

    today = utcnow()
    order = shipped_mugs_and_tee()  # shipped on 2026-03-02 (the fixtures' NOW)
    first = approved_return(order, (("MUG", 1),), now=today)
    receive(first, restock("MUG", 1), now=today)
    returns_service.close(first, actor=ACTOR, now=today)
    open_return(order, (("TEE", 1),), reason="changed_mind", now=today - timedelta(days=1))
    client = login("manager")

    period = "from=2026-03-01&to=2026-03-31"
    march = client.get(f"/returns/report?{period}").get_data(as_text=True)
    # Shipped then, returned later: the page lists what came back, the CSV every product shipped.
    assert "No product was returned in this period." in march
    assert re.search(r'data-testid="without-returns">2 other products shipped', march)
    web = march[march.index('data-testid="by-channel-web"'):].split("</tr>")[0]
    assert '<td class="num">3</td>' in web and '<td class="num">0</td>' in web
    body = client.get("/returns/report").get_data(as_text=True)  # the last 14 days
    mug = body[body.index('data-testid="by-product-MUG"'):].split("</tr>")[0]
    assert '<td class="num">1</td>' in mug and "—" in mug
    assert re.search(r'data-testid="by-reason-damaged"><td>damaged</td><td class="num">1</td><td class="num">1</td>'
                     r'\s*<td class="num">50.0 %', body)
    assert 'data-testid="refunds-EUR"><td>EUR</td><td class="num">1</td><td class="num">12.50 EUR</td>' in body

    response = client.get(f"/returns/report.csv?{period}")
    assert response.mimetype == "text/csv"
    assert 'filename="returns-2026-03-01-2026-03-31.csv"' in response.headers["Content-Disposition"]
    table = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert table[0][:6] == ["section", "key", "name", "shipped", "returned", "return_rate_pct"]
    assert ["product", "MUG", "Mug", "2", "0", "0.0", "", "", ""] in table
    assert login("ops").get("/returns/report").status_code == 403


def test_the_page_says_when_no_credit_note_can_be_issued(login):
    from app.services import invoicing

    order = shipped_mugs_and_tee()
    invoicing.credit_invoice("INV-2026-000001", lines=[{"sku": "TEE", "qty": 1}], reason="price error", actor=ACTOR)
    number = approved_return(order, (("TEE", 1),))
    receive(number, restock("TEE", 1))
    page = login("finance").get(f"/returns/{number}").get_data(as_text=True)
    assert re.search(r'data-testid="refund-problem">1 × TEE of RMA-000001 cannot be credited', page)
