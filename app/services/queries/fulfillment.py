"""Reading fulfillment: shipments, pick waves and their pick lists, the pick queue per location,
parcel suggestions, and what the packing and shipping screens show."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import case, func, literal, select
from sqlalchemy.orm import joinedload, selectinload

from app.domain.carriers import CARRIERS, carrier_choices, tracking_link
from app.domain.enums import DocumentKind, ShipmentStatus, WaveStatus
from app.domain.errors import NotFound
from app.domain.order_states import OrderStatus
from app.domain.picking import (
    NO_DEADLINE,
    ParcelCandidate,
    PickItem,
    PickRow,
    QueueEntry,
    combinable_parcels,
    pick_list,
    pick_priority,
)
from app.extensions import db
from app.models import (
    Allocation,
    Channel,
    Invoice,
    Location,
    Order,
    OrderLine,
    ParcelDismissal,
    Shipment,
    ShipmentLine,
    StockLevel,
    Wave,
)
from app.models.base import UTCDateTime
from app.services.fulfillment.common import OPEN_SHIPMENT, WAVEABLE, covered_qty, uncovered_at
from app.services.pagination import Page, clamp_limit, keyset_page
from app.services.queries.catalog import channel_choices, location_choices
from app.services.queries.filters import ListFilters, choice_arg, text_arg
from app.services.queries.loading import order_reference


@dataclass(frozen=True)
class ShipmentFilters(ListFilters):
    status: str | None = None
    location: str | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> ShipmentFilters:
        return cls(
            status=choice_arg(args, "status", ShipmentStatus.values()),
            location=text_arg(args, "location", 32),
        )


def filter_choices() -> dict[str, list[tuple[str, str]]]:
    return {"status": [(s.value, s.label) for s in ShipmentStatus], "location": location_choices()}


def _location_ids(code: str):
    return select(Location.id).where(Location.code == code)


def list_shipments(filters: ShipmentFilters, *, cursor: str | None = None, limit: int | None = None) -> Page[Shipment]:
    """Shipments, most recently created first."""
    stmt = select(Shipment).options(
        order_reference(Shipment.order), joinedload(Shipment.location), joinedload(Shipment.wave)
    )
    if filters.status:
        stmt = stmt.where(Shipment.status == filters.status)
    if filters.location:
        stmt = stmt.where(Shipment.location_id.in_(_location_ids(filters.location)))
    return keyset_page(
        stmt, [Shipment.id], cursor=cursor, limit=clamp_limit(limit), key=lambda s: [s.id], descending=True
    )


@dataclass(frozen=True)
class WaveRow:
    wave: Wave
    shipment_count: int


def list_waves(filters: ShipmentFilters, *, cursor: str | None = None, limit: int | None = None) -> Page[WaveRow]:
    """Waves, newest first, at the filtered location, with how many shipments each holds."""
    stmt = select(Wave).options(joinedload(Wave.location))
    if filters.location:
        stmt = stmt.where(Wave.location_id.in_(_location_ids(filters.location)))
    page = keyset_page(stmt, [Wave.id], cursor=cursor, limit=clamp_limit(limit), key=lambda w: [w.id], descending=True)
    counts: dict[int, int] = {}
    if page.items:
        counts = dict(
            db.session.execute(
                select(Shipment.wave_id, func.count())
                .where(Shipment.wave_id.in_([w.id for w in page.items]))
                .group_by(Shipment.wave_id)
            ).all()
        )
    return Page(items=[WaveRow(w, counts.get(w.id, 0)) for w in page.items], next_cursor=page.next_cursor)


# The pick queue --------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilters(ListFilters):
    channel: str | None = None
    carrier: str | None = None  # orders whose earlier parcels went with this carrier

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> QueueFilters:
        return cls(channel=text_arg(args, "channel", 32), carrier=choice_arg(args, "carrier", CARRIERS))


@dataclass(frozen=True)
class QueueRow:
    order: Order
    line_count: int
    units: int  # units to pick at this location for this order


@dataclass(frozen=True)
class LocationQueue:
    location: Location
    orders: int
    open_waves: int


def _pick_units(location_id: int):
    """Units reserved at the location for an order that no open shipment carries yet
    (NULL when there are none): correlated to Order."""
    covered = covered_qty(location_id)
    return (
        select(func.sum(Allocation.qty - covered))
        .where(Allocation.order_id == Order.id, Allocation.location_id == location_id, Allocation.qty > covered)
        .correlate(Order)
        .scalar_subquery()
    )


def _priority_columns():
    """SQL for app.domain.picking.pick_priority: the same key, column by column."""
    line_count = (
        select(func.count(OrderLine.id)).where(OrderLine.order_id == Order.id).correlate(Order).scalar_subquery()
    )
    return [
        func.coalesce(Order.ship_by, literal(NO_DEADLINE, UTCDateTime())),
        Order.placed_at,
        case((line_count > 1, 1), else_=0),
        Order.id,
    ]


def _priority_key(order: Order) -> list:
    entry = queue_entry(order)
    return list(pick_priority(entry))


def queue_entry(order: Order) -> QueueEntry:
    return QueueEntry(
        number=order.number, ship_by=order.ship_by, placed_at=order.placed_at, line_count=len(order.lines), id=order.id
    )


def queue_statement(location: Location, filters: QueueFilters | None = None):
    filters = filters or QueueFilters()
    stmt = (
        select(Order)
        .where(Order.status.in_(WAVEABLE), _pick_units(location.id).is_not(None))
        .options(selectinload(Order.lines), joinedload(Order.customer))
    )
    if filters.channel:
        stmt = stmt.where(Order.channel_id.in_(select(Channel.id).where(Channel.code == filters.channel)))
    if filters.carrier:
        stmt = stmt.where(Order.id.in_(select(Shipment.order_id).where(Shipment.carrier == filters.carrier)))
    return stmt


def pick_queue(
    location: Location, filters: QueueFilters, *, cursor: str | None = None, limit: int | None = None
) -> Page[QueueRow]:
    """Orders with units to pick at `location`, in pick priority (app.domain.picking)."""
    page = keyset_page(
        queue_statement(location, filters),
        _priority_columns(),
        cursor=cursor,
        limit=clamp_limit(limit),
        key=_priority_key,
    )
    units = uncovered_at(location.id, [o.id for o in page.items]) if page.items else {}
    return Page(
        items=[QueueRow(order=o, line_count=len(o.lines), units=sum(units.get(o.id, {}).values())) for o in page.items],
        next_cursor=page.next_cursor,
    )


def first_in_queue(location: Location, n: int, filters: QueueFilters | None = None) -> list[Order]:
    """The next `n` orders by pick priority (what "next N by priority" takes)."""
    stmt = queue_statement(location, filters).order_by(*_priority_columns()).limit(n)
    return list(db.session.scalars(stmt))


def location_queues() -> list[LocationQueue]:
    """Every active location with how many orders wait to be picked there."""
    result = []
    for location in db.session.scalars(
        select(Location).where(Location.active.is_(True)).order_by(Location.priority, Location.code)
    ):
        count = db.session.scalar(select(func.count()).select_from(queue_statement(location).subquery()))
        waves = db.session.scalar(
            select(func.count(Wave.id)).where(Wave.location_id == location.id, Wave.status == WaveStatus.OPEN)
        )
        result.append(LocationQueue(location=location, orders=int(count or 0), open_waves=int(waves or 0)))
    return result


def queue_choices() -> dict[str, list[tuple[str, str]]]:
    return {"channel": channel_choices(), "carrier": carrier_choices()}


# Combined parcels ------------------------------------------------------------------


@dataclass(frozen=True)
class ParcelSuggestion:
    numbers: tuple[str, ...]
    customer: str
    address: str

    @property
    def key(self) -> str:
        return parcel_key(self.numbers)


def parcel_key(numbers) -> str:
    return hashlib.sha256(",".join(sorted(numbers)).encode()).hexdigest()


def _address(order: Order) -> tuple[str, ...]:
    return (
        order.ship_name,
        order.ship_line1,
        order.ship_line2 or "",
        order.ship_postcode,
        order.ship_city,
        order.ship_country,
    )


def parcel_suggestions(location: Location) -> list[ParcelSuggestion]:
    """Ready orders at the location going to one customer at one address, not yet dismissed."""
    stmt = queue_statement(location).where(Order.status == OrderStatus.READY)
    orders = {o.number: o for o in db.session.scalars(stmt)}
    dismissed = set(
        db.session.scalars(select(ParcelDismissal.orders_key).where(ParcelDismissal.location_id == location.id))
    )
    candidates = [
        ParcelCandidate(number=o.number, customer_id=o.customer_id, address=_address(o)) for o in orders.values()
    ]
    suggestions = []
    for numbers in combinable_parcels(candidates):
        if parcel_key(numbers) in dismissed:
            continue
        first = orders[numbers[0]]
        address = ", ".join(
            p
            for p in (
                first.ship_line1,
                first.ship_line2,
                f"{first.ship_postcode} {first.ship_city}",
                first.ship_country,
            )
            if p
        )
        suggestions.append(ParcelSuggestion(numbers=numbers, customer=first.customer.name, address=address))
    return suggestions


# A wave and its pick list ----------------------------------------------------------


@dataclass(frozen=True)
class WaveDetail:
    wave: Wave
    shipments: list[Shipment]
    rows: list[PickRow]

    @property
    def units(self) -> int:
        return sum(r.qty for r in self.rows)


def _bins(location_id: int, product_ids) -> dict[int, str]:
    return dict(
        db.session.execute(
            select(StockLevel.product_id, StockLevel.bin).where(
                StockLevel.location_id == location_id, StockLevel.product_id.in_(list(product_ids))
            )
        ).all()
    )


def wave_detail(number: str) -> WaveDetail:
    wave = db.session.scalar(select(Wave).where(Wave.number == number).options(joinedload(Wave.location)))
    if wave is None:
        raise NotFound(f"There is no wave {number}.")
    shipments = list(
        db.session.scalars(
            select(Shipment)
            .where(Shipment.wave_id == wave.id)
            .order_by(Shipment.id)
            .options(selectinload(Shipment.lines).joinedload(ShipmentLine.line), joinedload(Shipment.order))
        )
    )
    lines = [(s, sl) for s in shipments for sl in s.lines]
    bins = _bins(wave.location_id, {sl.line.product_id for _, sl in lines})
    rows = pick_list(
        PickItem(
            order_number=s.order.number,
            sku=sl.line.sku,
            name=sl.line.name,
            bin=bins.get(sl.line.product_id, "") or "",
            qty=sl.qty,
        )
        for s, sl in lines
    )
    return WaveDetail(wave=wave, shipments=shipments, rows=rows)


# A shipment: packing, shipping, delivery -------------------------------------------


@dataclass(frozen=True)
class PackRow:
    shipment: Shipment
    line: ShipmentLine
    sku: str
    name: str
    barcode: str | None
    bin: str

    @property
    def done(self) -> bool:
        return self.line.qty_packed >= self.line.qty


@dataclass(frozen=True)
class ShipmentDetail:
    shipment: Shipment
    parcel: list[Shipment]  # the shipment and those packed with it, in number order
    rows: list[PackRow]
    invoices: dict[int, str]  # shipment id -> invoice number

    @property
    def combined(self) -> bool:
        return len(self.parcel) > 1

    @property
    def packed_units(self) -> int:
        return sum(r.line.qty_packed for r in self.rows)

    @property
    def units(self) -> int:
        return sum(r.line.qty for r in self.rows)

    @property
    def status(self) -> str:
        return self.shipment.status

    @property
    def stage(self) -> str:
        """What the screen is for now: packing, shipping (packed, waiting for the carrier),
        shipped (or delivered), or cancelled."""
        statuses = {s.status for s in self.parcel}
        if statuses & {ShipmentStatus.PENDING, ShipmentStatus.PICKING}:
            return "packing"
        if ShipmentStatus.PACKED in statuses:
            return "shipping"
        if statuses <= {ShipmentStatus.CANCELLED}:
            return "cancelled"
        return "shipped"

    @property
    def orders(self) -> list[Order]:
        return [s.order for s in self.parcel]

    @property
    def tracking_url(self) -> str | None:
        return tracking_link(self.shipment.carrier, self.shipment.tracking_number)


def shipment_detail(number: str) -> ShipmentDetail:
    shipment = db.session.scalar(
        select(Shipment)
        .where(Shipment.number == number)
        .options(joinedload(Shipment.location), joinedload(Shipment.wave))
    )
    if shipment is None:
        raise NotFound(f"There is no shipment {number}.")
    stmt = (
        select(Shipment)
        .options(
            selectinload(Shipment.lines).joinedload(ShipmentLine.line).joinedload(OrderLine.product),
            joinedload(Shipment.order).joinedload(Order.customer),
        )
        .order_by(Shipment.id)
    )
    if shipment.parcel_group:
        stmt = stmt.where(Shipment.parcel_group == shipment.parcel_group)
    else:
        stmt = stmt.where(Shipment.id == shipment.id)
    parcel = list(db.session.scalars(stmt))
    if shipment.parcel_group and shipment.status in OPEN_SHIPMENT:
        # Parcels that already left are history; the one being packed shows its open members.
        parcel = [s for s in parcel if s.status in OPEN_SHIPMENT] or parcel
    bins = _bins(shipment.location_id, {sl.line.product_id for s in parcel for sl in s.lines})
    rows = [
        PackRow(
            shipment=s,
            line=sl,
            sku=sl.line.sku,
            name=sl.line.name,
            barcode=sl.line.product.barcode,
            bin=bins.get(sl.line.product_id, "") or "",
        )
        for s in parcel
        for sl in s.lines
    ]
    invoices = dict(
        db.session.execute(
            select(Invoice.shipment_id, Invoice.number).where(
                Invoice.shipment_id.in_([s.id for s in parcel]), Invoice.kind == DocumentKind.INVOICE
            )
        ).all()
    )
    return ShipmentDetail(shipment=shipment, parcel=parcel, rows=rows, invoices=invoices)
