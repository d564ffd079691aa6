"""Reading orders: the filtered list (newest first), one order with everything around it,
and one customer with all their orders."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from app.domain.errors import NotFound
from app.domain.order_states import HoldReason, OrderStatus
from app.extensions import db
from app.models import (
    Allocation,
    Channel,
    Customer,
    Event,
    Invoice,
    Location,
    Order,
    OrderLine,
    Return,
    Shipment,
    SlaClock,
)
from app.services.pagination import Page, clamp_limit, keyset_page
from app.services.queries.catalog import channel_choices
from app.services.queries.filters import ListFilters, choice_arg, contains, text_arg


@dataclass(frozen=True)
class OrderFilters(ListFilters):
    status: str | None = None
    hold: str | None = None
    channel: str | None = None
    q: str | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> OrderFilters:
        return cls(
            status=choice_arg(args, "status", OrderStatus.values()),
            hold=choice_arg(args, "hold", HoldReason.values()),
            channel=text_arg(args, "channel", 32),
            q=text_arg(args, "q"),
        )


def filter_choices() -> dict[str, list[tuple[str, str]]]:
    return {
        "status": [(s.value, s.label) for s in OrderStatus],
        "hold": [(h.value, h.label) for h in HoldReason],
        "channel": channel_choices(),
    }


def list_orders(filters: OrderFilters, *, cursor: str | None = None, limit: int | None = None) -> Page[Order]:
    """Orders, most recently placed first. Lines are loaded with the page (item counts)."""
    stmt = select(Order).join(Order.customer).options(contains_eager(Order.customer), selectinload(Order.lines))
    if filters.status:
        stmt = stmt.where(Order.status == filters.status)
    if filters.hold:
        stmt = stmt.where(Order.hold_reason == filters.hold)
    if filters.channel:
        stmt = stmt.where(Order.channel_id.in_(select(Channel.id).where(Channel.code == filters.channel)))
    if filters.q:
        stmt = stmt.where(
            or_(
                contains(Order.number, filters.q),
                contains(Order.external_id, filters.q),
                contains(Customer.name, filters.q),
                contains(Customer.email, filters.q),
            )
        )
    return keyset_page(
        stmt,
        [Order.placed_at, Order.id],
        cursor=cursor,
        limit=clamp_limit(limit),
        key=lambda o: [o.placed_at, o.id],
        descending=True,
    )


@dataclass(frozen=True)
class AllocatedLine:
    line: OrderLine
    qty: int


@dataclass(frozen=True)
class LocationAllocations:
    location: Location
    lines: list[AllocatedLine]

    @property
    def total(self) -> int:
        return sum(a.qty for a in self.lines)


@dataclass(frozen=True)
class OrderDetail:
    order: Order
    allocations: list[LocationAllocations]
    shipments: list[Shipment]
    clocks: list[SlaClock]
    events: list[Event]
    documents: list[Invoice]
    returns: list[Return]


def get_order_detail(number: str) -> OrderDetail:
    order = db.session.scalar(
        select(Order)
        .where(Order.number == number)
        .options(
            joinedload(Order.customer),
            selectinload(Order.lines),
            selectinload(Order.payments),
            selectinload(Order.refunds),
        )
    )
    if order is None:
        raise NotFound(f"There is no order {number}.")
    return OrderDetail(
        order=order,
        allocations=_allocations_by_location(order),
        shipments=list(
            db.session.scalars(
                select(Shipment)
                .where(Shipment.order_id == order.id)
                .options(joinedload(Shipment.location), joinedload(Shipment.wave), selectinload(Shipment.lines))
                .order_by(Shipment.id)
            )
        ),
        clocks=list(
            db.session.scalars(
                select(SlaClock).where(SlaClock.order_id == order.id).order_by(SlaClock.started_at, SlaClock.id)
            )
        ),
        events=list(
            db.session.scalars(
                select(Event).where(Event.entity_type == "order", Event.entity_id == order.number).order_by(Event.id)
            )
        ),
        documents=list(
            db.session.scalars(
                select(Invoice)
                .where(Invoice.order_id == order.id)
                .options(joinedload(Invoice.corrects))
                .order_by(Invoice.issued_at, Invoice.id)
            )
        ),
        returns=list(db.session.scalars(select(Return).where(Return.order_id == order.id).order_by(Return.id))),
    )


def _allocations_by_location(order: Order) -> list[LocationAllocations]:
    # The order's lines are already in the session, so allocation.line costs no query.
    allocations = db.session.scalars(
        select(Allocation)
        .join(Allocation.location)
        .where(Allocation.order_id == order.id)
        .options(contains_eager(Allocation.location))
        .order_by(Location.priority, Location.code, Allocation.order_line_id)
    )
    grouped: dict[int, LocationAllocations] = {}
    for allocation in allocations:
        group = grouped.setdefault(allocation.location_id, LocationAllocations(allocation.location, []))
        group.lines.append(AllocatedLine(allocation.line, allocation.qty))
    return list(grouped.values())


# Customers ---------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerTotals:
    """Lifetime figures in one currency: revenue leaves cancelled orders out."""

    currency: str
    orders: int
    revenue: Decimal
    refunded: Decimal


@dataclass(frozen=True)
class CustomerOverview:
    customer: Customer
    totals: list[CustomerTotals]
    orders: Page[Order]
    returns: list[Return]

    @property
    def order_count(self) -> int:
        return sum(t.orders for t in self.totals)


RECENT_RETURNS = 50


def get_customer_overview(customer_id: int, *, cursor: str | None = None, limit: int | None = None) -> CustomerOverview:
    """A customer (one e-mail address) with every order they placed on any channel, newest first."""
    customer = db.session.get(Customer, customer_id)
    if customer is None:
        raise NotFound("There is no such customer.")
    zero = Decimal("0.00")
    totals = [
        CustomerTotals(currency, n, revenue or zero, refunded or zero)
        for currency, n, revenue, refunded in db.session.execute(
            select(
                Order.currency,
                func.count(),
                func.sum(Order.total).filter(Order.status != OrderStatus.CANCELLED),
                func.sum(Order.refunded_amount),
            )
            .where(Order.customer_id == customer.id)
            .group_by(Order.currency)
            .order_by(Order.currency)
        )
    ]
    orders = keyset_page(
        select(Order).where(Order.customer_id == customer.id).options(selectinload(Order.lines)),
        [Order.placed_at, Order.id],
        cursor=cursor,
        limit=clamp_limit(limit),
        key=lambda o: [o.placed_at, o.id],
        descending=True,
    )
    returns = list(
        db.session.scalars(
            select(Return)
            .join(Order, Order.id == Return.order_id)
            .where(Order.customer_id == customer.id)
            .options(contains_eager(Return.order), selectinload(Return.lines))
            .order_by(Return.id.desc())
            .limit(RECENT_RETURNS)
        )
    )
    return CustomerOverview(customer=customer, totals=totals, orders=orders, returns=returns)
