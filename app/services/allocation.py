"""Reserving stock for order lines: allocate, release, reroute.

Every function runs inside the caller's write transaction (begin_write()) and
never commits. Stock rows are locked before they are read — FOR UPDATE on
PostgreSQL, in (product_id, location_id) order so two allocators never deadlock;
on SQLite the IMMEDIATE transaction already excludes other writers. The CHECK
constraints on stock_levels back this up: an oversell cannot commit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import lazyload

from app.domain.order_states import OrderStatus
from app.domain.routing import Candidate, Destination, Need, Plan, plan_allocation
from app.extensions import db
from app.models import Allocation, Location, Order, StockLevel
from app.services.actors import Actor
from app.services.audit import record_event

# Orders whose allocations may be moved to another location or released when stock
# disappears; packed and partly shipped goods are already in a box.
MOVABLE_STATUSES = (OrderStatus.NEW, OrderStatus.ON_HOLD, OrderStatus.READY, OrderStatus.PICKING)


def lock_levels(product_ids: Iterable[int]) -> list[StockLevel]:
    """Stock levels of these products at active locations, locked, in a fixed order."""
    ids = sorted(set(product_ids))
    if not ids:
        return []
    stmt = (
        select(StockLevel)
        .join(Location, Location.id == StockLevel.location_id)
        .where(StockLevel.product_id.in_(ids), Location.active.is_(True))
        .order_by(StockLevel.product_id, StockLevel.location_id)
        .with_for_update(of=StockLevel)
        .options(lazyload(StockLevel.product))  # routing reads the locations only
    )
    return list(db.session.scalars(stmt))


def _candidates(levels: list[StockLevel]) -> list[Candidate]:
    by_location: dict[int, dict[int, int]] = defaultdict(dict)
    locations: dict[int, Location] = {}
    for level in levels:
        by_location[level.location_id][level.product_id] = max(level.on_hand - level.reserved, 0)
        locations[level.location_id] = level.location
    return [
        Candidate(location_id=loc.id, code=loc.code, priority=loc.priority, regions=tuple(loc.regions or ()),
                  available=by_location[loc.id])
        for loc in locations.values()
    ]


def destination(order: Order) -> Destination:
    return Destination(country=order.ship_country, region=order.ship_region, postcode=order.ship_postcode)


def open_needs(order: Order) -> list[Need]:
    return [
        Need(line_id=line.id, product_id=line.product_id, qty=line.qty - line.qty_allocated - line.qty_shipped)
        for line in order.lines
        if line.qty - line.qty_allocated - line.qty_shipped > 0
    ]


def allocate_order(order: Order, *, actor: Actor, reason: str = "allocated") -> Plan:
    """Reserve what the order still needs, by the channel's routing strategy.

    Returns the plan; plan.short says which lines could not be (fully) covered."""
    needs = open_needs(order)
    if not needs:
        return Plan()
    levels = lock_levels(n.product_id for n in needs)
    plan = plan_allocation(needs, _candidates(levels), destination(order), order.channel.routing_strategy)
    _apply(order, plan, levels, actor=actor, reason=reason)
    return plan


def _apply(order: Order, plan: Plan, levels: list[StockLevel], *, actor: Actor, reason: str) -> None:
    level_of = {(lv.product_id, lv.location_id): lv for lv in levels}
    lines = {line.id: line for line in order.lines}
    # Only a line with units allocated has allocation rows to add to (qty_allocated is kept
    # equal to their sum); a line with none gets new rows without loading its collection.
    existing = {(a.order_line_id, a.location_id): a for line in order.lines if line.qty_allocated
                for a in line.allocations}
    moved = []
    for line_id, location_id, qty in plan.allocations:
        line = lines[line_id]
        level = level_of[(line.product_id, location_id)]
        alloc = existing.get((line_id, location_id))
        if alloc is None:
            alloc = Allocation(order_line_id=line_id, order_id=order.id, product_id=line.product_id,
                               location_id=location_id, qty=qty)
            if "allocations" in inspect(line).unloaded:
                db.session.add(alloc)  # the collection loads (with it) if someone reads it later
            else:
                line.allocations.append(alloc)
            existing[(line_id, location_id)] = alloc
        else:
            alloc.qty += qty
        level.reserved += qty
        line.qty_allocated += qty
        moved.append({"sku": line.sku, "location": level.location.code, "qty": qty})
    if moved:
        record_event("order", order.number, reason, actor=actor,
                     details={"allocations": moved, "short": _short_skus(order, plan)})


def _short_skus(order: Order, plan: Plan) -> dict[str, int]:
    lines = {line.id: line for line in order.lines}
    return {lines[line_id].sku: qty for line_id, qty in plan.short.items()}


def release_order(order: Order, *, actor: Actor, reason: str = "allocations_released") -> int:
    """Give back every reservation of the order (cancel, abort). Returns units released."""
    released = []
    allocations = [a for line in order.lines for a in line.allocations]
    if not allocations:
        return 0
    levels = lock_levels(a.product_id for a in allocations)
    level_of = {(lv.product_id, lv.location_id): lv for lv in levels}
    for line in order.lines:
        for alloc in list(line.allocations):
            level = level_of.get((alloc.product_id, alloc.location_id))
            if level is None:  # location deactivated since; lock it directly
                level = db.session.scalar(
                    select(StockLevel).where(StockLevel.product_id == alloc.product_id,
                                             StockLevel.location_id == alloc.location_id).with_for_update(of=StockLevel)
                )
            level.reserved -= alloc.qty
            line.qty_allocated -= alloc.qty
            released.append({"sku": line.sku, "location": level.location.code, "qty": alloc.qty})
            line.allocations.remove(alloc)
    record_event("order", order.number, reason, actor=actor, details={"released": released})
    return sum(r["qty"] for r in released)


def release_units(alloc: Allocation, qty: int, level: StockLevel) -> None:
    """Take `qty` units off one allocation (the level must be locked by the caller)."""
    line = alloc.line
    siblings = line.allocations  # load before changing anything: autoflush must see a valid state
    level.reserved -= qty
    line.qty_allocated -= qty
    if alloc.qty == qty:
        siblings.remove(alloc)  # delete-orphan removes the row
    else:
        alloc.qty -= qty


def shortfall_victims(level: StockLevel, excess: int) -> list[tuple[Allocation, int]]:
    """Which allocations at this level give way when `excess` reserved units must go:
    the newest orders first, so the oldest orders keep their stock."""
    if excess <= 0:
        return []
    rows = db.session.execute(
        select(Allocation, Order)
        .join(Order, Order.id == Allocation.order_id)
        .where(Allocation.product_id == level.product_id, Allocation.location_id == level.location_id,
               Order.status.in_(MOVABLE_STATUSES))
        .order_by(Order.placed_at.desc(), Order.id.desc())
    ).all()
    victims = []
    for alloc, _order in rows:
        if excess <= 0:
            break
        take = min(alloc.qty, excess)
        victims.append((alloc, take))
        excess -= take
    return victims


def release_for_shortfall(level: StockLevel, new_on_hand: int, *, actor: Actor) -> list[Order]:
    """Before on_hand drops to `new_on_hand`, release just enough reservations to fit.
    Returns the affected orders (to be re-allocated elsewhere or held)."""
    affected: dict[int, Order] = {}
    for alloc, qty in shortfall_victims(level, level.reserved - new_on_hand):
        order = db.session.get(Order, alloc.order_id)
        sku = alloc.line.sku
        release_units(alloc, qty, level)
        record_event("order", order.number, "allocation_lost", actor=actor,
                     details={"sku": sku, "location": level.location.code, "qty": qty,
                              "why": f"stock at {level.location.code} fell to {new_on_hand}, "
                                     f"below what was reserved there"})
        affected[order.id] = order
    return list(affected.values())


def reserved_by_allocations() -> dict[tuple[int, int], int]:
    """(product_id, location_id) -> sum of live allocations (for stock verification)."""
    rows = db.session.execute(
        select(Allocation.product_id, Allocation.location_id, func.sum(Allocation.qty))
        .group_by(Allocation.product_id, Allocation.location_id)
    )
    return {(p, loc): int(q) for p, loc, q in rows}
