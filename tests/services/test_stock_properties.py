"""Property: any sequence of stock moves and order operations keeps the books straight.

Receipts, adjustments, transfers, orders (allocation), payments, cancellations and the
floor's work — pick waves, packing, shipping all or part of a parcel, aborting a pick —
run through the real services in any order hypothesis finds. After every step:
on_hand equals its ledger, reserved equals live allocations, 0 <= reserved <= on_hand,
each order line's allocated quantity equals its allocations (stock_verify checks all of
it), and every unit shipped left through exactly one `shipment` ledger move.
"""

from __future__ import annotations

from itertools import count

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, or_, select

from app.domain.errors import DomainError
from app.extensions import db
from app.models import Order, OrderLine, Shipment, ShipmentLine, StockLevel, StockMove
from app.services import inventory, orders, stock_verify
from app.services.fulfillment import shipping, waves
from tests.fulfillment_scenes import UPS, pack_all
from tests.services.conftest import ACTOR, NOW, order_body

SKUS = st.sampled_from(["MUG", "TEE", "CAP"])
LOCATIONS = st.sampled_from(["AMS", "LEJ"])
PRICES = {"MUG": "12.50", "TEE": "25.00", "CAP": "15.00"}
ORDER_LINES = st.lists(st.tuples(SKUS, st.integers(1, 3)), min_size=1, max_size=3, unique_by=lambda t: t[0])
COUNTRIES = st.sampled_from([("NL", "1011 AB"), ("DE", "04109")])


def _order(number: str) -> Order | None:
    return db.session.scalar(select(Order).where(Order.number == number))


def _shipments(number: str, status: str) -> list[str]:
    return list(db.session.scalars(
        select(Shipment.number).join(Order, Order.id == Shipment.order_id)
        .where(Order.number == number, Shipment.status == status).order_by(Shipment.id)))


def test_any_sequence_of_operations_keeps_the_books(app, shop):
    ids = count()
    shipped_units = []  # across examples: proof that the floor's rules really shipped something

    class Books(RuleBasedStateMachine):
        placed = Bundle("orders")  # order numbers, drawn without looking at the database
        paid = Bundle("paid_orders")  # those that were paid at once: most of them ready to pick

        def attempt(self, action) -> bool:
            try:
                action()
            except DomainError:
                db.session.rollback()  # refused with a message; nothing may have changed
                return False
            return True

        @initialize()
        def opening_stock(self):
            for location, qty in (("AMS", 4), ("LEJ", 2)):
                for sku in PRICES:
                    inventory.receive(location=location, sku=sku, qty=qty, actor=ACTOR, now=NOW)

        # Stock ------------------------------------------------------------------------

        @rule(location=LOCATIONS, sku=SKUS, qty=st.integers(1, 5))
        def receive(self, location, sku, qty):
            self.attempt(lambda: inventory.receive(location=location, sku=sku, qty=qty, actor=ACTOR, now=NOW))

        @rule(location=LOCATIONS, sku=SKUS, delta=st.integers(-6, 4).filter(bool))
        def adjust(self, location, sku, delta):
            self.attempt(lambda: inventory.adjust(location=location, sku=sku, delta=delta, reason="count",
                                                  actor=ACTOR, now=NOW))

        @rule(source=LOCATIONS, sku=SKUS, qty=st.integers(1, 4))
        def transfer(self, source, sku, qty):
            dest = "LEJ" if source == "AMS" else "AMS"
            self.attempt(lambda: inventory.transfer(from_location=source, to_location=dest, sku=sku, qty=qty,
                                                    actor=ACTOR, now=NOW))

        # Orders -----------------------------------------------------------------------

        def create(self, lines, country, *, pay: bool) -> str:
            body = order_body(f"H-{next(ids)}", lines=[(s, q, PRICES[s]) for s, q in lines],
                              country=country[0], postcode=country[1])
            created = []
            self.attempt(lambda: created.append(orders.create_order(body, actor=ACTOR, now=NOW)[0].number))
            if created and pay:
                order = _order(created[0])
                self.attempt(lambda: orders.record_payment(order.number, order.total, method="card", actor=ACTOR,
                                                           now=NOW))
            return created[0] if created else "SO-none"

        @rule(target=placed, lines=ORDER_LINES, country=COUNTRIES)
        def order(self, lines, country):
            return self.create(lines, country, pay=False)

        @rule(targets=(placed, paid), lines=ORDER_LINES, country=COUNTRIES)
        def paid_order(self, lines, country):
            return self.create(lines, country, pay=True)

        @rule(number=placed, pay=st.booleans())
        def pay_or_cancel(self, number, pay):
            order = _order(number)
            if order is None or order.status == "cancelled":
                return
            if pay:
                due = order.total - order.paid_amount
                if due > 0:
                    self.attempt(lambda: orders.record_payment(number, due, method="card", actor=ACTOR, now=NOW))
            else:
                self.attempt(lambda: orders.cancel(number, reason="test", actor=ACTOR, now=NOW))

        # The floor: waves, packing, shipping ------------------------------------------

        @rule(number=placed)
        def start_picking(self, number):
            """A wave at each location that holds units reserved for the order and not picked yet
            (a location with nothing waiting refuses, and nothing changes)."""
            for location in ("AMS", "LEJ"):
                self.attempt(lambda loc=location: waves.create_wave(loc, order_numbers=[number], actor=ACTOR,
                                                                     now=NOW))

        @rule(number=placed)
        def pack(self, number):
            for shipment in _shipments(number, "picking"):
                self.attempt(lambda s=shipment: pack_all(s))

        @rule(number=placed, part=st.booleans())
        def ship(self, number, part):
            """Ship what is packed, or only one unit of it (the rest stays reserved and goes back
            to the pick queue)."""
            order = _order(number)
            if order is None or order.status not in ("packed", "partially_shipped"):
                return
            lines = None
            if part:
                packed = db.session.scalar(
                    select(OrderLine.sku).join(ShipmentLine, ShipmentLine.order_line_id == OrderLine.id)
                    .join(Shipment, Shipment.id == ShipmentLine.shipment_id)
                    .where(Shipment.order_id == order.id, Shipment.status == "packed").limit(1))
                lines = [{"sku": packed, "qty": 1}] if packed else None
            before = self.units_shipped()
            if self.attempt(lambda: shipping.ship_order(number, carrier="ups", tracking_number=UPS, lines=lines,
                                                        actor=ACTOR, now=NOW)):
                shipped_units.append(self.units_shipped() - before)

        @rule(number=paid, part=st.booleans())
        def fulfil(self, number, part):
            """Pick, pack and ship in one go, so that whole journeys are common."""
            self.start_picking(number)
            self.pack(number)
            self.ship(number, part)

        @rule(number=placed)
        def abort_pick(self, number):
            for shipment in _shipments(number, "picking"):
                self.attempt(lambda s=shipment: waves.abort_shipment(s, reason="trolley dropped", actor=ACTOR,
                                                                     now=NOW))

        def units_shipped(self) -> int:
            db.session.rollback()
            return int(db.session.scalar(select(func.coalesce(func.sum(OrderLine.qty_shipped), 0))))

        # What must always hold ----------------------------------------------------------

        @invariant()
        def books_balance(self):
            db.session.rollback()
            report = stock_verify.verify()
            assert report.ok, [d.message for d in report.drifts]
            assert db.session.scalar(select(func.count()).select_from(StockLevel).where(
                or_(StockLevel.on_hand < 0, StockLevel.reserved < 0, StockLevel.reserved > StockLevel.on_hand))) == 0

        @invariant()
        def shipped_units_left_through_the_ledger(self):
            db.session.rollback()
            shipped = {(o, p): int(q) for o, p, q in db.session.execute(
                select(OrderLine.order_id, OrderLine.product_id, func.sum(OrderLine.qty_shipped))
                .group_by(OrderLine.order_id, OrderLine.product_id)) if q}
            moved = {(o, p): -int(q) for o, p, q in db.session.execute(
                select(StockMove.order_id, StockMove.product_id, func.sum(StockMove.qty))
                .where(StockMove.kind == "shipment").group_by(StockMove.order_id, StockMove.product_id))}
            assert shipped == moved
            in_parcels = {line_id: int(q) for line_id, q in db.session.execute(
                select(ShipmentLine.order_line_id, func.sum(ShipmentLine.qty))
                .join(Shipment, Shipment.id == ShipmentLine.shipment_id)
                .where(Shipment.status.in_(["shipped", "delivered"])).group_by(ShipmentLine.order_line_id))}
            for line_id, qty, allocated, done in db.session.execute(
                    select(OrderLine.id, OrderLine.qty, OrderLine.qty_allocated, OrderLine.qty_shipped)):
                assert done == in_parcels.get(line_id, 0), line_id
                assert allocated + done <= qty, line_id

    run_state_machine_as_test(Books, settings=settings(max_examples=15, stateful_step_count=20, deadline=None,
                                                       suppress_health_check=list(HealthCheck)))
    assert sum(shipped_units) > 0, "no sequence shipped anything: the floor's rules were never exercised"
