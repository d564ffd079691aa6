"""The SLA jobs as the scheduler runs them: `tick(app, at)` moves time, nothing sleeps.

Each clock starts, warns, breaches, is met or stopped exactly once; reminders and
escalations reach the outbox once per dedup key, even from two schedulers at once
or after a long outage; the outbox retries, gives up, and sends again on request.
"""

from __future__ import annotations

import socketserver
import subprocess
import threading
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text

from app.domain.order_states import OrderStatus
from app.models import Event, JobLock, Notification, Order, SlaClock, StockLevel
from app.services import catalog, notifications, orders, sla_guard
from app.services.actors import Actor
from app.services.order_status import set_status
from app.services.process_owner import current_owner
from app.services.tx import begin_write
from jobs import scheduler
from jobs.scheduler import tick
from tests.services.conftest import ACTOR, NOW, order_body, stock

H = timedelta(hours=1)


# Helpers ---------------------------------------------------------------------------


def fresh(db):
    """End the test's own read transaction, so it sees what the jobs committed."""
    db.session.rollback()
    db.session.expire_all()
    return db.session


def notes(db, kind: str | None = None) -> list[Notification]:
    stmt = select(Notification).order_by(Notification.id)
    if kind:
        stmt = stmt.where(Notification.kind == kind)
    return list(fresh(db).scalars(stmt))


def keys(db, kind: str | None = None) -> list[str]:
    return [n.dedup_key for n in notes(db, kind)]


def clocks_of(db, number: str, kind: str) -> list[SlaClock]:
    order_id = fresh(db).scalar(select(Order.id).where(Order.number == number))
    return list(db.session.scalars(select(SlaClock).where(SlaClock.order_id == order_id, SlaClock.kind == kind)
                                   .order_by(SlaClock.id)))


def clock_of(db, number: str, kind: str) -> SlaClock:
    (clock,) = clocks_of(db, number, kind)
    return clock


def order_of(db, number: str) -> Order:
    return fresh(db).scalar(select(Order).where(Order.number == number))


def events(db, action: str, number: str | None = None) -> list[Event]:
    stmt = select(Event).where(Event.action == action).order_by(Event.id)
    if number:
        stmt = stmt.where(Event.entity_id == number)
    return list(fresh(db).scalars(stmt))


def place(external_id: str, at: datetime = NOW, **body) -> str:
    order, _ = orders.create_order(order_body(external_id, placed_at=at, **body), actor=ACTOR, now=at)
    return order.number


def pay(number: str, at: datetime) -> None:
    order = orders.get_order(number)
    orders.record_payment(number, order.total, method="card", actor=ACTOR, now=at)


def ship(db, number: str, at: datetime) -> None:
    """Walk the order through the floor (the shipment screens are not what is tested here)."""
    begin_write()
    order = orders.get_order(number, for_update=True)
    for target in (OrderStatus.PICKING, OrderStatus.PACKED, OrderStatus.SHIPPED):
        set_status(order, target, actor=ACTOR, at=at)
    db.session.commit()


@pytest.fixture
def managers(make_user):
    """Two active managers, one who left, and an ops person: escalations go to the first two."""
    people = [make_user("manager", email="mia@example.com"), make_user("manager", email="max@example.com")]
    gone = make_user("manager", email="gone@example.com")
    from app.services import users

    users.set_active(gone.id, False, actor=Actor.cli())
    make_user("ops")
    return people


# Payment -----------------------------------------------------------------------------


def test_unpaid_order_gets_two_reminders_then_is_cancelled_and_its_stock_released(app, db, shop):
    stock("AMS", "MUG", 5)
    number = place("A-1", lines=(("MUG", 2, "12.50"),))
    assert order_of(db, number).status == OrderStatus.NEW
    assert db.session.scalar(select(StockLevel.reserved)) == 2

    tick(app, NOW + 23 * H)
    assert keys(db) == []
    tick(app, NOW + 24 * H)
    tick(app, NOW + 24 * H + timedelta(minutes=1))  # the next run finds nothing more to do
    assert keys(db) == [f"payment_reminder:1:{number}"]
    reminder = notes(db)[0]
    assert reminder.recipient == "ada@example.com" and reminder.status == "pending"
    assert reminder.subject == f"Order {number} is waiting for your payment"
    assert "29.95 EUR" in reminder.body and "2026-03-05 10:00" in reminder.body  # cancel time, Amsterdam

    tick(app, NOW + 48 * H)
    assert keys(db) == [f"payment_reminder:1:{number}", f"payment_reminder:2:{number}"]
    assert clock_of(db, number, "payment").state == "running"

    tick(app, NOW + 72 * H + timedelta(minutes=3))
    order = order_of(db, number)
    assert order.status == OrderStatus.CANCELLED
    assert db.session.scalar(select(StockLevel.reserved)) == 0
    clock = clock_of(db, number, "payment")
    assert (clock.state, clock.breached_at, clock.breach_reason) == ("breached", NOW + 72 * H, "unpaid")
    assert keys(db, "auto_cancelled") == [f"auto_cancelled:{number}"]
    cancelled = events(db, "status_changed", number)[-1]
    assert (cancelled.to_state, cancelled.actor) == ("cancelled", "job:auto_cancel")

    tick(app, NOW + 100 * H)
    assert len(keys(db)) == 3
    assert len(events(db, "clock_breached", number)) == 1


def test_auto_cancel_makes_a_bounded_number_of_cancellations_per_run(app, db, shop):
    stock("AMS", "MUG", 10)
    numbers = [place(f"A-{i}") for i in range(3)]
    app.config["SLA_AUTO_CANCEL_PER_RUN"] = 2
    assert tick(app, NOW + 73 * H)["auto_cancel"] == "2 orders auto-cancelled, 1 left for the next run"
    assert [order_of(db, n).status for n in numbers] == ["cancelled", "cancelled", "new"]
    assert tick(app, NOW + 74 * H)["auto_cancel"] == "1 orders auto-cancelled"
    # The late one still records the deadline it missed, not when the run got to it.
    assert clock_of(db, numbers[2], "payment").breached_at == NOW + 72 * H
    assert len(keys(db, "auto_cancelled")) == 3


def test_payment_in_time_meets_the_clock_and_stops_the_reminders(app, db, shop):
    stock("AMS", "MUG", 5)
    number = place("A-1")
    tick(app, NOW + 25 * H)
    pay(number, NOW + 30 * H)
    tick(app, NOW + 49 * H)
    tick(app, NOW + 80 * H)
    assert keys(db) == [f"payment_reminder:1:{number}"]
    payment = clock_of(db, number, "payment")
    assert (payment.state, payment.met_at) == ("met", NOW + 30 * H)
    assert order_of(db, number).status == OrderStatus.READY


def test_a_partly_paid_order_breaches_but_is_left_for_a_person(app, db, shop):
    stock("AMS", "MUG", 5)
    number = place("A-1")
    orders.record_payment(number, Decimal("5.00"), method="card", actor=ACTOR, now=NOW + H)
    tick(app, NOW + 73 * H)
    assert order_of(db, number).status == OrderStatus.NEW
    clock = clock_of(db, number, "payment")
    assert (clock.state, clock.breach_reason) == ("breached", "partially_paid")
    assert keys(db, "auto_cancelled") == []


def test_a_channel_with_its_own_policy(app, db, shop):
    catalog.create_channel(code="b2b", name="Wholesale", kind="wholesale", actor=ACTOR)
    begin_write()
    from app.models import Channel

    b2b = db.session.scalar(select(Channel).where(Channel.code == "b2b"))
    b2b.payment_reminder_1_hours, b2b.payment_reminder_2_hours, b2b.auto_cancel_hours = 2, 4, None
    b2b.dispatch_sla_hours, b2b.dispatch_warn_pct = 24, 50
    db.session.commit()
    stock("AMS", "MUG", 5)
    unpaid = place("B-1", channel="b2b")
    paid = place("B-2", channel="b2b")
    pay(paid, NOW)

    tick(app, NOW + 2 * H)
    tick(app, NOW + 4 * H)
    assert keys(db) == [f"payment_reminder:1:{unpaid}", f"payment_reminder:2:{unpaid}"]
    # No auto-cancel on this channel: the clock breaches at the last reminder, the order stays.
    assert clock_of(db, unpaid, "payment").state == "breached"
    assert order_of(db, unpaid).status == OrderStatus.NEW
    assert "we will cancel" not in notes(db, "payment_reminder_2")[0].body

    dispatch = clock_of(db, paid, "dispatch")
    assert (dispatch.warn_at, dispatch.due_at) == (NOW + 12 * H, NOW + 24 * H)
    assert order_of(db, paid).ship_by == NOW + 24 * H


# Dispatch ------------------------------------------------------------------------------


def test_dispatch_warns_then_breaches_and_escalates_to_each_active_manager(app, db, shop, managers):
    stock("AMS", "MUG", 5)
    number = place("A-1")
    pay(number, NOW)
    clock = clock_of(db, number, "dispatch")
    assert (clock.started_at, clock.warn_at, clock.due_at) == (NOW, NOW + 57.6 * H, NOW + 72 * H)
    assert clock.location_id is not None

    tick(app, NOW + 57 * H)
    assert keys(db) == []
    tick(app, NOW + 58 * H)
    tick(app, NOW + 58 * H)
    assert sorted(keys(db, "dispatch_warning")) == sorted(
        [f"dispatch_warning:{number}:u{m.id}" for m in managers])
    assert {n.recipient for n in notes(db)} == {"mia@example.com", "max@example.com"}
    assert clock_of(db, number, "dispatch").warned_at == NOW + 58 * H

    tick(app, NOW + 75 * H)
    tick(app, NOW + 76 * H)
    breach = notes(db, "dispatch_breach")
    assert len(breach) == 2
    assert "not picked" in breach[0].body or "ready, not picked" in breach[0].body
    clock = clock_of(db, number, "dispatch")
    assert (clock.state, clock.breached_at, clock.breach_reason) == ("breached", NOW + 72 * H, "not_picked")

    # Shipped late: the clock stays breached and the late meeting is on record.
    ship(db, number, NOW + 80 * H)
    clock = clock_of(db, number, "dispatch")
    assert (clock.state, clock.met_at) == ("breached", NOW + 80 * H)
    (late,) = events(db, "clock_met_late", number)
    assert late.details["late_minutes"] == 8 * 60
    tick(app, NOW + 90 * H)
    assert len(notes(db, "dispatch_breach")) == 2


def test_dispatch_shipped_in_time_is_met_once(app, db, shop, managers):
    stock("AMS", "MUG", 5)
    number = place("A-1")
    pay(number, NOW)
    ship(db, number, NOW + 10 * H)
    tick(app, NOW + 100 * H)
    clock = clock_of(db, number, "dispatch")
    assert (clock.state, clock.met_at, clock.breached_at) == ("met", NOW + 10 * H, None)
    assert keys(db) == []


def test_shipping_after_the_deadline_before_any_sweep_still_counts_as_a_breach(app, db, shop, managers):
    stock("AMS", "MUG", 5)
    number = place("A-1")
    pay(number, NOW)
    ship(db, number, NOW + 73 * H)  # the scheduler was down the whole time
    clock = clock_of(db, number, "dispatch")
    assert (clock.state, clock.breached_at, clock.met_at) == ("breached", NOW + 72 * H, NOW + 73 * H)
    tick(app, NOW + 74 * H)
    assert keys(db) == []  # nothing left to escalate: the order is already on its way


# Holds ------------------------------------------------------------------------------------


def test_stock_hold_is_due_at_the_cutoff_and_escalated_when_still_open(app, db, shop, managers):
    number = place("A-1")  # no stock anywhere
    pay(number, NOW)
    order = order_of(db, number)
    assert (order.status, order.hold_reason) == (OrderStatus.ON_HOLD, "stock")
    hold = clock_of(db, number, "stock_hold")
    # Monday 09:00 UTC is 10:00 in Amsterdam: due at 16:00 CET the same day.
    assert (hold.warn_at, hold.due_at) == (datetime(2026, 3, 2, 13, tzinfo=UTC), datetime(2026, 3, 2, 15, tzinfo=UTC))

    tick(app, NOW + 5 * H)  # 14:00 UTC: warned (amber), no message
    assert clock_of(db, number, "stock_hold").warned_at == NOW + 5 * H
    assert keys(db) == []
    tick(app, NOW + 7 * H)
    hold = clock_of(db, number, "stock_hold")
    assert (hold.state, hold.breached_at, hold.breach_reason) == ("breached", hold.due_at, "stock_unresolved")
    assert len(notes(db, "hold_deadline")) == 2
    assert f"hold_deadline:{number}:c{hold.id}:u{managers[0].id}" in keys(db)

    stock("AMS", "MUG", 3)  # stock arrives the next morning: the hold clears, late
    hold = clock_of(db, number, "stock_hold")
    assert (hold.state, hold.met_at) == ("breached", NOW)  # tests.services.conftest.stock receives at NOW
    assert order_of(db, number).status == OrderStatus.READY


def test_address_problem_is_sent_to_the_customer_the_same_day_once(app, db, shop, managers):
    stock("AMS", "MUG", 5)
    number = place("A-1", postcode="XYZ")
    order = order_of(db, number)
    assert (order.status, order.hold_reason) == (OrderStatus.ON_HOLD, "address")
    hold = clock_of(db, number, "address_hold")
    assert hold.notice_at == NOW

    tick(app, NOW + timedelta(minutes=1))
    tick(app, NOW + timedelta(minutes=2))
    (message,) = notes(db, "address_problem")
    assert message.recipient == "ada@example.com"
    assert message.dedup_key == f"address_problem:{number}:c{hold.id}"
    assert "XYZ" in message.body and message.created_at.date() == NOW.date()

    orders.update_address(number, {"postcode": "1011 AB"}, actor=ACTOR, now=NOW + 2 * H)
    hold = clock_of(db, number, "address_hold")
    assert (hold.state, hold.met_at) == ("met", NOW + 2 * H)
    tick(app, NOW + 30 * H)
    assert keys(db, "hold_deadline") == []


def test_cancelling_an_order_stops_its_clocks_and_closes_its_breaches(app, db, shop):
    stock("AMS", "MUG", 5)
    late, held = place("A-1"), place("A-2", lines=(("TEE", 1, "25.00"),))
    pay(late, NOW)
    pay(held, NOW)
    tick(app, NOW + 73 * H)
    assert clock_of(db, late, "dispatch").state == "breached"
    orders.cancel(late, reason="customer changed their mind", actor=ACTOR, now=NOW + 74 * H)
    orders.cancel(held, reason="no stock coming", actor=ACTOR, now=NOW + 74 * H)
    dispatch = clock_of(db, late, "dispatch")
    assert (dispatch.state, dispatch.stopped_at, dispatch.met_at) == ("breached", NOW + 74 * H, None)
    assert clock_of(db, held, "dispatch").state == "breached"
    # Cancelling is the decision a hold waits for: the hold is resolved (late), not abandoned.
    hold = clock_of(db, held, "stock_hold")
    assert (hold.state, hold.met_at) == ("breached", NOW + 74 * H)


# Two schedulers, downtime ------------------------------------------------------------------


def _orders_due_for_reminders(count: int) -> list[str]:
    stock("AMS", "MUG", 100)
    return [place(f"R-{i}") for i in range(count)]


def _run_in_threads(app, at: datetime, n: int = 2) -> list[dict]:
    results: list[dict] = []
    barrier = threading.Barrier(n)

    def run():
        barrier.wait()
        results.append(tick(app, at))

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_two_ticks_at_the_same_time_send_each_reminder_once(app, db, shop):
    numbers = _orders_due_for_reminders(12)
    results = _run_in_threads(app, NOW + 25 * H)
    assert len(results) == 2
    assert sorted(keys(db)) == sorted(f"payment_reminder:1:{n}" for n in numbers)
    outcomes = [r["payment_reminders"] for r in results]
    assert any("12 reminder 1 queued" in o for o in outcomes), outcomes


def test_even_without_the_guard_nothing_is_sent_twice(app, db, shop, monkeypatch):
    numbers = _orders_due_for_reminders(12)

    @contextmanager
    def always_mine(name):
        yield True

    monkeypatch.setattr("app.services.sla.sweep_guard", always_mine)
    _run_in_threads(app, NOW + 25 * H, n=3)
    tick(app, NOW + 25 * H)  # whatever a failed racer left undone
    assert sorted(keys(db)) == sorted(f"payment_reminder:1:{n}" for n in numbers)


def test_a_sweep_another_scheduler_is_running_is_skipped(app, db, shop, engine_name):
    _orders_due_for_reminders(2)
    if engine_name == "postgresql":
        holder = db.engine.connect()
        holder.begin()
        holder.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": sla_guard.advisory_key("payment_reminders")})
    else:
        begin_write()
        db.session.add(JobLock(name="payment_reminders", holder="other-host:1",
                               expires_at=datetime.now(UTC) + timedelta(minutes=5)))
        db.session.commit()
    try:
        result = scheduler.run_job(app, "payment_reminders", NOW + 25 * H)
        assert result == "skipped: another scheduler is running it"
        assert keys(db) == []
    finally:
        if engine_name == "postgresql":
            holder.rollback()
            holder.close()
    if engine_name == "sqlite":
        begin_write()
        db.session.execute(text("UPDATE job_locks SET expires_at = :past"),
                           {"past": (datetime.now(UTC) - timedelta(seconds=1)).replace(tzinfo=None)})
        db.session.commit()
    assert "2 reminder 1 queued" in scheduler.run_job(app, "payment_reminders", NOW + 25 * H)


def test_a_sweep_whose_scheduler_was_killed_is_finished_by_the_next_run(app, db, shop, engine_name):
    """A killed scheduler's lease (SQLite) is taken over at once when its process is gone;
    PostgreSQL's advisory lock dies with the killed process's connection by itself."""
    if engine_name != "sqlite":
        pytest.skip("PostgreSQL releases the advisory lock when the connection drops")
    _orders_due_for_reminders(2)
    child = subprocess.Popen(["true"])
    child.wait()
    me = current_owner()
    begin_write()
    db.session.add(JobLock(name="payment_reminders", holder=f"{me['host']}:{child.pid}:1:dead",
                           expires_at=datetime.now(UTC) + timedelta(minutes=9)))
    db.session.commit()
    assert "2 reminder 1 queued" in scheduler.run_job(app, "payment_reminders", NOW + 25 * H)
    assert "queued" not in scheduler.run_job(app, "payment_reminders", NOW + 25 * H)


def test_after_a_48_hour_outage_one_tick_catches_up_once(app, db, shop, managers):
    """The scheduler last ran at T; it comes back at T + 48 h."""
    stock("AMS", "MUG", 100)
    t = NOW + 30 * H
    old = place("OLD", at=t - 30 * H)  # r1 at T-6h (sent before the outage), r2 T+18h, cancel T+42h
    mid = place("MID", at=t + 2 * H)  # r1 at T+26h: 22 h before the return, stale; r2 T+50h: later
    new = place("NEW", at=t + 24 * H)  # r1 at T+48h: now
    recent = place("RECENT", at=t - 4 * H)  # r1 at T+20h: stale; r2 at T+44h: 4 h ago, still sent
    shipping = place("SHIP", at=t - 10 * H)
    pay(shipping, t - 10 * H)  # dispatch warning at T+47.6h: sent; due T+62h
    late = place("LATE", at=t - 50 * H)
    pay(late, t - 50 * H)  # dispatch warning at T+7.6h and deadline at T+22h both passed in the outage
    tick(app, t)
    before = set(keys(db))
    assert before == {f"payment_reminder:1:{old}"}

    back = t + 48 * H
    tick(app, back)
    added = set(keys(db)) - before
    assert added == {
        f"payment_reminder:1:{new}",
        f"payment_reminder:2:{recent}",
        f"auto_cancelled:{old}",
        *(f"dispatch_warning:{shipping}:u{m.id}" for m in managers),
        *(f"dispatch_breach:{late}:u{m.id}" for m in managers),
    }
    # What was not sent is on record, with the reason.
    stale = {(e.entity_id, e.details["reminder"]) for e in events(db, "reminder_skipped_stale")}
    assert stale == {(mid, 1), (recent, 1)}
    past_due = {(e.entity_id, e.details["reminder"]) for e in events(db, "reminder_skipped_past_due")}
    assert past_due == {(old, 2)}  # it would announce a cancellation that is happening now
    assert {e.entity_id for e in events(db, "warning_skipped_past_due")} == {late}
    # Breaches carry their true due times.
    assert clock_of(db, late, "dispatch").breached_at == t + 22 * H
    assert clock_of(db, old, "payment").breached_at == t + 42 * H
    assert order_of(db, old).status == OrderStatus.CANCELLED

    count = len(keys(db))
    tick(app, back)
    tick(app, back + timedelta(minutes=1))
    assert len(keys(db)) == count


# Outbox ---------------------------------------------------------------------------------


class FakeMail:
    """A mail server for the outbox: records messages, or fails as told."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.refuse_connection = False
        self.reject: set[str] = set()

    @contextmanager
    def __call__(self):
        import smtplib

        if self.refuse_connection:
            raise ConnectionRefusedError("mail server down")

        def send(recipient, subject, body):
            if recipient in self.reject:
                raise smtplib.SMTPRecipientsRefused({recipient: (550, b"no such user")})
            self.sent.append((recipient, subject))

        yield send


def _queued(db, n: int = 1) -> list[Notification]:
    begin_write()
    notifications.enqueue_many(
        [{"kind": "payment_reminder_1", "dedup_key": f"payment_reminder:1:SO-{i:06d}", "recipient": f"c{i}@example.com",
          "subject": f"Reminder {i}", "body": "Please pay"} for i in range(1, n + 1)], at=NOW)
    db.session.commit()
    return notes(db)


def test_outbox_keeps_notifications_pending_without_smtp(app, db):
    _queued(db, 2)
    assert tick(app, NOW)["outbox"] == "not sending: SMTP is not configured (notifications stay pending)"
    assert {n.status for n in notes(db)} == {"pending"}


def test_outbox_sends_retries_with_backoff_gives_up_and_resends(app, db):
    _queued(db, 2)
    mail = FakeMail()
    mail.reject = {"c2@example.com"}
    assert notifications.send_due(NOW, transport=mail) == "sent 1, failed 1, dead 0"
    ok, bad = notes(db)
    assert (ok.status, ok.sent_at, ok.attempts) == ("sent", NOW, 1)
    assert (bad.status, bad.attempts, bad.next_attempt_at) == ("failed", 1, NOW + timedelta(minutes=1))
    assert "SMTPRecipientsRefused" in bad.last_error

    # Not before its retry time; then 2, 4, 8 minutes apart; dead after the fifth attempt.
    assert notifications.send_due(NOW + timedelta(seconds=30), transport=mail) == "sent 0, failed 0, dead 0"
    at = NOW
    for attempt, wait in ((2, 1), (3, 2), (4, 4)):
        at += timedelta(minutes=wait)
        notifications.send_due(at, transport=mail)
        bad = notes(db)[1]
        assert (bad.status, bad.attempts) == ("failed", attempt)
    mail.refuse_connection = True  # the last try cannot even connect
    notifications.send_due(at + timedelta(minutes=8), transport=mail)
    bad = notes(db)[1]
    assert (bad.status, bad.attempts, bad.next_attempt_at) == ("dead", 5, None)
    assert "mail server down" in bad.last_error
    assert mail.sent == [("c1@example.com", "Reminder 1")]

    # A person sends it again: the same row and key, pending, audited.
    mail.refuse_connection, mail.reject = False, set()
    notifications.resend(bad.id, actor=ACTOR, now=at + H)
    again = notes(db)[1]
    assert (again.status, again.attempts, again.dedup_key) == ("pending", 0, "payment_reminder:1:SO-000002")
    (audit,) = events(db, "notification_resent")
    assert (audit.from_state, audit.to_state) == ("dead", "pending")
    notifications.send_due(at + H, transport=mail)
    assert notes(db)[1].status == "sent"
    assert len(notes(db)) == 2


def test_a_send_failure_never_loses_the_notification(app, db):
    _queued(db, 3)
    mail = FakeMail()
    mail.refuse_connection = True
    assert notifications.send_due(NOW, transport=mail) == "sent 0, failed 3, dead 0"
    assert [n.status for n in notes(db)] == ["failed"] * 3


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: greets, says yes, keeps what it is given."""

    def handle(self):
        self.wfile.write(b"220 test ESMTP\r\n")
        in_data = False
        while line := self.rfile.readline():
            if in_data:
                if line == b".\r\n":
                    in_data = False
                    self.server.messages.append(b"".join(self.server.buffer))
                    self.server.buffer.clear()
                    self.wfile.write(b"250 queued\r\n")
                else:
                    self.server.buffer.append(line)
                continue
            verb = line[:4].upper()
            if verb == b"EHLO":
                self.wfile.write(b"250-test\r\n250 8BITMIME\r\n")
            elif verb == b"DATA":
                in_data = True
                self.wfile.write(b"354 go on\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


def test_outbox_job_sends_over_smtp_when_configured(app, db):
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpHandler)
    server.messages, server.buffer = [], []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=server.server_address[1], SMTP_STARTTLS=False,
                          SMTP_FROM="shop@example.com")
        _queued(db, 2)
        result = CliRunner().invoke(app.cli, ["jobs", "tick", "--at", "2026-03-02T10:00:00+01:00"])
        assert "outbox: sent 2, failed 0, dead 0" in result.output, result.output
    finally:
        server.shutdown()
        server.server_close()
    assert len(server.messages) == 2
    assert b"Subject: Reminder 1" in server.messages[0] and b"From: shop@example.com" in server.messages[0]
    assert {n.sent_at for n in notes(db)} == {NOW}


# The scheduler ------------------------------------------------------------------------------


def test_every_sla_job_is_scheduled_and_ticked(app, db):
    names = {"heartbeat", "payment_reminders", "auto_cancel", "dispatch_sla", "hold_deadlines", "outbox"}
    assert names == set(scheduler.JOBS)
    assert {job.id for job in scheduler.build_scheduler(app).get_jobs()} == names
    result = CliRunner().invoke(app.cli, ["jobs", "tick", "--at", "2026-03-02T10:00:00+01:00"])
    assert result.exit_code == 0, result.output
    for name in names - {"heartbeat", "outbox"}:
        assert f"{name}: nothing due" in result.output
    body = app.test_client().get("/healthz").json
    assert set(body["scheduler"]["jobs"]) == names


def test_tick_can_run_one_job(app, db, shop):
    _orders_due_for_reminders(1)
    runner = CliRunner()
    result = runner.invoke(app.cli, ["jobs", "tick", "--at", (NOW + 25 * H).isoformat(), "--job", "payment_reminders"])
    assert result.output.strip() == "payment_reminders: 1 reminder 1 queued"
    wrong = runner.invoke(app.cli, ["jobs", "tick", "--job", "reminders"])
    assert wrong.exit_code != 0 and "no job reminders" in wrong.output


def test_a_failing_job_is_recorded_and_does_not_stop_the_others(app, db, monkeypatch):
    def broken(now):
        raise RuntimeError("boom")

    monkeypatch.setitem(scheduler.JOBS, "dispatch_sla", (broken, 60))
    results = tick(app, NOW)
    assert results["dispatch_sla"] == "failed: boom"
    assert results["hold_deadlines"] == "nothing due"
    count = fresh(db).scalar(select(func.count()).select_from(Event))
    assert count == 0
