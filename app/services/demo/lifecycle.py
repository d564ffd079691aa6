"""What an order's timeline leaves behind: holds, shipments and reservations, payments, SLA clocks, events.

The rules mirror DESIGN.md §4-5: allocations stay until the goods leave (or
the order is cancelled); a paid order's dispatch clock runs from payment to
ship_by; payment clocks run from placing; `stock` and `address` holds are due
by the end of the same business day at the location that would ship — the deadline
app.domain.sla computes for the live app, in that location's business calendar.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from app.domain.calendar import BusinessCalendar, parse_cutoff
from app.domain.enums import AddressStatus, ChannelKind, ClockKind, ClockState, ShipmentStatus
from app.domain.order_states import HoldReason, OrderStatus, PaymentStatus
from app.domain.sla import Deadline, same_day_hold_deadline
from app.services.demo import reference as ref
from app.services.demo.catalog import Catalog
from app.services.demo.plans import CENT, LinePlan, OrderPlan, ShipmentPlan

S, H = OrderStatus, HoldReason
SECOND, MINUTE, HOUR = timedelta(seconds=1), timedelta(minutes=1), timedelta(hours=1)
OPS_USER = "user:ops@orderdeck.example"
SHIPMENT_STATUS = {S.PICKING: ShipmentStatus.PICKING, S.PACKED: ShipmentStatus.PACKED,
                   S.PARTIALLY_SHIPPED: ShipmentStatus.SHIPPED, S.SHIPPED: ShipmentStatus.SHIPPED,
                   S.DELIVERED: ShipmentStatus.DELIVERED}
HOLD_NOTES = {
    H.ADDRESS: ["House number missing.", "Postcode does not match the city.",
                "Street not found by the address check."],
    H.REVIEW: ["High order value for a first-time customer.", "Billing and shipping country differ.",
               "Several orders to this address with different cards in one day."],
    H.MANUAL: ["Customer asked to ship together with a pre-order.",
               "Customer asked us to wait until they are back from holiday.",
               "Gift wrap requested by phone; check before picking."],
}
CANCEL_REASONS = {
    "auto": ["Not paid within 72 hours."],
    "unpaid": ["Duplicate order.", "Customer asked to cancel before paying.", "Suspected fraud."],
    "refunded": ["Customer changed their mind.", "Ordered the wrong size.",
                 "Delivery would arrive too late for the customer."],
}


def complete_order(order: OrderPlan, t: dict[str, timedelta], *, rng: random.Random, anchor: datetime,
                   catalog: Catalog) -> None:
    at = {step: order.placed_at + offset for step, offset in t.items()}
    order.paid_at = at.get("paid")
    if order.paid_at:
        order.ship_by = order.paid_at + timedelta(hours=order.channel["dispatch_sla_hours"])
    order.cancelled_at = at.get("cancelled")
    if "held" in at:
        _hold(order, at["held"], rng)
    _ship(order, at, rng)
    _money(order, at, rng)
    _clocks(order, anchor, catalog)
    _events(order, at, rng)


def _hold(order: OrderPlan, held_at: datetime, rng: random.Random) -> None:
    reason = order.hold_reason
    order.held_at = held_at
    order.held_by = OPS_USER if reason == H.MANUAL else "system"
    if reason in HOLD_NOTES:
        order.hold_note = rng.choice(HOLD_NOTES[reason])
    if reason == H.ADDRESS:
        order.address_status = AddressStatus.AMBIGUOUS
        if order.hold_note.startswith("House number"):
            words = order.address["ship_line1"].split()
            order.address["ship_line1"] = " ".join(w for w in words if not any(ch.isdigit() for ch in w))


def _ship(order: OrderPlan, at: dict[str, datetime], rng: random.Random) -> None:
    """Shipments per location; what has not left yet stays allocated (except when cancelled)."""
    routed = [line for line in order.lines if line.location]
    if order.status == S.CANCELLED:
        return
    if order.status in (S.NEW, S.ON_HOLD, S.READY):
        for line in routed:
            line.allocated = line.qty
        return
    groups: dict[str, list[LinePlan]] = {}
    for line in routed:
        groups.setdefault(line.location, []).append(line)
    locations = list(groups)
    if order.status == S.PARTIALLY_SHIPPED:
        # The first location's parcel has gone; the rest (another location, or the last line
        # of a single-location order) is still allocated and waits for the next pick.
        first = groups[locations[0]]
        parcels = [(locations[0], first if len(locations) > 1 else first[:-1])]
    else:
        parcels = [(loc, groups[loc]) for loc in locations]
    for i, (loc, lines) in enumerate(parcels):
        # A second warehouse's parcel goes out a little earlier than the first one's.
        jitter = timedelta(0) if i == 0 else timedelta(
            seconds=rng.uniform(0, min(2 * HOUR, (at["pick"] - at["ready"]) / 2).total_seconds()))
        packed, shipped, delivered = (at[k] - jitter if k in at else None for k in ("packed", "shipped", "delivered"))
        carriers = ref.CARRIERS.get((loc, order.country)) or ref.CARRIERS[(loc, "*")]
        carrier = rng.choices(list(carriers), weights=list(carriers.values()))[0]
        shipment = ShipmentPlan(
            order=order, location=loc, items=[(line, line.qty) for line in lines],
            status=SHIPMENT_STATUS[order.status], picked_at=at["pick"] - jitter, packed_at=packed,
            shipped_at=shipped, delivered_at=delivered, carrier=carrier,
            tracking_number=ref.tracking_number(rng, carrier) if packed else None,  # label printed at packing
        )
        order.shipments.append(shipment)
        if shipped:
            for line, qty in shipment.items:
                line.shipped += qty
    for line in routed:
        line.allocated = line.qty - line.shipped
    if order.status in (S.SHIPPED, S.DELIVERED):
        order.shipped_at = max(s.shipped_at for s in order.shipments)
    if order.status == S.DELIVERED:
        order.delivered_at = max(s.delivered_at for s in order.shipments)


def _money(order: OrderPlan, at: dict[str, datetime], rng: random.Random) -> None:
    kind, country = order.channel["kind"], order.country
    if kind == ChannelKind.MARKETPLACE:
        method, reference = "marketplace", f"{order.channel['code']}-payout-{rng.randint(10**7, 10**8 - 1)}"
    elif kind == ChannelKind.WHOLESALE:
        scheme = {"US": "ACH", "GB": "BACS"}.get(country, "SEPA")
        method, reference = "bank_transfer", f"{scheme} {rng.randint(10**9, 10**10 - 1)}"
    else:
        methods = ref.PAYMENT_METHODS[country]
        method = rng.choices(list(methods), weights=list(methods.values()))[0]
        reference = ref.payment_reference(rng, method)
    if order.hold_reason == H.PAYMENT:
        # a gift card or a first instalment: a round amount short of the total
        part = Decimal(max(1, int(order.total * Decimal(str(round(rng.uniform(0.3, 0.8), 2)))))).quantize(CENT)
        part = min(part, order.total - CENT)
        order.payments.append(_payment(part, method, reference, at["part_paid"]))
        order.paid_amount, order.payment_status = part, PaymentStatus.PARTIALLY_PAID
        order.hold_note = f"Received {part} of {order.total} {order.currency}; waiting for the rest."
    elif order.paid_at:
        order.payments.append(_payment(order.total, method, reference, order.paid_at))
        order.paid_amount, order.payment_status = order.total, PaymentStatus.PAID
    if order.cancel_kind == "refunded":
        order.refunds.append({"amount": order.total, "method": method,
                              "reference": f"re_{rng.randint(10**11, 10**12 - 1)}",
                              "reason": "Order cancelled before shipping.", "refunded_at": at["refunded"],
                              "created_by": "demo"})
        order.refunded_amount, order.payment_status = order.total, PaymentStatus.REFUNDED


def _payment(amount: Decimal, method: str, reference: str, at: datetime) -> dict:
    return {"amount": amount, "method": method, "reference": reference, "received_at": at, "created_by": "demo"}


def _clock(kind: str, started: datetime, warn: datetime | None, due: datetime, *, anchor: datetime,
           met: datetime | None = None, stopped: datetime | None = None, breached: bool = False) -> dict:
    """A clock met, stopped or breached exactly once; still running while its due time lies ahead."""
    clock = {"kind": kind, "started_at": started, "warn_at": warn, "due_at": due, "notice_at": None, "met_at": None,
             "breached_at": None, "stopped_at": None, "state": ClockState.RUNNING}
    if stopped is not None:
        clock.update(state=ClockState.STOPPED, stopped_at=stopped)
    elif met is not None and met <= due:
        clock.update(state=ClockState.MET, met_at=met)
    elif breached or met is not None or due <= anchor:
        clock.update(state=ClockState.BREACHED, breached_at=due)
    return clock


def _clocks(order: OrderPlan, anchor: datetime, catalog: Catalog) -> None:
    ch, placed = order.channel, order.placed_at
    if ch["kind"] != ChannelKind.MARKETPLACE:
        due = placed + timedelta(hours=ch["auto_cancel_hours"] or 72)
        warn = placed + timedelta(hours=ch["payment_reminder_1_hours"])
        stopped = order.cancelled_at if order.cancel_kind == "unpaid" else None
        order.clocks.append(_clock(ClockKind.PAYMENT, placed, warn, due, anchor=anchor, met=order.paid_at,
                                   stopped=stopped, breached=order.cancel_kind == "auto"))
    if order.paid_at:
        window = timedelta(hours=ch["dispatch_sla_hours"])
        warn = order.paid_at + window * ch["dispatch_warn_pct"] / 100
        stopped = order.cancelled_at if order.status == S.CANCELLED else None
        order.clocks.append(_clock(ClockKind.DISPATCH, order.paid_at, warn, order.ship_by, anchor=anchor,
                                   met=order.shipped_at, stopped=stopped))
    if order.hold_reason in (H.STOCK, H.ADDRESS):
        kind = ClockKind.STOCK_HOLD if order.hold_reason == H.STOCK else ClockKind.ADDRESS_HOLD
        deadline = hold_deadline(order, kind, catalog)
        clock = _clock(kind, order.held_at, deadline.warn_at, deadline.due_at, anchor=anchor)
        clock["notice_at"] = deadline.notice_at  # an address hold tells the customer at once
        order.clocks.append(clock)


def hold_deadline(order: OrderPlan, kind: ClockKind, catalog: Catalog) -> Deadline:
    """The deadline app.services.clocks.start_hold_clock would give this hold: the end of
    the business day (the cut-off) in the calendar of the order's home location."""
    code = home_location(order, catalog)
    location = catalog.locations[code]
    calendar = BusinessCalendar(timezone=location["timezone"], working_days=location["working_days"],
                                cutoff=parse_cutoff(location["cutoff_time"]),
                                holidays=frozenset(day for day, _ in catalog.holidays[code]))
    return same_day_hold_deadline(order.held_at, calendar, notify_customer=kind == ClockKind.ADDRESS_HOLD)


def home_location(order: OrderPlan, catalog: Catalog) -> str:
    """app.services.clocks.home_location: where most of the order is allocated (ties to the
    location created first, i.e. the lower id), else the best-priority location."""
    allocated: dict[str, int] = {}
    for line in order.lines:
        if line.location and line.allocated:
            allocated[line.location] = allocated.get(line.location, 0) + line.allocated
    created = list(catalog.locations)
    if allocated:
        return min(allocated, key=lambda code: (-allocated[code], created.index(code)))
    return min(created, key=lambda code: (catalog.locations[code]["priority"], code))


def _events(order: OrderPlan, at: dict[str, datetime], rng: random.Random) -> None:
    events = order.events
    events.append((order.placed_at, "order_created", None, S.NEW,
                   {"channel": order.channel["code"], "lines": len(order.lines), "total": str(order.total),
                    "currency": order.currency}))
    for p in order.payments:
        events.append((p["received_at"], "payment_recorded", None, None,
                       {"amount": str(p["amount"]), "method": p["method"]}))
    for r in order.refunds:
        events.append((r["refunded_at"], "refund_recorded", None, None, {"amount": str(r["amount"])}))

    def move(step: str, before: str, after: str, **details) -> None:
        events.append((at[step] + SECOND, "status_changed", before, after, details or None))

    status, hold = order.status, order.hold_reason
    if status == S.ON_HOLD:
        if hold == H.MANUAL:
            move("ready", S.NEW, S.READY)
        move("held", S.READY if hold == H.MANUAL else S.NEW, S.ON_HOLD, hold_reason=hold, note=order.hold_note)
    elif status == S.CANCELLED:
        reason = rng.choice(CANCEL_REASONS[order.cancel_kind])
        if order.cancel_kind == "refunded":
            move("ready", S.NEW, S.READY)
        move("cancelled", S.READY if order.cancel_kind == "refunded" else S.NEW, S.CANCELLED, reason=reason,
             by="job:auto_cancel" if order.cancel_kind == "auto" else OPS_USER)
    elif status != S.NEW:
        move("ready", S.NEW, S.READY)
        steps = [("pick", S.READY, S.PICKING), ("packed", S.PICKING, S.PACKED),
                 ("shipped", S.PACKED, S.PARTIALLY_SHIPPED if status == S.PARTIALLY_SHIPPED else S.SHIPPED),
                 ("delivered", S.SHIPPED, S.DELIVERED)]
        for step, before, after in steps:
            if step in at:
                move(step, before, after)
    events.sort(key=lambda e: e[0])
