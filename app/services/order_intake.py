"""Taking in one new order: decided in memory, written with a few Core statements.

`create_order` (app.services.orders) calls `take_in` for every new order that is not an
exchange. The decisions are the intake planner's (app.services.order_import.plan), the
same code the CSV import runs for each of its orders: totals, the payment the channel
collected, the review (address, prices, stock), routing, holds, SLA clocks and the audit
events. So an order is the same whichever way it arrived, by construction.

Why not the ORM: one order through the unit of work cost about 20 statements in five
flushes and a savepoint, 5.5 ms on SQLite (docs/performance.md, allocation). Here every
statement is built once, at import, and runs on the session's connection: one to read
each kind of fact (channel, products, customer, locations, the locked stock levels) and
one INSERT per table. The caller's write transaction holds it all until it commits.

Locking is the one allocation.lock_levels uses: the stock rows of the order's products
at active locations, FOR UPDATE in (product, location) order on PostgreSQL; on SQLite the
IMMEDIATE transaction already excludes every other writer. The CHECK constraints on
stock_levels back it up.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from flask import current_app
from sqlalchemy import Row, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from app.domain.enums import InvoiceTrigger
from app.domain.errors import ValidationFailed
from app.domain.intake import order_totals
from app.domain.order_states import PaymentStatus
from app.extensions import db
from app.models import (
    Allocation,
    Channel,
    Customer,
    Event,
    Location,
    LocationHoliday,
    Order,
    OrderLine,
    Payment,
    Product,
    SlaClock,
    StockLevel,
)
from app.models.base import utcnow
from app.services import invoicing
from app.services.actors import Actor
from app.services.clocks import policy_of
from app.services.numbering import next_number
from app.services.order_import.assemble import Draft
from app.services.order_import.checks import Accepted, CatalogProduct
from app.services.order_import.plan import IntakeContext, PlannedOrder, StockBook, plan_order

# Statements, built once. Executed on the session's connection they skip the ORM's
# per-statement work and reuse their compiled form from the engine's cache.
_CHANNEL = select(Channel.__table__).where(Channel.code == bindparam("code"))
_EXISTING = select(Order.id, Order.number, Order.external_id, Order.content_hash).where(
    Order.channel_id == bindparam("channel_id"), Order.external_id == bindparam("external_id"))
_PRODUCTS = select(Product.id, Product.sku, Product.name, Product.unit_price, Product.tax_rate,
                   Product.active).where(Product.sku.in_(bindparam("skus", expanding=True)))
_CUSTOMER = select(Customer.id).where(Customer.email == bindparam("email"))
_LOCATIONS = (
    select(Location.id, Location.code, Location.priority, Location.regions, Location.timezone,
           Location.working_days, Location.cutoff_time, LocationHoliday.day)
    .outerjoin(LocationHoliday, LocationHoliday.location_id == Location.id)
    .where(Location.active.is_(True))
)
_LEVELS = (
    select(StockLevel.id, StockLevel.product_id, StockLevel.location_id, StockLevel.on_hand, StockLevel.reserved)
    .where(StockLevel.product_id.in_(bindparam("product_ids", expanding=True)),
           StockLevel.location_id.in_(bindparam("location_ids", expanding=True)))
    .order_by(StockLevel.product_id, StockLevel.location_id)
    .with_for_update()
)
_RESERVE = (
    update(StockLevel.__table__)
    .where(StockLevel.id == bindparam("level_id"))
    .values(reserved=StockLevel.reserved + bindparam("qty"), updated_at=bindparam("at"))
)
_INSERT_ORDER = Order.__table__.insert().returning(Order.id)
_INSERT_LINE = OrderLine.__table__.insert().returning(OrderLine.id)
_INSERT_LINES = OrderLine.__table__.insert().returning(OrderLine.id, sort_by_parameter_order=True)
_INSERTS = {model: model.__table__.insert() for model in (Allocation, Payment, SlaClock, Event)}
_NEW_CUSTOMER = {
    name: dialect.insert(Customer.__table__).on_conflict_do_nothing(index_elements=["email"]).returning(Customer.id)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


@dataclass(frozen=True)
class LocationFacts:
    """What routing and the business calendar read of a location (app.services.clocks.calendar_of)."""

    id: int
    code: str
    priority: int
    regions: list[str]
    timezone: str
    working_days: str
    cutoff_time: str
    holidays: tuple[Holiday, ...]


@dataclass(frozen=True)
class Holiday:
    day: date


@dataclass
class LockedLevel:
    """A stock level row, locked for this transaction, as the planner's StockBook reads it."""

    id: int
    product_id: int
    location_id: int
    on_hand: int
    reserved: int
    location: LocationFacts


def active_channel(code: str) -> Row:
    channel = db.session.connection().execute(_CHANNEL, {"code": code}).first()
    if channel is None or not channel.active:
        raise ValidationFailed("Unknown or inactive sales channel.", details={"channel": [f"No channel {code}."]})
    return channel


def existing_order(channel_id: int, external_id: str) -> Row | None:
    """(id, number, external_id, content_hash) of the order this channel already sent under that id."""
    return db.session.connection().execute(
        _EXISTING, {"channel_id": channel_id, "external_id": external_id}).first()


def take_in(data: Mapping, channel: Row, fingerprint: str, *, actor: Actor, source: str,
            now: datetime) -> tuple[int, str]:
    """Write a new order from a validated intake body; returns its id and number. Never commits."""
    conn = db.session.connection()
    products = catalog_products(data["lines"])
    totals = order_totals(
        ((line["qty"], line["unit_price"], products[line["sku"]].tax_rate) for line in data["lines"]),
        data.get("shipping_price") or Decimal("0.00"),
        prices_include_tax=channel.prices_include_tax,
    )
    wall_clock = utcnow()
    customer_id = _customer_id(conn, data["customer"]["email"], data["customer"]["name"], wall_clock)
    number = next_number("order")
    locations = _active_locations(conn)
    levels = _lock_levels(conn, {p.id for p in products.values()}, locations)
    first_location = min(locations.values(), key=lambda loc: (loc.priority, loc.code), default=None)
    context = IntakeContext(channel=channel, policy=policy_of(channel), products=products, stock=StockBook(levels),
                            first_location=first_location, actor=actor, now=now,
                            default_currency=current_app.config["DEFAULT_CURRENCY"], source=source)
    accepted = Accepted(Draft(data["external_id"], [], body=dict(data)), fingerprint, totals,
                        data.get("placed_at") or now)
    planned = plan_order(accepted, number, customer_id, context, wall_clock=wall_clock)
    order_id = _write(conn, planned, levels, wall_clock)
    if planned.order["payment_status"] == PaymentStatus.PAID and channel.invoice_on == InvoiceTrigger.PAYMENT:
        invoicing.invoice_at_payment(db.session.get(Order, order_id), actor=actor, at=planned.order["paid_at"])
    return order_id, number


def catalog_products(lines: list[Mapping]) -> dict[str, CatalogProduct]:
    """SKU -> product of every line; refuses unknown and no longer sold SKUs, line by line."""
    rows = db.session.connection().execute(_PRODUCTS, {"skus": sorted({line["sku"] for line in lines})})
    products = {row.sku: CatalogProduct(*row) for row in rows}
    errors = {}
    for i, line in enumerate(lines):
        product = products.get(line["sku"])
        if product is None:
            errors[str(i)] = {"sku": [f"Unknown SKU {line['sku']}."]}
        elif not product.active:
            errors[str(i)] = {"sku": [f"{line['sku']} is no longer sold."]}
    if errors:
        raise ValidationFailed("Some lines name products we do not sell.", details={"lines": errors})
    return products


def _customer_id(conn: Connection, email: str, name: str, at: datetime) -> int:
    """The customer with this e-mail (lower-case), created with this name if new; an
    existing customer keeps their name."""
    email = email.strip().lower()
    found = conn.execute(_CUSTOMER, {"email": email}).scalar()
    if found is not None:
        return found
    # DO NOTHING: a concurrent intake that created the customer meanwhile wins (PostgreSQL).
    created = conn.execute(_NEW_CUSTOMER[conn.dialect.name],
                           {"email": email, "name": name.strip(), "created_at": at}).scalar()
    return created if created is not None else conn.execute(_CUSTOMER, {"email": email}).scalar_one()


def _active_locations(conn: Connection) -> dict[int, LocationFacts]:
    rows: dict[int, list] = {}
    holidays: dict[int, list[Holiday]] = defaultdict(list)
    for row in conn.execute(_LOCATIONS):
        rows.setdefault(row.id, row)
        if row.day is not None:
            holidays[row.id].append(Holiday(row.day))
    return {
        loc_id: LocationFacts(row.id, row.code, row.priority, list(row.regions or ()), row.timezone,
                              row.working_days, row.cutoff_time, tuple(sorted(holidays[loc_id], key=lambda h: h.day)))
        for loc_id, row in rows.items()
    }


def _lock_levels(conn: Connection, product_ids: set[int], locations: dict[int, LocationFacts]) -> list[LockedLevel]:
    if not product_ids or not locations:
        return []
    rows = conn.execute(_LEVELS, {"product_ids": sorted(product_ids), "location_ids": sorted(locations)})
    return [LockedLevel(row.id, row.product_id, row.location_id, row.on_hand, row.reserved,
                        locations[row.location_id]) for row in rows]


def _write(conn: Connection, planned: PlannedOrder, levels: list[LockedLevel], at: datetime) -> int:
    order_id = conn.execute(_INSERT_ORDER, _plain(planned.order)).scalar_one()
    lines = [{**line, "order_id": order_id} for line in planned.lines]
    if len(lines) == 1:  # most orders: a plain INSERT, without the many-rows RETURNING machinery
        line_ids = [conn.execute(_INSERT_LINE, lines[0]).scalar_one()]
    else:
        line_ids = conn.execute(_INSERT_LINES, lines).scalars().all()
    if planned.allocations:
        conn.execute(_INSERTS[Allocation], [{**row, "order_id": order_id, "order_line_id": line_ids[index]}
                                            for index, row in planned.allocations])
        level_of = {(lv.product_id, lv.location_id): lv.id for lv in levels}
        reserved: dict[int, int] = defaultdict(int)
        for _, row in planned.allocations:
            reserved[level_of[(row["product_id"], row["location_id"])]] += row["qty"]
        conn.execute(_RESERVE, [{"level_id": level_id, "qty": qty, "at": at} for level_id, qty in reserved.items()])
    if planned.payment is not None:
        conn.execute(_INSERTS[Payment], {**planned.payment, "order_id": order_id})
    conn.execute(_INSERTS[SlaClock], [_plain({**clock, "order_id": order_id}) for clock in planned.clocks])
    conn.execute(_INSERTS[Event], [_plain(event) for event in planned.events])
    return order_id


def _plain(row: dict) -> dict:
    """Enum members as their plain string values, as the ORM would store them."""
    return {key: str(value) if isinstance(value, str) and type(value) is not str else value
            for key, value in row.items()}
