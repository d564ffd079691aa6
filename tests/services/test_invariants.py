"""Invariants under random operations (issue #9): a hypothesis state machine drives the real
services — intake, payments, cancellations, allocation, stock moves, waves, packing,
shipping, returns, refunds and the credit notes they issue — in random order, and after
every step checks what must never break:

- every stock level equals its ledger, reserved equals live allocations, nothing negative
  (`flask stock verify`'s own check);
- each order's status agrees with its lines, allocations and shipments;
- money: never refunded more than paid, payment status follows the amounts;
- invoice and credit-note series have no gaps and no duplicates;
- every status an order or return is in was reached by an audited state change.

It runs on SQLite and PostgreSQL like every database test. Refusals (DomainError) are part
of the game: a refused step must leave everything as it was, which the invariants check.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from itertools import count

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from sqlalchemy import func, select

from app.domain.errors import DomainError
from app.extensions import db
from app.models import Allocation, Event, Invoice, Location, Order, OrderLine, Return, Shipment
from app.services import inventory, orders, stock_verify
from app.services import returns as returns_service
from app.services.fulfillment import shipping, waves
from tests.conftest import _empty_all_tables
from tests.fulfillment_scenes import UPS, pack_all
from tests.services.conftest import ACTOR, NOW, build_shop, order_body

SKUS = st.sampled_from(["MUG", "TEE", "CAP"])
LOCATIONS = st.sampled_from(["AMS", "LEJ"])
PRICES = {"MUG": "12.50", "TEE": "25.00", "CAP": "15.00"}
OPEN_BEFORE_SHIPPING = {"new", "on_hold", "ready", "picking", "packed"}


def _order(number: str) -> Order | None:
    return db.session.scalar(select(Order).where(Order.number == number))


def test_random_operations_keep_every_invariant(app, migrated):
    ids = count()
    clock = count(1)

    def now():
        return NOW + timedelta(minutes=next(clock))

    class Shop(RuleBasedStateMachine):

        def __init__(self):
            # Every example starts from the same empty shop, so a failure replays exactly.
            super().__init__()
            db.session.remove()
            _empty_all_tables(migrated)
            build_shop()
            for location in ("AMS", "LEJ"):
                for sku in PRICES:
                    inventory.receive(location=location, sku=sku, qty=6, actor=ACTOR, now=NOW)

        def attempt(self, action):
            try:
                return action()
            except DomainError:
                db.session.rollback()  # refused with a message; the invariants prove nothing changed
                return None

        @initialize(german=st.booleans())
        def a_morning_of_orders(self, german):
            """Start with orders in hand, two of them paid (ready), so every run has something to work on."""
            for i, lines in enumerate(([("MUG", 1)], [("TEE", 2), ("CAP", 1)], [("CAP", 2)], [("MUG", 2), ("TEE", 1)])):
                self.place_order(lines, german and i % 2 == 1)
            for pick in (0, 1):
                self.pay(pick, 1)

        # Stock ------------------------------------------------------------------------

        @rule(location=LOCATIONS, sku=SKUS, qty=st.integers(1, 6))
        def receive_stock(self, location, sku, qty):
            self.attempt(lambda: inventory.receive(location=location, sku=sku, qty=qty, actor=ACTOR, now=now()))

        @rule(location=LOCATIONS, sku=SKUS, delta=st.integers(-5, 3).filter(bool))
        def adjust_stock(self, location, sku, delta):
            self.attempt(lambda: inventory.adjust(location=location, sku=sku, delta=delta, reason="count",
                                                  actor=ACTOR, now=now()))

        @rule(source=LOCATIONS, sku=SKUS, qty=st.integers(1, 4))
        def transfer_stock(self, source, sku, qty):
            dest = "LEJ" if source == "AMS" else "AMS"
            self.attempt(lambda: inventory.transfer(from_location=source, to_location=dest, sku=sku, qty=qty,
                                                    actor=ACTOR, now=now()))

        # Orders -----------------------------------------------------------------------
        # Steps that act on an existing order or return pick one of those in the right state
        # (`pick` indexes them): random draws then reach shipping, returns and refunds often,
        # and a shrunk failure still replays exactly (each example starts from the same shop).

        def candidates(self, model, *where):
            return db.session.scalars(select(model).where(*where).order_by(model.id)).all()

        def choose(self, pick, model, *where):
            found = self.candidates(model, *where)
            return found[pick % len(found)] if found else None

        @rule(lines=st.lists(st.tuples(SKUS, st.integers(1, 3)), min_size=1, max_size=3, unique_by=lambda t: t[0]),
              german=st.booleans())
        def place_order(self, lines, german):
            body = order_body(f"INV-{next(ids)}", lines=[(s, q, PRICES[s]) for s, q in lines],
                              country="DE" if german else "NL", postcode="04109" if german else "1011 AB")
            self.attempt(lambda: orders.create_order(body, actor=ACTOR, now=now()))

        @rule(pick=st.integers(0, 20), part=st.integers(0, 3))
        def pay(self, pick, part):
            order = self.choose(pick, Order, Order.status != "cancelled", Order.paid_amount < Order.total)
            if order is None:
                return
            due = order.total - order.paid_amount
            amount = (due / 2).quantize(Decimal("0.01")) if part == 0 else due  # mostly in full
            number = order.number
            self.attempt(lambda: orders.record_payment(number, amount, method="card", actor=ACTOR, now=now()))

        @rule(pick=st.integers(0, 20))
        def cancel(self, pick):
            order = self.choose(pick, Order, Order.status.in_(("new", "on_hold", "ready")))
            if order is not None:
                number = order.number
                self.attempt(lambda: orders.cancel(number, reason="customer", actor=ACTOR, now=now()))

        # Fulfillment ------------------------------------------------------------------

        @rule(pick=st.integers(0, 20), ship_part=st.booleans())
        def pick_pack_ship(self, pick, ship_part):
            order = self.choose(pick, Order, Order.status == "ready")
            if order is None:
                return
            number = order.number
            code = db.session.scalar(select(Location.code).join(Allocation, Allocation.location_id == Location.id)
                                     .where(Allocation.order_id == order.id).order_by(Allocation.id).limit(1))
            if self.attempt(lambda: waves.create_wave(code, order_numbers=[number], actor=ACTOR, now=now())) is None:
                return
            for shipment in self.candidates(Shipment, Shipment.order_id == order.id, Shipment.status == "picking"):
                self.attempt(lambda s=shipment.number: pack_all(s))
            order = _order(number)
            lines = None
            if ship_part and order.status == "packed":
                lines = [{"sku": order.lines[0].product.sku, "qty": 1}]
            self.attempt(lambda: shipping.ship_order(number, carrier="ups", tracking_number=UPS, lines=lines,
                                                     actor=ACTOR, now=now()))

        # Returns ----------------------------------------------------------------------

        @rule(pick=st.integers(0, 20), qty=st.integers(1, 2), line=st.integers(0, 2))
        def open_return(self, pick, qty, line):
            shipped = select(OrderLine.order_id).where(OrderLine.qty_shipped > 0)
            order = self.choose(pick, Order, Order.id.in_(shipped))
            if order is None:
                return
            lines = [ln for ln in order.lines if ln.qty_shipped]
            sku, number = lines[line % len(lines)].product.sku, order.number
            self.attempt(lambda: returns_service.create_return(
                number, [{"sku": sku, "qty": qty}], "changed_mind", actor=ACTOR, now=now()))

        @rule(pick=st.integers(0, 20), approve=st.integers(0, 3))
        def decide(self, pick, approve):
            ret = self.choose(pick, Return, Return.status == "requested")
            if ret is None:
                return
            number = ret.number
            if approve:  # mostly
                self.attempt(lambda: returns_service.approve(number, actor=ACTOR, now=now()))
            else:
                self.attempt(lambda: returns_service.reject(number, reason="outside the window", actor=ACTOR,
                                                            now=now()))

        @rule(pick=st.integers(0, 20), restock=st.booleans(), location=LOCATIONS, short=st.booleans())
        def receive_return(self, pick, restock, location, short):
            ret = self.choose(pick, Return, Return.status == "approved")
            if ret is None:
                return
            number = ret.number
            entries = [{"sku": line.line.product.sku, "qty": max(1, line.qty - 1) if short else line.qty,
                        "condition": "resellable" if restock else "damaged",
                        "disposition": "restock" if restock else "write_off",
                        **({"location": location} if restock else {})} for line in ret.lines]
            not_returned = [e["sku"] for e, line in zip(entries, ret.lines, strict=True) if e["qty"] < line.qty]
            self.attempt(lambda: returns_service.receive(number, entries, not_returned=not_returned, actor=ACTOR,
                                                         now=now()))

        @rule(pick=st.integers(0, 20), exchange=st.integers(0, 3))
        def settle(self, pick, exchange):
            ret = self.choose(pick, Return, Return.status == "received")
            if ret is None:
                return
            number, resolution = ret.number, "exchange" if exchange == 0 else "refund"
            self.attempt(lambda: returns_service.close(number, resolution=resolution, actor=ACTOR, now=now()))

        # The usual life of an order, one step at a time, so random runs get far along it.

        @rule(pick=st.integers(0, 20), twice=st.booleans())
        def advance(self, pick, twice):
            for _ in range(2 if twice else 1):
                ret = self.choose(pick, Return, Return.status.in_(("requested", "approved", "received")))
                if ret is not None and pick % 2:
                    {"requested": self.decide, "approved": self.receive_return, "received": self.settle}[ret.status](
                        pick, *{"requested": (1,), "approved": (pick % 3 > 0, "AMS", False),
                                "received": (pick % 4 + 1,)}[ret.status])
                    continue
                order = self.choose(pick, Order, Order.status.not_in(("cancelled", "delivered")))
                if order is None:
                    return
                if order.paid_amount < order.total:
                    self.pay(pick, 1)
                elif order.status == "ready":
                    self.pick_pack_ship(pick, False)
                elif order.status in ("shipped", "partially_shipped"):
                    self.open_return(pick, 1, pick)

        # Invariants -------------------------------------------------------------------

        @invariant()
        def stock_matches_the_ledger_and_the_allocations(self):
            db.session.rollback()
            report = stock_verify.verify()
            assert report.ok, [d.message for d in report.drifts]

        @invariant()
        def orders_agree_with_their_lines_and_shipments(self):
            shipped = defaultdict(int)
            for shipment in db.session.scalars(select(Shipment).where(Shipment.status.in_(("shipped", "delivered")))):
                for sl in shipment.lines:
                    shipped[sl.order_line_id] += sl.qty
            allocated, allocated_orders = defaultdict(int), set()
            for order_id, line_id, qty in db.session.execute(
                    select(Allocation.order_id, Allocation.order_line_id, Allocation.qty)):
                allocated[line_id] += qty
                allocated_orders.add(order_id)
            for order in db.session.scalars(select(Order)):
                for line in order.lines:
                    assert line.qty_shipped == shipped[line.id], (order.number, line.id)
                    assert 0 <= line.qty_returned <= line.qty_shipped <= line.qty
                    assert line.qty_allocated + line.qty_shipped <= line.qty
                    assert line.qty_allocated == allocated[line.id], (order.number, line.id)
                everything_shipped = all(ln.qty_shipped == ln.qty for ln in order.lines)
                something_shipped = any(ln.qty_shipped for ln in order.lines)
                if order.status in ("shipped", "delivered"):
                    assert everything_shipped, order.number
                elif order.status == "partially_shipped":
                    assert something_shipped and not everything_shipped, order.number
                elif order.status == "cancelled":
                    assert order.id not in allocated_orders, order.number
                elif order.status in ("ready", "packed"):
                    assert all(ln.qty_allocated + ln.qty_shipped == ln.qty for ln in order.lines), order.number
                if order.status in OPEN_BEFORE_SHIPPING - {"picking", "packed"}:
                    assert not something_shipped, order.number

        @invariant()
        def money_adds_up(self):
            for order in db.session.scalars(select(Order)):
                assert 0 <= order.refunded_amount <= order.paid_amount, order.number
                if order.refunded_amount and order.refunded_amount == order.paid_amount:
                    assert order.payment_status == "refunded", order.number
                elif order.refunded_amount:
                    assert order.payment_status == "partially_refunded", order.number
                elif order.paid_amount >= order.total and order.paid_amount > 0:
                    assert order.payment_status == "paid", order.number
                refunds = sum((r.amount for r in order.refunds), Decimal("0"))
                assert refunds == order.refunded_amount, order.number

        @invariant()
        def document_series_have_no_gaps(self):
            series = defaultdict(list)
            for number in db.session.scalars(select(Invoice.number)):
                prefix, year, seq = re.fullmatch(r"([A-Z]+)-(\d{4})-(\d{6})", number).groups()
                series[(prefix, year)].append(int(seq))
            for key, seqs in series.items():
                assert sorted(seqs) == list(range(1, len(seqs) + 1)), key

        @invariant()
        def every_state_was_reached_by_an_audited_change(self):
            audited = {(e, n, s) for e, n, s in db.session.execute(
                select(Event.entity_type, Event.entity_id, Event.to_state).where(Event.action == "status_changed"))}
            for number, status in db.session.execute(select(Order.number, Order.status)):
                if status != "new":
                    assert ("order", number, status) in audited, (number, status)
            for number, status in db.session.execute(select(Return.number, Return.status)):
                if status != "requested":
                    assert ("return", number, status) in audited, (number, status)
            created = db.session.scalar(select(func.count()).select_from(Event).where(Event.action == "order_created",
                                                                                    Event.entity_type == "order"))
            assert created == db.session.scalar(select(func.count()).select_from(Order))

    run_state_machine_as_test(
        Shop,
        settings=settings(max_examples=10, stateful_step_count=30, deadline=None,
                          suppress_health_check=list(HealthCheck)),
    )
