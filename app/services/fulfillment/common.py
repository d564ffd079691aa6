"""Loading and locking shared by the fulfillment use cases.

Lock order, everywhere in fulfillment: orders (by id), then shipments (by id), then
stock levels (by product, location) — the order the orders and stock services use
too, so two writers never wait on each other in a circle.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.domain.enums import ShipmentStatus
from app.domain.errors import NotFound, ValidationFailed
from app.domain.order_states import OrderStatus
from app.extensions import db
from app.models import Allocation, Location, Order, Shipment, ShipmentLine

# A shipment in one of these still holds (or will hold) its units in a box at the location.
OPEN_SHIPMENT = (ShipmentStatus.PENDING, ShipmentStatus.PICKING, ShipmentStatus.PACKED)
# Orders that can go into a pick wave: ready ones, and ones with a part still to pick
# (a second location of a split order, or what stayed behind after a partial shipment).
WAVEABLE = (OrderStatus.READY, OrderStatus.PICKING, OrderStatus.PARTIALLY_SHIPPED)


def get_location(code: str) -> Location:
    location = db.session.scalar(select(Location).where(Location.code == code))
    if location is None:
        raise NotFound(f"There is no location {code}.")
    return location


def get_shipment(number: str) -> Shipment:
    shipment = db.session.scalar(select(Shipment).where(Shipment.number == number))
    if shipment is None:
        raise NotFound(f"There is no shipment {number}.")
    return shipment


def lock_orders(ids: Iterable[int]) -> dict[int, Order]:
    ids = sorted(set(ids))
    if not ids:
        return {}
    rows = db.session.scalars(
        select(Order)
        .where(Order.id.in_(ids))
        .order_by(Order.id)
        .options(selectinload(Order.lines))
        .with_for_update(of=Order)
    )
    return {order.id: order for order in rows}


def lock_shipments(ids: Iterable[int]) -> list[Shipment]:
    ids = sorted(set(ids))
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(Shipment)
            .where(Shipment.id.in_(ids))
            .order_by(Shipment.id)
            .options(selectinload(Shipment.lines))
            .with_for_update(of=Shipment)
        )
    )


def parcel_ids(shipment: Shipment) -> list[int]:
    """The shipment and, when it is packed together with others, those others (open ones)."""
    if not shipment.parcel_group:
        return [shipment.id]
    return list(
        db.session.scalars(
            select(Shipment.id)
            .where(Shipment.parcel_group == shipment.parcel_group, Shipment.status.in_(OPEN_SHIPMENT))
            .order_by(Shipment.id)
        )
    ) or [shipment.id]


def covered_qty(location_id: int):
    """Units of an allocation's order line already in an open shipment at the location
    (a scalar subquery correlated to Allocation)."""
    return (
        select(func.coalesce(func.sum(ShipmentLine.qty), 0))
        .join(Shipment, Shipment.id == ShipmentLine.shipment_id)
        .where(
            ShipmentLine.order_line_id == Allocation.order_line_id,
            Shipment.location_id == location_id,
            Shipment.status.in_(OPEN_SHIPMENT),
        )
        .correlate(Allocation)
        .scalar_subquery()
    )


def uncovered_at(location_id: int, order_ids: Iterable[int] | None = None) -> dict[int, dict[int, int]]:
    """order id -> {order line id: units reserved at the location that no open shipment
    carries yet}: what a new wave would pick for each order."""
    covered = covered_qty(location_id)
    stmt = select(Allocation.order_id, Allocation.order_line_id, Allocation.qty - covered).where(
        Allocation.location_id == location_id, Allocation.qty > covered
    )
    if order_ids is not None:
        stmt = stmt.where(Allocation.order_id.in_(list(order_ids)))
    result: dict[int, dict[int, int]] = defaultdict(dict)
    for order_id, line_id, qty in db.session.execute(stmt):
        result[order_id][line_id] = int(qty)
    return dict(result)


def positive_count(value, field: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed("Enter a whole number.", details={field: ["Must be a whole number."]}) from None
    if number < 1:
        raise ValidationFailed("Enter a number of 1 or more.", details={field: ["At least 1."]})
    return number
