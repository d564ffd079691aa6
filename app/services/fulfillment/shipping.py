"""Shipping a packed parcel, and recording its delivery.

Everything a shipment changes happens in one transaction: the shipped units leave
the ledger (`shipment` moves at the location), their reservations and allocations
are consumed, the order lines count them as shipped, the order moves to shipped or
partially shipped, the dispatch clock stops as met, the customer's "shipped"
notification enters the outbox (once per shipment), and the invoice is issued
(unless the channel invoices whole orders at payment). Either all of it is recorded
or none of it.

Only packed goods ship. An order that was never waved and packed (a 3PL shipping on
its own, say) is refused with 409: pack it in OrderDeck first, so the stock and the
invoice follow what really went into the box.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import select

from app.domain.carriers import Carrier, validate_tracking
from app.domain.enums import ClockKind, InvoiceTrigger, MoveKind, NotificationKind, ShipmentStatus
from app.domain.errors import Conflict, IllegalTransition, ValidationFailed
from app.domain.order_states import OrderStatus
from app.extensions import db
from app.models import Allocation, Order, Shipment, StockLevel
from app.models.base import utcnow
from app.services import allocation, clocks, invoicing, outbox
from app.services.actors import Actor
from app.services.audit import record_event
from app.services.fulfillment.common import get_shipment, lock_orders, lock_shipments, parcel_ids
from app.services.inventory import add_move
from app.services.order_status import set_status
from app.services.orders import get_order
from app.services.tx import begin_write

SHIPPABLE_ORDER = (OrderStatus.PACKED, OrderStatus.PARTIALLY_SHIPPED)


def ship_parcel(
    shipment_number: str,
    *,
    carrier: str,
    tracking_number: str,
    quantities: Mapping[int, int] | None = None,
    actor: Actor,
    now: datetime | None = None,
) -> list[Shipment]:
    """Hand a packed parcel to the carrier (the packing screen's "Ship" button).

    A combined parcel ships all of its shipments under one tracking number. `quantities`
    (shipment line id -> units) ships only part of what is packed; what stays behind
    remains reserved for its order and goes back to the pick queue."""
    now = now or utcnow()
    begin_write()
    first = get_shipment(shipment_number)
    return _ship(
        parcel_ids(first), carrier=carrier, tracking_number=tracking_number, quantities=quantities, actor=actor, at=now
    )


def ship_order(
    order_number: str,
    *,
    carrier: str,
    tracking_number: str,
    lines: Iterable[Mapping] | None = None,
    shipment_number: str | None = None,
    actor: Actor,
    now: datetime | None = None,
) -> list[Shipment]:
    """Ship what is packed for an order (the API's POST /orders/{number}/shipments).

    Without `lines`, every packed shipment of the order ships under this tracking number;
    with `lines` ([{"sku", "qty"}]) just those units, taken from the packed shipments in
    the order they were made. `shipment_number` limits it to one shipment."""
    now = now or utcnow()
    begin_write()
    order = get_order(order_number)
    if order.status not in SHIPPABLE_ORDER:
        raise IllegalTransition(
            f"{order.number} is {OrderStatus(order.status).label}, not packed: only packed goods ship. "
            f"Pick it in a wave and scan its units on the packing screen first.",
            details={"status": order.status},
        )
    stmt = select(Shipment).where(Shipment.order_id == order.id, Shipment.status == ShipmentStatus.PACKED)
    if shipment_number:
        stmt = stmt.where(Shipment.number == shipment_number)
    packed = list(db.session.scalars(stmt.order_by(Shipment.id)))
    if not packed:
        raise IllegalTransition(
            f"{order.number} has no packed parcel{' ' + shipment_number if shipment_number else ''} waiting to ship."
        )
    quantities = _quantities_for(order, packed, list(lines)) if lines else None
    return _ship(
        [s.id for s in packed],
        carrier=carrier,
        tracking_number=tracking_number,
        quantities=quantities,
        actor=actor,
        at=now,
    )


def _quantities_for(order: Order, packed: list[Shipment], wanted: list[Mapping]) -> dict[int, int]:
    """Spread requested units per SKU over the packed shipment lines, first shipment first."""
    skus = {line.id: line.sku for line in order.lines}
    take: dict[int, int] = {}
    errors: dict[str, list[str]] = {}
    for i, request in enumerate(wanted):
        sku, qty = request["sku"], int(request["qty"])
        slots = [sl for s in packed for sl in s.lines if skus.get(sl.order_line_id) == sku]
        free = sum(sl.qty_packed - take.get(sl.id, 0) for sl in slots)
        if not slots:
            errors[str(i)] = [f"No {sku} is packed for {order.number}."]
            continue
        if qty > free:
            errors[str(i)] = [f"Only {free} × {sku} are packed for {order.number}."]
            continue
        for sl in slots:
            units = min(qty, sl.qty_packed - take.get(sl.id, 0))
            take[sl.id] = take.get(sl.id, 0) + units
            qty -= units
    if errors:
        raise ValidationFailed(" ".join(m for msgs in errors.values() for m in msgs), details={"lines": errors})
    return {sl.id: take.get(sl.id, 0) for s in packed for sl in s.lines}


def _ship(
    ids: list[int],
    *,
    carrier: str,
    tracking_number: str,
    quantities: Mapping[int, int] | None,
    actor: Actor,
    at: datetime,
) -> list[Shipment]:
    carrier_, tracking = validate_tracking(carrier, tracking_number)
    order_ids = db.session.scalars(select(Shipment.order_id).where(Shipment.id.in_(ids))).all()
    orders = lock_orders(order_ids)
    shipments = lock_shipments(ids)
    for shipment in shipments:
        if shipment.status != ShipmentStatus.PACKED:
            raise IllegalTransition(
                f"{shipment.number} is {ShipmentStatus(shipment.status).label}; only a packed parcel can ship."
            )
        order = orders[shipment.order_id]
        if order.status not in SHIPPABLE_ORDER:
            raise IllegalTransition(
                f"{order.number} is {OrderStatus(order.status).label}: its other parcels are "
                f"still being picked. Pack them first, then ship."
            )
    take = _take(shipments, quantities)
    if not any(take.values()):
        raise ValidationFailed("Nothing to ship: every quantity is zero.", details={"lines": ["Ship at least 1."]})
    levels = _lock_levels(shipments)
    shipped: list[Shipment] = []
    for shipment in shipments:
        units = {sl.id: take[sl.id] for sl in shipment.lines}
        if not any(units.values()):
            continue  # part of a larger call that ships nothing from this one: it stays packed
        order = orders[shipment.order_id]
        _consume(shipment, order, units, levels, actor=actor, at=at)
        shipment.status = ShipmentStatus.SHIPPED
        shipment.carrier = carrier_.code
        shipment.tracking_number = tracking
        shipment.shipped_at = at
        record_event(
            "shipment",
            shipment.number,
            "shipment_shipped",
            actor=actor,
            at=at,
            before=ShipmentStatus.PACKED,
            after=ShipmentStatus.SHIPPED,
            details={"order": order.number, "carrier": carrier_.code, "tracking_number": tracking},
        )
        shipped.append(shipment)
    db.session.flush()
    for shipment in shipped:
        order = orders[shipment.order_id]
        _after_shipment(order, shipment, carrier_, actor=actor, at=at)
    db.session.commit()
    return shipped


def _take(shipments: list[Shipment], quantities: Mapping[int, int] | None) -> dict[int, int]:
    take: dict[int, int] = {}
    errors: dict[str, list[str]] = {}
    for shipment in shipments:
        for sl in shipment.lines:
            qty = sl.qty_packed if quantities is None else int(quantities.get(sl.id, 0) or 0)
            if qty < 0 or qty > sl.qty_packed:
                errors[str(sl.id)] = [f"{sl.line.sku}: between 0 and {sl.qty_packed} (what is packed)."]
            take[sl.id] = qty
    if errors:
        raise ValidationFailed(
            "Ship between 0 and what is packed: " + " ".join(m for msgs in errors.values() for m in msgs),
            details={"lines": errors},
        )
    return take


def _lock_levels(shipments: list[Shipment]) -> dict[tuple[int, int], StockLevel]:
    keys = sorted({(sl.line.product_id, s.location_id) for s in shipments for sl in s.lines})
    levels = {}
    for product_id, location_id in keys:
        levels[(product_id, location_id)] = db.session.scalar(
            select(StockLevel)
            .where(StockLevel.product_id == product_id, StockLevel.location_id == location_id)
            .with_for_update(of=StockLevel)
        )
    return levels


def _consume(shipment: Shipment, order: Order, units: Mapping[int, int], levels, *, actor: Actor, at: datetime) -> None:
    """Turn the reservation of the shipped units into `shipment` ledger moves."""
    for sl in list(shipment.lines):
        qty = units[sl.id]
        line = sl.line
        if qty == 0:
            shipment.lines.remove(sl)  # stays behind: reserved, back in the pick queue
            continue
        level = levels[(line.product_id, shipment.location_id)]
        alloc = db.session.scalar(
            select(Allocation).where(
                Allocation.order_line_id == line.id, Allocation.location_id == shipment.location_id
            )
        )
        if level is None or alloc is None or alloc.qty < qty:
            reserved = alloc.qty if alloc else 0
            raise Conflict(
                f"Only {reserved} × {line.sku} are still reserved for {order.number} at "
                f"{shipment.location.code} (stock changed while it was picked); recount before shipping."
            )
        allocation.release_units(alloc, qty, level)
        line.qty_shipped += qty
        add_move(
            level,
            -qty,
            MoveKind.SHIPMENT,
            actor=actor,
            at=at,
            reason="shipped",
            reference=shipment.number,
            order_id=order.id,
            shipment_id=shipment.id,
        )
        if qty < sl.qty:
            sl.qty_packed = qty
            sl.qty = qty


def _after_shipment(order: Order, shipment: Shipment, carrier: Carrier, *, actor: Actor, at: datetime) -> None:
    everything = all(line.qty_shipped >= line.qty for line in order.lines)
    if everything:
        order.shipped_at = at
        set_status(order, OrderStatus.SHIPPED, actor=actor, at=at, note=f"{shipment.number} shipped")
    elif order.status == OrderStatus.PACKED:
        set_status(order, OrderStatus.PARTIALLY_SHIPPED, actor=actor, at=at, note=f"{shipment.number} shipped")
    clocks.stop(order, ClockKind.DISPATCH, at, met=True)
    link = carrier.url_for(shipment.tracking_number)
    outbox.enqueue(
        NotificationKind.ORDER_SHIPPED,
        dedup_key=f"order_shipped:{shipment.number}",
        recipient=order.customer.email,
        subject=f"Your order {order.number} is on its way",
        body=(
            f"Your order {order.number} left our warehouse with {carrier.name}, tracking number "
            f"{shipment.tracking_number}." + (f" Follow it at {link}" if link else "")
        ),
        at=at,
        order_id=order.id,
    )
    if order.channel.invoice_on == InvoiceTrigger.SHIPMENT:
        invoicing.issue_invoice_for_shipment(shipment, actor=actor, at=at)


# Delivery ---------------------------------------------------------------------------


def mark_delivered(shipment_number: str, *, actor: Actor, now: datetime | None = None) -> Shipment:
    """The carrier delivered the parcel. The order is delivered once every parcel of it is."""
    now = now or utcnow()
    begin_write()
    first = get_shipment(shipment_number)
    order = lock_orders([first.order_id])[first.order_id]
    shipment = lock_shipments([first.id])[0]
    if shipment.status == ShipmentStatus.DELIVERED:
        raise Conflict(f"{shipment.number} is already delivered.")
    if shipment.status != ShipmentStatus.SHIPPED:
        raise IllegalTransition(
            f"{shipment.number} is {ShipmentStatus(shipment.status).label}; only a shipped parcel can be delivered."
        )
    shipment.status = ShipmentStatus.DELIVERED
    shipment.delivered_at = now
    record_event(
        "shipment",
        shipment.number,
        "shipment_delivered",
        actor=actor,
        at=now,
        before=ShipmentStatus.SHIPPED,
        after=ShipmentStatus.DELIVERED,
        details={"order": order.number},
    )
    db.session.flush()
    others = db.session.scalars(
        select(Shipment.status).where(Shipment.order_id == order.id, Shipment.status != ShipmentStatus.CANCELLED)
    ).all()
    if order.status == OrderStatus.SHIPPED and all(s == ShipmentStatus.DELIVERED for s in others):
        order.delivered_at = now
        set_status(order, OrderStatus.DELIVERED, actor=actor, at=now, note=f"{shipment.number} delivered")
    db.session.commit()
    return shipment
