"""Writing planned orders with a handful of multi-row INSERTs per chunk instead of an
ORM flush per order; the caller's transaction holds everything until it commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.dialects import postgresql, sqlite

from app.domain.numbering import format_number
from app.extensions import db
from app.models import Allocation, Customer, Event, Order, OrderLine, Payment, SlaClock
from app.services.numbering import SEQUENCES
from app.services.order_import.checks import IN_CHUNK, chunked
from app.services.order_import.plan import PlannedOrder


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def reserve_order_numbers(count: int) -> list[str]:
    """`count` order numbers in one statement, ascending (app.services.numbering hands
    out one at a time from the same sequence / counter row)."""
    if count == 0:
        return []
    session = db.session
    if _dialect() == "postgresql":
        values = sorted(session.scalars(
            text(f"SELECT nextval('{SEQUENCES['order']}') FROM generate_series(1, :n)"), {"n": count}
        ).all())
    else:
        # SQLite: the import's IMMEDIATE transaction already excludes every other writer.
        last = session.execute(
            text("UPDATE counters SET value = value + :n WHERE name = 'order' RETURNING value"), {"n": count}
        ).scalar()
        if last is None:
            session.execute(text("INSERT INTO counters (name, value) VALUES ('order', :n)"), {"n": count})
            last = count
        values = range(int(last) - count + 1, int(last) + 1)
    return [format_number("order", int(v)) for v in values]


def upsert_customers(people: dict[str, str], *, now: datetime) -> dict[str, int]:
    """e-mail (lower-case) -> customer id, creating the missing ones with the given name.
    Existing customers keep their name, as with app.services.orders.upsert_customer."""
    ids = _customer_ids(people)
    missing = [{"email": email, "name": name, "created_at": now} for email, name in people.items() if email not in ids]
    if missing:
        dialect_insert = postgresql.insert if _dialect() == "postgresql" else sqlite.insert
        # DO NOTHING: a customer created by a concurrent intake meanwhile is simply reused.
        stmt = dialect_insert(Customer.__table__).on_conflict_do_nothing(index_elements=["email"])
        for chunk in chunked(missing, 1000):
            db.session.execute(stmt, list(chunk))
        ids.update(_customer_ids({row["email"]: "" for row in missing}))
    return ids


def _customer_ids(emails: Iterable[str]) -> dict[str, int]:
    ids = {}
    for chunk in chunked(sorted(emails), IN_CHUNK):
        ids.update({email: cid for cid, email in db.session.execute(
            select(Customer.id, Customer.email).where(Customer.email.in_(chunk)))})
    return ids


def reserve_ids(table: str, count: int) -> list[int]:
    """Primary keys for `count` new rows, so that lines, allocations, payments and clocks
    can name their order without a RETURNING round trip."""
    if count == 0:
        return []
    if _dialect() == "postgresql":
        return list(db.session.scalars(
            text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"),
            {"table": table, "n": count}))
    # SQLite hands out max(id) + 1 itself; the import's IMMEDIATE transaction keeps every
    # other writer out until it commits, so nobody else can take these.
    last = db.session.scalar(text(f"SELECT coalesce(max(id), 0) FROM {table}"))
    return list(range(int(last) + 1, int(last) + count + 1))


def _insert(model, rows: list[dict]) -> None:
    """Insert rows that all have the same keys.

    PostgreSQL: COPY, values prepared by the columns' own types (Money, UTCDateTime, JSON).
    A multi-row INSERT there makes the driver parse a megabyte of SQL per page, and the
    server plan each page; COPY streams the rows.
    SQLite: one executemany INSERT (Core, not the ORM's bulk insert, which splits the rows
    into a batch per set of non-None keys)."""
    if not rows:
        return
    table = model.__table__
    if _dialect() != "postgresql":
        db.session.execute(table.insert(), rows)
        return
    dialect = db.session.get_bind().dialect
    columns = [table.c[key] for key in rows[0]]
    prepare = [(c.key, c.type._cached_bind_processor(dialect)) for c in columns]
    sql = f"COPY {table.name} ({', '.join(c.name for c in columns)}) FROM STDIN"
    raw = db.session.connection().connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row([_plain(proc(row[key]) if proc else row[key]) for key, proc in prepare])


def _plain(value):
    # Enum members go in as their values (str subclasses; the driver's Enum dumper
    # would write their names).
    return str(value) if isinstance(value, str) and type(value) is not str else value


def write(planned: list[PlannedOrder]) -> None:
    order_ids = reserve_ids("orders", len(planned))
    line_ids = iter(reserve_ids("order_lines", sum(len(p.lines) for p in planned)))
    orders, lines, allocations, payments, clocks, events = [], [], [], [], [], []
    for p, order_id in zip(planned, order_ids, strict=True):
        orders.append({"id": order_id, **p.order})
        ids = []
        for line in p.lines:
            ids.append(next(line_ids))
            lines.append({"id": ids[-1], **line, "order_id": order_id})
        allocations.extend({**allocation, "order_id": order_id, "order_line_id": ids[index]}
                           for index, allocation in p.allocations)
        if p.payment is not None:
            payments.append({**p.payment, "order_id": order_id})
        clocks.extend({**clock, "order_id": order_id} for clock in p.clocks)
        events.extend(p.events)
    for model, rows in ((Order, orders), (OrderLine, lines), (Allocation, allocations), (Payment, payments),
                        (SlaClock, clocks), (Event, events)):
        _insert(model, rows)
