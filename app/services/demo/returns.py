"""Demo returns: a dozen RMAs on delivered demo orders, spread over the queue's statuses
(requested, approved, received — one partly, with a write-off — rejected, cancelled and
closed), made through the real returns services so every receipt, ledger move and audit
event is the one the application itself would write.

Deterministic for a seed; times are offsets before the demo's reference "now". Closed
demo returns waive their refund (goods sent back outside the return policy), so the demo
orders keep the payment status and invoices the rest of the demo data promises; refunds
and credit notes appear as soon as someone closes a received return with a refund.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.domain.order_states import HoldReason, OrderStatus
from app.extensions import db
from app.models import Order, OrderLine, Return, Shipment
from app.services import returns
from app.services.actors import Actor

DEMO_RETURNS = Actor(label="demo")
# The queue the demo shows: (final status, reason, resolution), in the order they are opened.
PLAN = [
    ("closed", "damaged", "refund"),
    ("rejected", "changed_mind", "refund"),
    ("cancelled", "wrong_item", "exchange"),
    ("received", "not_as_described", "refund"),
    ("received", "damaged", "exchange"),
    ("received", "changed_mind", "refund"),
    ("approved", "wrong_item", "exchange"),
    ("approved", "changed_mind", "refund"),
    ("approved", "damaged", "refund"),
    ("requested", "not_as_described", "exchange"),
    ("requested", "changed_mind", "refund"),
    ("requested", "other", "refund"),
]
NOTES = {"other": "Ordered two sizes, keeping one", "not_as_described": "Colour differs from the photos"}
HOUR = timedelta(hours=1)


def _candidates(rng: random.Random, anchor: datetime) -> list[Order]:
    """Delivered orders whose products no order waits for: restocking them releases no
    demo order from its stock hold, so the rest of the demo stays as it was planned."""
    waiting = set(db.session.scalars(
        select(OrderLine.product_id).join(Order, Order.id == OrderLine.order_id)
        .where(Order.status == OrderStatus.ON_HOLD, Order.hold_reason == HoldReason.STOCK)
    ))
    orders = [o for o in db.session.scalars(
        select(Order).where(Order.status == OrderStatus.DELIVERED, Order.delivered_at <= anchor - 48 * HOUR)
        .options(selectinload(Order.lines)).order_by(Order.id)
    ) if not {line.product_id for line in o.lines} & waiting]
    rng.shuffle(orders)
    return orders


def _shipped_from(order: Order) -> str:
    return db.session.scalar(
        select(Shipment).where(Shipment.order_id == order.id).order_by(Shipment.id)
    ).location.code


def seed_returns(seed: int, *, anchor: datetime) -> int:
    """Open the demo's returns once (the caller seeds only into an empty database); the
    number of returns made."""
    if db.session.scalar(select(Return.id).limit(1)) is not None:
        db.session.rollback()
        return 0
    rng = random.Random(seed * 7919 + 6)
    made = 0
    for order, (status, reason, resolution) in zip(_candidates(rng, anchor), PLAN, strict=False):
        line = rng.choice(order.lines)
        sku, qty, location = line.sku, rng.randint(1, line.qty_shipped), _shipped_from(order)
        order_number = order.number
        requested = max(min(order.delivered_at + rng.randint(20, 120) * HOUR, anchor - rng.randint(30, 200) * HOUR),
                        order.delivered_at + HOUR)
        db.session.rollback()
        ret = returns.create_return(order_number, [{"sku": sku, "qty": qty}], reason, actor=DEMO_RETURNS,
                                    reason_note=NOTES.get(reason, ""), resolution=resolution, now=requested)
        number, made = ret.number, made + 1
        decided = requested + rng.randint(1, 8) * HOUR
        if status == "requested":
            continue
        if status == "rejected":
            returns.reject(number, reason="Outside the 30-day return window", actor=DEMO_RETURNS, now=decided)
            continue
        returns.approve(number, note="Return label e-mailed", actor=DEMO_RETURNS, now=decided)
        if status == "approved":
            continue
        if status == "cancelled":
            returns.cancel(number, reason="Customer decided to keep it", actor=DEMO_RETURNS,
                           now=min(decided + 48 * HOUR, anchor - HOUR))
            continue
        arrived = min(decided + rng.randint(24, 72) * HOUR, anchor - HOUR)
        if qty > 1 and made % 2 == 0:
            # A parcel with one unit broken in transit: the rest goes back on the shelf.
            entries = [{"sku": sku, "qty": qty - 1, "disposition": "restock", "location": location},
                       {"sku": sku, "qty": 1, "disposition": "write_off", "condition": "damaged"}]
        elif reason == "damaged":
            entries = [{"sku": sku, "qty": qty, "disposition": "write_off", "condition": "damaged"}]
        else:
            entries = [{"sku": sku, "qty": qty, "disposition": "restock", "location": location}]
        returns.receive(number, entries, actor=DEMO_RETURNS, now=arrived)
        if status == "closed":
            returns.close(number, resolution="refund", refund_amount=0,
                          refund_reason="Used beyond inspection; no refund under the return policy",
                          actor=DEMO_RETURNS, now=min(arrived + 6 * HOUR, anchor))
    return made
