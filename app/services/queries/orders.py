"""Reading orders: the filtered list (newest first), one order with everything around it,
and one customer with all their orders."""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import ARRAY, BigInteger, ColumnElement, and_, any_, func, literal, literal_column, or_, select, true
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from app.domain.errors import NotFound
from app.domain.numbering import format_number
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
from app.services.queries.filters import ListFilters, choice_arg, text_arg


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
        stmt = stmt.where(search_condition(filters.q))
    return keyset_page(
        stmt,
        [Order.placed_at, Order.id],
        cursor=cursor,
        limit=clamp_limit(limit),
        key=lambda o: [o.placed_at, o.id],
        descending=True,
    )


# Search --------------------------------------------------------------------------
# A search looks the term up by what it can be, each on an index, so it costs about the
# same with a thousand orders or a million. A substring test (ILIKE '%term%') can use no
# index and read every order: 0.2-3 s at a million.

SEARCH_HINT = "Order number, external id, e-mail, SKU, or the start of a name"
_ORDER_NUMBER = re.compile(r"(?:SO-?)?0*(\d{1,12})")
MIN_NAME_PREFIX = 2  # one letter is not a name
# A search that matches fewer orders than this hands their ids to the list's query, which
# reads them by primary key (a board runs nine such queries). One that matches more (a
# popular SKU, a first name, two letters) tests each order as the list walks its own
# index instead: with that many matches a page fills after a few thousand orders.
IDS_IN_HAND = 5000
NAME_CUSTOMERS = 1000  # customers whose name starts with the term: more is a common name
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def search_condition(q: str) -> ColumnElement[bool]:
    """The orders a search term names, as a condition for any order list.

    Exact: the order number ("SO-000123", "so-123" or just "123"), the channel's external
    id, the customer's e-mail (any case), a SKU on one of its lines (as typed or in
    capitals). From the start, in any case: the customer's name or the ship-to name
    ("ana c" finds Ana Costa). Each is one index lookup."""
    term = q.strip()
    upper = term.upper()
    numbers = {upper}
    if found := _ORDER_NUMBER.fullmatch(upper):
        numbers.add(format_number("order", int(found.group(1))))
    skus = sorted({term, upper})
    by_sku = select(OrderLine.order_id).where(OrderLine.sku.in_(skus))  # ids from the index alone
    # Each way the term can name orders: a test of one order, and the query finding their ids.
    ways = [
        (Order.number.in_(sorted(numbers)), None),
        # The (channel_id, external_id) index, probed once per channel.
        (and_(Order.channel_id.in_(select(Channel.id)), Order.external_id == term), None),
        (Order.customer_id.in_(select(Customer.id).where(Customer.email == term.lower())), None),
        (Order.id.in_(by_sku), by_sku),
    ]
    # What may match thousands is first counted on its index alone, up to a limit.
    common = [(OrderLine.sku.in_(skus), IDS_IN_HAND)]
    if len(term) >= MIN_NAME_PREFIX:
        ways += [
            (Order.customer_id.in_(select(Customer.id).where(starts_with(Customer.name, term))), None),
            (starts_with(Order.ship_name, term), None),
        ]
        common.append((starts_with(Customer.name, term), NAME_CUSTOMERS))
    tests = [test for test, _ in ways]
    lookups = [lookup if lookup is not None else select(Order.id).where(test) for test, lookup in ways]
    in_hand: set[int] = set()
    if not any(_at_least(n, condition) for condition, n in common):
        for lookup in lookups:
            in_hand.update(db.session.scalars(lookup.limit(IDS_IN_HAND)))
            if len(in_hand) >= IDS_IN_HAND:
                break
        else:
            ids = sorted(in_hand)
            return Order.id == any_(literal(ids, ARRAY(BigInteger))) if _postgres() else Order.id.in_(ids)
    # Too many matches to hand over. `IS TRUE` keeps either engine from turning the OR into
    # a union of index lookups that reads (and sorts) every match before the first page.
    return or_(*tests).is_(true())


def _at_least(n: int, condition: ColumnElement[bool]) -> bool:
    """Whether at least n rows meet `condition` (of one table), reading at most n index entries."""
    first = select(literal_column("1")).where(condition).limit(n).subquery()
    return db.session.scalar(select(func.count()).select_from(first)) >= n


def _postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _fold(text: str) -> str:
    """Lower case as the database's lower() does it: SQLite's folds A-Z only."""
    return text.lower() if _postgres() else text.translate(_ASCII_LOWER)


def _like_prefix(prefix: str) -> str:
    """LIKE pattern for `prefix` folded, then anything; % _ and \\ typed by a user match themselves."""
    return _fold(prefix).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def starts_with(column, prefix: str) -> ColumnElement[bool]:
    """Case-insensitive prefix match that the index on lower(column) serves (migration 0007):
    LIKE 'prefix%' on PostgreSQL (the index uses text_pattern_ops), a range of lower(column)
    on SQLite, whose LIKE uses an index only on a NOCASE column."""
    lowered = func.lower(column)
    if _postgres():
        return lowered.like(_like_prefix(prefix))
    low = _fold(prefix)
    high = _successor(low)
    return and_(lowered >= low, lowered < high) if high else lowered >= low


def _successor(text: str) -> str | None:
    """The least string greater than every string that starts with `text`."""
    while text:
        code = ord(text[-1]) + 1
        if 0xD800 <= code <= 0xDFFF:  # surrogates are not characters; skip past them
            code = 0xE000
        if code <= 0x10FFFF:
            return text[:-1] + chr(code)
        text = text[:-1]
    return None


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
