"""Stock use cases: receipts, adjustments, transfers — each a ledger move in one transaction.

on_hand changes only here, and only together with an append-only StockMove, so the
ledger always adds up to the level. When stock falls below what is reserved, the
newest orders' allocations move elsewhere or the orders wait on hold; when stock
arrives, orders waiting for it are re-tried oldest first.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app.domain.enums import MoveKind
from app.domain.errors import InsufficientStock, NotFound, ValidationFailed
from app.domain.order_states import HoldReason, OrderStatus
from app.extensions import db
from app.models import Location, Order, Product, StockLevel, StockMove
from app.models.base import utcnow
from app.services import allocation, review
from app.services.actors import Actor
from app.services.audit import record_event
from app.services.order_status import set_status
from app.services.tx import begin_write

ADJUSTMENT_REASONS = ("count", "damage", "loss", "found")


def _product(sku: str) -> Product:
    product = db.session.scalar(select(Product).where(Product.sku == sku))
    if product is None:
        raise NotFound(f"There is no product with SKU {sku}.", details={"sku": [f"Unknown SKU {sku}."]})
    return product


def _location(code: str, *, must_be_active: bool = True) -> Location:
    location = db.session.scalar(select(Location).where(Location.code == code))
    if location is None:
        raise NotFound(f"There is no location {code}.", details={"location": [f"Unknown location {code}."]})
    if must_be_active and not location.active:
        raise ValidationFailed(f"Location {code} is inactive.", details={"location": ["Inactive location."]})
    return location


def _positive(qty: int, field: str = "qty") -> None:
    if not isinstance(qty, int) or qty <= 0:
        raise ValidationFailed("The quantity must be a whole number above zero.", details={field: ["Must be > 0."]})


def lock_level(product: Product, location: Location, *, create: bool = False) -> StockLevel | None:
    level = db.session.scalar(
        select(StockLevel).where(StockLevel.product_id == product.id, StockLevel.location_id == location.id)
        .with_for_update(of=StockLevel)
    )
    if level is None and create:
        level = StockLevel(product_id=product.id, location_id=location.id, on_hand=0, reserved=0,
                           product=product, location=location)
        db.session.add(level)
        db.session.flush()
    return level


def add_move(level: StockLevel, qty: int, kind: MoveKind, *, actor: Actor, at: datetime, reason: str = "",
             reference: str = "", order_id: int | None = None, return_id: int | None = None,
             shipment_id: int | None = None) -> StockMove:
    """The one way on_hand changes: the level and its ledger move together."""
    level.on_hand += qty
    move = StockMove(product_id=level.product_id, location_id=level.location_id, qty=qty, kind=kind,
                     reason=reason[:200], reference=reference[:64], order_id=order_id, return_id=return_id,
                     shipment_id=shipment_id, user_id=actor.user_id, actor=actor.label, created_at=at)
    db.session.add(move)
    record_event("stock_level", f"{level.product.sku}@{level.location.code}", f"stock_{kind}", actor=actor,
                 details={"qty": qty, "on_hand": level.on_hand, "reason": reason or None,
                          "reference": reference or None}, at=at)
    return move


def receive(*, location: str, sku: str, qty: int, reference: str = "", actor: Actor,
            now: datetime | None = None) -> list[StockLevel]:
    """Goods in. Orders waiting for this product are re-tried."""
    now = now or utcnow()
    _positive(qty)
    begin_write()
    product, loc = _product(sku), _location(location)
    level = lock_level(product, loc, create=True)
    add_move(level, qty, MoveKind.RECEIPT, actor=actor, at=now, reference=reference)
    review.retry_stock_holds({product.id}, actor=actor, at=now)
    db.session.commit()
    return [level]


def adjust(*, location: str, sku: str, delta: int, reason: str, actor: Actor, note: str = "",
           now: datetime | None = None) -> list[StockLevel]:
    """Count correction, damage, loss or found goods."""
    now = now or utcnow()
    if not isinstance(delta, int) or delta == 0:
        raise ValidationFailed("An adjustment needs a non-zero whole number.", details={"delta": ["Must not be 0."]})
    if reason not in ADJUSTMENT_REASONS:
        raise ValidationFailed(f"Choose a reason: {', '.join(ADJUSTMENT_REASONS)}.",
                               details={"reason": [f"One of {', '.join(ADJUSTMENT_REASONS)}."]})
    begin_write()
    product, loc = _product(sku), _location(location, must_be_active=False)
    level = lock_level(product, loc, create=delta > 0)
    on_hand = level.on_hand if level else 0
    if on_hand + delta < 0:
        raise InsufficientStock(
            f"Only {on_hand} of {sku} are on hand at {location}; you can remove at most {on_hand}.",
            details={"delta": [f"At least {-on_hand}."], "possible": -on_hand},
        )
    text = reason if not note else f"{reason}: {note}"
    affected = make_room(level, on_hand + delta, actor=actor)
    add_move(level, delta, MoveKind.ADJUSTMENT, actor=actor, at=now, reason=text)
    reallocate(affected, level, actor=actor, at=now)
    review.retry_stock_holds({product.id}, actor=actor, at=now)
    db.session.commit()
    return [level]


def transfer(*, from_location: str, to_location: str, sku: str, qty: int, actor: Actor, reference: str = "",
             now: datetime | None = None) -> list[StockLevel]:
    """Move stock between locations in one transaction (out at the source, in at the destination).

    One step, no in-transit state: our locations are close enough that goods are booked
    in when they are sent; a transfer that takes reserved units re-routes those orders."""
    now = now or utcnow()
    _positive(qty)
    if from_location == to_location:
        raise ValidationFailed("Source and destination are the same location.",
                               details={"to_location": ["Choose another location."]})
    begin_write()
    product = _product(sku)
    source, dest = _location(from_location, must_be_active=False), _location(to_location)
    # Lock both levels in id order (the order every allocator uses) to avoid deadlocks.
    first, second = sorted([source, dest], key=lambda loc: loc.id)
    levels = {first.id: lock_level(product, first, create=True), second.id: lock_level(product, second, create=True)}
    out_level, in_level = levels[source.id], levels[dest.id]
    if out_level.on_hand < qty:
        raise InsufficientStock(
            f"Only {out_level.on_hand} of {sku} are on hand at {from_location}.",
            details={"qty": [f"At most {out_level.on_hand}."], "possible": out_level.on_hand},
        )
    reference = reference or f"{from_location}->{to_location}"
    affected = make_room(out_level, out_level.on_hand - qty, actor=actor)
    add_move(out_level, -qty, MoveKind.TRANSFER_OUT, actor=actor, at=now, reference=reference)
    add_move(in_level, qty, MoveKind.TRANSFER_IN, actor=actor, at=now, reference=reference)
    reallocate(affected, out_level, actor=actor, at=now)
    review.retry_stock_holds({product.id}, actor=actor, at=now)
    db.session.commit()
    return [out_level, in_level]


def make_room(level: StockLevel, new_on_hand: int, *, actor: Actor) -> list[Order]:
    """Stock at this level is about to drop to `new_on_hand`: release the reservations
    that no longer fit (newest orders first) and return the orders that lost them."""
    if new_on_hand >= level.reserved:
        return []
    affected = allocation.release_for_shortfall(level, new_on_hand, actor=actor)
    if level.reserved > new_on_hand:
        raise InsufficientStock(
            f"{level.reserved} units of {level.product.sku} at {level.location.code} are packed or shipping; "
            f"on hand cannot drop below that.",
            details={"possible": level.reserved - level.on_hand},
        )
    return affected


def reallocate(affected: list[Order], level: StockLevel, *, actor: Actor, at: datetime) -> None:
    """Orders that lost stock try other locations (oldest first) or wait on hold for stock."""
    for order in sorted(affected, key=lambda o: (o.placed_at, o.id)):
        plan = allocation.allocate_order(order, actor=actor, reason="rerouted")
        if not plan.short:
            continue
        note = f"Stock lost at {level.location.code}; waiting for {sum(plan.short.values())} × {level.product.sku}."
        system_hold = order.status == OrderStatus.ON_HOLD and order.hold_reason not in (HoldReason.MANUAL,
                                                                                         HoldReason.PAYMENT)
        if order.status in (OrderStatus.NEW, OrderStatus.READY, OrderStatus.PICKING) or system_hold:
            set_status(order, OrderStatus.ON_HOLD, actor=actor, at=at, hold_reason=HoldReason.STOCK, note=note)
