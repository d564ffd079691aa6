"""Reading stock: the grid of levels with their alerts, one level's ledger, what the stock
forms offer, and the open orders the routing preview works on."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from app.domain.errors import NotFound
from app.domain.order_states import HoldReason
from app.extensions import db
from app.models import Allocation, Location, Order, OrderLine, Product, StockLevel, StockMove
from app.services.pagination import Page, clamp_limit, keyset_page
from app.services.queries.catalog import location_choices
from app.services.queries.filters import ListFilters, choice_arg, contains, text_arg
from app.services.routing_preview import ROUTABLE

# "low" and "out" mean what the home page counts mean (app.services.dashboard),
# so following one of its links lists exactly the levels it counted.
STOCK_ALERTS = {"low": "At or below reorder point", "out": "Nothing available"}


@dataclass(frozen=True)
class StockFilters(ListFilters):
    location: str | None = None
    q: str | None = None
    filter: str | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> StockFilters:
        return cls(
            location=text_arg(args, "location", 32),
            q=text_arg(args, "q"),
            filter=choice_arg(args, "filter", STOCK_ALERTS),
        )


def filter_choices() -> dict[str, list[tuple[str, str]]]:
    return {"location": location_choices(), "filter": list(STOCK_ALERTS.items())}


@dataclass(frozen=True)
class LevelRow:
    level: StockLevel

    @property
    def reorder_point(self) -> int:
        own = self.level.reorder_point
        return own if own is not None else self.level.product.reorder_point

    @property
    def available(self) -> int:
        return self.level.available

    @property
    def alert(self) -> str | None:
        """'bad' when nothing can be sold from here, 'warn' at or below the reorder point."""
        if self.available <= 0:
            return "bad"
        if self.available <= self.reorder_point:
            return "warn"
        return None


def _levels_joined():
    return (
        select(StockLevel)
        .join(StockLevel.product)
        .join(StockLevel.location)
        .options(contains_eager(StockLevel.product), contains_eager(StockLevel.location))
    )


def stock_grid(filters: StockFilters, *, cursor: str | None = None, limit: int | None = None) -> Page[LevelRow]:
    """Every product × location level, by SKU then location."""
    stmt = _levels_joined()
    if filters.location:
        stmt = stmt.where(Location.code == filters.location)
    if filters.q:
        stmt = stmt.where(or_(contains(Product.sku, filters.q), contains(Product.name, filters.q)))
    if filters.filter:
        available = StockLevel.on_hand - StockLevel.reserved
        reorder_point = func.coalesce(StockLevel.reorder_point, Product.reorder_point)
        stmt = stmt.where(Product.active.is_(True))
        if filters.filter == "low":
            stmt = stmt.where(available <= reorder_point, available > 0)
        else:
            stmt = stmt.where(available <= 0)
    page = keyset_page(
        stmt,
        [Product.sku, Location.code],
        cursor=cursor,
        limit=clamp_limit(limit),
        key=lambda level: [level.product.sku, level.location.code],
    )
    return Page(items=[LevelRow(level) for level in page.items], next_cursor=page.next_cursor)


@dataclass(frozen=True)
class LedgerRow:
    move: StockMove
    balance: int  # on hand after this move


@dataclass(frozen=True)
class Ledger:
    level: LevelRow
    page: Page[LedgerRow]
    opening_balance: int  # on hand before the first move of this page


def level_ledger(sku: str, location_code: str, *, cursor: str | None = None, limit: int | None = None) -> Ledger:
    """The moves of one level, oldest first, each with the on-hand balance it left behind."""
    level = db.session.scalar(_levels_joined().where(Product.sku == sku, Location.code == location_code))
    if level is None:
        raise NotFound(f"{sku} has no stock level at {location_code}.")
    same_level = (StockMove.product_id == level.product_id, StockMove.location_id == level.location_id)
    page = keyset_page(
        select(StockMove).where(*same_level),
        [StockMove.id],
        cursor=cursor,
        limit=clamp_limit(limit),
        key=lambda move: [move.id],
    )
    opening = 0
    if cursor and page.items:
        # Later pages carry on from the sum of every earlier move (one indexed aggregate).
        opening = db.session.scalar(
            select(func.coalesce(func.sum(StockMove.qty), 0)).where(*same_level, StockMove.id < page.items[0].id)
        )
    rows, balance = [], opening
    for move in page.items:
        balance += move.qty
        rows.append(LedgerRow(move, balance))
    return Ledger(level=LevelRow(level), page=Page(items=rows, next_cursor=page.next_cursor), opening_balance=opening)


# Stock actions: what the forms offer and which rows an action changed ------------------


@dataclass(frozen=True)
class LocationOption:
    code: str
    name: str
    active: bool

    @property
    def label(self) -> str:
        return f"{self.code} · {self.name}" + ("" if self.active else " (inactive)")


def location_options() -> list[LocationOption]:
    return [
        LocationOption(code, name, active)
        for code, name, active in db.session.execute(
            select(Location.code, Location.name, Location.active).order_by(Location.active.desc(), Location.code)
        )
    ]


def existing_level_codes(sku: str, codes: list[str]) -> set[str]:
    """Which of these locations already hold a level of `sku` (a new one is added to the grid, not replaced)."""
    return set(
        db.session.scalars(
            select(Location.code)
            .join(StockLevel, StockLevel.location_id == Location.id)
            .join(Product, Product.id == StockLevel.product_id)
            .where(Product.sku == sku, Location.code.in_(codes))
        )
    )


def grid_rows_for_export(filters: StockFilters, *, batch: int = 200) -> Iterator[LevelRow]:
    """Every level the grid shows with these filters, a page at a time (memory stays flat)."""
    cursor = None
    while True:
        page = stock_grid(filters, cursor=cursor, limit=batch)
        yield from page.items
        if not page.next_cursor:
            return
        cursor = page.next_cursor


# Routing preview: the open orders that may be routed afresh --------------------------


ROUTING_HOLDS = {h.value: h.label for h in HoldReason}


@dataclass(frozen=True)
class RoutingFilters(ListFilters):
    status: str | None = None
    hold: str | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> RoutingFilters:
        return cls(
            status=choice_arg(args, "status", [s.value for s in ROUTABLE]),
            hold=choice_arg(args, "hold", ROUTING_HOLDS),
        )


def routing_filter_choices() -> dict[str, list[tuple[str, str]]]:
    return {"status": [(s.value, s.label) for s in ROUTABLE], "hold": list(ROUTING_HOLDS.items())}


@dataclass(frozen=True)
class RoutableOrder:
    order: Order

    @property
    def locations(self) -> list[str]:
        return sorted({a.location.code for line in self.order.lines for a in line.allocations})

    @property
    def short(self) -> int:
        return sum(line.qty - line.qty_allocated - line.qty_shipped for line in self.order.lines)

    @property
    def items(self) -> int:
        return self.order.item_count


def _orders_with_allocations():
    return select(Order).options(
        joinedload(Order.customer),
        selectinload(Order.lines).selectinload(OrderLine.allocations).joinedload(Allocation.location),
    )


def routable_orders(filters: RoutingFilters, *, cursor: str | None = None,
                    limit: int | None = None) -> Page[RoutableOrder]:
    """Orders routing may still change (new, on hold, ready), oldest first — the order
    routing itself works in, so the first page holds the orders served first."""
    stmt = _orders_with_allocations().where(Order.status.in_([filters.status] if filters.status else ROUTABLE))
    if filters.hold:
        stmt = stmt.where(Order.hold_reason == filters.hold)
    page = keyset_page(
        stmt, [Order.placed_at, Order.id], cursor=cursor, limit=clamp_limit(limit), key=lambda o: [o.placed_at, o.id]
    )
    return Page(items=[RoutableOrder(o) for o in page.items], next_cursor=page.next_cursor)


def routing_outcome(numbers: list[str]) -> list[RoutableOrder]:
    """The orders as they stand now (after re-routing), oldest first."""
    return [
        RoutableOrder(o)
        for o in db.session.scalars(
            _orders_with_allocations().where(Order.number.in_(numbers)).order_by(Order.placed_at, Order.id)
        )
    ]
