"""Reading SLA clocks for managers: running clocks by deadline, what is at risk or breached
now, compliance by channel, location and ISO week, breach reasons, and the chart of the
last weeks. Times are UTC in the database; weeks are weeks in the business timezone.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, case, func, literal_column, or_, select

from app.domain.enums import ClockKind, ClockState
from app.domain.sla import BREACH_REASONS, ChipView, chip_view
from app.extensions import db
from app.models import Channel, Location, Order, SlaClock
from app.models.base import utcnow
from app.services.pagination import Page, clamp_limit, keyset_page
from app.services.queries.filters import ListFilters, choice_arg
from app.services.queries.loading import order_reference

WEEKS = 8
SORTS = ("left", "-left")  # by time left: least first, most first
RUNNING = literal_column("'running'")
BREACHED = literal_column("'breached'")


@dataclass(frozen=True)
class ClockFilters(ListFilters):
    kind: str | None = None
    sort: str | None = None  # at-risk and breached lists: "left" (default) or "-left"

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> ClockFilters:
        return cls(kind=choice_arg(args, "kind", ClockKind.values()), sort=choice_arg(args, "sort", SORTS))

    @property
    def descending(self) -> bool:
        return self.sort == "-left"


def filter_choices() -> dict[str, list[tuple[str, str]]]:
    return {"kind": [(k.value, k.label) for k in ClockKind]}


def duration_label(seconds: float) -> str:
    """'45 min', '5 h 20 min', '3 d 4 h'; negative when the time is past ('-2 h 5 min')."""
    sign = "-" if seconds < 0 else ""
    minutes = int(abs(seconds)) // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{sign}{days} d {hours} h"
    if hours:
        return f"{sign}{hours} h {minutes} min"
    return f"{sign}{minutes} min"


@dataclass(frozen=True)
class ClockRow:
    clock: SlaClock
    now: datetime

    @property
    def seconds_left(self) -> float:
        return (self.clock.due_at - self.now).total_seconds()

    @property
    def time_left(self) -> str:
        return duration_label(self.seconds_left)

    @property
    def alert(self) -> str | None:
        """'bad' once the deadline has passed (the breach sweep may not have run yet),
        'warn' once the warning time has passed."""
        if self.seconds_left < 0:
            return "bad"
        if self.clock.warn_at is not None and self.clock.warn_at <= self.now:
            return "warn"
        return None

    @property
    def reason(self) -> str:
        code = self.clock.breach_reason
        return BREACH_REASONS.get(code, code) if code else ""

    @property
    def chip(self) -> ChipView:
        return chip_view(state=self.clock.state, warn_at=self.clock.warn_at, due_at=self.clock.due_at, now=self.now,
                         met_at=self.clock.met_at, warned_at=self.clock.warned_at)


def running_clocks(
    filters: ClockFilters, *, now: datetime | None = None, cursor: str | None = None, limit: int | None = None
) -> Page[ClockRow]:
    """Running clocks, soonest deadline first (served by the (state, due_at) index)."""
    now = now or utcnow()
    stmt = select(SlaClock).where(SlaClock.state == ClockState.RUNNING).options(order_reference(SlaClock.order))
    if filters.kind:
        stmt = stmt.where(SlaClock.kind == filters.kind)
    page = keyset_page(
        stmt,
        [SlaClock.due_at, SlaClock.id],
        cursor=cursor,
        limit=clamp_limit(limit),
        key=lambda c: [c.due_at, c.id],
    )
    return Page(items=[ClockRow(c, now) for c in page.items], next_cursor=page.next_cursor)


def at_risk_clocks(filters: ClockFilters, *, now: datetime, cursor: str | None = None,
                   limit: int | None = None) -> Page[ClockRow]:
    """Running clocks past their warning whose deadline is still ahead, by time left."""
    stmt = (select(SlaClock).options(order_reference(SlaClock.order))
            .where(SlaClock.state == RUNNING, SlaClock.due_at > now, SlaClock.warn_at <= now))
    return _by_time_left(stmt, filters, now, cursor, limit)


def breached_clocks(filters: ClockFilters, *, now: datetime, cursor: str | None = None,
                    limit: int | None = None) -> Page[ClockRow]:
    """Breaches nobody has resolved (not met late, order not cancelled), and running clocks
    past their deadline that the next sweep will breach; most overdue first."""
    open_breach = and_(SlaClock.state == BREACHED, SlaClock.met_at.is_(None), SlaClock.stopped_at.is_(None))
    overdue = and_(SlaClock.state == RUNNING, SlaClock.due_at <= now)
    stmt = select(SlaClock).options(order_reference(SlaClock.order)).where(or_(open_breach, overdue))
    return _by_time_left(stmt, filters, now, cursor, limit)


def _by_time_left(stmt, filters: ClockFilters, now: datetime, cursor: str | None, limit: int | None):
    if filters.kind:
        stmt = stmt.where(SlaClock.kind == filters.kind)
    page = keyset_page(stmt, [SlaClock.due_at, SlaClock.id], cursor=cursor, limit=clamp_limit(limit),
                       key=lambda c: [c.due_at, c.id], descending=filters.descending)
    _attach_places(page.items)
    return Page(items=[ClockRow(c, now) for c in page.items], next_cursor=page.next_cursor)


def _attach_places(clocks: list[SlaClock]) -> None:
    """Channel and location codes for a page of clocks, in two small queries."""
    order_ids = {c.order_id for c in clocks}
    channels = dict(db.session.execute(
        select(Order.id, Channel.code).join(Channel, Channel.id == Order.channel_id).where(Order.id.in_(order_ids))
    ).all()) if order_ids else {}
    location_ids = {c.location_id for c in clocks if c.location_id is not None}
    locations = dict(db.session.execute(
        select(Location.id, Location.code).where(Location.id.in_(location_ids))
    ).all()) if location_ids else {}
    for c in clocks:
        c.channel_code = channels.get(c.order_id, "")
        c.location_code = locations.get(c.location_id, "")


@dataclass(frozen=True)
class ClockCounts:
    by_kind: dict[str, dict[str, int]]  # kind -> state -> clocks
    overdue: int  # running past their deadline
    at_risk: int  # running past their warning time, deadline still ahead

    @property
    def states(self) -> tuple[str, ...]:
        return ClockState.values()

    def total(self, state: str) -> int:
        return sum(states[state] for states in self.by_kind.values())


def clock_counts(*, now: datetime | None = None) -> ClockCounts:
    now = now or utcnow()
    by_kind = {kind: dict.fromkeys(ClockState.values(), 0) for kind in ClockKind.values()}
    for kind, state, count in db.session.execute(
        select(SlaClock.kind, SlaClock.state, func.count()).group_by(SlaClock.kind, SlaClock.state)
    ):
        by_kind[kind][state] = count
    running = SlaClock.state == ClockState.RUNNING
    overdue = db.session.scalar(select(func.count()).select_from(SlaClock).where(running, SlaClock.due_at < now))
    at_risk = db.session.scalar(
        select(func.count()).select_from(SlaClock).where(running, SlaClock.warn_at <= now, SlaClock.due_at >= now)
    )
    return ClockCounts(by_kind=by_kind, overdue=overdue or 0, at_risk=at_risk or 0)


# Compliance ----------------------------------------------------------------------------


@dataclass
class Tally:
    met: int = 0
    breached: int = 0

    @property
    def settled(self) -> int:
        return self.met + self.breached

    @property
    def pct(self) -> float | None:
        """Share met on time, in percent; None when nothing was settled."""
        return round(100 * self.met / self.settled, 1) if self.settled else None


@dataclass(frozen=True)
class Week:
    start: date  # Monday, business timezone

    @property
    def label(self) -> str:
        year, week, _ = self.start.isocalendar()
        return f"{year}-W{week:02d}"


@dataclass
class Compliance:
    """Clocks settled (met or breached; stopped ones do not count), grouped by the ISO
    week their deadline fell in, for the last WEEKS weeks up to this one."""

    weeks: list[Week]
    kind: str | None
    by_week: list[Tally] = field(default_factory=list)
    by_channel: dict[str, Tally] = field(default_factory=dict)
    by_location: dict[str, Tally] = field(default_factory=dict)
    rows: list[tuple[str, str, str, Tally]] = field(default_factory=list)  # week, channel, location
    reasons: list[tuple[str, str, int]] = field(default_factory=list)  # kind, reason label, breaches

    @property
    def total(self) -> Tally:
        return Tally(sum(t.met for t in self.by_week), sum(t.breached for t in self.by_week))


def business_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def week_starts(now: datetime, zone: ZoneInfo, weeks: int = WEEKS) -> list[date]:
    today = now.astimezone(zone).date()
    monday = today - timedelta(days=today.weekday())
    return [monday - timedelta(weeks=weeks - 1 - i) for i in range(weeks)]


def midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def bucket(column, bounds: list[datetime]):
    """The index i of the [bounds[i], bounds[i+1]) range `column` falls in: a CASE the
    database evaluates, so grouping by local weeks or days works the same on both engines."""
    return case(*[(column >= bounds[i], i) for i in reversed(range(len(bounds) - 1))], else_=-1)


def compliance(*, now: datetime | None = None, kind: str | None = None) -> Compliance:
    now = now or utcnow()
    zone = business_zone()
    starts = week_starts(now, zone)
    bounds = [midnight(d, zone) for d in [*starts, starts[-1] + timedelta(weeks=1)]]
    report = Compliance(weeks=[Week(d) for d in starts], kind=kind, by_week=[Tally() for _ in starts])
    settled = [SlaClock.state.in_([ClockState.MET.value, ClockState.BREACHED.value]),
               SlaClock.due_at >= bounds[0], SlaClock.due_at < bounds[-1]]
    if kind:
        settled.append(SlaClock.kind == kind)
    inner = (select(bucket(SlaClock.due_at, bounds).label("week"), Channel.code.label("channel"),
                    func.coalesce(Location.code, "—").label("location"), SlaClock.state.label("state"))
             .join(Order, Order.id == SlaClock.order_id).join(Channel, Channel.id == Order.channel_id)
             .outerjoin(Location, Location.id == SlaClock.location_id).where(*settled).subquery())
    rows = db.session.execute(
        select(inner.c.week, inner.c.channel, inner.c.location, inner.c.state, func.count())
        .group_by(inner.c.week, inner.c.channel, inner.c.location, inner.c.state)
    ).all()
    cells: dict[tuple[int, str, str], Tally] = {}
    for week, channel, location, state, count in rows:
        if week < 0:
            continue
        for tally in (report.by_week[week], report.by_channel.setdefault(channel, Tally()),
                      report.by_location.setdefault(location, Tally()),
                      cells.setdefault((week, channel, location), Tally())):
            if state == ClockState.MET:
                tally.met += count
            else:
                tally.breached += count
    report.rows = [(report.weeks[w].label, ch, loc, t) for (w, ch, loc), t in sorted(cells.items())]
    report.by_channel = dict(sorted(report.by_channel.items()))
    report.by_location = dict(sorted(report.by_location.items()))
    reasons = db.session.execute(
        select(SlaClock.kind, SlaClock.breach_reason, func.count())
        .where(SlaClock.state == ClockState.BREACHED, *settled[1:])
        .group_by(SlaClock.kind, SlaClock.breach_reason).order_by(func.count().desc())
    ).all()
    report.reasons = [(k, BREACH_REASONS.get(r, r) if r else "not recorded", n) for k, r, n in reasons]
    return report


# The chart -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    x: float
    label: str
    met_y: float
    met_h: float
    breached_y: float
    breached_h: float
    tally: Tally

    @property
    def caption(self) -> str:
        return "—" if self.tally.pct is None else f"{self.tally.pct:g} %"


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    plot_top: int
    plot_bottom: int
    bar_width: float
    bars: list[Bar]
    scale_max: int


def weekly_chart(report: Compliance, *, width: int = 640, height: int = 220) -> Chart:
    """Stacked bars per week (met on time below, breached on top), scaled to the busiest week."""
    top, bottom = 28, height - 34
    span = bottom - top
    most = max((t.settled for t in report.by_week), default=0) or 1
    slot = width / len(report.weeks)
    bars = []
    for i, (week, tally) in enumerate(zip(report.weeks, report.by_week, strict=True)):
        met_h = span * tally.met / most
        breached_h = span * tally.breached / most
        bars.append(Bar(x=round(i * slot + slot * 0.2, 1), label=week.label.split("-")[1],
                        met_y=round(bottom - met_h, 1), met_h=round(met_h, 1),
                        breached_y=round(bottom - met_h - breached_h, 1), breached_h=round(breached_h, 1),
                        tally=tally))
    return Chart(width=width, height=height, plot_top=top, plot_bottom=bottom, bar_width=round(slot * 0.6, 1),
                 bars=bars, scale_max=most)


# CSV ------------------------------------------------------------------------------------


def compliance_csv_rows(report: Compliance) -> Iterator[list]:
    yield ["week", "channel", "location", "met_on_time", "breached", "compliance_pct"]
    for week, channel, location, tally in report.rows:
        yield [week, channel, location, tally.met, tally.breached, "" if tally.pct is None else tally.pct]


def clocks_csv_rows(which: str, filters: ClockFilters, *, now: datetime, chunk: int = 200) -> Iterator[list]:
    """Every at-risk or breached clock (all pages), for a spreadsheet."""
    fetch = at_risk_clocks if which == "at_risk" else breached_clocks
    yield ["order", "kind", "state", "channel", "location", "started_at", "warn_at", "due_at", "time_left",
           "breach_reason"]
    cursor = None
    while True:
        page = fetch(filters, now=now, cursor=cursor, limit=chunk)
        for row in page.items:
            c = row.clock
            yield [c.order.number, c.kind, c.state, c.channel_code, c.location_code, _iso(c.started_at),
                   _iso(c.warn_at), _iso(c.due_at), row.time_left, row.reason]
        if not page.next_cursor:
            return
        cursor = page.next_cursor


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""
