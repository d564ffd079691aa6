"""The stock ledger, allocation across locations, reroute on stockout, zero oversell."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.domain.errors import InsufficientStock, NotFound, ValidationFailed
from app.extensions import db
from app.models import Allocation, Event, Order, StockLevel, StockMove
from app.services import inventory, orders
from tests.services.conftest import ACTOR, NOW, order_body, stock


def level(sku: str, location: str) -> StockLevel:
    db.session.expire_all()
    return next(lv for lv in db.session.scalars(select(StockLevel))
                if lv.product.sku == sku and lv.location.code == location)


def assert_ledger_consistent():
    """on_hand = sum of moves; reserved = live allocations; 0 <= reserved <= on_hand."""
    db.session.expire_all()
    moves = dict(((p, loc), q) for p, loc, q in db.session.execute(
        select(StockMove.product_id, StockMove.location_id, func.sum(StockMove.qty))
        .group_by(StockMove.product_id, StockMove.location_id)))
    allocated = dict(((p, loc), q) for p, loc, q in db.session.execute(
        select(Allocation.product_id, Allocation.location_id, func.sum(Allocation.qty))
        .group_by(Allocation.product_id, Allocation.location_id)))
    for lv in db.session.scalars(select(StockLevel)):
        key = (lv.product_id, lv.location_id)
        assert lv.on_hand == moves.get(key, 0)
        assert lv.reserved == allocated.get(key, 0)
        assert 0 <= lv.reserved <= lv.on_hand


def test_receipt_adjustment_transfer_keep_the_ledger(shop):
    stock("AMS", "MUG", 10)
    inventory.adjust(location="AMS", sku="MUG", delta=-2, reason="damage", note="dropped", actor=ACTOR, now=NOW)
    inventory.transfer(from_location="AMS", to_location="LEJ", sku="MUG", qty=3, actor=ACTOR, now=NOW)
    assert (level("MUG", "AMS").on_hand, level("MUG", "LEJ").on_hand) == (5, 3)
    kinds = db.session.scalars(select(StockMove.kind).order_by(StockMove.id)).all()
    assert kinds == ["receipt", "adjustment", "transfer_out", "transfer_in"]
    assert_ledger_consistent()


def test_adjustment_below_zero_says_what_is_possible(shop):
    stock("AMS", "MUG", 4)
    with pytest.raises(InsufficientStock) as exc:
        inventory.adjust(location="AMS", sku="MUG", delta=-5, reason="loss", actor=ACTOR, now=NOW)
    assert "at most 4" in exc.value.message and exc.value.details["possible"] == -4
    assert level("MUG", "AMS").on_hand == 4


@pytest.mark.parametrize(("kwargs", "error"), [
    ({"location": "AMS", "sku": "MUG", "qty": 0}, ValidationFailed),
    ({"location": "AMS", "sku": "MUG", "qty": -3}, ValidationFailed),
    ({"location": "AMS", "sku": "NOPE", "qty": 1}, NotFound),
    ({"location": "XXX", "sku": "MUG", "qty": 1}, NotFound),
])
def test_bad_receipts_are_refused(shop, kwargs, error):
    with pytest.raises(error):
        inventory.receive(**kwargs, actor=ACTOR, now=NOW)


def test_transfer_to_the_same_location_is_refused(shop):
    stock("AMS", "MUG", 4)
    with pytest.raises(ValidationFailed, match="same location"):
        inventory.transfer(from_location="AMS", to_location="AMS", sku="MUG", qty=1, actor=ACTOR, now=NOW)


def test_routing_prefers_the_region_then_splits_over_fewest_locations(shop):
    stock("AMS", "MUG", 5)
    stock("LEJ", "MUG", 5)
    stock("LEJ", "TEE", 5)
    nl = orders.create_order(order_body("NL-1"), actor=ACTOR, now=NOW)[0]
    de = orders.create_order(order_body("DE-1", country="DE", postcode="04109"), actor=ACTOR, now=NOW)[0]
    both = orders.create_order(order_body("NL-2", lines=[("MUG", 1, "12.50"), ("TEE", 1, "25.00")]),
                               actor=ACTOR, now=NOW)[0]
    where = {o.number: {(a.location.code) for ln in o.lines for a in ln.allocations} for o in (nl, de, both)}
    assert where == {nl.number: {"AMS"}, de.number: {"LEJ"}, both.number: {"LEJ"}}


def test_stock_loss_reroutes_the_newest_order_and_the_oldest_keeps_its_stock(shop):
    stock("AMS", "MUG", 2)
    stock("LEJ", "MUG", 1)
    old = orders.create_order(order_body("OLD", placed_at=NOW), actor=ACTOR, now=NOW)[0]
    new = orders.create_order(order_body("NEW", placed_at=NOW + timedelta(hours=1)), actor=ACTOR, now=NOW)[0]
    inventory.adjust(location="AMS", sku="MUG", delta=-1, reason="damage", actor=ACTOR, now=NOW)
    db.session.expire_all()
    locs = {o.external_id: [a.location.code for ln in o.lines for a in ln.allocations]
            for o in db.session.scalars(select(Order))}
    assert locs == {"OLD": ["AMS"], "NEW": ["LEJ"]}
    event = db.session.scalar(select(Event).where(Event.entity_id == new.number, Event.action == "allocation_lost"))
    assert "AMS" in event.details["why"]
    assert_ledger_consistent()
    inventory.adjust(location="LEJ", sku="MUG", delta=-1, reason="loss", actor=ACTOR, now=NOW)
    db.session.refresh(new)
    db.session.refresh(old)
    assert (new.status, new.hold_reason) == ("on_hold", "stock") and old.status == "new"
    assert_ledger_consistent()


def test_fifty_concurrent_buyers_for_ten_units(app, shop):
    stock("AMS", "MUG", 6)
    stock("LEJ", "MUG", 4)
    buyers = 50
    barrier = threading.Barrier(buyers)
    errors = []

    def buy(i: int):
        with app.app_context():
            barrier.wait()
            try:
                orders.create_order(order_body(f"B-{i}", lines=[("MUG", 1, "12.50")]), actor=ACTOR, now=NOW)
            except Exception as exc:
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=buy, args=(i,)) for i in range(buyers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    db.session.expire_all()
    allocated = db.session.scalar(select(func.sum(Allocation.qty)))
    held = db.session.scalar(select(func.count()).select_from(Order).where(Order.hold_reason == "stock"))
    assert allocated == 10 and held == 40
    assert_ledger_consistent()


def test_payment_total_matches_lines(shop):
    stock("AMS", "TEE", 3)
    order = orders.create_order(order_body(lines=[("TEE", 3, "25.00")]), actor=ACTOR, now=NOW)[0]
    assert order.total == Decimal("79.95")
    assert order.tax_total == Decimal("13.02")
