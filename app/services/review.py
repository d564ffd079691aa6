"""Order review: address, prices, stock, payment — and where the order goes because of them.

Runs when an order arrives and again whenever something it depends on changes
(payment, address edit, stock arriving). A hold put on by a person (manual, payment)
is left for a person to release.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app.domain.enums import AddressStatus
from app.domain.order_states import HoldReason, OrderStatus
from app.domain.review import Address, PricedLine, ReviewOutcome, address_problems, price_problems
from app.extensions import db
from app.models import Order, OrderLine, Product
from app.services import allocation
from app.services.actors import Actor
from app.services.order_status import set_status

REVIEWABLE = (OrderStatus.NEW, OrderStatus.ON_HOLD, OrderStatus.READY)
PERSON_HOLDS = (HoldReason.MANUAL, HoldReason.PAYMENT)


ReviewResult = ReviewOutcome  # the service's name for it


def order_address(order: Order) -> Address:
    return Address(name=order.ship_name, line1=order.ship_line1, line2=order.ship_line2, city=order.ship_city,
                   region=order.ship_region, postcode=order.ship_postcode, country=order.ship_country)


def check(order: Order, *, actor: Actor, allocate: bool = True) -> ReviewResult:
    """Run every rule (allocating stock on the way) without moving the order."""
    result = ReviewResult(paid=order.paid_amount - order.refunded_amount >= order.total)
    result.address = address_problems(order_address(order))
    order.address_status = AddressStatus.AMBIGUOUS if result.address else AddressStatus.OK
    # Exchange orders are free on purpose; a person already accepted their prices.
    if not order.review_cleared and order.replaces_order_id is None:
        catalog = dict(db.session.execute(
            select(Product.id, Product.unit_price).where(Product.id.in_([ln.product_id for ln in order.lines]))
        ).all())
        result.prices = price_problems(
            [PricedLine(ln.sku, ln.unit_price, catalog[ln.product_id]) for ln in order.lines],
            order.channel.price_tolerance_pct,
        )
    if allocate:
        allocation.allocate_order(order, actor=actor)
    result.short = {ln.sku: ln.qty - ln.qty_allocated - ln.qty_shipped for ln in order.lines
                    if ln.qty - ln.qty_allocated - ln.qty_shipped > 0}
    return result


def review(order: Order, *, actor: Actor, at: datetime) -> ReviewResult | None:
    """Check the order and move it to new, ready or on hold accordingly."""
    if order.status not in REVIEWABLE:
        return None
    if order.status == OrderStatus.ON_HOLD and order.hold_reason in PERSON_HOLDS:
        return check(order, actor=actor)
    result = check(order, actor=actor)
    hold = result.hold
    if hold is not None:
        reason, note = hold
        set_status(order, OrderStatus.ON_HOLD, actor=actor, at=at, hold_reason=reason, note=note)
    else:
        target = result.target
        if order.status != target:
            set_status(order, target, actor=actor, at=at,
                       note="released: nothing else is wrong" if order.status == OrderStatus.ON_HOLD else None)
    return result


def retry_stock_holds(product_ids: set[int], *, actor: Actor, at: datetime) -> list[Order]:
    """Stock arrived: re-try orders waiting for these products, oldest first."""
    if not product_ids:
        return []
    orders = list(db.session.scalars(
        select(Order)
        .where(Order.status == OrderStatus.ON_HOLD, Order.hold_reason == HoldReason.STOCK,
               Order.id.in_(select(OrderLine.order_id).where(OrderLine.product_id.in_(product_ids))))
        .order_by(Order.placed_at, Order.id)
    ))
    released = []
    for order in orders:
        review(order, actor=actor, at=at)
        if order.status != OrderStatus.ON_HOLD:
            released.append(order)
    return released
