"""Scenes for the fulfillment and documents tests, built through the real services:
ready orders (paid, reviewed, allocated), waves, packed parcels, shipped orders."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from app.extensions import db
from app.models import Channel, Order, Shipment, StockLevel
from app.services import orders
from app.services.fulfillment import packing, shipping, waves
from app.services.tx import begin_write
from tests.services.conftest import ACTOR, NOW, order_body

UPS = "1Z999AA10123456784"


def ready_order(external_id: str, lines=(("MUG", 1, "12.50"),), *, placed=None, paid=None, **extra) -> str:
    """An order paid in full and allocated, so review moved it to ready. Returns its number."""
    placed = placed or NOW - timedelta(hours=1)
    order, _ = orders.create_order(
        order_body(external_id, lines=lines, placed_at=placed, **extra), actor=ACTOR, now=placed
    )
    orders.record_payment(order.number, order.total, method="card", actor=ACTOR, now=paid or NOW)
    status = reload(order.number).status
    assert status == "ready", f"{order.number} is {status}"
    return order.number


def reload(number: str) -> Order:
    """The order as the database has it now (a fresh transaction: a live server may have changed it)."""
    db.session.rollback()
    return db.session.scalar(select(Order).where(Order.number == number))


def shipments_of(number: str) -> list[Shipment]:
    order = reload(number)
    return list(db.session.scalars(select(Shipment).where(Shipment.order_id == order.id).order_by(Shipment.id)))


def wave_of(location: str, *numbers: str):
    return waves.create_wave(location, order_numbers=list(numbers), actor=ACTOR, now=NOW)


def pack_all(shipment_number: str) -> None:
    """Scan every unit of the shipment's parcel (all shipments packed together with it) by SKU."""
    db.session.expire_all()
    shipment = db.session.scalar(select(Shipment).where(Shipment.number == shipment_number))
    parcel = [shipment]
    if shipment.parcel_group:
        parcel = db.session.scalars(select(Shipment).where(Shipment.parcel_group == shipment.parcel_group)).all()
    codes = [sl.line.sku for s in parcel for sl in s.lines for _ in range(sl.qty - sl.qty_packed)]
    for code in codes:
        packing.scan(shipment_number, code, actor=ACTOR, now=NOW)


def packed_order(external_id: str, lines=(("MUG", 1, "12.50"),), location: str = "AMS", **extra) -> str:
    number = ready_order(external_id, lines, **extra)
    wave_of(location, number)
    for shipment in shipments_of(number):
        pack_all(shipment.number)
    assert reload(number).status == "packed"
    return number


def shipped_order(external_id: str, lines=(("MUG", 1, "12.50"),), **extra) -> str:
    number = packed_order(external_id, lines, **extra)
    shipping.ship_order(number, carrier="ups", tracking_number=UPS, actor=ACTOR, now=NOW + timedelta(hours=2))
    return number


def set_bin(sku: str, location: str, bin_code: str) -> None:
    session = begin_write()
    level = next(
        lv for lv in session.scalars(select(StockLevel)) if lv.product.sku == sku and lv.location.code == location
    )
    level.bin = bin_code
    session.commit()


def invoice_on_payment(code: str = "web") -> None:
    session = begin_write()
    session.scalar(select(Channel).where(Channel.code == code)).invoice_on = "payment"
    session.commit()


def money(value: str) -> Decimal:
    return Decimal(value)
