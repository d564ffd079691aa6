"""The read-only landing pages of the dashboard sections: what a user sees in each list,
how filters and "load more" behave, and the order and stock-level detail pages."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from app.models import (
    Allocation,
    Channel,
    Customer,
    Event,
    Invoice,
    Location,
    Order,
    OrderLine,
    Payment,
    Product,
    Return,
    ReturnLine,
    Shipment,
    ShipmentLine,
    SlaClock,
    StockLevel,
    StockMove,
    Wave,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HX = {"HX-Request": "true"}


# Scene building ----------------------------------------------------------------


def save(db, *rows):
    db.session.add_all(rows)
    db.session.commit()
    return rows[0] if len(rows) == 1 else rows


def channel(db, code="WEB", name="Webstore"):
    return save(db, Channel(code=code, name=name))


def customer(db, email="ana@example.com", name="Ana Costa"):
    return save(db, Customer(email=email, name=name))


def product(db, sku="MUG-1", name="Blue mug", price="12.50", reorder_point=0):
    return save(db, Product(sku=sku, name=name, unit_price=Decimal(price), reorder_point=reorder_point))


def location(db, code="AMS", name="Amsterdam DC"):
    return save(db, Location(code=code, name=name))


def order(
    db,
    number,
    ch,
    cust,
    *,
    status="new",
    hold=None,
    placed_at=T0,
    external_id=None,
    lines=(),
    total="0.00",
    currency="EUR",
    **fields,
):
    o = Order(
        number=number,
        channel_id=ch.id,
        external_id=external_id or f"EXT-{number}",
        customer_id=cust.id,
        ship_name=cust.name,
        ship_line1="Keizersgracht 1",
        ship_city="Amsterdam",
        ship_postcode="1015CJ",
        ship_country="NL",
        currency=currency,
        placed_at=placed_at,
        status=status,
        hold_reason=hold,
        total=Decimal(total),
        **fields,
    )
    for n, (prod, qty) in enumerate(lines, start=1):
        o.lines.append(
            OrderLine(
                line_no=n,
                product_id=prod.id,
                sku=prod.sku,
                name=prod.name,
                qty=qty,
                unit_price=prod.unit_price,
                tax_rate=Decimal("21.00"),
            )
        )
    return save(db, o)


def numbers(body: str, prefix: str) -> list[str]:
    """Row ids such as id="order-SO-000001", in page order."""
    return re.findall(rf'\sid="{prefix}-([^"]+)"', body)


def next_link(body: str) -> str | None:
    found = re.search(r'<a class="button" href="([^"]+)"[^>]*data-testid="load-more"', body)
    return html.unescape(found.group(1)) if found else None


# Orders ------------------------------------------------------------------------


@pytest.fixture
def three_orders(db):
    web, market = channel(db, "WEB", "Webstore"), channel(db, "MKT", "Marketplace")
    ana, ben = customer(db, "ana@example.com", "Ana Costa"), customer(db, "ben@shop.test", "Ben Okafor")
    mug = product(db)
    order(db, "SO-000001", web, ana, lines=[(mug, 2)], total="25.00", placed_at=T0)
    order(
        db,
        "SO-000002",
        market,
        ben,
        status="on_hold",
        hold="stock",
        external_id="AMZ-778",
        placed_at=T0 + timedelta(hours=1),
        held_at=T0 + timedelta(hours=1),
    )
    order(
        db,
        "SO-000003",
        web,
        ben,
        status="on_hold",
        hold="payment",
        placed_at=T0 + timedelta(hours=2),
        held_at=T0 + timedelta(hours=2),
    )


def test_order_list_shows_orders_newest_first_with_their_columns(login, three_orders):
    body = login("ops").get("/orders/").get_data(as_text=True)

    assert numbers(body, "order") == ["SO-000003", "SO-000002", "SO-000001"]
    row = body[body.index('id="order-SO-000001"') :].split("</tr>")[0]
    assert "Ana Costa" in row and "WEB" in row
    assert '<td class="num">2</td>' in row  # items
    assert "25.00 EUR" in row
    assert "2026-03-02 10:00" in row  # placed, shown in Europe/Amsterdam
    assert 'href="/orders/SO-000001"' in row


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=on_hold", ["SO-000003", "SO-000002"]),
        ("status=on_hold&hold=stock", ["SO-000002"]),
        ("hold=payment", ["SO-000003"]),
        ("channel=MKT", ["SO-000002"]),
        ("channel=WEB&status=new", ["SO-000001"]),
        ("status=not-a-status", ["SO-000003", "SO-000002", "SO-000001"]),
    ],
)
def test_order_filters_narrow_the_list_and_stay_in_the_form(login, three_orders, query, expected):
    body = login("finance").get(f"/orders/?{query}").get_data(as_text=True)

    assert numbers(body, "order") == expected
    if "channel=MKT" in query:
        assert '<option value="MKT" selected>' in body


def test_order_filters_that_match_nothing_say_so(login, three_orders):
    body = login("ops").get("/orders/?status=cancelled").get_data(as_text=True)

    assert numbers(body, "order") == []
    assert "No orders match these filters." in body


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("SO-000002", ["SO-000002"]),  # order number
        ("so-000001", ["SO-000001"]),  # any case
        ("AMZ-778", ["SO-000002"]),  # the channel's external id
        ("ana@example.com", ["SO-000001"]),  # e-mail
        ("ben oka", ["SO-000003", "SO-000002"]),  # the start of the customer's name, any case
        ("2", ["SO-000002"]),  # the number's digits
        ("100%_", []),  # LIKE wildcards typed by a user match only themselves
    ],
)
def test_search_finds_orders_by_number_external_id_email_and_name(login, three_orders, q, expected):
    body = login("ops").get("/orders/", query_string={"q": q}).get_data(as_text=True)

    assert numbers(body, "order") == expected


def test_order_list_pages_with_a_cursor_and_htmx_appends_only_rows(login, db):
    web, ana = channel(db), customer(db)
    # Pairs share a placing time, so the page boundary falls between equal times.
    for i in range(60):
        order(db, f"SO-{i + 1:06d}", web, ana, placed_at=T0 + timedelta(minutes=i // 2))
    order(db, "SO-000099", web, ana, status="cancelled", placed_at=T0 + timedelta(days=1))
    client = login("ops")

    first = client.get("/orders/?status=new").get_data(as_text=True)
    page_one = numbers(first, "order")
    link = next_link(first)
    assert len(page_one) == 50
    assert page_one[:2] == ["SO-000060", "SO-000059"]
    assert link and "status=new" in link and "cursor=" in link

    full = client.get(link).get_data(as_text=True)
    assert "<html" in full
    page_two = numbers(full, "order")
    assert len(page_two) == 10
    assert not set(page_one) & set(page_two)
    assert set(page_one) | set(page_two) == {f"SO-{i:06d}" for i in range(1, 61)}
    assert next_link(full) is None

    fragment = client.get(link, headers=HX)
    text = fragment.get_data(as_text=True)
    assert fragment.status_code == 200
    assert numbers(text, "order") == page_two
    assert "<html" not in text and "<thead" not in text and "<form" not in text
    assert "HX-Request" in fragment.headers.get("Vary", "")


def test_load_more_fragment_carries_the_next_cursor(login, db):
    web, ana = channel(db), customer(db)
    for i in range(120):
        order(db, f"SO-{i + 1:06d}", web, ana, placed_at=T0 + timedelta(minutes=i))
    client = login("ops")

    link = next_link(client.get("/orders/").get_data(as_text=True))
    fragment = client.get(link, headers=HX).get_data(as_text=True)
    last = client.get(next_link(fragment), headers=HX).get_data(as_text=True)

    assert numbers(fragment, "order")[0] == "SO-000070"
    assert numbers(last, "order") == [f"SO-{i:06d}" for i in range(20, 0, -1)]
    assert 'data-testid="load-more"' not in last


def test_a_cursor_that_is_not_ours_is_refused(login, three_orders):
    response = login("ops").get("/orders/?cursor=not-a-cursor")

    assert response.status_code == 422


def test_order_detail_shows_lines_money_stock_shipments_clocks_and_history(login, db):
    web, ana, ams = channel(db), customer(db), location(db)
    mug, bowl = product(db), product(db, "BOWL-2", "Deep bowl", "8.00")
    o = order(
        db,
        "SO-000042",
        web,
        ana,
        status="on_hold",
        hold="address",
        lines=[(mug, 2), (bowl, 1)],
        total="33.00",
        paid_amount=Decimal("33.00"),
        payment_status="paid",
        held_at=T0 + timedelta(hours=3),
        held_by="job:address_check",
        ship_region="NH",
    )
    mug_line, bowl_line = o.lines
    mug_line.qty_allocated = 2
    wave = save(db, Wave(number="W-000003", location_id=ams.id))
    shipment = Shipment(
        number="SH-000007",
        order_id=o.id,
        location_id=ams.id,
        wave_id=wave.id,
        status="packed",
        carrier="PostNL",
        tracking_number="3SABC123",
    )
    shipment.lines.append(ShipmentLine(order_line_id=bowl_line.id, qty=1))
    save(
        db,
        Allocation(order_line_id=mug_line.id, order_id=o.id, product_id=mug.id, location_id=ams.id, qty=2),
        Payment(order_id=o.id, amount=Decimal("33.00"), method="card", reference="PSP-9981", received_at=T0),
        shipment,
        SlaClock(order_id=o.id, kind="address_hold", started_at=T0, due_at=T0 + timedelta(hours=8)),
        Event(
            entity_type="order",
            entity_id="SO-000042",
            action="created",
            actor="api:shop@example.com",
            to_state="new",
            created_at=T0,
        ),
        Event(
            entity_type="order",
            entity_id="SO-000042",
            action="held",
            actor="job:address_check",
            from_state="new",
            to_state="on_hold",
            created_at=T0 + timedelta(hours=3),
        ),
        Event(entity_type="order", entity_id="SO-000041", action="cancelled", actor="someone", created_at=T0),
        Event(entity_type="return", entity_id="SO-000042", action="not_this", actor="someone", created_at=T0),
    )

    response = login("ops").get("/orders/SO-000042")
    body = response.get_data(as_text=True)

    assert response.status_code == 200
    assert "held for address" in body and "job:address_check" in body
    assert 'data-payment="paid"' in body
    assert "Keizersgracht 1" in body and "1015CJ Amsterdam" in body
    lines = body[body.index('id="lines"') :].split("</table>")[0]
    assert "MUG-1" in lines and "Blue mug" in lines and "12.50" in lines and "BOWL-2" in lines
    assert "33.00 EUR" in body
    assert "PSP-9981" in body and "card" in body
    allocations = body[body.index('data-location="AMS"') :].split("</table>")[0]
    assert "MUG-1" in allocations and '<td class="num">2</td>' in allocations
    shipments = body[body.index('id="shipments"') :].split("</table>")[0]
    assert all(s in shipments for s in ("SH-000007", "AMS", "PostNL", "3SABC123", "W-000003", "BOWL-2 × 1"))
    assert "address hold" in body[body.index('id="clocks"') :]
    timeline = body[body.index('id="timeline"') :]
    assert re.findall(r'data-action="([^"]+)"', timeline) == ["created", "held"]
    assert "new → on_hold" in timeline and "api:shop@example.com" in timeline


def test_unknown_order_number_is_a_404_page(login, three_orders):
    response = login("ops").get("/orders/SO-999999")

    assert response.status_code == 404
    assert "There is no order SO-999999." in response.get_data(as_text=True)


# Inventory ---------------------------------------------------------------------


def _ledger_balances(body: str) -> list[int]:
    return [int(b) for b in re.findall(r'data-testid="balance">(-?\d+)<', body)]


def test_ledger_lists_moves_oldest_first_with_a_running_balance(login, db):
    mug, ams = product(db), location(db)
    save(db, StockLevel(product_id=mug.id, location_id=ams.id, on_hand=10, reserved=0, bin="A-01-3"))
    moves = [
        (10, "receipt", "PO-1"),
        (-3, "shipment", "SO-000001"),
        (5, "return_restock", "RMA-000001"),
        (-2, "adjustment", ""),
    ]
    for n, (qty, kind, ref) in enumerate(moves):
        save(
            db,
            StockMove(
                product_id=mug.id,
                location_id=ams.id,
                qty=qty,
                kind=kind,
                reference=ref,
                reason="count" if kind == "adjustment" else "",
                actor="user:ops@example.com",
                created_at=T0 + timedelta(hours=n),
            ),
        )

    body = login("ops").get("/inventory/MUG-1/AMS").get_data(as_text=True)

    assert _ledger_balances(body) == [10, 7, 12, 10]
    assert re.findall(r'data-testid="qty">([^<]+)<', body) == ["+10", "-3", "+5", "-2"]
    assert "RMA-000001" in body and "return restock" in body and "user:ops@example.com" in body
    assert 'data-testid="on-hand">10<' in body


def test_ledger_balance_carries_over_to_the_next_page(login, db):
    mug, ams = product(db), location(db)
    save(db, StockLevel(product_id=mug.id, location_id=ams.id, on_hand=55))
    save(db, *[StockMove(product_id=mug.id, location_id=ams.id, qty=1, kind="receipt") for _ in range(55)])
    client = login("manager")

    first = client.get("/inventory/MUG-1/AMS").get_data(as_text=True)
    rest = client.get(next_link(first), headers=HX).get_data(as_text=True)

    assert _ledger_balances(first) == list(range(1, 51))
    assert _ledger_balances(rest) == [51, 52, 53, 54, 55]
    assert "<html" not in rest


def test_unknown_stock_level_is_a_404(login, db):
    product(db)
    location(db)

    assert login("ops").get("/inventory/MUG-1/AMS").status_code == 404


@pytest.fixture
def stock(db):
    ams, rtm = location(db, "AMS", "Amsterdam DC"), location(db, "RTM", "Rotterdam store")
    plenty = product(db, "MUG-1", "Blue mug", reorder_point=5)
    scarce = product(db, "BOWL-2", "Deep bowl", reorder_point=5)
    gone = product(db, "CUP-3", "Espresso cup", reorder_point=5)
    save(
        db,
        StockLevel(product_id=plenty.id, location_id=ams.id, on_hand=40, reserved=2),
        StockLevel(product_id=scarce.id, location_id=ams.id, on_hand=6, reserved=3),  # 3 available, low
        StockLevel(product_id=gone.id, location_id=ams.id, on_hand=4, reserved=4),  # 0 available, out
        StockLevel(product_id=plenty.id, location_id=rtm.id, on_hand=8, reserved=0, reorder_point=10),  # own point
    )


def _levels(body: str) -> list[str]:
    return numbers(body, "level")


def test_stock_grid_highlights_low_and_out_levels(login, stock):
    body = login("ops").get("/inventory/").get_data(as_text=True)

    assert _levels(body) == ["BOWL-2-AMS", "CUP-3-AMS", "MUG-1-AMS", "MUG-1-RTM"]
    assert re.search(r'id="level-BOWL-2-AMS" data-testid="level-row" class="warn"', body)
    assert re.search(r'id="level-CUP-3-AMS" data-testid="level-row" class="bad"', body)
    assert re.search(r'id="level-MUG-1-AMS" data-testid="level-row" class=""', body)
    assert re.search(r'id="level-MUG-1-RTM" data-testid="level-row" class="warn"', body)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("filter=low", ["BOWL-2-AMS", "MUG-1-RTM"]),
        ("filter=out", ["CUP-3-AMS"]),
        ("location=RTM", ["MUG-1-RTM"]),
        ("q=bowl", ["BOWL-2-AMS"]),
        ("q=MUG&location=AMS", ["MUG-1-AMS"]),
    ],
)
def test_stock_filters_narrow_the_grid(login, stock, query, expected):
    body = login("ops").get(f"/inventory/?{query}").get_data(as_text=True)

    assert _levels(body) == expected


def test_home_page_stock_links_list_what_they_count(login, stock):
    client = login("manager")
    home = client.get("/").get_data(as_text=True)
    low = int(re.search(r'data-testid="stock-low">(\d+)<', home).group(1))
    out = int(re.search(r'data-testid="stock-out">(\d+)<', home).group(1))

    assert len(_levels(client.get("/inventory/?filter=low").get_data(as_text=True))) == low
    assert len(_levels(client.get("/inventory/?filter=out").get_data(as_text=True))) == out


def test_finance_cannot_open_inventory(login, stock):
    client = login("finance")

    assert client.get("/inventory/").status_code == 403
    assert client.get("/inventory/MUG-1/AMS").status_code == 403


# Fulfillment, returns, documents, SLA ------------------------------------------------


@pytest.fixture
def shipped(db):
    web, ana = channel(db), customer(db)
    ams, rtm = location(db, "AMS"), location(db, "RTM", "Rotterdam store")
    mug = product(db)
    o1 = order(db, "SO-000001", web, ana, status="shipped", lines=[(mug, 3)], total="37.50")
    o2 = order(db, "SO-000002", web, ana, status="picking", lines=[(mug, 1)], total="12.50")
    wave = save(db, Wave(number="W-000001", location_id=ams.id, status="done", created_by="ops@example.com"))
    save(db, Wave(number="W-000002", location_id=rtm.id))
    save(
        db,
        Shipment(
            number="SH-000001",
            order_id=o1.id,
            location_id=ams.id,
            wave_id=wave.id,
            status="shipped",
            carrier="DHL",
            tracking_number="JD0001",
            shipped_at=T0,
        ),
        Shipment(number="SH-000002", order_id=o2.id, location_id=ams.id, wave_id=wave.id, status="picking"),
        Shipment(number="SH-000003", order_id=o2.id, location_id=rtm.id, status="pending"),
    )
    return o1


def test_fulfillment_lists_shipments_and_waves(login, shipped):
    body = login("ops").get("/fulfillment/").get_data(as_text=True)

    assert numbers(body, "shipment") == ["SH-000003", "SH-000002", "SH-000001"]
    row = body[body.index('id="shipment-SH-000001"') :].split("</tr>")[0]
    assert all(s in row for s in ("SO-000001", "AMS", "DHL", "JD0001", "W-000001", 'data-status="shipped"'))
    assert numbers(body, "wave") == ["W-000002", "W-000001"]
    assert re.findall(r'data-testid="wave-count">(\d+)<', body) == ["0", "2"]


@pytest.mark.parametrize(
    ("query", "shipments", "waves"),
    [
        ("status=shipped", ["SH-000001"], ["W-000002", "W-000001"]),
        ("location=RTM", ["SH-000003"], ["W-000002"]),
        ("status=picking&location=AMS", ["SH-000002"], ["W-000001"]),
    ],
)
def test_fulfillment_filters(login, shipped, query, shipments, waves):
    body = login("manager").get(f"/fulfillment/?{query}").get_data(as_text=True)

    assert numbers(body, "shipment") == shipments
    assert numbers(body, "wave") == waves


def test_waves_page_on_their_own_cursor(login, db, shipped):
    ams = db.session.scalar(db.select(Location).where(Location.code == "AMS"))
    save(db, *[Wave(number=f"W-{n:06d}", location_id=ams.id) for n in range(3, 53)])
    client = login("ops")

    page = client.get("/fulfillment/").get_data(as_text=True)
    wave_link = next_link(page[page.index('id="waves-table"') :])
    assert len(numbers(page, "wave")) == 50
    assert "wave_cursor=" in wave_link and "?cursor=" not in wave_link and "&cursor=" not in wave_link

    fragment = client.get(wave_link, headers=HX).get_data(as_text=True)
    assert numbers(fragment, "wave") == ["W-000002", "W-000001"]
    assert numbers(fragment, "shipment") == []
    assert "<html" not in fragment


def test_returns_list_with_status_filter(login, db, shipped):
    line = shipped.lines[0]
    first = Return(
        number="RMA-000001",
        order_id=shipped.id,
        reason="damaged",
        status="closed",
        refund_total=Decimal("25.00"),
        requested_at=T0,
    )
    first.lines.append(ReturnLine(order_line_id=line.id, qty=2))
    second = Return(
        number="RMA-000002",
        order_id=shipped.id,
        reason="changed_mind",
        resolution="exchange",
        requested_at=T0 + timedelta(days=1),
    )
    second.lines.append(ReturnLine(order_line_id=line.id, qty=1))
    save(db, first, second)
    client = login("finance")

    body = client.get("/returns/").get_data(as_text=True)
    assert numbers(body, "return") == ["RMA-000002", "RMA-000001"]
    row = body[body.index('id="return-RMA-000001"') :].split("</tr>")[0]
    assert all(s in row for s in ("SO-000001", "damaged", "refund", '<td class="num">2</td>', "25.00 EUR"))

    filtered = client.get("/returns/?status=requested").get_data(as_text=True)
    assert numbers(filtered, "return") == ["RMA-000002"]
    assert "No returns match these filters." in client.get("/returns/?status=approved").get_data(as_text=True)


def _invoice(number, order_id, issued_at, total, kind="invoice", corrects_id=None):
    amount = Decimal(total)
    return Invoice(
        number=number,
        kind=kind,
        order_id=order_id,
        issued_at=issued_at,
        currency="EUR",
        net_total=amount,
        tax_total=Decimal("0.00"),
        total=amount,
        snapshot={},
        corrects_id=corrects_id,
    )


def test_documents_filter_by_kind_and_local_period(login, db, shipped):
    # Europe/Amsterdam is UTC+1 in March: 22:30 UTC is still 1 March there, 23:30 UTC is already 2 March.
    other = db.session.scalar(db.select(Order).where(Order.number == "SO-000002"))
    late_first = save(db, _invoice("INV-2026-000001", shipped.id, datetime(2026, 3, 1, 22, 30, tzinfo=UTC), "37.50"))
    save(db, _invoice("INV-2026-000002", other.id, datetime(2026, 3, 1, 23, 30, tzinfo=UTC), "12.50"))
    save(
        db,
        _invoice(
            "CN-2026-000001",
            shipped.id,
            datetime(2026, 3, 4, 10, 0, tzinfo=UTC),
            "37.50",
            kind="credit_note",
            corrects_id=late_first.id,
        ),
    )
    client = login("finance")

    body = client.get("/documents/").get_data(as_text=True)
    assert numbers(body, "doc") == ["CN-2026-000001", "INV-2026-000002", "INV-2026-000001"]
    credit = body[body.index('id="doc-CN-2026-000001"') :].split("</tr>")[0]
    assert "credit note" in credit and "INV-2026-000001" in credit and "37.50" in credit and "EUR" in credit

    def listed(query):
        return numbers(client.get(f"/documents/?{query}").get_data(as_text=True), "doc")

    assert listed("kind=credit_note") == ["CN-2026-000001"]
    assert listed("kind=invoice") == ["INV-2026-000002", "INV-2026-000001"]
    assert listed("from=2026-03-02&to=2026-03-02") == ["INV-2026-000002"]
    assert listed("to=2026-03-01") == ["INV-2026-000001"]
    assert listed("from=2026-03-02&kind=invoice") == ["INV-2026-000002"]
    assert listed("from=2026-03-05") == []

    bad = client.get("/documents/?from=yesterday").get_data(as_text=True)
    assert "is not a date" in bad and len(numbers(bad, "doc")) == 3


def test_sla_lists_running_clocks_by_deadline_with_alerts_and_counts(login, db, shipped):
    now = datetime.now(UTC)
    o = shipped.id
    save(
        db,
        SlaClock(
            order_id=o,
            kind="dispatch",
            started_at=now - timedelta(hours=80),
            warn_at=now - timedelta(hours=20),
            due_at=now - timedelta(hours=8),
        ),  # overdue
        SlaClock(
            order_id=o,
            kind="payment",
            started_at=now - timedelta(hours=30),
            warn_at=now - timedelta(hours=6),
            due_at=now + timedelta(hours=18),
        ),  # at risk
        SlaClock(
            order_id=o,
            kind="stock_hold",
            started_at=now,
            warn_at=now + timedelta(hours=2),
            due_at=now + timedelta(days=3),
        ),  # fine
        SlaClock(
            order_id=o,
            kind="address_hold",
            state="met",
            started_at=now - timedelta(days=2),
            due_at=now - timedelta(days=1),
            met_at=now - timedelta(days=1, hours=3),
        ),
        SlaClock(
            order_id=o,
            kind="dispatch",
            state="breached",
            started_at=now - timedelta(days=9),
            due_at=now - timedelta(days=6),
            breached_at=now - timedelta(days=6),
        ),
    )
    body = login("manager").get("/sla/").get_data(as_text=True)

    rows = re.findall(r'data-testid="clock-row" class="([^"]*)">.*?data-testid="time-left">([^<]+)<', body, re.S)
    assert [cls for cls, _ in rows] == ["bad", "warn", ""]
    assert rows[0][1].startswith("-8 h") or rows[0][1].startswith("-7 h")
    assert rows[2][1].startswith(("2 d 23 h", "3 d 0 h"))
    assert 'data-testid="overdue">1<' in body and 'data-testid="at-risk">1<' in body
    assert 'data-testid="count-dispatch-running">1<' in body
    assert 'data-testid="count-dispatch-breached">1<' in body
    assert 'data-testid="count-address_hold-met">1<' in body

    only_payment = login("admin").get("/sla/?kind=payment").get_data(as_text=True)
    assert len(re.findall(r'data-testid="clock-row"', only_payment)) == 1


# Every section ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "empty_message"),
    [
        ("/orders/", "No orders match these filters."),
        ("/inventory/", "No stock levels match these filters."),
        ("/fulfillment/", "No shipments match these filters."),
        ("/returns/", "No returns match these filters."),
        ("/documents/", "No documents match these filters."),
        ("/sla/", "No running clocks match these filters."),
    ],
)
def test_every_section_opens_on_an_empty_database(login, url, empty_message):
    response = login("admin").get(url)

    assert response.status_code == 200
    assert empty_message in response.get_data(as_text=True)


def test_order_list_query_count_does_not_grow_with_rows(login, db, app):
    """Lines, customers and channels are loaded per page, not per row."""
    from sqlalchemy import event

    web, ana, mug = channel(db), customer(db), product(db)
    client = login("ops")

    def statements_for(n_orders: int) -> int:
        start = db.session.scalar(db.select(db.func.count()).select_from(Order))
        for i in range(n_orders):
            order(db, f"SO-{start + i + 1:06d}", web, ana, lines=[(mug, 1)], placed_at=T0 + timedelta(minutes=i))
        seen = []
        listener = lambda *args: seen.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get("/orders/").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    assert statements_for(2) == statements_for(20)
