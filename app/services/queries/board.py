"""The order board: one column per status, their counts, and what changed since a poll.

Columns page by (placed_at, id) with keyset cursors, served by the index
ix_orders_status_placed_at_id: open work reads oldest first (the order that has
waited longest on top), finished columns newest first. The open columns are counted
exactly, with one GROUP BY over the same index's status range; the finished ones
(shipped, delivered, cancelled) hold the whole history and only grow, so they are
counted up to HISTORY_COUNT_CAP ("1000+"), which costs the same at any size. A move
recounts just the two columns it changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import joinedload, load_only

from app.domain.errors import ValidationFailed
from app.domain.order_states import OPEN_STATUSES, HoldReason, OrderStatus
from app.extensions import db
from app.models import Allocation, Channel, Customer, Location, Order, OrderLine, SlaClock
from app.services.pagination import Page, keyset_page
from app.services.queries.catalog import channel_choices, location_choices
from app.services.queries.filters import ListFilters, choice_arg, text_arg
from app.services.queries.order_actions import Choice, move_choices
from app.services.queries.orders import search_condition
from app.sla.chips import pressing_clocks

COLUMN_PAGE_SIZE = 25
# Columns that hold finished orders; they start folded away and read newest first.
COLLAPSIBLE = (OrderStatus.DELIVERED, OrderStatus.CANCELLED)
NEWEST_FIRST = frozenset({OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.CANCELLED})
# Orders whose dispatch deadline still matters: the ones not yet (fully) on their way.
DISPATCH_PENDING = OPEN_STATUSES
# At most this many changed orders per poll; the token moves on, the next poll gets the rest.
CHANGES_PER_POLL = 200
MAX_PENDING = 50


@dataclass(frozen=True)
class BoardFilters(ListFilters):
    channel: str | None = None
    location: str | None = None
    hold: str | None = None
    overdue: str | None = None  # "1" or absent
    q: str | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> BoardFilters:
        overdue = (args.get("overdue") or "").strip().lower() in ("1", "true", "on", "yes")
        return cls(
            channel=text_arg(args, "channel", 32),
            location=text_arg(args, "location", 32),
            hold=choice_arg(args, "hold", HoldReason.values()),
            overdue="1" if overdue else None,
            q=text_arg(args, "q"),
        )


def expanded_from_args(values: Iterable[str]) -> frozenset[str]:
    """Folded columns the user opened (`?open=cancelled`); others are ignored."""
    return frozenset(v for v in values if v in {s.value for s in COLLAPSIBLE})


def filter_choices() -> dict[str, list[tuple[str, str]]]:
    return {
        "channel": channel_choices(),
        "location": location_choices(),
        "hold": [(h.value, h.label) for h in HoldReason],
    }


def _conditions(filters: BoardFilters, now: datetime) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.channel:
        conditions.append(Order.channel_id.in_(select(Channel.id).where(Channel.code == filters.channel)))
    if filters.location:
        conditions.append(Order.id.in_(
            select(Allocation.order_id).join(Location, Location.id == Allocation.location_id)
            .where(Location.code == filters.location)
        ))
    if filters.hold:
        conditions.append(Order.hold_reason == filters.hold)
    if filters.overdue:
        conditions.append(Order.ship_by < now)
        conditions.append(Order.status.in_(DISPATCH_PENDING))
    if filters.q:
        conditions.append(search_condition(filters.q))
    return conditions


@dataclass(frozen=True)
class ColumnCount:
    """How many cards a column holds; `capped` when there are more than `n` (a finished column)."""

    n: int
    capped: bool = False

    def __str__(self) -> str:
        return f"{self.n}+" if self.capped else str(self.n)


HISTORY_COUNT_CAP = 1000
COUNTED_EXACTLY = tuple(s for s in OrderStatus if s in OPEN_STATUSES)
COUNTED_UP_TO_CAP = tuple(s for s in OrderStatus if s not in OPEN_STATUSES)


def column_counts(filters: BoardFilters, now: datetime, *, statuses: Iterable[str] | None = None,
                  conditions: list[ColumnElement[bool]] | None = None) -> dict[str, ColumnCount]:
    """Each column's count (only `statuses`' when given), in board order."""
    wanted = {OrderStatus(s) for s in statuses} if statuses is not None else set(OrderStatus)
    conditions = _conditions(filters, now) if conditions is None else conditions
    counts: dict[str, ColumnCount] = {}
    exact = [s for s in COUNTED_EXACTLY if s in wanted]
    if exact:
        found = dict(db.session.execute(
            select(Order.status, func.count()).where(Order.status.in_(exact), *conditions).group_by(Order.status)
        ).all())
        counts.update({s.value: ColumnCount(found.get(s.value, 0)) for s in exact})
    for status in (s for s in COUNTED_UP_TO_CAP if s in wanted):
        first = select(Order.id).where(Order.status == status, *conditions).limit(HISTORY_COUNT_CAP + 1)
        n = db.session.scalar(select(func.count()).select_from(first.subquery()))
        counts[status.value] = ColumnCount(min(n, HISTORY_COUNT_CAP), capped=n > HISTORY_COUNT_CAP)
    return {s.value: counts[s.value] for s in OrderStatus if s.value in counts}


def status_of(number: str) -> str | None:
    return db.session.scalar(select(Order.status).where(Order.number == number))


# Cards ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Countdown:
    """How long until the order must leave: "ships in 5 h", "2 h overdue"."""

    text: str
    state: str  # none (no deadline yet), done (dispatched or cancelled), due, overdue
    seconds: int | None = None  # until ship_by; negative when overdue


def _span(seconds: int) -> str:
    minutes = seconds // 60
    if minutes < 60:
        return f"{max(minutes, 1)} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} d"


def countdown(order: Order, now: datetime) -> Countdown:
    if OrderStatus(order.status) not in DISPATCH_PENDING:
        return Countdown("", "done")
    if order.ship_by is None:
        return Countdown("no ship-by yet", "none")
    seconds = int((order.ship_by - now).total_seconds())
    if seconds >= 0:
        return Countdown(f"ships in {_span(seconds)}", "due", seconds)
    return Countdown(f"{_span(-seconds)} overdue", "overdue", seconds)


@dataclass(frozen=True)
class Card:
    order: Order
    countdown: Countdown
    moves: tuple[Choice, ...]
    clock: SlaClock | None = None  # its most pressing SLA clock, shown as a chip
    items: int = 0  # units over all its lines

    @property
    def number(self) -> str:
        return self.order.number

    @property
    def status(self) -> str:
        return self.order.status

    @property
    def item_count(self) -> int:
        return self.items

    @property
    def total(self) -> Decimal:
        return self.order.total

    @property
    def sort_key(self) -> str:
        """The column's sort key as one string the page can compare: placed_at, then id."""
        return f"{self.order.placed_at.astimezone(UTC):%Y-%m-%dT%H:%M:%S.%f}|{self.order.id:012d}"

    @property
    def allowed_statuses(self) -> str:
        return " ".join(c.value for c in self.moves if c.enabled)


def cards_of(orders: Iterable[Order], now: datetime) -> list[Card]:
    """Cards for these orders: their item counts and SLA chips read in one query each."""
    orders = list(orders)
    ids = [o.id for o in orders]
    clocks = pressing_clocks(ids)
    items = _item_counts(ids)
    return [Card(order=o, countdown=countdown(o, now), moves=move_choices(o.status), clock=clocks.get(o.id),
                 items=items.get(o.id, 0)) for o in orders]


def _item_counts(order_ids: list[int]) -> dict[int, int]:
    if not order_ids:
        return {}
    return {order_id: int(n) for order_id, n in db.session.execute(
        select(OrderLine.order_id, func.sum(OrderLine.qty)).where(OrderLine.order_id.in_(order_ids))
        .group_by(OrderLine.order_id))}


# What a card shows, and nothing else: a board loads about 175 of them.
CARD_COLUMNS = (Order.id, Order.number, Order.status, Order.version, Order.placed_at, Order.ship_by,
                Order.hold_reason, Order.total, Order.currency, Order.channel_id, Order.customer_id)


def _card_query():
    return select(Order).options(
        load_only(*CARD_COLUMNS),
        joinedload(Order.customer).load_only(Customer.name),
        joinedload(Order.channel).load_only(Channel.code, Channel.name),
    )


# Columns -------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    status: OrderStatus
    count: ColumnCount
    collapsed: bool
    page: Page[Card] | None  # None when folded away

    @property
    def label(self) -> str:
        return self.status.label

    @property
    def newest_first(self) -> bool:
        return self.status in NEWEST_FIRST

    @property
    def collapsible(self) -> bool:
        return self.status in COLLAPSIBLE


def _column_orders(status: OrderStatus, conditions: list[ColumnElement[bool]], *, cursor: str | None,
                   limit: int) -> Page[Order]:
    stmt = _card_query().where(Order.status == status, *conditions)
    return keyset_page(stmt, [Order.placed_at, Order.id], cursor=cursor, limit=limit,
                       key=lambda o: [o.placed_at, o.id], descending=status in NEWEST_FIRST)


def column_page(status: OrderStatus | str, filters: BoardFilters, *, now: datetime, cursor: str | None = None,
                limit: int = COLUMN_PAGE_SIZE) -> Page[Card]:
    page = _column_orders(OrderStatus(status), _conditions(filters, now), cursor=cursor, limit=limit)
    return Page(items=cards_of(page.items, now), next_cursor=page.next_cursor)


@dataclass(frozen=True)
class Board:
    filters: BoardFilters
    expanded: frozenset[str]
    columns: list[Column]
    token: str


def load_board(filters: BoardFilters, *, expanded: frozenset[str], now: datetime,
               cursors: Mapping[str, str] | None = None) -> Board:
    """Every column with its count and first page (or the page after `cursors[status]`)."""
    token = current_token()  # read first: a change made while we read shows up in the next poll
    conditions = _conditions(filters, now)  # once: a search may probe how common a name is
    counts = column_counts(filters, now, conditions=conditions)
    pages: dict[OrderStatus, Page[Order]] = {}
    for status in OrderStatus:
        if status not in COLLAPSIBLE or status.value in expanded:
            pages[status] = _column_orders(status, conditions, cursor=(cursors or {}).get(status.value),
                                           limit=COLUMN_PAGE_SIZE)
    cards = iter(cards_of([o for page in pages.values() for o in page.items], now))  # in column order
    columns = []
    for status in OrderStatus:
        page = pages.get(status)
        shown = None if page is None else Page(items=[next(cards) for _ in page.items], next_cursor=page.next_cursor)
        columns.append(Column(status, counts[status.value], page is None, shown))
    return Board(filters=filters, expanded=expanded, columns=columns, token=token)


# Live changes --------------------------------------------------------------------
# The token is the (updated_at, id) of the last order change a board has seen.
# A transaction that commits after a later-stamped one could slip behind a token;
# services commit within milliseconds of stamping, so the window is that short.

_TOKEN_TIME = "%Y%m%d%H%M%S%f"  # noqa: S105  (a date format, not a secret)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _format_token(updated_at: datetime, order_id: int) -> str:
    return f"{updated_at.astimezone(UTC):{_TOKEN_TIME}}.{order_id}"


def parse_token(token: str | None) -> tuple[datetime, int]:
    if not token:
        return _EPOCH, 0
    try:
        stamp, order_id = token.split(".")
        return datetime.strptime(stamp, _TOKEN_TIME).replace(tzinfo=UTC), int(order_id)
    except ValueError:
        raise ValidationFailed("The board's change token is not valid; reload the board.",
                               details={"since": token}) from None


def current_token() -> str:
    row = db.session.execute(
        select(Order.updated_at, Order.id).order_by(Order.updated_at.desc(), Order.id.desc()).limit(1)
    ).first()
    return _format_token(*row) if row else ""


@dataclass(frozen=True)
class Changes:
    token: str
    cards: list[Card]  # orders to show, each in its column
    removed: list[str]  # numbers to take off the board (filtered out, or in a folded column)
    counts: dict[str, ColumnCount]


def changes_since(token: str | None, filters: BoardFilters, *, expanded: frozenset[str], now: datetime,
                  pending: Iterable[str] = ()) -> Changes | None:
    """Orders changed after `token`, plus `pending` ones the page put off (a card whose
    menu was open). None when there is nothing to tell: one indexed query."""
    since_at, since_id = parse_token(token)
    rows = db.session.execute(
        select(Order.updated_at, Order.id, Order.number)
        .where(Order.updated_at >= since_at, or_(Order.updated_at > since_at, Order.id > since_id))
        .order_by(Order.updated_at, Order.id)
        .limit(CHANGES_PER_POLL)
    ).all()
    pending = [n for n in dict.fromkeys(pending) if n][:MAX_PENDING]
    if not rows and not pending:
        return None
    new_token = _format_token(rows[-1].updated_at, rows[-1].id) if rows else (token or "")
    return cards_for([r.number for r in rows] + pending, filters, expanded=expanded, now=now, token=new_token)


def cards_for(numbers: Iterable[str], filters: BoardFilters, *, expanded: frozenset[str], now: datetime,
              token: str = "", recount: Iterable[str] | None = None) -> Changes:
    """These orders as the board should show them now (a card, or taken off), with fresh
    counts: of every column, or of the `recount` ones (a move changes two)."""
    numbers = list(dict.fromkeys(numbers))
    conditions = _conditions(filters, now)
    shown = db.session.scalars(
        _card_query().where(Order.number.in_(numbers), *conditions).order_by(Order.id)
    ).unique()
    cards = cards_of((o for o in shown if not (OrderStatus(o.status) in COLLAPSIBLE and o.status not in expanded)),
                     now)
    on_board = {c.number for c in cards}
    return Changes(token=token, cards=cards, removed=[n for n in numbers if n not in on_board],
                   counts=column_counts(filters, now, statuses=recount, conditions=conditions))
