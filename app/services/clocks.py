"""Starting and ending SLA clocks as orders move. Called inside the caller's transaction.

A clock ends exactly once: met, breached or stopped. The sweeps (app.services.sla)
breach running clocks whose deadline passed. When an order does the awaited thing
after its deadline but before a sweep noticed, the clock is breached here instead,
with its true due time; when it does it after a recorded breach, the clock stays
breached and the late meeting is noted (met_at and a `clock_met_late` event).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select

from app.domain.calendar import BusinessCalendar, parse_cutoff
from app.domain.enums import ClockKind, ClockState
from app.domain.sla import (
    Deadline,
    SlaPolicy,
    breach_reason,
    dispatch_deadline,
    payment_deadline,
    same_day_hold_deadline,
)
from app.extensions import db
from app.models import Allocation, Channel, Location, Order, SlaClock
from app.services.actors import SYSTEM
from app.services.audit import record_event


def policy_of(channel: Channel) -> SlaPolicy:
    return SlaPolicy(
        dispatch_sla_hours=channel.dispatch_sla_hours,
        dispatch_warn_pct=channel.dispatch_warn_pct,
        dispatch_business_hours=channel.dispatch_business_hours,
        payment_reminder_1_hours=channel.payment_reminder_1_hours,
        payment_reminder_2_hours=channel.payment_reminder_2_hours,
        auto_cancel_hours=channel.auto_cancel_hours,
    )


def calendar_of(location: Location) -> BusinessCalendar:
    return BusinessCalendar(
        timezone=location.timezone,
        working_days=location.working_days,
        cutoff=parse_cutoff(location.cutoff_time),
        holidays=frozenset(h.day for h in location.holidays),
    )


def home_location(order: Order) -> Location | None:
    """The location whose calendar governs the order: where most of it is allocated,
    else the best-priority active location."""
    loc_id = db.session.scalar(
        select(Allocation.location_id).where(Allocation.order_id == order.id)
        .group_by(Allocation.location_id)
        # Ties go to the lower location id, as in the CSV batch path, so both agree.
        .order_by(db.func.sum(Allocation.qty).desc(), Allocation.location_id).limit(1)
    )
    if loc_id is not None:
        return db.session.get(Location, loc_id)
    return db.session.scalar(select(Location).where(Location.active.is_(True))
                             .order_by(Location.priority, Location.code).limit(1))


def running(order: Order, kind: str) -> SlaClock | None:
    return db.session.scalar(
        select(SlaClock).where(SlaClock.order_id == order.id, SlaClock.kind == kind,
                               SlaClock.state == ClockState.RUNNING)
    )


def start(order: Order, kind: ClockKind, deadline: Deadline, at: datetime,
          location: Location | None = None) -> SlaClock:
    clock = running(order, kind)
    if clock is not None:
        return clock
    clock = SlaClock(order_id=order.id, kind=kind, state=ClockState.RUNNING, started_at=at,
                     warn_at=deadline.warn_at, due_at=deadline.due_at, notice_at=deadline.notice_at,
                     location_id=location.id if location is not None else None)
    db.session.add(clock)
    return clock


def stop(order: Order, kind: ClockKind, at: datetime, *, met: bool = True) -> SlaClock | None:
    """End a running clock: met (breached instead when `at` is past its deadline) or stopped.

    With no running clock, a met order may still close a breach nobody resolved:
    the clock stays breached and gains met_at."""
    clock = running(order, kind)
    if clock is None:
        return _meet_open_breach(order, kind, at) if met else None
    if not met:
        clock.state = ClockState.STOPPED
        clock.stopped_at = at
        return clock
    if at <= clock.due_at:
        clock.state = ClockState.MET
        clock.met_at = at
        return clock
    clock.state = ClockState.BREACHED
    clock.breached_at = clock.due_at
    clock.breach_reason = breach_reason(kind, status=order.status, hold_reason=order.hold_reason,
                                        payment_status=order.payment_status)
    record_event("order", order.number, "clock_breached", actor=SYSTEM, at=at,
                 details={"kind": str(kind), "due_at": clock.due_at.isoformat(), "reason": clock.breach_reason,
                          "found": "when it was met"})
    clock.met_at = at
    _record_met_late(order, clock, at)
    return clock


def _meet_open_breach(order: Order, kind: ClockKind, at: datetime) -> SlaClock | None:
    clock = db.session.scalar(
        select(SlaClock).where(SlaClock.order_id == order.id, SlaClock.kind == kind,
                               SlaClock.state == ClockState.BREACHED, SlaClock.met_at.is_(None),
                               SlaClock.stopped_at.is_(None))
        .order_by(SlaClock.id.desc()).limit(1)
    )
    if clock is not None:
        clock.met_at = at
        _record_met_late(order, clock, at)
    return clock


def _record_met_late(order: Order, clock: SlaClock, at: datetime) -> None:
    late = at - clock.due_at
    record_event("order", order.number, "clock_met_late", actor=SYSTEM, at=at,
                 details={"kind": clock.kind, "due_at": clock.due_at.isoformat(),
                          "late_minutes": int(late.total_seconds() // 60)})


def stop_all(order: Order, at: datetime) -> None:
    """The order is cancelled: running clocks stop; breaches nobody met are closed
    (they stay breached; stopped_at says the order ended first)."""
    for clock in db.session.scalars(
        select(SlaClock).where(
            SlaClock.order_id == order.id,
            or_(SlaClock.state == ClockState.RUNNING,
                and_(SlaClock.state == ClockState.BREACHED, SlaClock.met_at.is_(None), SlaClock.stopped_at.is_(None))),
        )
    ):
        if clock.state == ClockState.RUNNING:
            clock.state = ClockState.STOPPED
        clock.stopped_at = at


def start_payment_clock(order: Order, at: datetime) -> None:
    start(order, ClockKind.PAYMENT, payment_deadline(order.placed_at, policy_of(order.channel)), at)


def start_dispatch_clock(order: Order, at: datetime) -> None:
    location = home_location(order)
    cal = calendar_of(location) if location is not None else None
    start(order, ClockKind.DISPATCH, dispatch_deadline(order.paid_at or at, policy_of(order.channel), cal), at,
          location)


def start_hold_clock(order: Order, kind: ClockKind, at: datetime) -> None:
    location = home_location(order)
    cal = calendar_of(location) if location is not None else BusinessCalendar()
    deadline = same_day_hold_deadline(at, cal, notify_customer=kind == ClockKind.ADDRESS_HOLD)
    start(order, kind, deadline, at, location)
