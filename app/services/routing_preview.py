"""Routing preview: where would these orders ship from if routed afresh? And do it.

The preview writes nothing: it adds each order's own reservations back to the free
stock, plans the orders oldest first with the channel's strategy, and reports the
lines per location and how many shipments would result.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.domain.errors import ValidationFailed
from app.domain.order_states import OrderStatus
from app.domain.routing import Candidate, Need, plan_allocation
from app.extensions import db
from app.models import Location, Order, OrderLine, StockLevel
from app.models.base import utcnow
from app.services import allocation, review
from app.services.actors import Actor
from app.services.tx import begin_write

ROUTABLE = (OrderStatus.NEW, OrderStatus.ON_HOLD, OrderStatus.READY)
MAX_ORDERS = 500


@dataclass
class RoutedOrder:
    number: str
    status: str
    lines: list[dict] = field(default_factory=list)  # {sku, qty, sources: [(location, qty)], short}
    current_locations: list[str] = field(default_factory=list)

    @property
    def locations(self) -> list[str]:
        return sorted({loc for line in self.lines for loc, _ in line["sources"]})

    @property
    def shipments(self) -> int:
        return len(self.locations)

    @property
    def short(self) -> int:
        return sum(line["short"] for line in self.lines)

    @property
    def changes(self) -> bool:
        return self.locations != self.current_locations


def _orders(numbers: list[str]) -> list[Order]:
    if not numbers:
        raise ValidationFailed("Select at least one order.", details={"orders": ["Nothing selected."]})
    if len(numbers) > MAX_ORDERS:
        raise ValidationFailed(f"Preview at most {MAX_ORDERS} orders at a time.")
    found = list(db.session.scalars(
        select(Order).where(Order.number.in_(numbers))
        .options(selectinload(Order.lines).selectinload(OrderLine.allocations))
        .order_by(Order.placed_at, Order.id)
    ))
    missing = sorted(set(numbers) - {o.number for o in found})
    if missing:
        raise ValidationFailed(f"Unknown orders: {', '.join(missing)}.", details={"orders": missing})
    return found


def preview(numbers: list[str]) -> list[RoutedOrder]:
    orders = _orders(numbers)
    routable = [o for o in orders if o.status in ROUTABLE]
    product_ids = {ln.product_id for o in routable for ln in o.lines}
    free: dict[int, dict[int, int]] = defaultdict(dict)
    locations: dict[int, Location] = {}
    for level in db.session.scalars(
        select(StockLevel).join(Location, Location.id == StockLevel.location_id)
        .where(StockLevel.product_id.in_(product_ids), Location.active.is_(True))
    ):
        free[level.location_id][level.product_id] = max(level.on_hand - level.reserved, 0)
        locations[level.location_id] = level.location
    for order in routable:  # their own reservations count as free for a fresh plan
        for line in order.lines:
            for alloc in line.allocations:
                free[alloc.location_id][alloc.product_id] = free[alloc.location_id].get(alloc.product_id, 0) + alloc.qty
    results = []
    for order in orders:
        current = sorted({a.location.code for ln in order.lines for a in ln.allocations})
        routed = RoutedOrder(order.number, order.status, current_locations=current)
        if order.status not in ROUTABLE:
            routed.lines = [{"sku": ln.sku, "qty": ln.qty, "sources": [], "short": 0,
                             "note": f"{OrderStatus(order.status).label}: not re-routed"} for ln in order.lines]
            results.append(routed)
            continue
        needs = [Need(ln.id, ln.product_id, ln.qty - ln.qty_shipped) for ln in order.lines]
        cands = [Candidate(loc.id, loc.code, loc.priority, tuple(loc.regions or ()), dict(free[loc.id]))
                 for loc in locations.values()]
        plan = plan_allocation(needs, cands, allocation.destination(order), order.channel.routing_strategy)
        by_line = defaultdict(list)
        for line_id, loc_id, qty in plan.allocations:
            by_line[line_id].append((locations[loc_id].code, qty))
            free[loc_id][next(ln.product_id for ln in order.lines if ln.id == line_id)] -= qty
        routed.lines = [{"sku": ln.sku, "qty": ln.qty, "sources": by_line[ln.id], "short": plan.short.get(ln.id, 0)}
                        for ln in order.lines]
        results.append(routed)
    return results


def apply(numbers: list[str], *, actor: Actor, now: datetime | None = None) -> list[Order]:
    """Re-route the selected orders afresh (oldest first) and review them."""
    now = now or utcnow()
    begin_write()
    orders = [o for o in _orders(numbers) if o.status in ROUTABLE]
    for order in orders:
        db.session.execute(select(Order.id).where(Order.id == order.id).with_for_update())
        allocation.release_order(order, actor=actor, reason="allocations_released_for_reroute")
    for order in orders:
        allocation.allocate_order(order, actor=actor, reason="rerouted")
        review.review(order, actor=actor, at=now)
    db.session.commit()
    return orders
