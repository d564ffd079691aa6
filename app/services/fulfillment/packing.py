"""Packing: every unit that goes into the box is scanned (SKU or barcode).

A unit that is not in the parcel, or one more than the parcel needs, is refused:
the packer hears about it before the parcel is closed, not the customer after it
arrived. When every line of a shipment is packed the shipment is packed; when every
open shipment of an order is packed, so is the order. Shipments combined into one
parcel are packed as one: a scan counts towards the first of them that still needs
that SKU.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.domain.enums import ShipmentStatus
from app.domain.errors import Conflict, IllegalTransition
from app.domain.order_states import OrderStatus
from app.domain.picking import PackLine, fully_packed, place_scan
from app.extensions import db
from app.models import Order, Product, Shipment, ShipmentLine
from app.models.base import utcnow
from app.services.actors import Actor
from app.services.audit import record_event
from app.services.fulfillment.common import OPEN_SHIPMENT, get_shipment, lock_orders, lock_shipments, parcel_ids
from app.services.fulfillment.waves import settle_wave
from app.services.order_status import set_status
from app.services.tx import begin_write


@dataclass(frozen=True)
class ScanOutcome:
    shipment: Shipment  # the shipment the unit went into
    sku: str
    packed: int  # units of this line packed now
    needed: int
    shipment_packed: bool  # this scan finished the shipment
    parcel_packed: bool  # … and with it the whole parcel
    order_packed: bool  # … and the order moved to packed


def scan(shipment_number: str, code: str, *, actor: Actor, now: datetime | None = None) -> ScanOutcome:
    """Count one scanned unit into the parcel of `shipment_number`."""
    now = now or utcnow()
    begin_write()
    first = get_shipment(shipment_number)
    ids = parcel_ids(first)
    order_ids = db.session.scalars(select(Shipment.order_id).where(Shipment.id.in_(ids))).all()
    orders = lock_orders(order_ids)
    parcel = [s for s in lock_shipments(ids) if s.status == ShipmentStatus.PICKING]
    if not parcel:
        if first.status == ShipmentStatus.PACKED:
            raise Conflict(f"{first.number} is already packed; nothing more goes in.")
        raise IllegalTransition(
            f"{first.number} is {ShipmentStatus(first.status).label}; only a parcel being picked can be packed."
        )
    slots = [(s, sl) for s in parcel for sl in s.lines]
    products = _products_of(slots)
    lines = [
        PackLine(sku=sl.line.sku, barcode=products[sl.line.product_id].barcode, qty=sl.qty, qty_packed=sl.qty_packed)
        for _, sl in slots
    ]
    shipment, line = slots[place_scan(lines, code)]
    line.qty_packed += 1
    record_event(
        "shipment",
        shipment.number,
        "unit_packed",
        actor=actor,
        at=now,
        details={"sku": line.line.sku, "packed": line.qty_packed, "of": line.qty},
    )
    shipment_packed = order_packed = False
    if fully_packed(_pack_lines(shipment.lines)):
        shipment_packed = True
        order_packed = _mark_packed(shipment, orders[shipment.order_id], actor=actor, at=now)
    parcel_packed = all(fully_packed(_pack_lines(s.lines)) for s in parcel)
    db.session.commit()
    return ScanOutcome(
        shipment=shipment,
        sku=line.line.sku,
        packed=line.qty_packed,
        needed=line.qty,
        shipment_packed=shipment_packed,
        parcel_packed=parcel_packed,
        order_packed=order_packed,
    )


def _pack_lines(lines: list[ShipmentLine]) -> list[PackLine]:
    return [PackLine(sku="", barcode=None, qty=sl.qty, qty_packed=sl.qty_packed) for sl in lines]


def _products_of(slots) -> dict[int, Product]:
    ids = {sl.line.product_id for _, sl in slots}
    return {p.id: p for p in db.session.scalars(select(Product).where(Product.id.in_(ids)))}


def _mark_packed(shipment: Shipment, order: Order, *, actor: Actor, at: datetime) -> bool:
    """The shipment is complete. Returns True when that made the order packed."""
    shipment.status = ShipmentStatus.PACKED
    shipment.packed_at = at
    record_event(
        "shipment",
        shipment.number,
        "shipment_packed",
        actor=actor,
        at=at,
        before=ShipmentStatus.PICKING,
        after=ShipmentStatus.PACKED,
        details={"order": order.number},
    )
    db.session.flush()
    if shipment.wave_id is not None:
        settle_wave(shipment.wave_id, at)
    still_open = db.session.scalars(
        select(Shipment.status).where(Shipment.order_id == order.id, Shipment.status.in_(OPEN_SHIPMENT))
    ).all()
    if order.status == OrderStatus.PICKING and all(s == ShipmentStatus.PACKED for s in still_open):
        set_status(order, OrderStatus.PACKED, actor=actor, at=at, note=f"{shipment.number} packed")
        return True
    return False
