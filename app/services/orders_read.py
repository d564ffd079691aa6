"""Reading orders for the API: one order with everything a client needs, and lists."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.domain.errors import NotFound, ValidationFailed
from app.domain.order_states import OrderStatus
from app.extensions import db
from app.models import Allocation, Channel, Event, Order, OrderLine, Shipment, SlaClock
from app.services.pagination import Page, clamp_limit, keyset_page
from app.services.queries.orders import search_condition


def load_full(number: str) -> Order:
    order = db.session.scalar(
        select(Order).where(Order.number == number).options(
            selectinload(Order.lines).selectinload(OrderLine.allocations).joinedload(Allocation.location),
            selectinload(Order.payments),
        )
    )
    if order is None:
        raise NotFound(f"There is no order {number}.")
    return order


def order_dict(order: Order, *, with_events: bool = True) -> dict:
    shipments = db.session.scalars(
        select(Shipment).where(Shipment.order_id == order.id).options(selectinload(Shipment.lines))
        .order_by(Shipment.id)
    ).all()
    line_sku = {ln.id: ln.sku for ln in order.lines}
    clocks = db.session.scalars(select(SlaClock).where(SlaClock.order_id == order.id).order_by(SlaClock.id)).all()
    body = summary_dict(order)
    body.update(
        tax_total=order.tax_total,
        shipping_price=order.shipping_price,
        paid_amount=order.paid_amount,
        hold_note=order.hold_note,
        customer={"name": order.customer.name, "email": order.customer.email},
        ship_to={"name": order.ship_name, "line1": order.ship_line1, "line2": order.ship_line2,
                 "city": order.ship_city, "region": order.ship_region, "postcode": order.ship_postcode,
                 "country": order.ship_country},
        lines=[{"sku": ln.sku, "name": ln.name, "qty": ln.qty, "unit_price": ln.unit_price,
                "qty_allocated": ln.qty_allocated, "qty_shipped": ln.qty_shipped, "qty_returned": ln.qty_returned}
               for ln in order.lines],
        allocations=[{"sku": ln.sku, "location": a.location.code, "qty": a.qty}
                     for ln in order.lines for a in ln.allocations],
        shipments=[{"number": s.number, "location": s.location.code, "status": s.status, "carrier": s.carrier,
                    "tracking_number": s.tracking_number,
                    "lines": [{"sku": line_sku.get(sl.order_line_id), "qty": sl.qty} for sl in s.lines]}
                   for s in shipments],
        clocks=[{"kind": c.kind, "state": c.state, "due_at": c.due_at, "warn_at": c.warn_at} for c in clocks],
    )
    if with_events:
        body["events"] = db.session.scalars(
            select(Event).where(Event.entity_type == "order", Event.entity_id == order.number).order_by(Event.id)
        ).all()
    return body


def summary_dict(order: Order) -> dict:
    return {
        "number": order.number, "channel": order.channel.code, "external_id": order.external_id,
        "status": order.status, "payment_status": order.payment_status, "hold_reason": order.hold_reason,
        "version": order.version, "currency": order.currency, "total": order.total,
        "placed_at": order.placed_at, "paid_at": order.paid_at, "ship_by": order.ship_by,
    }


def list_orders(*, status: str | None = None, channel: str | None = None, q: str | None = None,
                cursor: str | None = None, limit: int | None = None) -> Page[Order]:
    """Orders in intake order (oldest first), so a client polling with the cursor sees new ones at the end."""
    stmt = select(Order)
    if status:
        if status not in OrderStatus.values():
            raise ValidationFailed(f"Unknown status {status}.",
                                   details={"status": [f"One of {', '.join(OrderStatus.values())}."]})
        stmt = stmt.where(Order.status == status)
    if channel:
        stmt = stmt.where(Order.channel_id == select(Channel.id).where(Channel.code == channel).scalar_subquery())
    if q and q.strip():
        stmt = stmt.where(search_condition(q))
    return keyset_page(stmt, [Order.id], cursor=cursor, limit=clamp_limit(limit), key=lambda o: [o.id])
