"""The order board and the order actions, as the browser's requests see them: columns
and counts under filters, paging a column, moving cards (legal, illegal, stale), the
live-changes poll, bulk actions, the detail page's actions per role, a customer's page,
and that every fragment has a full page behind the same URL."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event

from app.models import Allocation, Event, Order, Return
from app.services import orders as order_service
from app.services.actors import Actor
from app.services.queries import board as board_queries
from tests.factories import make_channel, make_customer, make_location, make_order, make_product
from tests.fulfillment_scenes import ready_order, shipments_of, wave_of
from tests.services.conftest import order_body, shop, stock  # noqa: F401  (shop is a fixture)

HX = {"HX-Request": "true"}
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TESTER = Actor(label="test:someone-else")


# Reading the page ------------------------------------------------------------------


def cards(body: str) -> dict[str, list[str]]:
    """Order numbers per column, top to bottom, as the cards carry them."""
    found: dict[str, list[str]] = {}
    for number, status in re.findall(r'<article class="card[^"]*"\s+id="order-([^"]+)" data-number="[^"]+" '
                                     r'data-status="([^"]+)"', body):
        found.setdefault(status, []).append(number)
    return found


def all_cards(body: str) -> list[str]:
    return [n for numbers in cards(body).values() for n in numbers]


def counts(body: str) -> dict[str, int]:
    return {s: int(n) for s, n in re.findall(r'id="count-(\w+)"[^>]*>(\d+)<', body)}


def columns(body: str) -> list[str]:
    return re.findall(r'data-testid="column-(\w+)"', body)


def attr_url(body: str, pattern: str) -> str | None:
    found = re.search(pattern, body)
    return html.unescape(found.group(1)) if found else None


def card_html(body: str, number: str) -> str:
    return body[body.index(f'id="order-{number}"'):].split("</article>")[0]


def more_link(body: str) -> str | None:
    return attr_url(body, r'class="load-more" href="([^"]+)"')


def poll_url(body: str) -> str:
    return attr_url(body, r'id="board-poll"[^>]*hx-get="([^"]+)"')


def toast_of(response) -> dict:
    return json.loads(response.headers["HX-Trigger"])["toast"]


def reload(order: Order) -> Order:
    return order_service.get_order(order.number)


def allocate(db, order: Order, location) -> None:
    line = order.lines[0]
    db.session.add(Allocation(order_line_id=line.id, order_id=order.id, product_id=line.product_id,
                              location_id=location.id, qty=line.qty))
    db.session.commit()


# Columns, counts, filters ----------------------------------------------------------


def test_board_has_a_column_per_status_in_design_order_with_exact_counts(login, db):
    for status in ("new", "new", "on_hold", "ready", "picking", "delivered", "cancelled", "cancelled"):
        make_order(status, placed_at=T0)

    body = login("ops").get("/orders/board").get_data(as_text=True)

    assert columns(body) == ["new", "on_hold", "ready", "picking", "packed", "partially_shipped", "shipped",
                             "delivered", "cancelled"]
    assert counts(body) == {"new": 2, "on_hold": 1, "ready": 1, "picking": 1, "packed": 0, "partially_shipped": 0,
                            "shipped": 0, "delivered": 1, "cancelled": 2}
    shown = cards(body)
    assert len(shown["new"]) == 2 and "delivered" not in shown and "cancelled" not in shown  # folded away
    assert 'aria-label="Show cancelled"' in body

    opened = login("ops").get("/orders/board?open=cancelled").get_data(as_text=True)
    assert len(cards(opened)["cancelled"]) == 2
    assert "delivered" not in cards(opened)
    assert 'aria-label="Hide cancelled"' in opened


def test_finished_columns_count_up_to_a_cap_and_open_ones_exactly(login, db, monkeypatch):
    monkeypatch.setattr(board_queries, "HISTORY_COUNT_CAP", 2)  # 1,000 in production
    for status in ("new", "new", "new", "delivered", "delivered", "delivered", "cancelled", "shipped", "shipped"):
        make_order(status, placed_at=T0)

    body = login("ops").get("/orders/board").get_data(as_text=True)

    shown = dict(re.findall(r'id="count-(\w+)"[^>]*>([^<]+)<', body))
    assert shown == {"new": "3", "on_hold": "0", "ready": "0", "picking": "0", "packed": "0",
                     "partially_shipped": "0", "shipped": "2", "delivered": "2+", "cancelled": "1"}
    assert "2+ delivered" in body  # the folded column says so too


def test_open_columns_read_oldest_first_and_finished_ones_newest_first(login, db):
    old = make_order("ready", placed_at=T0)
    young = make_order("ready", placed_at=T0 + timedelta(hours=5))
    shipped_old = make_order("shipped", placed_at=T0)
    shipped_young = make_order("shipped", placed_at=T0 + timedelta(hours=5))

    shown = cards(login("ops").get("/orders/board").get_data(as_text=True))

    assert shown["ready"] == [old.number, young.number]
    assert shown["shipped"] == [shipped_young.number, shipped_old.number]


@pytest.fixture
def scene(db):
    """Orders on two channels, one allocated at a location, holds, deadlines and SKUs to search."""
    now = datetime.now(UTC)
    web, market = make_channel("WEB"), make_channel("MKT")
    ana = make_customer("ana@example.com", name="Ana Costa")
    ben = make_customer("ben@shop.test", name="Ben Okafor")
    mug, tee = make_product("MUG-1"), make_product("TEE-9")
    ams = make_location("AMS")
    orders = {
        "late_ready": make_order("ready", channel=web, customer=ana, lines=[(mug, 2)], placed_at=T0,
                                 ship_by=now - timedelta(hours=2)),
        "soon_ready": make_order("ready", channel=market, customer=ben, lines=[tee], placed_at=T0,
                                 ship_by=now + timedelta(hours=5), external_id="AMZ-778"),
        "stock_hold": make_order("on_hold", hold_reason="stock", channel=market, customer=ana, lines=[tee],
                                 placed_at=T0, ship_by=now - timedelta(hours=1)),
        "new": make_order("new", channel=web, customer=ben, lines=[mug], placed_at=T0),
        "late_shipped": make_order("shipped", channel=web, customer=ben, lines=[mug], placed_at=T0,
                                   ship_by=now - timedelta(days=2)),
    }
    allocate(db, orders["late_ready"], ams)
    return orders


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("channel=MKT", {"soon_ready", "stock_hold"}),
        ("location=AMS", {"late_ready"}),
        ("hold=stock", {"stock_hold"}),
        # overdue: the deadline passed and the order has not left (shipped ones do not count)
        ("overdue=1", {"late_ready", "stock_hold"}),
        ("q=AMZ-778", {"soon_ready"}),
        ("q=ben oka", {"soon_ready", "new", "late_shipped"}),  # the start of a name, any case
        ("q=ANA@example.com", {"late_ready", "stock_hold"}),  # an e-mail, any case
        ("q=tee-9", {"soon_ready", "stock_hold"}),  # a SKU, typed in lower case
        ("q=okafor", set()),  # a name matches from its start only (an index serves that)
        ("q=ana@example", set()),  # e-mails match whole
        ("channel=WEB&overdue=1", {"late_ready"}),
        ("channel=NOPE", set()),
    ],
)
def test_filters_narrow_cards_and_counts_alike_and_stay_in_the_url(login, scene, query, expected):
    body = login("ops").get(f"/orders/board?{query}").get_data(as_text=True)

    numbers = {scene[name].number for name in expected}
    assert set(all_cards(body)) == numbers
    by_status: dict[str, int] = {}
    for name in expected:
        by_status[scene[name].status] = by_status.get(scene[name].status, 0) + 1
    assert {s: n for s, n in counts(body).items() if n} == by_status
    # The live poll and the move forms keep the same filters.
    first_key = query.split("=")[0]
    assert f"{first_key}=" in poll_url(body)
    if numbers:
        assert f"{first_key}=" in attr_url(body, r'data-move-url="([^"]+)"')


def test_cards_show_what_ops_needs_at_a_glance(login, scene):
    body = login("ops").get("/orders/board").get_data(as_text=True)

    late = body[body.index(f'id="order-{scene["late_ready"].number}"'):].split("</article>")[0]
    assert "WEB" in late and "Ana Costa" in late and "2 items" in late and "39.80 EUR" in late
    assert re.search(r"(1|2) h overdue", late) and 'data-ship-state="overdue"' in late
    assert 'data-ship-by="' in late and re.search(r'data-ship-in="-\d+"', late)
    soon = body[body.index(f'id="order-{scene["soon_ready"].number}"'):].split("</article>")[0]
    assert re.search(r"ships in (4|5) h", soon) and 'data-ship-state="due"' in soon
    held = body[body.index(f'id="order-{scene["stock_hold"].number}"'):].split("</article>")[0]
    assert 'data-hold="stock"' in held and ">stock</span>" in held
    # The move menu lists only where a ready order may go.
    options = re.findall(r'<option value="(\w+)"', late)
    assert options == ["on_hold", "picking", "cancelled"]


def test_cards_show_their_most_pressing_sla_clock_as_a_live_chip(login, shop):  # noqa: F811
    now = datetime.now(UTC)
    stock("AMS", "MUG", 5)
    unpaid, _ = order_service.create_order(order_body("CHIP-1", placed_at=now), actor=shop, now=now)
    paid, _ = order_service.create_order(order_body("CHIP-2", placed_at=now), actor=shop, now=now)
    order_service.record_payment(paid.number, paid.total, method="card", actor=shop, now=now)
    clockless = make_order("ready")
    client = login("ops")

    body = client.get("/orders/board").get_data(as_text=True)

    assert "/static/js/sla.js" in body[:body.index("</head>")]  # keeps the chips right without a reload
    chip_of = {n: re.search(r'<span class="badge sla-chip[^"]*"[^>]*data-kind="(\w+)"[^>]*>.*?</span></span>',
                            card_html(body, n), re.S) for n in (unpaid.number, paid.number, clockless.number)}
    assert chip_of[unpaid.number].group(1) == "payment" and "due in 2 d 23 h" in chip_of[unpaid.number].group(0)
    assert chip_of[paid.number].group(1) == "dispatch" and "due in 2 d 23 h" in chip_of[paid.number].group(0)
    assert 'data-tone="ok"' in chip_of[paid.number].group(0)
    assert chip_of[clockless.number] is None
    # A moved card comes back with its chip too.
    moved = client.post(f"/orders/{paid.number}/move", data={"to": "picking"}, headers=HX).get_data(as_text=True)
    assert 'data-kind="dispatch"' in card_html(moved, paid.number)


def test_the_board_reads_sla_clocks_in_one_query_however_many_cards(login, db, app):
    client = login("ops")
    channel, customer = make_channel(), make_customer()

    def board_statements(n_orders: int) -> list[str]:
        for _ in range(n_orders):
            make_order("new", channel=channel, customer=customer, lines=[])
        seen: list[str] = []

        def record(conn, cursor, statement, parameters, context, executemany):
            seen.append(statement)

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            assert client.get("/orders/board").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        return seen

    few, many = board_statements(2), board_statements(20)
    assert len(many) == len(few)
    assert sum("FROM sla_clocks" in s for s in many) == 1


def test_a_column_loads_more_cards_page_by_page_without_duplicates(login, db):
    web, ana = make_channel(), make_customer()
    made = [make_order("new", channel=web, customer=ana, lines=[], placed_at=T0 + timedelta(minutes=i // 2))
            for i in range(60)]
    make_order("ready", channel=web, customer=ana, lines=[], placed_at=T0)
    client = login("ops")

    body = client.get("/orders/board").get_data(as_text=True)
    seen = cards(body)["new"]
    assert len(seen) == 25 and counts(body)["new"] == 60
    link = more_link(body)
    assert "column=new" in link and "cursor=" in link
    pages = 0
    while link:
        fragment = client.get(link, headers=HX)
        text = fragment.get_data(as_text=True)
        assert fragment.status_code == 200 and "<html" not in text and "column-head" not in text
        assert set(all_cards(text)) <= {o.number for o in made}
        seen += cards(text)["new"]
        link = more_link(text)
        pages += 1
    assert pages == 2
    assert len(seen) == len(set(seen)) == 60
    assert seen == [o.number for o in sorted(made, key=lambda o: (o.placed_at, o.id))]


def test_the_load_more_address_is_also_a_whole_board(login, db):
    for i in range(30):
        make_order("new", lines=[], placed_at=T0 + timedelta(minutes=i))
    client = login("ops")
    link = more_link(client.get("/orders/board").get_data(as_text=True))

    full = client.get(link).get_data(as_text=True)

    assert "<html" in full and 'id="board"' in full
    assert len(cards(full)["new"]) == 5  # that column, from the cursor on


def test_bad_column_or_cursor_or_token_is_refused(login, db):
    client = login("ops")
    assert client.get("/orders/board?column=lost", headers=HX).status_code == 422
    assert client.get("/orders/board?column=new&cursor=nonsense", headers=HX).status_code == 422
    assert client.get("/orders/board/changes?since=yesterday", headers=HX).status_code == 422


def test_home_page_leads_to_the_board_and_both_order_views_switch(login, db):
    client = login("ops")
    assert 'href="/orders/board"' in client.get("/").get_data(as_text=True)
    board = client.get("/orders/board?channel=WEB").get_data(as_text=True)
    listing = client.get("/orders/?channel=WEB").get_data(as_text=True)
    assert 'href="/orders/?channel=WEB" data-testid="view-list"' in board
    assert 'href="/orders/board?channel=WEB" data-testid="view-board"' in listing


# Moving a card -----------------------------------------------------------------------


def test_a_legal_move_answers_the_card_in_its_new_status_and_the_counts_out_of_band(login, db):
    order = make_order("ready")
    make_order("ready")

    response = login("ops").post(f"/orders/{order.number}/move", data={"to": "picking", "version": order.version},
                                 headers=HX)
    body = response.get_data(as_text=True)

    assert response.status_code == 200
    assert cards(body) == {"picking": [order.number]}
    assert 'data-version="2"' in body
    oob = dict(re.findall(r'id="count-(\w+)"[^>]*hx-swap-oob="true">(\d+)<', body))
    assert oob["ready"] == "1" and oob["picking"] == "1"
    assert toast_of(response)["message"] == f"{order.number} moved to picking."
    assert reload(order).status == "picking"
    assert "<html" not in body


def test_an_illegal_move_is_a_409_with_the_reason_and_the_card_as_it_is(login, db):
    order = make_order("new")

    response = login("ops").post(f"/orders/{order.number}/move", data={"to": "picking", "version": 1}, headers=HX)

    assert response.status_code == 409
    toast = toast_of(response)
    assert toast["level"] == "error"
    assert toast["message"].startswith("An order that is new cannot be moved to picking")
    assert cards(response.get_data(as_text=True)) == {"new": [order.number]}
    assert reload(order).status == "new"


def test_a_move_from_a_stale_card_is_a_409_that_names_the_change(login, db):
    order = make_order("ready")
    order_service.transition(order.number, "on_hold", actor=TESTER)  # someone else, meanwhile

    response = login("ops").post(f"/orders/{order.number}/move", data={"to": "picking", "version": 1}, headers=HX)

    assert response.status_code == 409
    assert "was changed by someone else" in toast_of(response)["message"]
    body = response.get_data(as_text=True)
    assert cards(body) == {"on_hold": [order.number]} and 'data-version="2"' in body
    assert reload(order).status == "on_hold"


@pytest.mark.parametrize(("status", "to", "where"), [
    ("packed", "shipped", "Ship it from the Fulfillment screen: a shipment needs its carrier and tracking number."),
    ("packed", "partially_shipped", "Ship it, or part of it, from the Fulfillment screen"),
    ("shipped", "delivered", "Mark its parcels delivered on the Fulfillment screen"),
])
def test_fulfillment_only_moves_are_refused_with_where_to_do_them(login, db, status, to, where):
    order = make_order(status)

    response = login("ops").post(f"/orders/{order.number}/move", data={"to": to}, headers=HX)

    assert response.status_code == 409
    assert toast_of(response)["message"].startswith(where)
    assert cards(response.get_data(as_text=True)) == {status: [order.number]}  # snaps back
    assert reload(order).status == status


def test_a_picking_card_moved_back_to_ready_puts_its_parcel_back(login, shop):  # noqa: F811
    stock("AMS", "MUG", 5)
    number = ready_order("WAVED")
    wave_of("AMS", number)
    order = order_service.get_order(number)

    response = login("ops").post(f"/orders/{number}/move", data={"to": "ready", "version": order.version},
                                 headers=HX)

    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert cards(body) == {"ready": [number]}
    assert dict(re.findall(r'id="count-(\w+)"[^>]*hx-swap-oob="true">(\d+)<', body)) == {"ready": "1", "picking": "0"}
    assert [s.status for s in shipments_of(number)] == ["cancelled"]
    assert order_service.get_order(number).lines[0].qty_allocated == 1  # its stock stays reserved


def test_the_move_menu_works_as_a_plain_form_and_comes_back_to_the_same_board(login, db):
    order, stuck = make_order("ready"), make_order("new")
    client = login("ops")

    moved = client.post(f"/orders/{order.number}/move?channel=WEB&open=cancelled", data={"to": "cancelled"})
    assert moved.status_code == 303
    assert moved.headers["Location"].endswith("/orders/board?channel=WEB&open=cancelled")
    assert f"{order.number} moved to cancelled." in client.get("/orders/board").get_data(as_text=True)

    refused = client.post(f"/orders/{stuck.number}/move", data={"to": "delivered"})
    assert refused.status_code == 303
    follow = client.get(refused.headers["Location"]).get_data(as_text=True)
    assert "An order that is new cannot be moved to delivered" in follow


def test_with_csrf_on_the_move_menu_needs_the_token_the_board_gives_it(app, login, db):
    order = make_order("ready")
    client = login("ops")
    app.config["WTF_CSRF_ENABLED"] = True
    body = client.get("/orders/board").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', body).group(1)

    assert client.post(f"/orders/{order.number}/move", data={"to": "picking"}).status_code == 400
    assert reload(order).status == "ready"
    moved = client.post(f"/orders/{order.number}/move", data={"to": "picking", "csrf_token": token})
    assert moved.status_code == 303 and reload(order).status == "picking"
    # htmx sends the same token as a header.
    back = client.post(f"/orders/{order.number}/move", data={"to": "ready"}, headers={**HX, "X-CSRFToken": token})
    assert back.status_code == 200 and reload(order).status == "ready"


def test_finance_sees_the_board_but_cannot_move_cards(login, db):
    order = make_order("ready")
    client = login("finance")

    body = client.get("/orders/board").get_data(as_text=True)
    assert cards(body) == {"ready": [order.number]}
    assert 'data-movable="false"' in body
    assert "card-select" not in body and "card-menu" not in body and 'id="bulk-form"' not in body

    assert client.post(f"/orders/{order.number}/move", data={"to": "picking"}, headers=HX).status_code == 403
    assert client.post("/orders/bulk", data={"numbers": order.number, "operation": "cancel"}).status_code == 403


# Live changes ----------------------------------------------------------------------


def test_changes_poll_is_204_until_something_changes_then_sends_cards_counts_and_a_new_token(login, db):
    ready = make_order("ready")
    client = login("ops")
    url = poll_url(client.get("/orders/board").get_data(as_text=True))

    quiet = client.get(url, headers=HX)
    assert quiet.status_code == 204 and quiet.data == b""

    order_service.transition(ready.number, "picking", actor=TESTER)
    created = make_order("new")
    changed = client.get(url, headers=HX)
    body = changed.get_data(as_text=True)

    assert changed.status_code == 200
    incoming = body[body.index('id="board-incoming"'):]
    assert cards(incoming) == {"picking": [ready.number], "new": [created.number]}
    assert 'hx-swap-oob="true"' in body and counts(body)["picking"] == 1 and counts(body)["ready"] == 0
    next_url = poll_url(body)
    assert next_url != url and 'id="board-poll"' in body
    assert client.get(next_url, headers=HX).status_code == 204


def test_changes_take_off_cards_that_left_the_filter_or_went_to_a_folded_column(login, db):
    leaving = make_order("on_hold", hold_reason="manual", lines=[])
    folding = make_order("ready")
    client = login("ops")
    filtered = poll_url(client.get("/orders/board?hold=manual").get_data(as_text=True))
    unfiltered = poll_url(client.get("/orders/board").get_data(as_text=True))

    order_service.transition(leaving.number, "ready", actor=TESTER)  # no longer held: off the filtered board
    body = client.get(filtered, headers=HX).get_data(as_text=True)
    assert re.findall(r'data-remove="([^"]+)"', body) == [leaving.number]

    order_service.transition(folding.number, "cancelled", actor=TESTER)
    body = client.get(unfiltered, headers=HX).get_data(as_text=True)
    assert re.findall(r'data-remove="([^"]+)"', body) == [folding.number]
    assert cards(body[body.index('id="board-incoming"'):]) == {"ready": [leaving.number]}


def test_cards_the_page_put_off_are_sent_again_when_asked(login, db):
    order = make_order("ready")
    client = login("ops")
    url = poll_url(client.get("/orders/board").get_data(as_text=True))

    body = client.get(url + f"&pending={order.number}", headers=HX).get_data(as_text=True)

    assert cards(body[body.index('id="board-incoming"'):]) == {"ready": [order.number]}


def test_changes_address_without_htmx_shows_the_board(login, db):
    make_order("ready")
    response = login("ops").get("/orders/board/changes?since=")
    assert response.status_code == 200 and "<html" in response.get_data(as_text=True)


# Bulk --------------------------------------------------------------------------------


def test_bulk_move_applies_what_it_can_and_lists_what_failed_and_why(login, db):
    first, second, unpaid_new = make_order("ready"), make_order("ready"), make_order("new")
    client = login("ops")

    response = client.post("/orders/bulk", headers=HX, data={
        "numbers": [first.number, unpaid_new.number, second.number], "operation": "move:picking"})
    body = response.get_data(as_text=True)

    assert response.status_code == 200
    results = re.findall(r'<li class="(ok|failed)" data-number="([^"]+)"', body)
    assert results == [("ok", first.number), ("failed", unpaid_new.number), ("ok", second.number)]
    failed = body[body.index(f'data-number="{unpaid_new.number}"'):].split("</li>")[0]
    assert "cannot be moved to picking" in failed
    assert "2 of 3 orders changed" in body
    assert toast_of(response) == {"message": "2 of 3 orders changed; 1 refused.", "level": "warning"}
    assert [reload(o).status for o in (first, second, unpaid_new)] == ["picking", "picking", "new"]
    # The changed cards come along to be placed, with the counts.
    assert cards(body[body.index('id="board-incoming"'):]) == {"picking": [first.number, second.number]}
    assert counts(body)["picking"] == 2


@pytest.mark.parametrize(
    ("operation", "status", "hold"),
    [("hold:review", "on_hold", "review"), ("cancel", "cancelled", None)],
)
def test_bulk_hold_and_cancel(login, db, operation, status, hold):
    orders = [make_order("new"), make_order("ready")]
    response = login("ops").post("/orders/bulk", headers=HX,
                                 data={"numbers": [o.number for o in orders], "operation": operation, "note": "bulk"})
    assert response.status_code == 200
    assert [(reload(o).status, reload(o).hold_reason) for o in orders] == [(status, hold)] * 2


def test_bulk_release_refuses_orders_that_are_not_on_hold(login, shop):  # noqa: F811
    stock("AMS", "MUG", 5)
    held, _ = order_service.create_order(order_body("R-1"), actor=shop)
    order_service.set_hold(held.number, "manual", note=None, actor=shop)
    ready = make_order("ready")
    body = login("ops").post("/orders/bulk", headers=HX,
                             data={"numbers": [held.number, ready.number], "operation": "release:new"}
                             ).get_data(as_text=True)
    assert re.findall(r'<li class="(ok|failed)"', body) == ["ok", "failed"]
    assert f"{ready.number} is not on hold." in body
    assert reload(held).status == "new"


def test_bulk_without_a_selection_says_so(login, db):
    response = login("ops").post("/orders/bulk", headers=HX, data={"operation": "cancel"})
    assert response.status_code == 422
    assert "Select at least one order." in response.get_data(as_text=True)


def test_bulk_as_a_plain_form_shows_the_board_with_the_results(login, db):
    order = make_order("ready")
    response = login("ops").post("/orders/bulk", data={"numbers": order.number, "operation": "move:picking"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in body
    assert re.findall(r'<li class="(ok|failed)" data-number="([^"]+)"', body) == [("ok", order.number)]
    assert cards(body)["picking"] == [order.number]


# The order page's actions ------------------------------------------------------------


def actions_of(body: str) -> dict[str, str | None]:
    """Each action: None when enabled, else the reason it is disabled."""
    found: dict[str, str | None] = {}
    for name in re.findall(r'data-action-name="(\w+)"', body):
        why = re.search(rf'data-testid="why-{name}">([^<]*)<', body)
        found[name] = html.unescape(why.group(1)) if why else None
    return found


def test_ops_may_do_what_the_state_allows_and_sees_why_not_the_rest(login, db):
    order = make_order("new")

    actions = actions_of(login("ops").get(f"/orders/{order.number}").get_data(as_text=True))

    assert actions == {"move": None, "payment": None, "hold": None, "release": "Only an order on hold can be released.",
                       "address": None, "cancel": None}


def test_finance_may_only_record_payments(login, db):
    order = make_order("new")

    actions = actions_of(login("finance").get(f"/orders/{order.number}").get_data(as_text=True))

    assert actions["payment"] is None
    assert actions["hold"] == "Your role (finance) cannot put orders on hold; admin, manager, ops can."
    assert actions["move"].startswith("Your role (finance) cannot move orders")
    assert actions["cancel"].startswith("Your role (finance)") and actions["address"].startswith("Your role")


def test_a_packed_order_says_why_it_cannot_be_moved_held_cancelled_or_readdressed(login, db):
    order = make_order("packed", paid_amount=Decimal("19.90"), payment_status="paid")

    actions = actions_of(login("manager").get(f"/orders/{order.number}").get_data(as_text=True))

    assert actions["move"].startswith("Ship it, or part of it, from the Fulfillment screen")
    assert actions["hold"] == ("An order that is packed cannot be moved to on hold "
                               "(it can go to: partially shipped, shipped).")
    assert actions["cancel"].startswith("An order that is packed cannot be moved to cancelled")
    assert actions["address"] == f"{order.number} is packed; its address can no longer change."
    assert actions["payment"] == "Paid in full: nothing is due."
    assert actions["release"] == "Only an order on hold can be released."


@pytest.mark.parametrize(("action", "data"), [
    ("move", {"to": "on_hold"}), ("hold", {"reason": "manual"}), ("release", {"to": "new"}),
    ("cancel", {"reason": "x", "confirm": "y"}), ("address", {"name": "X"}),
])
def test_finance_is_refused_every_change_but_payments(login, db, action, data):
    order = make_order("new")
    assert login("finance").post(f"/orders/{order.number}/{action}", data=data).status_code == 403


def test_recording_a_payment_that_covers_an_allocated_order_makes_it_ready(login, shop):  # noqa: F811
    stock("AMS", "MUG", 5)
    order, _ = order_service.create_order(order_body("P-1"), actor=shop)
    assert (order.status, order.payment_status) == ("new", "unpaid")
    client = login("finance")

    response = client.post(f"/orders/{order.number}/payments", headers=HX,
                           data={"amount": "17.45", "method": "bank_transfer", "reference": "NL-BANK-1"})
    body = response.get_data(as_text=True)

    assert response.status_code == 200
    assert 'id="order-page"' in body and "<html" not in body
    assert 'data-status="ready"' in body and "NL-BANK-1" in body
    assert toast_of(response)["message"] == f"Recorded a payment of 17.45 on {order.number}."
    assert reload(order).status == "ready"


def test_a_payment_over_the_balance_is_refused_beside_the_form(login, shop):  # noqa: F811
    order, _ = order_service.create_order(order_body("P-2"), actor=shop)

    response = login("ops").post(f"/orders/{order.number}/payments", headers=HX,
                                 data={"amount": "100.00", "method": "card"})

    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "100.00 is more than the 17.45 still due" in body
    assert re.search(r'<details class="action" data-action-name="payment" open>', body)


def test_hold_then_release_from_the_order_page(login, shop):  # noqa: F811
    stock("AMS", "MUG", 5)
    order, _ = order_service.create_order(order_body("H-1"), actor=shop)
    client = login("ops")

    held = client.post(f"/orders/{order.number}/hold", data={"reason": "review", "note": "check the price",
                                                              "version": order.version})
    assert held.status_code == 303 and held.headers["Location"].endswith(f"/orders/{order.number}")
    current = reload(order)
    assert (current.status, current.hold_reason) == ("on_hold", "review")

    page = client.get(f"/orders/{order.number}").get_data(as_text=True)
    assert "held for review" in page and actions_of(page)["release"] is None
    released = client.post(f"/orders/{order.number}/release", data={"to": "new", "version": current.version},
                           headers=HX)
    assert released.status_code == 200, released.get_data(as_text=True)
    assert reload(order).status == "new"


def test_cancel_needs_a_reason_and_a_tick(login, db):
    order = make_order("ready")
    client = login("ops")

    unconfirmed = client.post(f"/orders/{order.number}/cancel", data={"reason": "customer asked"}, headers=HX)
    assert unconfirmed.status_code == 422
    assert "Tick the box to confirm." in unconfirmed.get_data(as_text=True)
    assert reload(order).status == "ready"

    done = client.post(f"/orders/{order.number}/cancel", data={"reason": "customer asked", "confirm": "y",
                                                               "version": 1}, headers=HX)
    assert done.status_code == 200 and reload(order).status == "cancelled"
    assert "cancelled" in toast_of(done)["message"]


def test_the_move_menu_on_the_order_page_answers_the_page(login, db):
    order = make_order("ready")
    response = login("ops").post(f"/orders/{order.number}/move", headers=HX,
                                 data={"to": "picking", "version": 1, "view": "detail"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="order-page"' in body and 'data-status="picking"' in body

    refused = login("ops").post(f"/orders/{order.number}/move", headers=HX,
                                data={"to": "delivered", "version": 2, "view": "detail"})
    assert refused.status_code == 409
    assert "cannot be moved to delivered" in refused.get_data(as_text=True)


ADDRESS = {"name": "Ana Costa", "line1": "Prinsengracht 263", "line2": "", "postcode": "1016 GV",
           "city": "Amsterdam", "region": "", "country": "NL"}


def test_editing_the_address_saves_it(login, shop):  # noqa: F811
    order, _ = order_service.create_order(order_body("A-1"), actor=shop)
    response = login("ops").post(f"/orders/{order.number}/address", data={**ADDRESS, "version": order.version})
    assert response.status_code == 303
    assert reload(order).ship_line1 == "Prinsengracht 263"


def test_a_stale_address_edit_is_a_409_showing_the_fresh_address_and_overwrites_nothing(login, shop):  # noqa: F811
    order, _ = order_service.create_order(order_body("A-2"), actor=shop)
    seen_version = order.version
    order_service.update_address(order.number, {"line1": "Herengracht 1"}, actor=TESTER)  # someone else

    response = login("ops").post(f"/orders/{order.number}/address", headers=HX,
                                 data={**ADDRESS, "version": seen_version})
    body = response.get_data(as_text=True)

    assert response.status_code == 409
    assert "was changed by someone else" in body
    fresh = body[body.index('data-testid="fresh-address"'):].split("</address>")[0]
    assert "Herengracht 1" in fresh
    assert 'value="Prinsengracht 263"' in body  # what they typed is kept
    current = reload(order)
    assert current.ship_line1 == "Herengracht 1"
    assert f'name="version" type="hidden" value="{current.version}"' in body

    # Saving again, now on purpose, replaces it.
    again = login("ops").post(f"/orders/{order.number}/address", data={**ADDRESS, "version": current.version})
    assert again.status_code == 303 and reload(order).ship_line1 == "Prinsengracht 263"


def test_every_action_is_in_the_audit_log(login, db):
    order = make_order("ready")
    login("ops").post(f"/orders/{order.number}/move", data={"to": "picking", "version": 1}, headers=HX)
    actions = [e.action for e in db.session.query(Event).filter_by(entity_id=order.number)]
    assert "status_changed" in actions


# A customer ------------------------------------------------------------------------


def test_customer_page_lists_orders_across_channels_with_lifetime_totals(login, db):
    ana, other = make_customer("ana@example.com", name="Ana Costa"), make_customer()
    web, market = make_channel("WEB"), make_channel("MKT")
    mug = make_product(unit_price="10.00")
    shipped = make_order("shipped", channel=web, customer=ana, lines=[(mug, 3)], refunded_amount=Decimal("10.00"),
                         placed_at=T0)
    make_order("ready", channel=market, customer=ana, lines=[(mug, 2)], placed_at=T0 + timedelta(hours=1))
    make_order("cancelled", channel=market, customer=ana, lines=[(mug, 5)], placed_at=T0 + timedelta(hours=2))
    make_order("ready", customer=other, lines=[(mug, 9)])
    db.session.add(Return(number="RMA-000001", order_id=shipped.id, reason="damaged", refund_total=Decimal("10.00")))
    db.session.commit()
    client = login("finance")

    detail = client.get(f"/orders/{shipped.number}").get_data(as_text=True)
    link = attr_url(detail, r'href="([^"]+)" data-testid="customer-link"')
    assert link == f"/orders/customers/{ana.id}"
    body = client.get(link).get_data(as_text=True)

    assert re.search(r'data-testid="orders-count">3<', body)
    assert re.search(r'data-testid="revenue-EUR">50.00 EUR<', body)  # the cancelled 50.00 left out
    assert re.search(r'data-testid="refunded-EUR">10.00 EUR<', body)
    rows = re.findall(r'id="order-([^"]+)" data-testid="order-row"', body)
    assert len(rows) == 3 and shipped.number == rows[-1]
    assert "WEB" in body and "MKT" in body
    assert "RMA-000001" in body


def test_customer_orders_page_with_a_cursor_and_htmx_gets_rows_only(login, db, app):
    app.config["PAGE_SIZE"] = 2
    ana = make_customer()
    for i in range(3):
        make_order("new", customer=ana, lines=[], placed_at=T0 + timedelta(hours=i))
    client = login("ops")

    body = client.get(f"/orders/customers/{ana.id}").get_data(as_text=True)
    link = attr_url(body, r'<a class="button" href="([^"]+)"[^>]*data-testid="load-more"')
    fragment = client.get(link, headers=HX).get_data(as_text=True)

    assert len(re.findall(r'data-testid="order-row"', fragment)) == 1
    assert "<html" not in fragment and "<thead" not in fragment
    assert "<html" in client.get(link).get_data(as_text=True)


def test_unknown_customer_is_a_404(login, db):
    assert login("ops").get("/orders/customers/999").status_code == 404
