"""`flask demo seed`: realistic demo data in which every number adds up.

Each invariant is checked with SQL over the whole data set: a query returns
the rows that break it, and the test expects none.
"""

from __future__ import annotations

import re
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text

from app.domain.order_states import HoldReason, OrderStatus
from app.domain.sla import same_day_hold_deadline
from app.models import Base, Channel, Invoice, Order, OrderLine, SlaClock
from app.services import clocks, demo, users
from app.services.numbering import next_number
from app.services.tx import begin_write
from tests.factories import make_order

N_ORDERS = 300


@pytest.fixture
def seeded(app, db):
    return demo.seed(n_orders=N_ORDERS, seed=7)


def rows(db, sql: str, **params) -> list:
    """The rows of a raw query; invariant checks select what breaks the rule and expect none."""
    return list(db.session.execute(text(sql), params))


def count(db, table: str) -> int:
    return db.session.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()


# --- The board ----------------------------------------------------------------------------------


def test_every_status_and_every_hold_reason_appears(seeded, db):
    statuses = dict(db.session.execute(select(Order.status, func.count()).group_by(Order.status)).all())
    holds = dict(db.session.execute(
        select(Order.hold_reason, func.count()).where(Order.hold_reason.is_not(None)).group_by(Order.hold_reason)
    ).all())
    assert set(statuses) == set(OrderStatus.values())
    assert set(holds) == set(HoldReason.values())
    assert sum(statuses.values()) == N_ORDERS
    assert rows(db, "SELECT id FROM orders WHERE (status = 'on_hold') <> (hold_reason IS NOT NULL)") == []


def test_reference_data_is_realistic(seeded, db):
    channels = dict(db.session.execute(select(Channel.code, Channel.kind)).all())
    assert sorted(channels.values()) == ["marketplace", "marketplace", "webstore", "wholesale"]
    assert count(db, "products") >= 200
    locations = rows(db, "SELECT code, timezone, regions FROM locations")
    assert len(locations) >= 3
    assert {tz for _, tz, _ in locations} >= {"Europe/Amsterdam", "Europe/Berlin", "America/New_York"}
    # Stock is uneven: not every product everywhere, some levels empty, some low.
    n_products, n_locations = count(db, "products"), len(locations)
    assert count(db, "stock_levels") < n_products * n_locations
    assert rows(db, "SELECT id FROM stock_levels WHERE on_hand - reserved = 0")
    assert rows(db, "SELECT s.id FROM stock_levels s JOIN products p ON p.id = s.product_id "
                      "WHERE s.on_hand - s.reserved BETWEEN 1 AND COALESCE(s.reorder_point, p.reorder_point)")
    bins = [b for (b,) in rows(db, "SELECT bin FROM stock_levels")]
    assert all(re.fullmatch(r"[A-Z]-\d{2}-\d", b) for b in bins)


# --- Stock --------------------------------------------------------------------------------------


def test_on_hand_is_the_sum_of_the_ledger_and_reserved_the_sum_of_allocations(seeded, db):
    assert rows(db, """
        SELECT l.id FROM stock_levels l
        LEFT JOIN (SELECT product_id, location_id, SUM(qty) AS q FROM stock_moves GROUP BY product_id, location_id) m
               ON m.product_id = l.product_id AND m.location_id = l.location_id
        WHERE l.on_hand <> COALESCE(m.q, 0)""") == []
    assert rows(db, """
        SELECT l.id FROM stock_levels l
        LEFT JOIN (SELECT product_id, location_id, SUM(qty) AS q FROM allocations GROUP BY product_id, location_id) a
               ON a.product_id = l.product_id AND a.location_id = l.location_id
        WHERE l.reserved <> COALESCE(a.q, 0)""") == []
    assert rows(db, "SELECT id FROM stock_levels WHERE reserved < 0 OR reserved > on_hand") == []
    # Allocations only where a level exists.
    assert rows(db, """
        SELECT a.id FROM allocations a LEFT JOIN stock_levels l
               ON l.product_id = a.product_id AND l.location_id = a.location_id WHERE l.id IS NULL""") == []


def test_the_ledger_starts_with_a_receipt_and_never_goes_below_zero(seeded, db):
    firsts = rows(db, """
        SELECT m.kind FROM stock_moves m
        JOIN (SELECT product_id, location_id, MIN(id) AS first_id FROM stock_moves GROUP BY product_id, location_id) f
          ON f.first_id = m.id""")
    assert firsts and {kind for (kind,) in firsts} == {"receipt"}
    assert len(firsts) == count(db, "stock_levels")
    assert rows(db, """
        SELECT * FROM (
          SELECT SUM(qty) OVER (PARTITION BY product_id, location_id ORDER BY created_at, id) AS balance
          FROM stock_moves) running
        WHERE balance < 0""") == []
    # Shipment moves point at their order and shipment and carry the order number.
    assert rows(db, """
        SELECT m.id FROM stock_moves m LEFT JOIN orders o ON o.id = m.order_id
        LEFT JOIN shipments s ON s.id = m.shipment_id
        WHERE m.kind = 'shipment' AND (o.id IS NULL OR s.order_id <> o.id OR m.reference <> o.number OR m.qty >= 0
                                       OR s.status NOT IN ('shipped', 'delivered'))""") == []


def test_order_lines_agree_with_allocations_and_shipments(seeded, db):
    assert rows(db, """
        SELECT ol.id FROM order_lines ol
        LEFT JOIN (SELECT order_line_id, SUM(qty) AS q FROM allocations GROUP BY order_line_id) a
               ON a.order_line_id = ol.id
        WHERE ol.qty_allocated <> COALESCE(a.q, 0)""") == []
    assert rows(db, """
        SELECT ol.id FROM order_lines ol
        LEFT JOIN (SELECT sl.order_line_id, SUM(sl.qty) AS q FROM shipment_lines sl
                   JOIN shipments s ON s.id = sl.shipment_id WHERE s.status IN ('shipped', 'delivered')
                   GROUP BY sl.order_line_id) shipped ON shipped.order_line_id = ol.id
        WHERE ol.qty_shipped <> COALESCE(shipped.q, 0)""") == []
    assert rows(db, "SELECT id FROM order_lines WHERE qty_allocated + qty_shipped > qty OR qty < 1 "
                      "OR line_no < 1 OR line_no > 4") == []


def test_each_status_has_the_reservations_and_shipments_it_implies(seeded, db):
    per_order = """
        SELECT o.id, o.status, o.hold_reason, SUM(ol.qty) AS qty, SUM(ol.qty_allocated) AS allocated,
               SUM(ol.qty_shipped) AS shipped
        FROM orders o JOIN order_lines ol ON ol.order_id = o.id GROUP BY o.id, o.status, o.hold_reason"""
    for order_id, status, hold, qty, allocated, shipped in rows(db, per_order):
        state = (order_id, status, hold, qty, allocated, shipped)
        if status in ("ready", "picking", "packed", "new") or (status == "on_hold" and hold != "stock"):
            assert (allocated, shipped) == (qty, 0), state
        elif status == "on_hold":  # stock: partly allocated or not at all
            assert allocated < qty and shipped == 0, state
        elif status == "partially_shipped":
            assert 0 < shipped < qty and allocated == qty - shipped, state
        elif status in ("shipped", "delivered"):
            assert (allocated, shipped) == (0, qty), state
        else:
            assert (allocated, shipped) == (0, 0), state
    # Shipments match the order's status; what has left has a carrier and a tracking number.
    expected = {"picking": {"picking"}, "packed": {"packed"}, "partially_shipped": {"shipped"},
                "shipped": {"shipped"}, "delivered": {"delivered"}}
    found = defaultdict(set)
    for status, shipment_status in rows(db, "SELECT o.status, s.status FROM shipments s "
                                              "JOIN orders o ON o.id = s.order_id"):
        found[status].add(shipment_status)
    assert dict(found) == expected
    assert rows(db, "SELECT id FROM shipments WHERE status IN ('packed', 'shipped', 'delivered') "
                      "AND (carrier IS NULL OR tracking_number IS NULL)") == []
    assert rows(db, "SELECT o.id FROM orders o WHERE o.status IN ('picking', 'packed', 'shipped', 'delivered', "
                      "'partially_shipped') AND NOT EXISTS (SELECT 1 FROM shipments s WHERE s.order_id = o.id)") == []
    assert rows(db, "SELECT a.id FROM allocations a JOIN orders o ON o.id = a.order_id "
                      "WHERE o.status IN ('cancelled', 'shipped', 'delivered')") == []


def test_picking_orders_are_in_an_open_wave_at_their_location(seeded, db):
    assert rows(db, """
        SELECT s.id FROM shipments s JOIN orders o ON o.id = s.order_id LEFT JOIN waves w ON w.id = s.wave_id
        WHERE o.status = 'picking' AND (w.id IS NULL OR w.location_id <> s.location_id OR w.status <> 'open'
                                        OR s.status <> 'picking')""") == []
    assert rows(db, "SELECT s.id FROM shipments s LEFT JOIN waves w ON w.id = s.wave_id "
                      "WHERE w.id IS NULL OR w.location_id <> s.location_id OR w.created_at > s.created_at") == []
    assert all(re.fullmatch(r"W-\d{6}", n) for (n,) in rows(db, "SELECT number FROM waves"))
    assert rows(db, "SELECT id FROM waves WHERE status = 'done' AND completed_at IS NULL") == []


# --- Money --------------------------------------------------------------------------------------


def _tax(gross: Decimal, rate: Decimal) -> Decimal:
    return (gross * rate / (100 + rate)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def test_totals_are_consistent_and_prices_come_from_the_catalogue(seeded, db):
    orders = db.session.scalars(select(Order)).all()
    catalogue = dict(db.session.execute(text("SELECT id, sku FROM products")).all())
    for order in orders:
        subtotal = sum((line.unit_price * line.qty for line in order.lines), Decimal("0"))
        assert order.subtotal == subtotal, order.number
        assert order.total == subtotal + order.shipping_price, order.number
        assert order.tax_total == sum(_tax(line.unit_price * line.qty, line.tax_rate) for line in order.lines)
        assert order.currency == ("USD" if order.ship_country == "US" else "EUR")
        assert 1 <= len(order.lines) <= 4
        for line in order.lines:
            assert line.unit_price == line.product.unit_price and catalogue[line.product_id] == line.sku
            assert isinstance(line.unit_price, Decimal)


def test_payment_status_follows_payments_and_refunds(seeded, db):
    assert rows(db, """
        SELECT o.id FROM orders o
        LEFT JOIN (SELECT order_id, SUM(amount) AS a FROM payments GROUP BY order_id) p ON p.order_id = o.id
        LEFT JOIN (SELECT order_id, SUM(amount) AS a FROM refunds GROUP BY order_id) r ON r.order_id = o.id
        WHERE o.paid_amount <> COALESCE(p.a, 0) OR o.refunded_amount <> COALESCE(r.a, 0)""") == []
    money = rows(db, "SELECT number, status, hold_reason, payment_status, paid_amount, refunded_amount, total, "
                     "paid_at FROM orders")
    for number, status, hold, payment_status, paid, refunded, total, paid_at in money:
        if refunded:
            expected = "refunded" if refunded == paid else "partially_refunded"
        elif paid == 0:
            expected = "unpaid"
        else:
            expected = "paid" if paid >= total else "partially_paid"
        assert payment_status == expected, number
        assert (paid_at is not None) == (paid >= total and paid > 0), number
        if status == "new":
            assert payment_status == "unpaid", number
        if status in ("ready", "picking", "packed", "partially_shipped", "shipped", "delivered"):
            assert payment_status == "paid", number
        if hold == "payment":
            assert payment_status == "partially_paid", number
    sla = dict(db.session.execute(select(Channel.id, Channel.dispatch_sla_hours)).all())
    for order in db.session.scalars(select(Order).where(Order.paid_at.is_not(None))):
        assert order.ship_by == order.paid_at + timedelta(hours=sla[order.channel_id]), order.number


def test_one_invoice_per_shipment_that_left_in_a_gapless_series(seeded, db):
    assert rows(db, """
        SELECT s.id FROM shipments s LEFT JOIN invoices i ON i.shipment_id = s.id AND i.kind = 'invoice'
        WHERE (s.status IN ('shipped', 'delivered')) <> (i.id IS NOT NULL)""") == []
    invoices = db.session.scalars(select(Invoice).order_by(Invoice.issued_at, Invoice.id)).all()
    assert invoices
    per_year: dict[int, list[int]] = defaultdict(list)
    for inv in invoices:
        match = re.fullmatch(r"INV-(\d{4})-(\d{6})", inv.number)
        assert match, inv.number
        year, seq = match.groups()
        assert int(year) == inv.issued_at.year
        per_year[int(year)].append(int(seq))
        snap = inv.snapshot
        assert {"seller", "buyer", "ship_to", "lines", "taxes", "totals"} <= set(snap)
        assert snap["number"] == inv.number and Decimal(snap["totals"]["total"]) == inv.total
        assert sum(Decimal(t["tax"]) for t in snap["taxes"]) == inv.tax_total == Decimal(snap["totals"]["tax"])
        assert sum(Decimal(x["total"]) for x in snap["lines"]) == inv.total == inv.net_total + inv.tax_total
    counters = dict(db.session.execute(text("SELECT name, value FROM counters WHERE name LIKE 'invoice:%'")).all())
    for year, seqs in per_year.items():
        assert seqs == list(range(1, len(seqs) + 1))  # issue order, no gaps
        assert counters[f"invoice:{year}"] == len(seqs)
    # A fully shipped order is invoiced for exactly its total.
    invoiced = Counter()
    for inv in invoices:
        invoiced[inv.order_id] += inv.total
    for order in db.session.scalars(select(Order).where(Order.status.in_(["shipped", "delivered"]))):
        assert invoiced[order.id] == order.total, order.number


# --- SLA clocks, audit, numbers, time -----------------------------------------------------------


def test_sla_clocks(seeded, db):
    h = timedelta(hours=1)
    clocks: dict[int, dict[str, SlaClock]] = defaultdict(dict)
    for clock in db.session.scalars(select(SlaClock)):
        assert clock.kind not in clocks[clock.order_id], "one clock of a kind per order"
        clocks[clock.order_id][clock.kind] = clock
        ends = [clock.met_at, clock.breached_at, clock.stopped_at]
        assert len([t for t in ends if t is not None]) == (clock.state != "running"), clock.id
    for order in db.session.scalars(select(Order)):
        mine = clocks[order.id]
        if order.status == "new":
            payment = mine["payment"]
            assert payment.state == "running", order.number
            assert (payment.due_at, payment.warn_at) == (order.placed_at + 72 * h, order.placed_at + 24 * h)
        if order.paid_at is not None:
            expected = {"shipped": {"met", "breached"}, "delivered": {"met", "breached"},
                        "cancelled": {"stopped"}}.get(order.status, {"running", "breached"})
            assert mine["dispatch"].state in expected, order.number
            assert (mine["dispatch"].started_at, mine["dispatch"].due_at) == (order.paid_at, order.ship_by)
        else:
            assert "dispatch" not in mine, order.number
        if order.hold_reason in ("stock", "address"):
            assert mine[f"{order.hold_reason}_hold"].started_at == order.held_at, order.number
    dispatch = Counter(c["dispatch"].state for c in clocks.values() if "dispatch" in c)
    assert dispatch["met"] > dispatch["breached"] > 0 and dispatch["running"] > 0


def test_hold_deadlines_are_the_ones_the_app_computes(seeded, db):
    """A seeded stock or address hold is due when the live app (app.services.clocks) would
    have made it due: the cut-off of that business day in the calendar of the order's home
    location; an address hold also has its customer message due at once."""
    holds = db.session.execute(
        select(Order, SlaClock).join(SlaClock, SlaClock.order_id == Order.id)
        .where(SlaClock.kind.in_(["stock_hold", "address_hold"]))
    ).all()
    assert {clock.kind for _, clock in holds} == {"stock_hold", "address_hold"}
    for order, clock in holds:
        location = clocks.home_location(order)
        expected = same_day_hold_deadline(order.held_at, clocks.calendar_of(location),
                                          notify_customer=clock.kind == "address_hold")
        assert (clock.started_at, clock.warn_at, clock.due_at, clock.notice_at) == (
            order.held_at, expected.warn_at, expected.due_at, expected.notice_at), order.number
        # What the SLA chip shows: due at the location's dispatch cut-off, not at midnight.
        assert f"{clock.due_at.astimezone(ZoneInfo(location.timezone)):%H:%M}" == location.cutoff_time
        assert (clock.notice_at is not None) == (clock.kind == "address_hold")


def test_every_order_has_its_creation_event(seeded, db):
    assert rows(db, """
        SELECT o.id FROM orders o WHERE NOT EXISTS (
          SELECT 1 FROM events e WHERE e.entity_type = 'order' AND e.entity_id = o.number
             AND e.action = 'order_created' AND e.actor = 'demo' AND e.created_at = o.placed_at)""") == []
    # Status changes were logged too: every non-new order has at least one.
    assert rows(db, """
        SELECT o.id FROM orders o WHERE o.status <> 'new' AND NOT EXISTS (
          SELECT 1 FROM events e WHERE e.entity_type = 'order' AND e.entity_id = o.number
             AND e.action = 'status_changed' AND e.to_state = o.status)""") == []


def test_readable_numbers_continue_after_the_demo(seeded, db):
    numbers = [n for (n,) in rows(db, "SELECT number FROM orders ORDER BY placed_at, id")]
    assert numbers == [f"SO-{i:06d}" for i in range(1, N_ORDERS + 1)]
    n_shipments, n_waves = count(db, "shipments"), count(db, "waves")
    begin_write()
    assert next_number("order") == f"SO-{N_ORDERS + 1:06d}"
    assert next_number("shipment") == f"SH-{n_shipments + 1:06d}"
    assert next_number("wave") == f"W-{n_waves + 1:06d}"
    db.session.rollback()
    # Primary keys too: a plain insert after the demo gets a fresh id.
    begin_write()
    db.session.add(Channel(code="pos-demo", name="Shop till"))
    db.session.commit()


def test_times_are_in_order_and_in_the_past(seeded, db):
    now = datetime.now(UTC)
    for o in db.session.scalars(select(Order)):
        steps = [t for t in (o.placed_at, o.paid_at, o.shipped_at, o.delivered_at) if t is not None]
        assert steps == sorted(steps) and steps[-1] <= now, o.number
        assert now - o.placed_at <= timedelta(days=61), o.number
        assert o.placed_at.tzinfo is not None
        if o.cancelled_at:
            assert o.placed_at <= o.cancelled_at <= now


POSTCODES = {"NL": r"[1-9]\d{3} [A-Z]{2}", "BE": r"\d{4}", "AT": r"\d{4}", "DE": r"\d{5}", "FR": r"\d{5}",
             "US": r"\d{5}", "GB": r"[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}"}


def test_customers_live_where_the_locations_ship(seeded, db):
    addresses = rows(db, "SELECT ship_country, ship_postcode, ship_city, ship_line1 FROM orders")
    assert {country for country, *_ in addresses} <= set(POSTCODES)
    for country, postcode, city, line1 in addresses:
        assert re.fullmatch(POSTCODES[country], postcode), (country, postcode)
        assert city and line1
    emails = [e for (e,) in rows(db, "SELECT email FROM customers")]
    assert all(re.fullmatch(r"[a-z0-9.]+@example\.(com|net|org)", e) for e in emails)
    assert rows(db, "SELECT id FROM orders WHERE ship_country = 'US' AND ship_region IS NULL") == []


# --- Running it again, users, determinism -----------------------------------------------------------


def test_a_second_run_changes_nothing(seeded, db):
    tables = [t.name for t in Base.metadata.sorted_tables]
    before = {t: count(db, t) for t in tables}
    again = demo.seed(n_orders=N_ORDERS, seed=7)
    assert "already" in again[0]
    assert {t: count(db, t) for t in tables} == before
    assert any("admin@orderdeck.example" in line for line in again)


def test_demo_users_can_sign_in_with_the_printed_passwords(seeded, db):
    credentials = [re.search(r"(\S+@\S+) / (\S+)", line) for line in seeded]
    credentials = [m.groups() for m in credentials if m]
    assert len(credentials) == 4
    roles = set()
    for email, password in credentials:
        user = users.authenticate(email, password)
        assert user is not None, email
        roles.add(user.role)
    assert roles == {"admin", "ops", "finance", "manager"}


def _fingerprint(db) -> list[tuple]:
    return [tuple(row) for row in db.session.execute(
        select(Order.number, Order.external_id, Order.status, Order.hold_reason, Order.total, Order.ship_postcode,
               func.count(OrderLine.id))
        .join(OrderLine, OrderLine.order_id == Order.id).group_by(Order.id).order_by(Order.number))]


def _wipe(db) -> None:
    db.session.remove()
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            for seq in ("seq_order_number", "seq_shipment_number", "seq_return_number", "seq_wave_number"):
                conn.execute(text(f"ALTER SEQUENCE {seq} RESTART WITH 1"))
        else:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))


def test_seeding_beside_existing_orders_continues_their_numbers(app, db):
    existing = make_order()
    demo.seed(n_orders=40, seed=3)
    numbers = sorted(n for (n,) in rows(db, "SELECT number FROM orders"))
    assert existing.number == "SO-000001"
    assert numbers == [f"SO-{i:06d}" for i in range(1, 42)]
    assert rows(db, "SELECT status FROM orders WHERE number = 'SO-000001'") == [("new",)]


def test_the_same_seed_gives_the_same_orders(app, db):
    demo.seed(n_orders=120, seed=11)
    first = _fingerprint(db)
    _wipe(db)
    demo.seed(n_orders=120, seed=11)
    assert _fingerprint(db) == first
    _wipe(db)
    demo.seed(n_orders=120, seed=12)
    assert _fingerprint(db) != first


def test_the_shape_does_not_depend_on_the_clock():
    """Only times move with the reference "now"; which orders exist and what they hold do not."""
    def shape(anchor):
        world = demo.build_world(150, 5, anchor=anchor)
        return [(o.external_id, o.status, o.hold_reason, o.total, [(li.product.sku, li.qty) for li in o.lines],
                 [s.location for s in o.shipments]) for o in world.orders]

    assert shape(datetime(2026, 3, 1, 9, tzinfo=UTC)) == shape(datetime(2027, 1, 2, 23, tzinfo=UTC))


@pytest.mark.slow
def test_ten_thousand_orders(app, db, capsys):
    started = time.perf_counter()
    demo.seed(n_orders=10_000, seed=42)
    elapsed = time.perf_counter() - started
    assert count(db, "orders") == 10_000
    with capsys.disabled():
        print(f"\n[demo seed] 10,000 orders on {db.engine.dialect.name}: {elapsed:.1f} s")
