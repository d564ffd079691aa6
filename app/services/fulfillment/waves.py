"""Pick waves: a batch of orders picked together at one location.

Each order in a wave gets a shipment at that location (SH-…) carrying the units
reserved for it there that no open shipment carries yet; the order moves to
picking. The wave's pick list sums those units per SKU and bin (see
app.services.queries.fulfillment.wave_detail).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select

from app.domain.enums import ShipmentStatus, WaveStatus
from app.domain.errors import IllegalTransition, ValidationFailed
from app.domain.order_states import OrderStatus
from app.domain.picking import in_pick_order
from app.extensions import db
from app.models import Order, Shipment, ShipmentLine, Wave
from app.models.base import utcnow
from app.services.actors import Actor
from app.services.audit import record_event
from app.services.fulfillment.common import (
    OPEN_SHIPMENT,
    WAVEABLE,
    get_location,
    get_shipment,
    lock_orders,
    lock_shipments,
    positive_count,
    uncovered_at,
)
from app.services.numbering import next_number
from app.services.order_status import set_status
from app.services.queries.fulfillment import QueueFilters, first_in_queue, queue_entry
from app.services.tx import begin_write

MAX_WAVE_ORDERS = 200  # one trolley run; a longer pick list is split into several waves
BEING_PICKED = (ShipmentStatus.PENDING, ShipmentStatus.PICKING)


def create_wave(
    location_code: str,
    *,
    order_numbers: Sequence[str] | None = None,
    next_n: int | None = None,
    filters: QueueFilters | None = None,
    combine_parcel: bool = False,
    actor: Actor,
    now: datetime | None = None,
) -> Wave:
    """Start a wave at a location with the chosen orders, or with the next `next_n` in pick
    priority (within `filters`). Chosen orders that cannot be picked there are refused by
    name, and nothing is created. `combine_parcel` packs all of the wave's shipments into
    one parcel (an accepted combined-parcel suggestion)."""
    now = now or utcnow()
    session = begin_write()
    location = get_location(location_code)
    if not location.active:
        raise ValidationFailed(f"{location.code} is inactive; it picks no orders.")
    if order_numbers:
        numbers = list(dict.fromkeys(n.strip().upper() for n in order_numbers if n and n.strip()))
        if len(numbers) > MAX_WAVE_ORDERS:
            raise ValidationFailed(f"A wave takes at most {MAX_WAVE_ORDERS} orders; choose fewer.")
        ids = dict(session.execute(select(Order.number, Order.id).where(Order.number.in_(numbers))).all())
        unknown = [n for n in numbers if n not in ids]
        if unknown:
            raise ValidationFailed(f"Unknown order(s): {', '.join(unknown)}.", details={"orders": unknown})
        wanted_ids = [ids[n] for n in numbers]
        strict = True
    elif next_n is not None:
        count = min(positive_count(next_n, "count"), MAX_WAVE_ORDERS)
        wanted_ids = [o.id for o in first_in_queue(location, count, filters)]
        strict = False
    else:
        raise ValidationFailed(
            "Tick the orders to pick, or ask for the next orders by priority.",
            details={"orders": ["Choose at least one order."]},
        )
    orders = lock_orders(wanted_ids)
    todo = uncovered_at(location.id, orders.keys())
    refused = {
        o.number: _why_not(o, todo.get(o.id), location.code)
        for o in orders.values()
        if o.status not in WAVEABLE or not todo.get(o.id)
    }
    if refused and strict:
        reasons = " ".join(refused.values())
        raise ValidationFailed(f"Nothing was started. {reasons}", details={"orders": refused})
    chosen = [o for o in orders.values() if o.number not in refused]
    if not chosen:
        raise ValidationFailed(
            f"No orders are waiting to be picked at {location.code}.", details={"orders": ["The pick queue is empty."]}
        )
    wave = Wave(
        number=next_number("wave"),
        location_id=location.id,
        status=WaveStatus.OPEN,
        created_at=now,
        created_by=actor.display,
    )
    session.add(wave)
    group = None
    for order in in_pick_order_of(chosen):
        shipment = Shipment(
            number=next_number("shipment"),
            order_id=order.id,
            location_id=location.id,
            wave=wave,
            status=ShipmentStatus.PICKING,
            created_at=now,
        )
        if combine_parcel:
            group = group or shipment.number
            shipment.parcel_group = group
        lines = {line.id: line for line in order.lines}
        for line_id, qty in sorted(todo[order.id].items(), key=lambda item: lines[item[0]].line_no):
            shipment.lines.append(ShipmentLine(order_line_id=line_id, qty=qty, qty_packed=0))
        session.add(shipment)
        record_event(
            "order",
            order.number,
            "shipment_created",
            actor=actor,
            at=now,
            details={
                "shipment": shipment.number,
                "wave": wave.number,
                "location": location.code,
                "lines": [{"sku": lines[sl.order_line_id].sku, "qty": sl.qty} for sl in shipment.lines],
                "parcel_group": shipment.parcel_group,
            },
        )
        if order.status != OrderStatus.PICKING:
            set_status(order, OrderStatus.PICKING, actor=actor, at=now, note=f"in wave {wave.number}")
    record_event(
        "wave",
        wave.number,
        "wave_created",
        actor=actor,
        at=now,
        details={
            "location": location.code,
            "orders": [o.number for o in in_pick_order_of(chosen)],
            "combined_parcel": combine_parcel,
        },
    )
    session.commit()
    return wave


def in_pick_order_of(orders: list[Order]) -> list[Order]:
    by_number = {o.number: o for o in orders}
    return [by_number[e.number] for e in in_pick_order(queue_entry(o) for o in orders)]


def _why_not(order: Order, todo: dict | None, location: str) -> str:
    if order.status not in WAVEABLE:
        return f"{order.number} is {OrderStatus(order.status).label}, not ready to pick."
    return f"{order.number} has nothing left to pick at {location} (already in a wave, or reserved elsewhere)."


def abort_shipment(shipment_number: str, *, reason: str, actor: Actor, now: datetime | None = None) -> Shipment:
    """Give up picking a shipment (the units are not where the system says, say): it is
    cancelled, its units stay reserved for the order and go back to the pick queue, and an
    order with nothing else being picked moves back to ready. A packed parcel is not
    aborted: it ships (part of it, if need be)."""
    now = now or utcnow()
    session = begin_write()
    first = get_shipment(shipment_number)
    order = lock_orders([first.order_id])[first.order_id]
    [shipment] = lock_shipments([first.id])
    if shipment.status not in BEING_PICKED:
        raise IllegalTransition(
            f"{shipment.number} is {ShipmentStatus(shipment.status).label}; only a parcel "
            f"still being picked can be put back."
        )
    reason = (reason or "").strip() or "pick aborted"
    _put_back(shipment, order, reason, actor=actor, at=now)
    session.flush()
    others = session.scalars(
        select(Shipment.status).where(Shipment.order_id == order.id, Shipment.status.in_(OPEN_SHIPMENT))
    ).all()
    if order.status == OrderStatus.PICKING:
        if not others:
            set_status(order, OrderStatus.READY, actor=actor, at=now, note=f"{shipment.number} put back: {reason}")
        elif all(s == ShipmentStatus.PACKED for s in others):
            set_status(order, OrderStatus.PACKED, actor=actor, at=now, note=f"{shipment.number} put back: {reason}")
    if shipment.wave_id is not None:
        settle_wave(shipment.wave_id, now)
    session.commit()
    return shipment


def put_back_picks(order: Order, *, reason: str, actor: Actor, at: datetime) -> list[Shipment]:
    """Cancel every shipment of the order still being picked, as abort_shipment does one:
    the units stay reserved for the order. For the orders service moving a picking order
    back to ready or on hold; the caller holds the order's lock, moves it and commits."""
    ids = db.session.scalars(
        select(Shipment.id).where(Shipment.order_id == order.id, Shipment.status.in_(BEING_PICKED))
    ).all()
    shipments = lock_shipments(ids)
    for shipment in shipments:
        _put_back(shipment, order, reason, actor=actor, at=at)
    db.session.flush()
    for wave_id in sorted({s.wave_id for s in shipments if s.wave_id is not None}):
        settle_wave(wave_id, at)
    return shipments


def _put_back(shipment: Shipment, order: Order, reason: str, *, actor: Actor, at: datetime) -> None:
    before = shipment.status
    shipment.status = ShipmentStatus.CANCELLED
    record_event(
        "shipment",
        shipment.number,
        "shipment_cancelled",
        actor=actor,
        at=at,
        before=before,
        after=ShipmentStatus.CANCELLED,
        details={"order": order.number, "reason": reason},
    )


def settle_wave(wave_id: int, at: datetime) -> None:
    """A wave with nothing left to pick is done (or cancelled, when every parcel was put back)."""
    wave = db.session.get(Wave, wave_id)
    statuses = set(db.session.scalars(select(Shipment.status).where(Shipment.wave_id == wave_id)))
    if wave.status != WaveStatus.OPEN or statuses & {ShipmentStatus.PENDING, ShipmentStatus.PICKING}:
        return
    wave.status = WaveStatus.CANCELLED if statuses == {ShipmentStatus.CANCELLED} else WaveStatus.DONE
    wave.completed_at = at
