"""The SLA sweeps: payment reminders, auto-cancel, dispatch warnings and breaches, hold
deadlines. Each is called by one job (jobs/) with the time it runs as of.

How a sweep stays cheap and exact:
- It reads only clocks whose moment has come, through the partial indexes on
  (kind, warn_at) / (kind, notice_at) of clocks that still owe a warning or notice,
  and through (state, due_at) for running clocks — in batches, never by scanning orders.
- It claims rows with a conditional UPDATE … RETURNING (warned_at still empty, state
  still running) and acts only on the rows it changed, so a clock is warned, noticed
  and breached once; notifications carry unique dedup keys; and the whole sweep runs
  under a database guard (app.services.sla_guard) so two schedulers do not race.
- A queued notification is its own record (the outbox row, with its dedup key and
  time); what changes state or is decided against — breaches, skipped reminders,
  cancellations — is written to the audit log as well.

Catch-up after downtime (APScheduler coalesces missed runs into one):
- a reminder or warning whose moment passed more than SLA_REMINDER_STALE_HOURS ago
  (default 12) is recorded as skipped (`reminder_skipped_stale` / `warning_skipped_stale`
  events), not sent late; one whose deadline has passed as well is skipped as
  `…_past_due` — the breach that follows says more;
- the address-problem message goes out however late, while the hold lasts;
- breaches are always recorded, with their true due time as breached_at, and
  escalated; an unpaid order past its auto-cancel time is cancelled on the catch-up run.
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import (
    ARRAY,
    BigInteger,
    Select,
    any_,
    bindparam,
    cast,
    func,
    insert,
    literal_column,
    select,
    text,
    update,
)

from app.domain.enums import ClockKind, ClockState, NotificationKind
from app.domain.errors import DomainError
from app.domain.order_states import HoldReason, OrderStatus, PaymentStatus
from app.domain.sla import (
    BREACH_REASONS,
    NoticeDecision,
    breach_reason,
    duration_text,
    notice_decision,
)
from app.extensions import db
from app.models import Channel, Customer, Event, Order, SlaClock
from app.services import notifications, orders
from app.services.actors import Actor
from app.services.notifications import Recipient
from app.services.sla_guard import SKIPPED, sweep_guard
from app.services.tx import begin_write

BATCH = 500
NOTHING_DUE = "nothing due"
# Spelled as a literal, not a bound parameter: SQLite (and PostgreSQL's generic plans)
# use a partial index only when the query repeats the index's condition literally.
RUNNING = literal_column("'running'")
HOLD_KINDS = (ClockKind.STOCK_HOLD, ClockKind.ADDRESS_HOLD)
HOLD_LABELS = {ClockKind.STOCK_HOLD: "stock", ClockKind.ADDRESS_HOLD: "the address"}


def stale_after() -> timedelta:
    return timedelta(hours=current_app.config["SLA_REMINDER_STALE_HOURS"])


def max_per_run() -> int:
    return current_app.config.get("SLA_SWEEP_MAX_PER_RUN", 50_000)


def _among(column, ids: Iterable[int]):
    """`column IN (ids)`; on PostgreSQL `= ANY(array)`, one parameter instead of hundreds
    for the driver to parse on every batch."""
    ids = list(ids)
    if db.session.get_bind().dialect.name == "postgresql":
        return column == any_(cast(bindparam("ids", ids, type_=ARRAY(BigInteger), unique=True), ARRAY(BigInteger)))
    return column.in_(ids)


# What the sweeps know about an order --------------------------------------------------


@dataclass(frozen=True)
class OrderFacts:
    id: int
    number: str
    status: str
    hold_reason: str | None
    hold_note: str | None
    payment_status: str
    total: Decimal
    paid_amount: Decimal
    currency: str
    placed_at: datetime
    paid_at: datetime | None
    customer_name: str
    customer_email: str
    channel_name: str
    auto_cancel_hours: int | None
    payment_reminder_2_hours: int
    ship_name: str
    ship_line1: str
    ship_line2: str | None
    ship_postcode: str
    ship_city: str
    ship_country: str

    @property
    def balance(self) -> Decimal:
        return self.total - self.paid_amount

    @property
    def status_label(self) -> str:
        label = OrderStatus(self.status).label
        return f"{label} ({self.hold_reason})" if self.hold_reason else label


def _order_facts(order_ids: Iterable[int], *, lock: bool = False) -> dict[int, OrderFacts]:
    """What the notifications and breach reasons need, for a batch of orders in one query.
    `lock` takes the order rows FOR UPDATE (PostgreSQL), as every order change does first."""
    ids = set(order_ids)
    if not ids:
        return {}
    stmt = (
        select(Order.id, Order.number, Order.status, Order.hold_reason, Order.hold_note, Order.payment_status,
               Order.total, Order.paid_amount, Order.currency, Order.placed_at, Order.paid_at,
               Customer.name, Customer.email, Channel.name, Channel.auto_cancel_hours,
               Channel.payment_reminder_2_hours, Order.ship_name, Order.ship_line1, Order.ship_line2,
               Order.ship_postcode, Order.ship_city, Order.ship_country)
        .join(Customer, Customer.id == Order.customer_id).join(Channel, Channel.id == Order.channel_id)
        .where(_among(Order.id, ids))
    )
    if lock:
        stmt = stmt.with_for_update(of=Order)
    return {row[0]: OrderFacts(*row) for row in db.session.execute(stmt).all()}


# Reading due clocks, claiming them -------------------------------------------------------

CLOCK_COLUMNS = (SlaClock.id, SlaClock.order_id, SlaClock.kind, SlaClock.started_at, SlaClock.warn_at,
                 SlaClock.due_at, SlaClock.notice_at)


def _owed_warnings(kind: str, now: datetime) -> Select:
    return (select(*CLOCK_COLUMNS)
            .where(SlaClock.kind == kind, SlaClock.state == RUNNING, SlaClock.warned_at.is_(None),
                   SlaClock.warn_at <= now)
            .order_by(SlaClock.warn_at))


def _owed_notices(kind: str, now: datetime) -> Select:
    return (select(*CLOCK_COLUMNS)
            .where(SlaClock.kind == kind, SlaClock.state == RUNNING, SlaClock.noticed_at.is_(None),
                   SlaClock.notice_at <= now)
            .order_by(SlaClock.notice_at))


def _past_due(kind: str, now: datetime) -> Select:
    return (select(*CLOCK_COLUMNS)
            .where(SlaClock.state == RUNNING, SlaClock.due_at <= now, SlaClock.kind == kind)
            .order_by(SlaClock.due_at))


def _claim(ids: list[int], column, now: datetime) -> set[int]:
    """Set `column` (warned_at / noticed_at) on the rows where it is still empty; the ids
    this call changed. A row another process claimed first is not returned."""
    if not ids:
        return set()
    stmt = (update(SlaClock)
            .where(_among(SlaClock.id, ids), SlaClock.state == RUNNING, column.is_(None))
            .values({column.key: now}).returning(SlaClock.id).execution_options(synchronize_session=False))
    return set(db.session.execute(stmt).scalars())


def _breach(rows, facts: dict[int, OrderFacts]) -> dict[int, str]:
    """Breach the running clocks among `rows` with their true due time; id -> reason of
    the ones this call changed."""
    by_reason: dict[str, list[int]] = {}
    for row in rows:
        order = facts.get(row.order_id)
        reason = breach_reason(row.kind, status=order.status, hold_reason=order.hold_reason,
                               payment_status=order.payment_status) if order else "other"
        by_reason.setdefault(reason, []).append(row.id)
    breached: dict[int, str] = {}
    for reason, ids in by_reason.items():
        stmt = (update(SlaClock)
                .where(_among(SlaClock.id, ids), SlaClock.state == RUNNING)
                .values(state=ClockState.BREACHED.value, breached_at=SlaClock.due_at, breach_reason=reason)
                .returning(SlaClock.id).execution_options(synchronize_session=False))
        breached.update(dict.fromkeys(db.session.execute(stmt).scalars(), reason))
    return breached


def _nothing_due(*queries: Select) -> bool:
    """One cheap look (index ranges, no guard, no write transaction) before a sweep: most
    runs find nothing, and a clock that falls due just after is the next run's.

    Each query keeps its ORDER BY with LIMIT 1, which the databases answer from the index
    it is ordered by (an EXISTS may be planned as a table scan when statistics are stale)."""
    firsts = [query.with_only_columns(SlaClock.id).limit(1).scalar_subquery() for query in queries]
    found = db.session.execute(select(*firsts)).one()
    db.session.rollback()
    return all(first is None for first in found)


def _sweep(query: Callable[[], Select], handle: Callable[[list, datetime], None], now: datetime, limit: int) -> int:
    """Work through `query` in batches, one transaction per batch; rows seen."""
    seen = 0
    while seen < limit:
        session = begin_write()
        rows = session.execute(query().limit(min(BATCH, limit - seen))).all()
        if not rows:
            session.rollback()
            break
        handle(rows, now)
        session.commit()
        seen += len(rows)
        if len(rows) < BATCH:
            break
    return seen


class _Events:
    """Audit events of a batch, written with one INSERT."""

    def __init__(self, job: str, now: datetime) -> None:
        self.actor = Actor.job(job)
        self.now = now
        self.rows: list[dict] = []

    def add(self, order: OrderFacts | None, action: str, details: dict) -> None:
        if order is None:
            return
        self.rows.append({"entity_type": "order", "entity_id": order.number, "action": action,
                          "from_state": None, "to_state": None, "user_id": None, "actor": self.actor.label,
                          "created_at": self.now, "details": details})

    def write(self) -> None:
        if not self.rows:
            return
        if db.session.get_bind().dialect.name == "postgresql":
            db.session.execute(_PG_EVENTS, {
                "numbers": [r["entity_id"] for r in self.rows], "actions": [r["action"] for r in self.rows],
                "details": [json.dumps(r["details"]) for r in self.rows], "actor": self.actor.label, "at": self.now})
        else:
            db.session.connection().execute(insert(Event.__table__), self.rows)
        self.rows = []


# Many events in one statement with a handful of parameters (see notifications._PG_ENQUEUE).
_PG_EVENTS = text("""
    INSERT INTO events (entity_type, entity_id, action, actor, created_at, details)
    SELECT 'order', entity_id, action, :actor, :at, CAST(details AS json)
    FROM unnest(CAST(:numbers AS text[]), CAST(:actions AS text[]), CAST(:details AS text[]))
         AS recorded(entity_id, action, details)
""")


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _summary(tally: Counter) -> str:
    return ", ".join(f"{n} {what}" for what, n in tally.items() if n) or NOTHING_DUE


# Payment reminders ----------------------------------------------------------------------


def send_payment_reminders(now: datetime) -> str:
    """Reminder 1 at warn_at, reminder 2 at notice_at, to the customer of an unpaid order."""
    if _nothing_due(_owed_warnings(ClockKind.PAYMENT, now), _owed_notices(ClockKind.PAYMENT, now)):
        return NOTHING_DUE
    with sweep_guard("payment_reminders") as mine:
        if not mine:
            return SKIPPED
        tally: Counter = Counter()
        limit = max_per_run()
        stale = stale_after()

        def remind(number: int, column, moment_of):
            def handle(rows, now):
                claimed = _claim([r.id for r in rows], column, now)
                facts = _order_facts(r.order_id for r in rows if r.id in claimed)
                events, queued = _Events("payment_reminders", now), []
                for row in rows:
                    order = facts.get(row.order_id)
                    if row.id not in claimed or order is None:
                        continue
                    if number == 1 and row.notice_at is None:
                        _fill_second_reminder(row, order)
                    moment = moment_of(row)
                    decision = notice_decision(moment, row.due_at, now, stale)
                    details = {"reminder": number, "moment": _iso(moment), "due_at": _iso(row.due_at)}
                    if decision != NoticeDecision.SEND:
                        events.add(order, f"reminder_skipped_{decision}", details)
                        tally[f"reminder {number} skipped"] += 1
                        continue
                    kind = NotificationKind.PAYMENT_REMINDER_1 if number == 1 else NotificationKind.PAYMENT_REMINDER_2
                    subject, body = notifications.render(kind, order=order, cancel_at=row.due_at
                                                         if order.auto_cancel_hours else None)
                    queued.append({"kind": kind.value, "dedup_key": f"payment_reminder:{number}:{order.number}",
                                   "recipient": order.customer_email, "subject": subject, "body": body,
                                   "order_id": order.id})
                tally[f"reminder {number} queued"] += len(notifications.enqueue_many(queued, at=now))
                events.write()
            return handle

        _sweep(lambda: _owed_warnings(ClockKind.PAYMENT, now),
               remind(1, SlaClock.warned_at, lambda r: r.warn_at), now, limit)
        _sweep(lambda: _owed_notices(ClockKind.PAYMENT, now),
               remind(2, SlaClock.noticed_at, lambda r: r.notice_at), now, limit)
    return _summary(tally)


def _fill_second_reminder(row, order: OrderFacts) -> None:
    """A payment clock written without its second reminder time (bulk import) gets it
    from the channel when the first reminder is handled."""
    moment = order.placed_at + timedelta(hours=order.payment_reminder_2_hours)
    db.session.execute(update(SlaClock).where(SlaClock.id == row.id, SlaClock.notice_at.is_(None))
                       .values(notice_at=min(moment, row.due_at)).execution_options(synchronize_session=False))


# Auto-cancel --------------------------------------------------------------------------------


def auto_cancel_per_run() -> int:
    return current_app.config["SLA_AUTO_CANCEL_PER_RUN"]


def _cancels(order: OrderFacts | None) -> bool:
    """Whether the channel's policy cancels this order now that its payment clock breached:
    unpaid (a part payment is left for a person, who may refund it) and not yet moving."""
    return (order is not None and order.auto_cancel_hours is not None
            and order.payment_status == PaymentStatus.UNPAID
            and order.status in (OrderStatus.NEW, OrderStatus.ON_HOLD))


def cancel_unpaid_orders(now: datetime) -> str:
    """Payment clocks past due are breached with their true due time; unpaid orders of
    channels that auto-cancel are cancelled through orders.cancel, which releases their
    stock and writes the audit trail.

    Breaches that cancel nothing are recorded in bulk. A cancellation is a full order
    change in a transaction of its own, so a run makes at most SLA_AUTO_CANCEL_PER_RUN
    of them (default 100); a backlog after downtime continues on the next runs, a
    minute apart, and the clocks waiting for it show as past due on the SLA page."""
    if _nothing_due(_past_due(ClockKind.PAYMENT, now)):
        return NOTHING_DUE
    with sweep_guard("auto_cancel") as mine:
        if not mine:
            return SKIPPED
        tally: Counter = Counter()
        budget, seen, limit = auto_cancel_per_run(), 0, max_per_run()
        while seen < limit:
            session = begin_write()
            rows = session.execute(_past_due(ClockKind.PAYMENT, now).limit(BATCH)).all()
            facts = _order_facts(r.order_id for r in rows)
            to_cancel = [r for r in rows if _cancels(facts.get(r.order_id))]
            others = [r for r in rows if not _cancels(facts.get(r.order_id))]
            breached = _breach(others, facts)
            events = _Events("auto_cancel", now)
            for row in others:
                if row.id in breached:
                    events.add(facts.get(row.order_id), "clock_breached",
                               {"kind": row.kind, "due_at": _iso(row.due_at), "reason": breached[row.id]})
            events.write()
            session.commit()
            tally["payment clocks breached"] += len(breached)
            for row in to_cancel[:budget]:
                tally[_breach_and_cancel(row, now)] += 1
            budget -= min(budget, len(to_cancel))
            seen += len(rows)
            if len(rows) < BATCH or budget == 0:
                break
        if budget == 0:
            tally["left for the next run"] += _past_due_count(ClockKind.PAYMENT, now)
    tally.pop("", None)
    return _summary(tally)


def _past_due_count(kind: str, now: datetime) -> int:
    count = db.session.scalar(select(func.count()).select_from(_past_due(kind, now).subquery()))
    db.session.rollback()
    return count or 0


def _breach_and_cancel(row, now: datetime) -> str:
    """One order: lock it, breach its payment clock, queue the customer's message, cancel."""
    session = begin_write()
    order = _order_facts([row.order_id], lock=True).get(row.order_id)
    if not _cancels(order):  # paid or moved on since the batch was read
        session.rollback()
        return ""
    reason = _breach([row], {order.id: order}).get(row.id)
    if reason is None:  # another run got there first
        session.rollback()
        return ""
    events = _Events("auto_cancel", now)
    events.add(order, "clock_breached", {"kind": row.kind, "due_at": _iso(row.due_at), "reason": reason})
    events.write()
    hours = order.auto_cancel_hours
    subject, body = notifications.render(NotificationKind.AUTO_CANCELLED, order=order, hours=hours)
    notifications.enqueue_many([{"kind": NotificationKind.AUTO_CANCELLED.value,
                                 "dedup_key": f"auto_cancelled:{order.number}", "recipient": order.customer_email,
                                 "subject": subject, "body": body, "order_id": order.id}], at=now)
    try:
        orders.cancel(order.number, reason=f"unpaid after {hours} h: cancelled automatically",
                      actor=Actor.job("auto_cancel"), now=now)
    except DomainError as exc:
        session.rollback()
        _record_refused_cancel(row, now, exc)
        return "auto-cancels refused"
    return "orders auto-cancelled"


def _record_refused_cancel(row, now: datetime, exc: DomainError) -> None:
    """The cancel was refused (the rules changed under us): keep the breach, say why."""
    session = begin_write()
    facts = _order_facts([row.order_id])
    order = facts.get(row.order_id)
    events = _Events("auto_cancel", now)
    reason = _breach([row], facts).get(row.id)
    if reason is not None:
        events.add(order, "clock_breached", {"kind": row.kind, "due_at": _iso(row.due_at), "reason": reason})
    events.add(order, "auto_cancel_refused", {"message": exc.message})
    events.write()
    session.commit()


# Dispatch --------------------------------------------------------------------------------------


def sweep_dispatch(now: datetime) -> str:
    """Warn managers at dispatch_warn_pct of the window; breach and escalate at the deadline."""
    if _nothing_due(_owed_warnings(ClockKind.DISPATCH, now), _past_due(ClockKind.DISPATCH, now)):
        return NOTHING_DUE
    with sweep_guard("dispatch_sla") as mine:
        if not mine:
            return SKIPPED
        tally: Counter = Counter()
        limit = max_per_run()
        managers = functools.cache(notifications.escalation_recipients)  # read once, and only if needed
        stale = stale_after()

        def warn(rows, now):
            claimed = _claim([r.id for r in rows], SlaClock.warned_at, now)
            facts = _order_facts(r.order_id for r in rows if r.id in claimed)
            events, queued = _Events("dispatch_sla", now), []
            for row in rows:
                order = facts.get(row.order_id)
                if row.id not in claimed or order is None:
                    continue
                decision = notice_decision(row.warn_at, row.due_at, now, stale)
                details = {"kind": row.kind, "warn_at": _iso(row.warn_at), "due_at": _iso(row.due_at)}
                if decision != NoticeDecision.SEND:
                    events.add(order, f"warning_skipped_{decision}", details)
                    tally["warnings skipped"] += 1
                    continue
                subject, body = notifications.render(
                    NotificationKind.DISPATCH_WARNING, order=order, due_at=row.due_at,
                    time_left=duration_text((row.due_at - now).total_seconds()))
                queued += _to_each(managers(), NotificationKind.DISPATCH_WARNING, f"dispatch_warning:{order.number}",
                                   subject, body, order)
                tally["warnings"] += 1
            notifications.enqueue_many(queued, at=now)
            events.write()

        def breach(rows, now):
            facts = _order_facts(r.order_id for r in rows)
            breached = _breach(rows, facts)
            events, queued = _Events("dispatch_sla", now), []
            for row in rows:
                order = facts.get(row.order_id)
                if row.id not in breached or order is None:
                    continue
                reason = breached[row.id]
                events.add(order, "clock_breached", {"kind": row.kind, "due_at": _iso(row.due_at), "reason": reason})
                subject, body = notifications.render(NotificationKind.DISPATCH_BREACH, order=order,
                                                     due_at=row.due_at, reason=BREACH_REASONS[reason])
                queued += _to_each(managers(), NotificationKind.DISPATCH_BREACH, f"dispatch_breach:{order.number}",
                                   subject, body, order)
                tally["breaches"] += 1
            notifications.enqueue_many(queued, at=now)
            events.write()

        _sweep(lambda: _owed_warnings(ClockKind.DISPATCH, now), warn, now, limit)
        _sweep(lambda: _past_due(ClockKind.DISPATCH, now), breach, now, limit)
    return _summary(tally)


def _to_each(people: list[Recipient], kind: NotificationKind, key: str, subject: str, body: str,
             order: OrderFacts) -> list[dict]:
    """One notification per person; the key names the person so each gets theirs once."""
    return [{"kind": kind.value, "dedup_key": f"{key}:u{p.user_id}", "recipient": p.email, "subject": subject,
             "body": body, "order_id": order.id} for p in people]


# Holds ------------------------------------------------------------------------------------------


def sweep_holds(now: datetime) -> str:
    """Stock and address holds: the customer hears of an address problem at once (the same
    business day); a hold still open at the end of its business day is breached and
    escalated to managers."""
    if _nothing_due(_owed_notices(ClockKind.ADDRESS_HOLD, now),
                    *(q for kind in HOLD_KINDS for q in (_owed_warnings(kind, now), _past_due(kind, now)))):
        return NOTHING_DUE
    with sweep_guard("hold_deadlines") as mine:
        if not mine:
            return SKIPPED
        tally: Counter = Counter()
        limit = max_per_run()
        managers = functools.cache(notifications.escalation_recipients)  # read once, and only if needed

        def address_notice(rows, now):
            claimed = _claim([r.id for r in rows], SlaClock.noticed_at, now)
            _ask_for_address([r for r in rows if r.id in claimed], now, tally)

        def warn(rows, now):
            # A hold's warning only turns its chip amber; an address hold written without a
            # notice time (bulk import) asks the customer now instead.
            claimed = _claim([r.id for r in rows], SlaClock.warned_at, now)
            unasked = [r for r in rows if r.id in claimed and r.kind == ClockKind.ADDRESS_HOLD and r.notice_at is None]
            if unasked:
                _claim([r.id for r in unasked], SlaClock.noticed_at, now)
                _ask_for_address(unasked, now, tally)

        def breach(rows, now):
            facts = _order_facts(r.order_id for r in rows)
            breached = _breach(rows, facts)
            events, queued = _Events("hold_deadlines", now), []
            for row in rows:
                order = facts.get(row.order_id)
                if row.id not in breached or order is None:
                    continue
                events.add(order, "clock_breached",
                           {"kind": row.kind, "due_at": _iso(row.due_at), "reason": breached[row.id]})
                subject, body = notifications.render(NotificationKind.HOLD_DEADLINE, order=order,
                                                     hold_label=HOLD_LABELS[ClockKind(row.kind)],
                                                     started_at=row.started_at, due_at=row.due_at)
                queued += _to_each(managers(), NotificationKind.HOLD_DEADLINE,
                                   f"hold_deadline:{order.number}:c{row.id}", subject, body, order)
                tally["hold breaches"] += 1
            notifications.enqueue_many(queued, at=now)
            events.write()

        _sweep(lambda: _owed_notices(ClockKind.ADDRESS_HOLD, now), address_notice, now, limit)
        for kind in HOLD_KINDS:
            _sweep(lambda kind=kind: _owed_warnings(kind, now), warn, now, limit)
        for kind in HOLD_KINDS:
            _sweep(lambda kind=kind: _past_due(kind, now), breach, now, limit)
    return _summary(tally)


def _ask_for_address(rows, now: datetime, tally: Counter) -> None:
    facts = _order_facts(r.order_id for r in rows)
    queued = []
    for row in rows:
        order = facts.get(row.order_id)
        if order is None or order.hold_reason != HoldReason.ADDRESS:
            continue
        subject, body = notifications.render(NotificationKind.ADDRESS_PROBLEM, order=order)
        queued.append({"kind": NotificationKind.ADDRESS_PROBLEM.value,
                       "dedup_key": f"address_problem:{order.number}:c{row.id}", "recipient": order.customer_email,
                       "subject": subject, "body": body, "order_id": order.id})
    tally["address problems notified"] += len(notifications.enqueue_many(queued, at=now))
