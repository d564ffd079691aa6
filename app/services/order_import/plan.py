"""Deciding, in memory, everything create_order would decide for each new order: its
fields and totals, the payment the channel collected, where its stock comes from, the
review's verdict (status and hold), its SLA clocks and its audit events.

The rules are the shared ones — app.domain.intake, app.domain.review, app.domain.routing,
app.domain.sla — applied to the orders one after another in placing order, so the
oldest orders get the stock first, exactly as if they had arrived one by one.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from app.domain.calendar import BusinessCalendar
from app.domain.enums import AddressStatus, ClockState
from app.domain.intake import (
    after_payment,
    hold_fields,
    intake_clocks,
    payment_received_at,
    ship_to_fields,
)
from app.domain.order_states import OrderStatus, PaymentStatus
from app.domain.review import Address, PricedLine, ReviewOutcome, address_problems, price_problems
from app.domain.routing import Candidate, Destination, Need, Plan, plan_allocation
from app.domain.sla import SlaPolicy
from app.models import Channel, Location, StockLevel
from app.services.actors import Actor
from app.services.clocks import calendar_of
from app.services.order_import.checks import Accepted, CatalogProduct

PAYMENT_METHOD = "channel"  # what the channel collected before the order reached us


class StockBook:
    """The locked stock levels of every SKU in the file, and what the import has
    reserved from them so far."""

    def __init__(self, levels: list[StockLevel]) -> None:
        self._levels = {(lv.product_id, lv.location_id): lv for lv in levels}
        self.available = {key: max(lv.on_hand - lv.reserved, 0) for key, lv in self._levels.items()}
        self.locations: dict[int, Location] = {lv.location_id: lv.location for lv in levels}
        self._at: dict[int, list[int]] = defaultdict(list)  # product_id -> location ids, ascending
        for product_id, location_id in sorted(self._levels):
            self._at[product_id].append(location_id)
        self._reserved: dict[tuple[int, int], int] = defaultdict(int)

    def candidates(self, product_ids: set[int]) -> list[Candidate]:
        location_ids = sorted({loc for pid in product_ids for loc in self._at.get(pid, ())})
        candidates = []
        for location_id in location_ids:
            location = self.locations[location_id]
            candidates.append(Candidate(
                location_id=location_id, code=location.code, priority=location.priority,
                regions=tuple(location.regions or ()),
                available={pid: self.available[(pid, location_id)] for pid in product_ids
                           if (pid, location_id) in self.available},
            ))
        return candidates

    def reserve(self, product_id: int, location_id: int, qty: int) -> None:
        self.available[(product_id, location_id)] -= qty
        self._reserved[(product_id, location_id)] += qty

    def write_back(self) -> None:
        """Add the reservations to the (locked) level rows; the flush writes them."""
        for key, qty in self._reserved.items():
            self._levels[key].reserved += qty


@dataclass
class IntakeContext:
    channel: Channel
    policy: SlaPolicy
    products: dict[str, CatalogProduct]
    stock: StockBook
    first_location: Location | None  # best-priority active location: the calendar before anything is allocated
    actor: Actor
    now: datetime
    default_currency: str
    source: str = "csv"
    _calendars: dict[int, BusinessCalendar] = field(default_factory=dict)

    def calendar(self, location: Location | None) -> BusinessCalendar | None:
        if location is None:
            return None
        if location.id not in self._calendars:
            self._calendars[location.id] = calendar_of(location)
        return self._calendars[location.id]

    def location(self, location_id: int) -> Location:
        return self.stock.locations[location_id]


@dataclass
class PlannedOrder:
    """Column values of everything one order writes; ids are filled in by the writer."""

    order: dict
    lines: list[dict]
    allocations: list[tuple[int, dict]]  # (index into lines, allocation columns)
    payment: dict | None
    clocks: list[dict]
    events: list[dict]


def plan_order(accepted: Accepted, number: str, customer_id: int, ctx: IntakeContext, *,
               wall_clock: datetime) -> PlannedOrder:
    body, channel, now = accepted.body, ctx.channel, ctx.now
    placed_at, totals = accepted.placed_at, accepted.totals
    ship = ship_to_fields(body["ship_to"])
    products = [ctx.products[line["sku"]] for line in body["lines"]]
    lines = [
        {"line_no": i, "product_id": p.id, "sku": p.sku, "name": p.name, "qty": line["qty"],
         "unit_price": line["unit_price"], "tax_rate": p.tax_rate, "qty_allocated": 0, "qty_shipped": 0,
         "qty_returned": 0}
        for i, (line, p) in enumerate(zip(body["lines"], products, strict=True), start=1)
    ]
    events = [_event(ctx, number, "order_created", after=OrderStatus.NEW, at=now, details={
        "channel": channel.code, "external_id": body["external_id"], "source": ctx.source,
        "total": str(totals.total)})]

    # The payment the channel collected (create_order: _apply_payment before the review).
    paid_amount, payment_status, paid_at, payment = Decimal("0.00"), PaymentStatus.UNPAID, None, None
    if body.get("paid_amount"):
        amount = body["paid_amount"]
        received_at = payment_received_at(placed_at, now)
        state = after_payment(totals.total, paid_amount, amount, order_label=number)
        paid_amount, payment_status = state.paid_amount, state.payment_status
        paid_at = received_at if state.paid_in_full else None
        payment = {"amount": amount, "method": PAYMENT_METHOD,
                   "reference": f"{channel.code}:{body['external_id']}"[:120], "received_at": received_at,
                   "created_by": ctx.actor.display}
        events.append(_event(ctx, number, "payment_recorded", before=PaymentStatus.UNPAID, after=payment_status,
                             at=received_at, details={"amount": str(amount), "method": PAYMENT_METHOD,
                                                      "reference": payment["reference"]}))

    # The review (app.services.review.check): address, prices, then stock.
    address = address_problems(Address(
        name=ship["ship_name"], line1=ship["ship_line1"], line2=ship["ship_line2"], city=ship["ship_city"],
        region=ship["ship_region"], postcode=ship["ship_postcode"], country=ship["ship_country"]))
    prices = price_problems([PricedLine(p.sku, line["unit_price"], p.unit_price)
                             for line, p in zip(body["lines"], products, strict=True)],
                            channel.price_tolerance_pct)
    plan = _allocate(lines, ship, ctx)
    allocations, moved, per_location = [], [], defaultdict(int)
    for index, location_id, qty in plan.allocations:
        line = lines[index]
        ctx.stock.reserve(line["product_id"], location_id, qty)
        line["qty_allocated"] += qty
        per_location[location_id] += qty
        allocations.append((index, {"product_id": line["product_id"], "location_id": location_id, "qty": qty,
                                    "created_at": wall_clock}))
        moved.append({"sku": line["sku"], "location": ctx.location(location_id).code, "qty": qty})
    if moved:
        events.append(_event(ctx, number, "allocated", at=wall_clock, details={
            "allocations": moved, "short": {lines[i]["sku"]: qty for i, qty in plan.short.items()}}))
    outcome = ReviewOutcome(
        address=address, prices=prices, paid=paid_amount >= totals.total,
        short={ln["sku"]: ln["qty"] - ln["qty_allocated"] for ln in lines if ln["qty"] - ln["qty_allocated"] > 0},
    )

    status, hold = outcome.target, outcome.hold
    order = {
        "number": number, "channel_id": channel.id, "external_id": body["external_id"], "customer_id": customer_id,
        "content_hash": accepted.fingerprint, "source": ctx.source, **ship,
        "address_status": AddressStatus.AMBIGUOUS if address else AddressStatus.OK,
        "currency": (body.get("currency") or ctx.default_currency).upper(),
        "prices_include_tax": channel.prices_include_tax, "subtotal": totals.subtotal,
        "shipping_price": body.get("shipping_price") or Decimal("0.00"), "tax_total": totals.tax_total,
        "total": totals.total, "paid_amount": paid_amount, "refunded_amount": Decimal("0.00"),
        "placed_at": placed_at, "paid_at": paid_at, "ship_by": None, "status": status,
        "payment_status": payment_status, "hold_reason": None, "held_at": None, "held_by": None,
        "hold_note": None, "review_cleared": False, "priority": 0, "replaces_order_id": None, "version": 1,
        "created_at": wall_clock, "updated_at": wall_clock,
    }
    if hold is not None:
        reason, note = hold
        order.update(hold_fields(reason, at=now, by=ctx.actor.display, note=note))
        events.append(_event(ctx, number, "status_changed", before=OrderStatus.NEW, after=status, at=now,
                             details={"hold_reason": reason, "note": note}))
    elif status != OrderStatus.NEW:
        events.append(_event(ctx, number, "status_changed", before=OrderStatus.NEW, after=status, at=now))

    hold_reason = hold[0] if hold else None
    # Every clock of the order runs on its home location's calendar, as
    # app.services.clocks.home_location finds it once the stock is allocated: an order
    # paid at intake gets the dispatch clock that a payment arriving a minute later
    # would start (not the best-priority location's, which may not ship it at all).
    home = _home(per_location, ctx)
    clocks = []
    for start in intake_clocks(
        placed_at=placed_at, now=now, policy=ctx.policy, paid_at=paid_at,
        dispatch_calendar=ctx.calendar(home), hold=hold_reason, hold_calendar=ctx.calendar(home),
        dispatch_location_id=home.id if home else None, hold_location_id=home.id if home else None,
    ):
        clocks.append({"kind": start.kind, "state": ClockState.MET if start.met_at else ClockState.RUNNING,
                       "started_at": start.started_at, "warn_at": start.deadline.warn_at,
                       "due_at": start.deadline.due_at, "notice_at": start.deadline.notice_at,
                       "met_at": start.met_at, "location_id": start.location_id})
        if start.kind == "dispatch":
            order["ship_by"] = start.deadline.due_at
    return PlannedOrder(order=order, lines=lines, allocations=allocations, payment=payment, clocks=clocks,
                        events=events)


def _allocate(lines: list[dict], ship: dict, ctx: IntakeContext) -> Plan:
    """Where the units come from (app.services.allocation.allocate_order); the plan's
    line ids are indexes into `lines`."""
    needs = [Need(line_id=i, product_id=ln["product_id"], qty=ln["qty"]) for i, ln in enumerate(lines)]
    candidates = ctx.stock.candidates({n.product_id for n in needs})
    destination = Destination(country=ship["ship_country"], region=ship["ship_region"],
                              postcode=ship["ship_postcode"])
    return plan_allocation(needs, candidates, destination, ctx.channel.routing_strategy)


def _home(per_location: dict[int, int], ctx: IntakeContext) -> Location | None:
    """The location whose calendar governs the order's clocks (app.services.clocks.home_location):
    where most of the order is allocated, else the best-priority active location."""
    if per_location:
        location_id = min(per_location, key=lambda loc: (-per_location[loc], loc))
        return ctx.location(location_id)
    return ctx.first_location


def _event(ctx: IntakeContext, number: str, action: str, *, at: datetime, before: str | None = None,
           after: str | None = None, details: dict | None = None) -> dict:
    return {"entity_type": "order", "entity_id": number, "action": action,
            "from_state": str(before) if before is not None else None,
            "to_state": str(after) if after is not None else None,
            "user_id": ctx.actor.user_id, "actor": ctx.actor.label, "created_at": at,
            "details": _plain(details) if details else None}


def _plain(value):
    """Enum members as their plain string values, so the JSON column stores what
    record_event stores."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value
