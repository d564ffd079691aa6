"""Waves, packing by scanner, shipping (whole, partial, split) and delivery, through the services.

After every step that moves stock the books must still balance: stock_verify finds no drift.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.domain.errors import Conflict, IllegalTransition, ValidationFailed
from app.domain.picking import TooMany, WrongItem, in_pick_order
from app.extensions import db
from app.models import (
    Allocation,
    Event,
    Invoice,
    Notification,
    Order,
    ParcelDismissal,
    Product,
    Shipment,
    SlaClock,
    StockLevel,
    StockMove,
    Wave,
)
from app.services import stock_verify
from app.services.fulfillment import packing, parcels, shipping, waves
from app.services.fulfillment.common import get_location
from app.services.queries.fulfillment import (
    QueueFilters,
    parcel_suggestions,
    pick_queue,
    queue_entry,
    wave_detail,
)
from app.services.tx import begin_write
from tests.fulfillment_scenes import (
    UPS,
    invoice_on_payment,
    pack_all,
    packed_order,
    ready_order,
    reload,
    set_bin,
    shipments_of,
    wave_of,
)
from tests.services.conftest import ACTOR, NOW, stock

LATER = NOW + timedelta(hours=3)


def level(sku: str, location: str) -> StockLevel:
    db.session.expire_all()
    return next(
        lv for lv in db.session.scalars(select(StockLevel)) if lv.product.sku == sku and lv.location.code == location
    )


def books_balance() -> None:
    db.session.expire_all()
    report = stock_verify.verify()
    assert report.ok, [d.message for d in report.drifts]


def queue_numbers(location: str = "AMS", **filters) -> list[str]:
    page = pick_queue(get_location(location), QueueFilters(**filters), limit=200)
    return [row.order.number for row in page.items]


# Waves ------------------------------------------------------------------------------


@pytest.fixture
def four_ready(shop):
    """B has the earliest deadline; D and C share A's deadline but were placed earlier; D has one line."""
    stock("AMS", "MUG", 20)
    stock("AMS", "TEE", 20)
    a = ready_order("A", placed=NOW - timedelta(hours=3), paid=NOW)
    b = ready_order("B", placed=NOW - timedelta(hours=2), paid=NOW - timedelta(hours=1))
    c = ready_order("C", (("MUG", 1, "12.50"), ("TEE", 2, "25.00")), placed=NOW - timedelta(hours=4), paid=NOW)
    d = ready_order("D", (("TEE", 3, "25.00"),), placed=NOW - timedelta(hours=4), paid=NOW)
    return {"A": a, "B": b, "C": c, "D": d}


def test_the_queue_follows_pick_priority_and_the_domain_rule(four_ready):
    o = four_ready
    assert queue_numbers() == [o["B"], o["D"], o["C"], o["A"]]
    orders = [reload(n) for n in o.values()]
    assert [e.number for e in in_pick_order(queue_entry(x) for x in orders)] == queue_numbers()
    assert queue_numbers("LEJ") == []
    # The cursor continues where the first page ended.
    first = pick_queue(get_location("AMS"), QueueFilters(), limit=3)
    rest = pick_queue(get_location("AMS"), QueueFilters(), cursor=first.next_cursor, limit=3)
    assert [r.order.number for r in first.items + rest.items] == queue_numbers()
    assert rest.next_cursor is None
    assert queue_numbers(channel="web") == queue_numbers() and queue_numbers(channel="other") == []


def test_next_n_by_priority_makes_a_wave_of_shipments_and_moves_orders_to_picking(four_ready):
    o = four_ready
    wave = waves.create_wave("AMS", next_n=2, actor=ACTOR, now=NOW)

    assert wave.number == "W-000001" and wave.status == "open"
    assert [s.order.number for s in wave.shipments] == [o["B"], o["D"]]
    assert [s.number for s in wave.shipments] == ["SH-000001", "SH-000002"]
    assert all(s.status == "picking" and s.location.code == "AMS" for s in wave.shipments)
    d = shipments_of(o["D"])[0]
    assert [(sl.line.sku, sl.qty, sl.qty_packed) for sl in d.lines] == [("TEE", 3, 0)]
    assert (reload(o["B"]).status, reload(o["D"]).status, reload(o["A"]).status) == ("picking", "picking", "ready")
    assert queue_numbers() == [o["C"], o["A"]]
    events = db.session.scalars(select(Event.action).where(Event.entity_id == o["D"])).all()
    assert "shipment_created" in events and "status_changed" in events
    books_balance()


def test_a_chosen_order_that_cannot_be_picked_refuses_the_whole_wave(four_ready, shop):
    from app.services import orders
    from tests.services.conftest import order_body

    unpaid, _ = orders.create_order(order_body("U"), actor=ACTOR, now=NOW)
    with pytest.raises(ValidationFailed, match=f"{unpaid.number} is new, not ready to pick") as exc:
        waves.create_wave("AMS", order_numbers=[four_ready["A"], unpaid.number], actor=ACTOR, now=NOW)
    assert unpaid.number in exc.value.details["orders"]
    assert db.session.scalar(select(Wave)) is None and reload(four_ready["A"]).status == "ready"
    with pytest.raises(ValidationFailed, match="Unknown order"):
        waves.create_wave("AMS", order_numbers=["SO-999999"], actor=ACTOR, now=NOW)
    wave_of("AMS", four_ready["A"])
    with pytest.raises(ValidationFailed, match="nothing left to pick at AMS"):
        wave_of("AMS", four_ready["A"])


def test_the_pick_list_sums_skus_in_bin_order_with_the_orders_they_go_to(four_ready):
    o = four_ready
    set_bin("MUG", "AMS", "B-02")
    set_bin("TEE", "AMS", "A-10")
    wave = waves.create_wave("AMS", order_numbers=[o["A"], o["C"], o["D"]], actor=ACTOR, now=NOW)
    rows = wave_detail(wave.number).rows
    assert [(r.bin, r.sku, r.qty) for r in rows] == [("A-10", "TEE", 5), ("B-02", "MUG", 2)]
    assert dict(rows[0].orders) == {o["C"]: 2, o["D"]: 3}
    assert dict(rows[1].orders) == {o["A"]: 1, o["C"]: 1}


# Packing ----------------------------------------------------------------------------


def test_scanning_packs_unit_by_unit_and_refuses_wrong_and_extra_units(shop):
    stock("AMS", "MUG", 5)
    stock("AMS", "TEE", 5)
    session = begin_write()
    session.scalar(select(Product).where(Product.sku == "TEE")).barcode = "8712345678906"
    session.commit()
    number = ready_order("P", (("MUG", 2, "12.50"), ("TEE", 1, "25.00")))
    wave = wave_of("AMS", number)
    sh = wave.shipments[0].number

    first = packing.scan(sh, "MUG", actor=ACTOR, now=NOW)
    assert (first.sku, first.packed, first.needed, first.shipment_packed) == ("MUG", 1, 2, False)
    with pytest.raises(WrongItem, match="“CAP” is not in this parcel"):
        packing.scan(sh, "CAP", actor=ACTOR, now=NOW)
    packing.scan(sh, "mug", actor=ACTOR, now=NOW)
    with pytest.raises(TooMany, match="Too many MUG"):
        packing.scan(sh, "MUG", actor=ACTOR, now=NOW)
    assert reload(number).status == "picking"
    last = packing.scan(sh, "8712345678906", actor=ACTOR, now=LATER)  # the barcode counts as the SKU

    assert last.shipment_packed and last.parcel_packed and last.order_packed
    shipment = shipments_of(number)[0]
    assert shipment.status == "packed" and shipment.packed_at == LATER
    assert [(sl.line.sku, sl.qty_packed) for sl in shipment.lines] == [("MUG", 2), ("TEE", 1)]
    assert reload(number).status == "packed"
    db.session.expire_all()
    assert db.session.get(Wave, wave.id).status == "done"
    with pytest.raises(Conflict, match="already packed"):
        packing.scan(sh, "MUG", actor=ACTOR, now=NOW)
    # Packing moves no stock: it is still reserved, not yet shipped.
    assert (level("MUG", "AMS").on_hand, level("MUG", "AMS").reserved) == (5, 2)
    books_balance()


# Shipping ---------------------------------------------------------------------------


def test_shipping_consumes_reservations_into_ledger_moves_in_one_go(shop):
    stock("AMS", "MUG", 5)
    number = packed_order("S", (("MUG", 2, "12.50"),))
    sh = shipments_of(number)[0]

    shipped = shipping.ship_order(number, carrier="ups", tracking_number="1z999aa1 0123456784", actor=ACTOR, now=LATER)

    assert [s.number for s in shipped] == [sh.number]
    order = reload(number)
    assert order.status == "shipped" and order.shipped_at == LATER
    assert order.lines[0].qty_shipped == 2 and order.lines[0].qty_allocated == 0
    assert db.session.scalar(select(Allocation).where(Allocation.order_id == order.id)) is None
    mug = level("MUG", "AMS")
    assert (mug.on_hand, mug.reserved) == (3, 0)
    move = db.session.scalars(select(StockMove).order_by(StockMove.id.desc())).first()
    assert (move.kind, move.qty, move.order_id, move.shipment_id, move.reference) == (
        "shipment",
        -2,
        order.id,
        sh.id,
        sh.number,
    )
    shipment = shipments_of(number)[0]
    assert (shipment.status, shipment.carrier, shipment.tracking_number, shipment.shipped_at) == (
        "shipped",
        "ups",
        UPS,
        LATER,
    )
    clock = db.session.scalar(select(SlaClock).where(SlaClock.order_id == order.id, SlaClock.kind == "dispatch"))
    assert (clock.state, clock.met_at) == ("met", LATER)
    note = db.session.scalar(
        select(Notification).where(Notification.order_id == order.id, Notification.kind == "order_shipped")
    )
    assert note.dedup_key == f"order_shipped:{sh.number}" and note.recipient == "ada@example.com"
    assert UPS in note.body and "ups.com" in note.body
    invoice = db.session.scalar(select(Invoice).where(Invoice.shipment_id == sh.id))
    assert invoice.number == "INV-2026-000001" and invoice.total == order.total
    books_balance()


def test_part_of_a_parcel_ships_and_the_rest_goes_back_to_the_pick_queue(shop):
    stock("AMS", "MUG", 5)
    stock("AMS", "TEE", 5)
    number = packed_order("PART", (("MUG", 3, "12.50"), ("TEE", 1, "25.00")))

    shipping.ship_order(
        number,
        carrier="dhl_express",
        tracking_number="1234567890",
        lines=[{"sku": "MUG", "qty": 2}],
        actor=ACTOR,
        now=LATER,
    )

    order = reload(number)
    assert order.status == "partially_shipped"
    assert [(ln.sku, ln.qty_shipped, ln.qty_allocated) for ln in order.lines] == [("MUG", 2, 1), ("TEE", 0, 1)]
    first = shipments_of(number)[0]
    assert [(sl.line.sku, sl.qty) for sl in first.lines] == [("MUG", 2)]
    assert (level("MUG", "AMS").on_hand, level("MUG", "AMS").reserved) == (3, 1)
    assert queue_numbers() == [number]
    books_balance()
    invoice = db.session.scalar(select(Invoice).where(Invoice.shipment_id == first.id))
    assert [(x["sku"], x["qty"]) for x in invoice.snapshot["lines"]] == [("MUG", 2), (None, 1)]  # + shipping

    wave_of("AMS", number)
    assert reload(number).status == "picking"
    second = shipments_of(number)[1]
    assert [(sl.line.sku, sl.qty) for sl in second.lines] == [("MUG", 1), ("TEE", 1)]
    pack_all(second.number)
    assert reload(number).status == "packed"
    shipping.ship_parcel(second.number, carrier="dpd", tracking_number="01234567890123", actor=ACTOR, now=LATER)
    order = reload(number)
    assert order.status == "shipped"
    assert all(ln.qty_shipped == ln.qty and ln.qty_allocated == 0 for ln in order.lines)
    assert (level("MUG", "AMS").on_hand, level("TEE", "AMS").on_hand) == (2, 4)
    second_invoice = db.session.scalar(select(Invoice).where(Invoice.shipment_id == second.id))
    assert [x["sku"] for x in second_invoice.snapshot["lines"]] == ["MUG", "TEE"]  # shipping charged once
    books_balance()


def test_an_order_split_over_two_locations_ships_from_each(shop):
    stock("AMS", "MUG", 1)
    stock("LEJ", "TEE", 1)
    number = ready_order("SPLIT", (("MUG", 1, "12.50"), ("TEE", 1, "25.00")))
    assert (queue_numbers("AMS"), queue_numbers("LEJ")) == ([number], [number])
    wave_of("AMS", number)
    wave_of("LEJ", number)  # already picking: it gets its second shipment and stays picking
    ams, lej = shipments_of(number)
    pack_all(ams.number)
    assert reload(number).status == "picking"  # the Leipzig parcel is not packed yet
    with pytest.raises(IllegalTransition, match="not packed"):
        shipping.ship_order(number, carrier="ups", tracking_number=UPS, actor=ACTOR, now=LATER)
    pack_all(lej.number)
    assert reload(number).status == "packed"

    shipping.ship_order(number, carrier="ups", tracking_number=UPS, shipment_number=ams.number, actor=ACTOR, now=LATER)
    assert reload(number).status == "partially_shipped"
    shipping.ship_parcel(lej.number, carrier="dhl_express", tracking_number="1234567890", actor=ACTOR, now=LATER)
    assert reload(number).status == "shipped"
    assert [(s.status, s.carrier) for s in shipments_of(number)] == [("shipped", "ups"), ("shipped", "dhl_express")]
    assert db.session.scalar(select(Invoice.number).where(Invoice.shipment_id == lej.id)) == "INV-2026-000002"
    books_balance()


def test_only_packed_goods_ship_and_tracking_numbers_are_checked(shop):
    stock("AMS", "MUG", 5)
    number = ready_order("R")
    with pytest.raises(IllegalTransition, match="not packed"):
        shipping.ship_order(number, carrier="ups", tracking_number=UPS, actor=ACTOR, now=LATER)
    wave_of("AMS", number)
    with pytest.raises(IllegalTransition, match="picking, not packed"):
        shipping.ship_order(number, carrier="ups", tracking_number=UPS, actor=ACTOR, now=LATER)
    pack_all(shipments_of(number)[0].number)
    with pytest.raises(ValidationFailed, match="A UPS tracking number is"):
        shipping.ship_order(number, carrier="ups", tracking_number="1Z123", actor=ACTOR, now=LATER)
    with pytest.raises(ValidationFailed, match="Only 1 × MUG are packed"):
        shipping.ship_order(
            number, carrier="ups", tracking_number=UPS, lines=[{"sku": "MUG", "qty": 2}], actor=ACTOR, now=LATER
        )
    with pytest.raises(ValidationFailed, match="No TEE is packed"):
        shipping.ship_order(
            number, carrier="ups", tracking_number=UPS, lines=[{"sku": "TEE", "qty": 1}], actor=ACTOR, now=LATER
        )
    # Nothing of the refused attempts stuck.
    assert reload(number).status == "packed"
    assert level("MUG", "AMS").on_hand == 5
    assert db.session.scalar(select(Invoice)) is None
    books_balance()


def test_delivery_of_every_parcel_delivers_the_order(shop):
    stock("AMS", "MUG", 5)
    number = packed_order("DEL")
    with pytest.raises(IllegalTransition, match="only a shipped parcel"):
        shipping.mark_delivered(shipments_of(number)[0].number, actor=ACTOR, now=LATER)
    shipping.ship_order(number, carrier="ups", tracking_number=UPS, actor=ACTOR, now=LATER)
    sh = shipments_of(number)[0].number
    shipping.mark_delivered(sh, actor=ACTOR, now=LATER + timedelta(days=1))
    order = reload(number)
    assert order.status == "delivered" and order.delivered_at == LATER + timedelta(days=1)
    assert shipments_of(number)[0].status == "delivered"
    with pytest.raises(Conflict, match="already delivered"):
        shipping.mark_delivered(sh, actor=ACTOR, now=LATER)


def test_a_channel_invoicing_at_payment_gets_no_invoice_per_shipment(shop):
    from app.services import invoicing

    invoice_on_payment()
    stock("AMS", "MUG", 5)
    number = packed_order("PAY")  # the payment issued the whole-order invoice
    order = reload(number)
    invoice = db.session.scalar(select(Invoice).where(Invoice.order_id == order.id))
    assert invoice.shipment_id is None and invoice.total == order.total
    assert invoicing.invoice_at_payment(reload(number), actor=ACTOR, at=NOW) is None  # once
    shipping.ship_order(number, carrier="ups", tracking_number=UPS, actor=ACTOR, now=LATER)
    assert db.session.scalars(select(Invoice.number)).all() == [invoice.number]
    assert reload(number).status == "shipped"


# Combined parcels -------------------------------------------------------------------


def test_orders_to_one_customer_are_suggested_as_one_parcel_and_ship_together(shop):
    stock("AMS", "MUG", 5)
    stock("AMS", "TEE", 5)
    first = ready_order("C1", (("MUG", 1, "12.50"),))
    second = ready_order("C2", (("TEE", 2, "25.00"),))
    other = ready_order("C3", customer={"name": "Bo Other", "email": "bo@example.com"})
    ams = get_location("AMS")
    [suggestion] = parcel_suggestions(ams)
    assert suggestion.numbers == (first, second) and suggestion.customer == "Ada Buyer"
    assert other not in suggestion.numbers

    wave = parcels.accept("AMS", [second, first], actor=ACTOR, now=NOW)
    group = {s.parcel_group for s in wave.shipments}
    assert group == {wave.shipments[0].number}
    assert parcel_suggestions(ams) == []
    # One scanning screen for the parcel: units go to whichever order still needs them.
    for code in ("TEE", "MUG", "TEE"):
        packing.scan(wave.shipments[1].number, code, actor=ACTOR, now=NOW)
    assert (reload(first).status, reload(second).status) == ("packed", "packed")
    shipped = shipping.ship_parcel(wave.shipments[0].number, carrier="ups", tracking_number=UPS, actor=ACTOR, now=LATER)
    assert len(shipped) == 2 and {s.tracking_number for s in shipped} == {UPS}
    assert (reload(first).status, reload(second).status) == ("shipped", "shipped")
    invoices = db.session.scalars(select(Invoice).order_by(Invoice.id)).all()
    assert [i.snapshot["order"] for i in invoices] == [first, second]  # each order its own invoice
    keys = db.session.scalars(select(Notification.dedup_key).where(Notification.kind == "order_shipped")).all()
    assert sorted(keys) == sorted(f"order_shipped:{s.number}" for s in shipped)
    books_balance()


def test_a_dismissed_suggestion_stays_dismissed_until_another_order_joins(shop):
    stock("AMS", "MUG", 5)
    first, second = ready_order("D1"), ready_order("D2")
    ams = get_location("AMS")
    parcels.dismiss("AMS", [first, second], actor=ACTOR, now=NOW)
    assert parcel_suggestions(ams) == []
    assert db.session.scalar(select(ParcelDismissal)).order_numbers == [first, second]
    third = ready_order("D3")
    [again] = parcel_suggestions(ams)
    assert again.numbers == (first, second, third)
    with pytest.raises(Conflict, match="no longer applies"):
        parcels.accept("AMS", [first, second], actor=ACTOR, now=NOW)
    assert db.session.scalar(select(Order.status).where(Order.number == first)) == "ready"
    assert db.session.scalar(select(Shipment)) is None


def test_a_parcel_put_back_returns_its_order_to_the_queue(shop):
    stock("AMS", "MUG", 5)
    number = ready_order("BACK", (("MUG", 2, "12.50"),))
    wave = wave_of("AMS", number)
    sh = wave.shipments[0].number
    packing.scan(sh, "MUG", actor=ACTOR, now=NOW)

    waves.abort_shipment(sh, reason="bin empty", actor=ACTOR, now=LATER)

    assert reload(number).status == "ready" and shipments_of(number)[0].status == "cancelled"
    assert queue_numbers() == [number]
    db.session.expire_all()
    assert db.session.get(Wave, wave.id).status == "cancelled"
    assert level("MUG", "AMS").reserved == 2  # still reserved for the order
    again = wave_of("AMS", number)
    assert [(sl.line.sku, sl.qty, sl.qty_packed) for sl in again.shipments[0].lines] == [("MUG", 2, 0)]
    pack_all(again.shipments[0].number)
    with pytest.raises(IllegalTransition, match="only a parcel still being picked"):
        waves.abort_shipment(again.shipments[0].number, reason="", actor=ACTOR, now=LATER)
    books_balance()
