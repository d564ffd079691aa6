"""Intake, review, holds and their automatic release."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.domain.errors import IdempotencyConflict, IllegalTransition, StaleVersion, ValidationFailed
from app.extensions import db
from app.models import Customer, Event, Location, Order, Product, Shipment, SlaClock, StockLevel, Wave
from app.services import orders
from app.services.fulfillment import shipping
from tests.fulfillment_scenes import UPS, pack_all, packed_order, ready_order, reload, wave_of
from tests.services.conftest import ACTOR, NOW, order_body, stock


def create(body):
    order, _ = orders.create_order(body, actor=ACTOR, now=NOW)
    return order


def test_new_order_gets_a_number_totals_allocation_and_a_payment_clock(shop):
    stock("AMS", "MUG", 5)
    order = create(order_body(lines=[("MUG", 2, "12.50")]))
    assert order.number == "SO-000001"
    assert order.total == Decimal("29.95") and order.status == "new" and order.payment_status == "unpaid"
    assert order.lines[0].qty_allocated == 2
    clock = db.session.scalar(select(SlaClock).where(SlaClock.order_id == order.id))
    assert (clock.kind, clock.state, clock.due_at) == ("payment", "running", NOW + timedelta(hours=72))


def test_same_order_twice_is_one_order(shop):
    stock("AMS", "MUG", 5)
    first, created = orders.create_order(order_body(), actor=ACTOR, now=NOW)
    again, created_again = orders.create_order(order_body(), actor=ACTOR, now=NOW)
    assert (created, created_again) == (True, False)
    assert again.number == first.number
    assert db.session.scalar(select(func.count()).select_from(Order)) == 1


def test_same_key_different_content_is_a_conflict(shop):
    create(order_body())
    with pytest.raises(IdempotencyConflict):
        create(order_body(lines=[("MUG", 3, "12.50")]))


def test_unknown_sku_creates_nothing(shop):
    with pytest.raises(ValidationFailed) as exc:
        create(order_body(lines=[("MUG", 1, "12.50"), ("NOPE", 1, "1.00")]))
    assert exc.value.details == {"lines": {"1": {"sku": ["Unknown SKU NOPE."]}}}
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Order)) == 0
    assert db.session.scalar(select(func.count()).select_from(Customer)) == 0


def test_two_identical_requests_at_the_same_moment_make_one_order(app, shop):
    stock("AMS", "MUG", 5)
    results, errors = [], []
    barrier = threading.Barrier(2)

    def submit():
        with app.app_context():
            barrier.wait()
            try:
                order, created = orders.create_order(order_body("RACE-1"), actor=ACTOR, now=NOW)
                results.append((order.number, created))
            except Exception as exc:
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(c for _, c in results) == [False, True]
    assert len({n for n, _ in results}) == 1
    assert db.session.scalar(select(func.count()).select_from(Order)) == 1


def test_full_payment_makes_an_allocated_order_ready_and_starts_dispatch(shop):
    stock("AMS", "MUG", 5)
    order = create(order_body())
    orders.record_payment(order.number, Decimal("10.00"), method="card", actor=ACTOR, now=NOW)
    db.session.refresh(order)
    assert (order.status, order.payment_status) == ("new", "partially_paid")
    orders.record_payment(order.number, Decimal("7.45"), method="card", actor=ACTOR, now=NOW + timedelta(hours=1))
    db.session.refresh(order)
    assert (order.status, order.payment_status) == ("ready", "paid")
    assert order.ship_by == NOW + timedelta(hours=73)
    states = dict(db.session.execute(select(SlaClock.kind, SlaClock.state).where(SlaClock.order_id == order.id)).all())
    assert states == {"payment": "met", "dispatch": "running"}


def test_overpayment_is_refused(shop):
    order = create(order_body())
    with pytest.raises(ValidationFailed, match="more than"):
        orders.record_payment(order.number, Decimal("100.00"), method="card", actor=ACTOR, now=NOW)


def test_bad_postcode_holds_for_address_and_fixing_it_releases(shop):
    stock("AMS", "MUG", 5)
    order = create(order_body(postcode="ABC"))
    assert (order.status, order.hold_reason) == ("on_hold", "address")
    assert "postcode" in order.hold_note.lower() and order.held_by == "test"
    orders.update_address(order.number, {"postcode": "1011ab"}, actor=ACTOR, now=NOW)
    db.session.refresh(order)
    assert (order.status, order.hold_reason, order.ship_postcode) == ("new", None, "1011AB")


def test_price_far_from_catalog_holds_for_review_until_a_person_accepts(shop):
    stock("AMS", "MUG", 5)
    order = create(order_body(lines=[("MUG", 1, "5.00")]))
    assert order.hold_reason == "review"
    orders.transition(order.number, "new", actor=ACTOR, now=NOW)
    db.session.refresh(order)
    assert order.status == "new" and order.review_cleared


def test_short_stock_holds_and_a_receipt_releases_oldest_first(shop):
    stock("AMS", "MUG", 1)
    first = create(order_body("A-1", placed_at=NOW, lines=[("MUG", 2, "12.50")]))
    second = create(order_body("A-2", placed_at=NOW + timedelta(minutes=5), lines=[("MUG", 1, "12.50")]))
    assert (first.hold_reason, second.hold_reason) == ("stock", "stock")
    stock("LEJ", "MUG", 1)  # enough for the oldest, which already holds one unit
    db.session.refresh(first)
    db.session.refresh(second)
    assert first.status == "new" and second.status == "on_hold"
    released = db.session.scalars(select(Event.details).where(Event.entity_id == first.number,
                                                              Event.action == "status_changed")).all()
    assert released[-1]["note"] == "released: nothing else is wrong"


def test_cancel_releases_stock(shop):
    stock("AMS", "MUG", 2)
    order = create(order_body(lines=[("MUG", 2, "12.50")]))
    other = create(order_body("A-2"))
    assert other.hold_reason == "stock"
    orders.cancel(order.number, reason="customer asked", actor=ACTOR, now=NOW)
    db.session.refresh(order)
    db.session.refresh(other)
    assert order.status == "cancelled" and order.lines[0].qty_allocated == 0
    # The freed units go to the order that was waiting? Only when stock *arrives*;
    # cancelling gives them back to the pool for the next review.
    assert other.status in ("on_hold", "new")


def test_illegal_and_stale_moves_are_refused(shop):
    stock("AMS", "MUG", 5)
    order = create(order_body())
    with pytest.raises(IllegalTransition, match="cannot be moved to shipped"):
        orders.transition(order.number, "shipped", actor=ACTOR, now=NOW)
    with pytest.raises(IllegalTransition, match="not paid"):
        orders.transition(order.number, "ready", actor=ACTOR, now=NOW)
    version = order.version
    orders.transition(order.number, "on_hold", actor=ACTOR, reason="customer called", now=NOW)
    with pytest.raises(StaleVersion):
        orders.transition(order.number, "cancelled", actor=ACTOR, expected_version=version, now=NOW)


def test_every_status_change_is_audited(shop):
    stock("AMS", "MUG", 5)
    order = create(order_body())
    orders.transition(order.number, "on_hold", actor=ACTOR, reason="customer called", now=NOW)
    orders.transition(order.number, "new", actor=ACTOR, now=NOW)
    moves = db.session.execute(select(Event.from_state, Event.to_state).where(
        Event.entity_id == order.number, Event.action == "status_changed").order_by(Event.id)).all()
    assert moves == [("new", "on_hold"), ("on_hold", "new")]


# Moves that fulfillment owns ------------------------------------------------------


def _shipment_statuses(number: str) -> list[str]:
    db.session.expire_all()
    order = orders.get_order(number)
    return list(db.session.scalars(select(Shipment.status).where(Shipment.order_id == order.id).order_by(Shipment.id)))


def _reserved(sku: str, location: str) -> int:
    db.session.expire_all()
    return db.session.scalar(
        select(StockLevel.reserved).join(Product, Product.id == StockLevel.product_id)
        .join(Location, Location.id == StockLevel.location_id).where(Product.sku == sku, Location.code == location))


@pytest.mark.parametrize(("target", "hold"), [("ready", None), ("on_hold", "manual")])
def test_moving_a_picking_order_back_puts_its_parcel_back_and_keeps_the_stock(shop, target, hold):
    stock("AMS", "MUG", 5)
    number = ready_order("PICK-1", (("MUG", 2, "12.50"),))
    wave = wave_of("AMS", number)
    assert (_shipment_statuses(number), _reserved("MUG", "AMS")) == (["picking"], 2)

    orders.transition(number, target, actor=ACTOR, now=NOW)

    order = reload(number)
    assert (order.status, order.hold_reason) == (target, hold)
    assert _shipment_statuses(number) == ["cancelled"]
    assert _reserved("MUG", "AMS") == 2 and order.lines[0].qty_allocated == 2  # still reserved for it
    assert db.session.get(Wave, wave.id).status == "cancelled"  # nothing left to pick in that wave
    put_back = db.session.scalars(select(Event.details).where(Event.action == "shipment_cancelled")).all()
    assert put_back == [{"order": number, "reason": f"moved back to {target.replace('_', ' ')}"}]
    if target == "ready":  # back in the pick queue: a new wave picks the same units
        wave_of("AMS", number)
        assert _shipment_statuses(number) == ["cancelled", "picking"]


def test_a_picking_order_with_a_packed_parcel_does_not_go_back(shop):
    stock("AMS", "MUG", 1)
    stock("LEJ", "MUG", 1)
    number = ready_order("SPLIT", (("MUG", 2, "12.50"),))  # one unit from each warehouse
    ams = wave_of("AMS", number)
    wave_of("LEJ", number)
    pack_all(db.session.scalar(select(Shipment.number).where(Shipment.wave_id == ams.id)))
    assert (reload(number).status, _shipment_statuses(number)) == ("picking", ["packed", "picking"])

    with pytest.raises(IllegalTransition, match=r"is already packed\. Ship it from the Fulfillment screen first"):
        orders.transition(number, "ready", actor=ACTOR, now=NOW)
    db.session.rollback()
    assert (reload(number).status, _shipment_statuses(number)) == ("picking", ["packed", "picking"])


def test_shipping_and_delivery_are_refused_outside_fulfillment(shop):
    stock("AMS", "MUG", 5)
    number = packed_order("PACKED-1")
    with pytest.raises(IllegalTransition, match="Ship it from the Fulfillment screen: a shipment needs its carrier"):
        orders.transition(number, "shipped", actor=ACTOR, now=NOW)
    with pytest.raises(IllegalTransition, match="Ship it, or part of it, from the Fulfillment screen"):
        orders.transition(number, "partially_shipped", actor=ACTOR, now=NOW)
    db.session.rollback()
    assert reload(number).status == "packed"

    shipping.ship_order(number, carrier="ups", tracking_number=UPS, actor=ACTOR, now=NOW)
    with pytest.raises(IllegalTransition, match="Mark its parcels delivered on the Fulfillment screen"):
        orders.transition(number, "delivered", actor=ACTOR, now=NOW)
    db.session.rollback()
    assert reload(number).status == "shipped"
    shipping.mark_delivered(_shipment_numbers(number)[0], actor=ACTOR, now=NOW)
    assert reload(number).status == "delivered"


def _shipment_numbers(number: str) -> list[str]:
    order = reload(number)
    return list(db.session.scalars(select(Shipment.number).where(Shipment.order_id == order.id).order_by(Shipment.id)))
