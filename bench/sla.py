"""SLA sweep benchmark: one full `tick` of every job over 1,000,000 orders, once with
10,000 clocks due and once with none due (DESIGN.md §8: < 2 s and < 50 ms).

    .venv/bin/python bench/sla.py                                  # temporary SQLite file
    .venv/bin/python bench/sla.py --database-url postgresql+psycopg://postgres@127.0.0.1/od_bench --reset

Orders and clocks are bulk-inserted straight into the tables (the sweeps are what is
measured, not intake). Besides the 1M settled payment clocks there are 40,000 running
clocks not yet due — half of them already warned, the rows a sweep must not re-read —
and the due ones, spread over every sweep:

    payment reminder 1 · payment reminder 2 · auto-cancel (orders.cancel per order)
    dispatch warning · dispatch breach · stock-hold breach · address-problem notice

Escalations go to 2 managers. SMTP is not configured, so the outbox job only counts
what it keeps pending. The as-of time is fixed; nothing sleeps.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.engine import make_url

from app.extensions import db
from app.models import Channel, Customer, Location, Notification, Order, SlaClock, User
from bench.lib.appsetup import is_postgres, make_app, normalise_url, rebuild_schema, sqlite_path

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)
CHUNK = 20_000
# Share of the due clocks per sweep (sums to 1).
# Auto-cancels are 1 % (100 of 10,000): one run makes at most SLA_AUTO_CANCEL_PER_RUN (100)
# of them, each a full orders.cancel; the benchmark prints their cost per order apart.
DUE_MIX = {"reminder_1": 0.2, "reminder_2": 0.2, "auto_cancel": 0.01, "dispatch_warning": 0.21,
           "dispatch_breach": 0.22, "stock_hold": 0.08, "address_notice": 0.08}
NOT_DUE_RUNNING = 40_000


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--database-url", help="a database the benchmark may fill (default: a temporary SQLite file)")
    parser.add_argument("--reset", action="store_true", help="rebuild the schema of --database-url first")
    parser.add_argument("--runs", type=int, default=5, help="repeats of the nothing-due tick (median reported)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="times the 10k-due tick runs, each from a copy of the freshly built database")
    return parser.parse_args()


class Snapshot:
    """The built database, kept aside so the tick with work due can be timed more than once
    from the same state: a file copy on SQLite, a template database on PostgreSQL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.pg = is_postgres(url)
        if self.pg:
            parsed = make_url(url)
            self.name, self.copy = parsed.database, f"{parsed.database}_snapshot"
            self.admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
        else:
            self.path = sqlite_path(url)
            self.copy_path = self.path.with_suffix(".snapshot")

    def take(self) -> None:
        if self.pg:
            with self.admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.copy}"'))
                conn.execute(text(f'CREATE DATABASE "{self.copy}" TEMPLATE "{self.name}"'))
        else:
            shutil.copyfile(self.path, self.copy_path)

    def restore(self) -> None:
        if self.pg:
            with self.admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE "{self.name}"'))
                conn.execute(text(f'CREATE DATABASE "{self.name}" TEMPLATE "{self.copy}"'))
        else:
            for suffix in ("-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            shutil.copyfile(self.copy_path, self.path)

    def drop(self) -> None:
        if self.pg:
            with self.admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.copy}"'))
            self.admin.dispose()
        else:
            self.copy_path.unlink(missing_ok=True)


def release(app) -> None:
    """Close every connection (and fold SQLite's WAL into the file) before copying."""
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.session.remove()
        db.engine.dispose()


def insert_rows(model, rows) -> None:
    for i in range(0, len(rows), CHUNK):
        db.session.execute(insert(model), rows[i:i + CHUNK])
    db.session.commit()


def build(n_orders: int, n_due: int) -> dict[str, int]:
    """Orders and clocks as of NOW; returns how many clocks each sweep has due."""
    db.session.add_all([
        Channel(code="WEB", name="Webstore"),
        Channel(code="B2B", name="Wholesale", kind="wholesale", auto_cancel_hours=None),
        Location(code="AMS", name="Amsterdam DC", timezone="Europe/Amsterdam"),
    ])
    # Managers receive the escalations; they never sign in here, so no usable password.
    db.session.add_all([User(email=f"manager{i}@bench.example", name=f"Manager {i}", role="manager",
                             password_hash="!") for i in (1, 2)])  # noqa: S106
    db.session.commit()
    web = db.session.scalar(select(Channel.id).where(Channel.code == "WEB"))
    ams = db.session.scalar(select(Location.id))
    insert_rows(Customer, [{"email": f"c{i}@bench.example", "name": f"Customer {i}", "created_at": NOW}
                           for i in range(1, 1001)])
    first_customer = db.session.scalar(select(func.min(Customer.id)))

    counts = {kind: int(n_due * share) for kind, share in DUE_MIX.items()}
    counts["reminder_1"] += n_due - sum(counts.values())
    # Order ids 1..n are assigned in insert order; the first ones carry the interesting clocks.
    plan: list[tuple[str, str, str | None]] = []  # (clock scenario, status, hold_reason) per special order
    statuses = {"stock_hold": ("on_hold", "stock"), "address_notice": ("on_hold", "address"),
                "dispatch_warning": ("ready", None), "dispatch_breach": ("ready", None)}
    for kind, n in counts.items():
        status, hold = statuses.get(kind, ("new", None))
        plan += [(kind, status, hold)] * n
    plan += [("running_not_due", "ready", None)] * NOT_DUE_RUNNING

    started = time.perf_counter()
    for start in range(0, n_orders, CHUNK):
        rows = []
        for i in range(start, min(start + CHUNK, n_orders)):
            kind, status, hold = plan[i] if i < len(plan) else ("settled", "delivered", None)
            placed = NOW - timedelta(days=3 + i % 300)
            paid = status != "new"
            rows.append({
                "number": f"SO-{i + 1:07d}", "channel_id": web, "external_id": f"E{i + 1}",
                "customer_id": first_customer + i % 1000, "content_hash": "", "source": "bench",
                "ship_name": "Bench Buyer", "ship_line1": "Damrak 1", "ship_city": "Amsterdam",
                "ship_postcode": "1011 AB", "ship_country": "NL", "address_status": "ok", "currency": "EUR",
                "prices_include_tax": True, "subtotal": Decimal("25.00"), "shipping_price": Decimal("0.00"),
                "tax_total": Decimal("4.34"), "total": Decimal("25.00"),
                "paid_amount": Decimal("25.00") if paid else Decimal("0.00"), "refunded_amount": Decimal("0.00"),
                "placed_at": placed, "paid_at": placed if paid else None, "status": status,
                "payment_status": "paid" if paid else "unpaid", "hold_reason": hold,
                "held_at": NOW - H if hold else None,
                "review_cleared": False, "priority": 0, "version": 1, "created_at": placed, "updated_at": placed,
            })
        insert_rows(Order, rows)
    print(f"  {n_orders:,} orders in {time.perf_counter() - started:.1f} s", flush=True)

    started = time.perf_counter()
    for start in range(0, n_orders, CHUNK):
        rows = []
        for i in range(start, min(start + CHUNK, n_orders)):
            kind = plan[i][0] if i < len(plan) else "settled"
            rows.append(clock_row(i + 1, kind, ams))
        insert_rows(SlaClock, rows)
    print(f"  {n_orders:,} clocks in {time.perf_counter() - started:.1f} s", flush=True)
    db.session.execute(text("ANALYZE"))  # fresh statistics on both engines, as after a real day's work
    db.session.commit()
    return counts


def clock_row(order_id: int, kind: str, ams: int) -> dict:
    base = {"order_id": order_id, "state": "running", "warned_at": None, "notice_at": None, "noticed_at": None,
            "met_at": None, "breached_at": None, "stopped_at": None, "breach_reason": None, "location_id": None}
    if kind == "settled":
        placed = NOW - timedelta(days=3 + (order_id - 1) % 300)
        return {**base, "kind": "payment", "state": "met", "started_at": placed, "warn_at": placed + 24 * H,
                "notice_at": placed + 48 * H, "due_at": placed + 72 * H, "met_at": placed}
    if kind in ("reminder_1", "reminder_2", "auto_cancel"):
        placed = NOW - {"reminder_1": 25, "reminder_2": 49, "auto_cancel": 73}[kind] * H
        return {**base, "kind": "payment", "started_at": placed, "warn_at": placed + 24 * H,
                "warned_at": placed + 24 * H if kind != "reminder_1" else None, "notice_at": placed + 48 * H,
                "noticed_at": placed + 48 * H if kind == "auto_cancel" else None, "due_at": placed + 72 * H}
    if kind in ("dispatch_warning", "dispatch_breach", "running_not_due"):
        paid = NOW - {"dispatch_warning": 58, "dispatch_breach": 73, "running_not_due": 60}[kind] * H
        warned = paid + 57.6 * H if kind == "dispatch_breach" or (kind == "running_not_due" and order_id % 2) else None
        due = paid + (72 if kind != "running_not_due" else 100) * H
        warn = paid + 57.6 * H
        if kind == "running_not_due":  # half warned an hour ago (not due for 40 h), half warned later
            warn = NOW - H if order_id % 2 else NOW + 10 * H
        return {**base, "kind": "dispatch", "started_at": paid, "warn_at": warn, "warned_at": warned, "due_at": due,
                "location_id": ams}
    if kind == "stock_hold":
        return {**base, "kind": "stock_hold", "started_at": NOW - 8 * H, "warn_at": NOW - 3 * H,
                "warned_at": NOW - 3 * H, "due_at": NOW - H, "location_id": ams}
    # address_notice: the hold began an hour ago; its deadline is later today
    return {**base, "kind": "address_hold", "started_at": NOW - H, "warn_at": NOW + 3 * H,
            "notice_at": NOW - H, "due_at": NOW + 5 * H, "location_id": ams}


def timed_tick(app, at: datetime) -> tuple[float, dict[str, str], dict[str, float]]:
    from jobs.scheduler import JOBS, run_job

    per_job, results = {}, {}
    started = time.perf_counter()
    for name in JOBS:
        t0 = time.perf_counter()
        results[name] = run_job(app, name, at)
        per_job[name] = time.perf_counter() - t0
    return time.perf_counter() - started, results, per_job


def plans(app) -> list[str]:
    """How the databases reads what the sweeps read."""
    from app.domain.enums import ClockKind
    from app.services import sla

    lines = []
    with app.app_context():
        for label, stmt in (("warnings", sla._owed_warnings(ClockKind.DISPATCH, NOW)),
                            ("notices", sla._owed_notices(ClockKind.PAYMENT, NOW)),
                            ("past due", sla._past_due(ClockKind.DISPATCH, NOW))):
            compiled = stmt.limit(500).compile(db.engine, compile_kwargs={"literal_binds": True})
            prefix = "EXPLAIN " if db.engine.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN "
            rows = db.session.execute(text(prefix + str(compiled))).all()
            lines.append(f"  {label}: " + " | ".join(str(r[-1]) for r in rows))
        db.session.remove()
    return lines


def main() -> None:
    args = parse_args()
    temp = None
    if args.database_url:
        url = normalise_url(args.database_url)
    else:
        temp = tempfile.TemporaryDirectory(prefix="od-sla-bench-")
        url = f"sqlite:///{temp.name}/sla.db"
    if args.reset or temp:
        rebuild_schema(url)
    app = make_app(url)
    engine = "PostgreSQL" if is_postgres(url) else "SQLite"
    print(f"SLA sweeps on {engine}: {args.orders:,} orders, {args.due:,} clocks due", flush=True)
    with app.app_context():
        if db.session.scalar(select(func.count()).select_from(Order)):
            raise SystemExit("the database is not empty: pass --reset")
        counts = build(args.orders, args.due)
        db.session.remove()
    print("  due: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    print("\n".join(plans(app)))

    snapshot = Snapshot(url)
    release(app)
    snapshot.take()
    fulls = []
    for attempt in range(args.repeat):
        if attempt:
            release(app)
            snapshot.restore()
        full, results, per_job = timed_tick(app, NOW)
        fulls.append(full)
        print(f"\nfull tick with {args.due:,} due, run {attempt + 1}: {full:.2f} s  (target < 2 s)")
        for name in per_job:
            print(f"  {name:18} {per_job[name] * 1000:8.0f} ms  {results[name]}")
    per_job_first = per_job
    release(app)
    snapshot.drop()
    fulls.sort()
    print(f"\nfull tick with {args.due:,} due: median {fulls[len(fulls) // 2]:.2f} s of {args.repeat} "
          f"(min {fulls[0]:.2f}, max {fulls[-1]:.2f})")

    idle = sorted(timed_tick(app, NOW + timedelta(seconds=30 * (i + 1)))[0] for i in range(args.runs))
    _, results, per_job = timed_tick(app, NOW + timedelta(minutes=5))
    print(f"\nfull tick with nothing due: median {idle[len(idle) // 2] * 1000:.1f} ms of {args.runs} "
          f"(min {idle[0] * 1000:.1f}, max {idle[-1] * 1000:.1f})  (target < 50 ms)")
    for name in per_job:
        print(f"  {name:18} {per_job[name] * 1000:8.1f} ms  {results[name]}")
    with app.app_context():
        queued = db.session.scalar(select(func.count()).select_from(Notification))
        cancelled = db.session.scalar(select(func.count()).select_from(Order).where(Order.status == "cancelled"))
        db.session.remove()
        db.engine.dispose()
    print(f"\nnotifications queued: {queued:,}; orders auto-cancelled: {cancelled:,} "
          f"({per_job_first['auto_cancel'] * 1000 / max(cancelled, 1):.1f} ms each, with their breach and message)")
    if temp:
        temp.cleanup()


if __name__ == "__main__":
    main()
