"""Reports for managers: orders and revenue by channel and day, lead time from payment
to dispatch by location, and holds by reason with how long they took to clear.

A report covers whole days in the business timezone, at most MAX_DAYS of them; every
query reads a range of an indexed time column (orders.placed_at, events.created_at).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from app.domain.order_states import OrderStatus
from app.extensions import db
from app.models import Channel, Event, Location, Order, Shipment
from app.models.base import utcnow
from app.services.queries.filters import text_arg
from app.services.queries.sla import bucket, business_zone, midnight

DEFAULT_DAYS = 14
MAX_DAYS = 92


@dataclass(frozen=True)
class ReportRange:
    first: date  # inclusive, business timezone
    last: date  # inclusive
    problems: tuple[str, ...] = ()

    @classmethod
    def from_args(cls, args: Mapping[str, str], *, today: date) -> ReportRange:
        problems: list[str] = []
        last = _date(args, "to", problems) or today
        first = _date(args, "from", problems) or last - timedelta(days=DEFAULT_DAYS - 1)
        if first > last:
            problems.append("The period ends before it starts; showing the days up to the end date.")
            first = last - timedelta(days=DEFAULT_DAYS - 1)
        if (last - first).days + 1 > MAX_DAYS:
            problems.append(f"A report covers at most {MAX_DAYS} days; it was shortened to end on {last}.")
            first = last - timedelta(days=MAX_DAYS - 1)
        return cls(first, last, tuple(problems))

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]

    def bounds(self) -> list[datetime]:
        """Local midnights from the first day to the day after the last (DST-correct)."""
        zone = business_zone()
        return [midnight(d, zone) for d in [*self.days, self.last + timedelta(days=1)]]

    def as_args(self) -> dict[str, str]:
        return {"from": self.first.isoformat(), "to": self.last.isoformat()}


def _date(args: Mapping[str, str], name: str, problems: list[str]) -> date | None:
    raw = text_arg(args, name, 20)
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        problems.append(f"“{raw}” is not a date (use YYYY-MM-DD); the {name} date was left out.")
        return None


def today_local(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(business_zone()).date()


def percentile(values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile (the value at least pct % of the values are at or below)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(math.ceil(pct / 100 * len(ordered)), 1)
    return ordered[rank - 1]


def hours_text(hours: float | None) -> str:
    return "—" if hours is None else f"{hours:.1f}"


# Orders and revenue by channel and day ----------------------------------------------------


@dataclass
class SalesRow:
    day: date
    channel: str
    currency: str
    orders: int = 0
    cancelled: int = 0
    revenue: Decimal = Decimal("0.00")  # totals of the orders not cancelled


def sales_by_channel_day(period: ReportRange) -> list[SalesRow]:
    bounds = period.bounds()
    inner = (select(bucket(Order.placed_at, bounds).label("day"), Channel.code.label("channel"),
                    Order.currency.label("currency"), Order.status.label("status"), Order.total.label("total"))
             .join(Channel, Channel.id == Order.channel_id)
             .where(Order.placed_at >= bounds[0], Order.placed_at < bounds[-1]).subquery())
    not_cancelled = inner.c.status != OrderStatus.CANCELLED.value
    rows = db.session.execute(
        select(inner.c.day, inner.c.channel, inner.c.currency, func.count(),
               func.count().filter(~not_cancelled), func.sum(inner.c.total).filter(not_cancelled))
        .group_by(inner.c.day, inner.c.channel, inner.c.currency)
        .order_by(inner.c.day, inner.c.channel, inner.c.currency)
    ).all()
    days = period.days
    return [SalesRow(days[d], channel, currency, n, cancelled, revenue or Decimal("0.00"))
            for d, channel, currency, n, cancelled, revenue in rows if d >= 0]


# Lead time, payment to dispatch -------------------------------------------------------------


@dataclass
class LeadTime:
    location: str
    hours: list[float] = field(default_factory=list)

    @property
    def orders(self) -> int:
        return len(self.hours)

    @property
    def median(self) -> float | None:
        return percentile(self.hours, 50)

    @property
    def p90(self) -> float | None:
        return percentile(self.hours, 90)


def lead_times(period: ReportRange) -> list[LeadTime]:
    """Orders placed in the period that were paid and have shipped: hours from payment to
    the first shipment's shipped_at, by the location that shipment left from."""
    bounds = period.bounds()
    rows = db.session.execute(
        select(Order.id, Order.paid_at, Shipment.shipped_at, Location.code)
        .join(Shipment, Shipment.order_id == Order.id).join(Location, Location.id == Shipment.location_id)
        .where(Order.placed_at >= bounds[0], Order.placed_at < bounds[-1], Order.paid_at.is_not(None),
               Shipment.shipped_at.is_not(None))
        .order_by(Order.id, Shipment.shipped_at)
    ).all()
    by_location: dict[str, LeadTime] = {}
    seen: set[int] = set()
    for order_id, paid_at, shipped_at, location in rows:
        if order_id in seen:
            continue  # only the first shipment dispatches the order
        seen.add(order_id)
        hours = max((shipped_at - paid_at).total_seconds() / 3600, 0.0)
        by_location.setdefault(location, LeadTime(location)).hours.append(hours)
    return [by_location[k] for k in sorted(by_location)]


# Holds ---------------------------------------------------------------------------------------


@dataclass
class HoldStats:
    reason: str
    durations: list[float] = field(default_factory=list)  # hours, holds that cleared
    still_open: int = 0

    @property
    def holds(self) -> int:
        return len(self.durations) + self.still_open

    @property
    def cleared(self) -> int:
        return len(self.durations)

    @property
    def median(self) -> float | None:
        return percentile(self.durations, 50)

    @property
    def p90(self) -> float | None:
        return percentile(self.durations, 90)


def holds(period: ReportRange, *, now: datetime | None = None) -> list[HoldStats]:
    """Holds that began in the period, by reason, from the audit log: a hold begins with a
    status change to on_hold (or a change of hold reason) and clears with the next status
    change away from on_hold (or the next change of reason)."""
    bounds = period.bounds()
    rows = db.session.execute(
        select(Event.entity_id, Event.action, Event.from_state, Event.to_state, Event.created_at, Event.details)
        .where(Event.created_at >= bounds[0], Event.entity_type == "order",
               Event.action.in_(("status_changed", "hold_reason_changed")))
        .order_by(Event.entity_id, Event.created_at, Event.id)
    ).all()
    stats: dict[str, HoldStats] = {}
    open_holds: dict[str, tuple[str, datetime]] = {}

    def clear(number: str, at: datetime) -> None:
        begun = open_holds.pop(number, None)
        if begun is not None and begun[1] < bounds[-1]:
            reason, since = begun
            stats.setdefault(reason, HoldStats(reason)).durations.append((at - since).total_seconds() / 3600)

    for number, action, before, after, at, details in rows:
        if action == "hold_reason_changed":
            clear(number, at)
            open_holds[number] = (after or "manual", at)
        elif after == OrderStatus.ON_HOLD:
            open_holds[number] = ((details or {}).get("hold_reason") or "manual", at)
        elif before == OrderStatus.ON_HOLD:
            clear(number, at)
    for reason, since in open_holds.values():
        if since < bounds[-1]:
            stats.setdefault(reason, HoldStats(reason)).still_open += 1
    return [stats[k] for k in sorted(stats)]


# CSV ------------------------------------------------------------------------------------------


def sales_csv_rows(period: ReportRange) -> Iterator[list]:
    yield ["day", "channel", "currency", "orders", "cancelled", "revenue"]
    for row in sales_by_channel_day(period):
        yield [row.day.isoformat(), row.channel, row.currency, row.orders, row.cancelled, f"{row.revenue:.2f}"]


def lead_time_csv_rows(period: ReportRange) -> Iterator[list]:
    yield ["location", "orders", "median_hours", "p90_hours"]
    for row in lead_times(period):
        yield [row.location, row.orders, _num(row.median), _num(row.p90)]


def holds_csv_rows(period: ReportRange) -> Iterator[list]:
    yield ["reason", "holds", "cleared", "still_open", "median_hours_to_clear", "p90_hours_to_clear"]
    for row in holds(period):
        yield [row.reason, row.holds, row.cleared, row.still_open, _num(row.median), _num(row.p90)]


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def sales_totals(rows: list[SalesRow]) -> dict[str, dict[str, Decimal | int]]:
    """Per channel and currency over the whole period, for the table's footer."""
    totals: dict[str, dict] = defaultdict(lambda: {"orders": 0, "revenue": Decimal("0.00")})
    for row in rows:
        key = f"{row.channel} ({row.currency})"
        totals[key]["orders"] += row.orders
        totals[key]["revenue"] += row.revenue
    return dict(sorted(totals.items()))
