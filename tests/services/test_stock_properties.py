"""Property: any sequence of stock moves and order operations keeps the books straight.

After every step: on_hand equals its ledger, reserved equals live allocations,
0 <= reserved <= on_hand, and each order line's allocated quantity equals its
allocations (stock_verify checks all of it).
"""

from __future__ import annotations

from itertools import count

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from app.domain.errors import DomainError
from app.extensions import db
from app.models import Order
from app.services import inventory, orders, stock_verify
from tests.services.conftest import ACTOR, NOW, order_body

SKUS = st.sampled_from(["MUG", "TEE", "CAP"])
LOCATIONS = st.sampled_from(["AMS", "LEJ"])


def test_any_sequence_of_operations_keeps_the_books(app, shop):
    ids = count()

    class Books(RuleBasedStateMachine):
        placed = Bundle("orders")  # order numbers, drawn without looking at the database

        def attempt(self, action):
            try:
                action()
            except DomainError:
                db.session.rollback()  # refused with a message; nothing may have changed

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

        @rule(target=placed,
              lines=st.lists(st.tuples(SKUS, st.integers(1, 3)), min_size=1, max_size=3, unique_by=lambda t: t[0]),
              country=st.sampled_from([("NL", "1011 AB"), ("DE", "04109")]))
        def order(self, lines, country):
            body = order_body(f"H-{next(ids)}", lines=[(s, q, "12.50" if s == "MUG" else "25.00" if s == "TEE"
                                                        else "15.00") for s, q in lines],
                              country=country[0], postcode=country[1])
            created = []
            self.attempt(lambda: created.append(orders.create_order(body, actor=ACTOR, now=NOW)[0].number))
            return created[0] if created else "SO-none"

        @rule(number=placed, pay=st.booleans())
        def pay_or_cancel(self, number, pay):
            order = db.session.scalar(db.select(Order).where(Order.number == number))
            if order is None or order.status == "cancelled":
                return
            if pay:
                due = order.total - order.paid_amount
                if due > 0:
                    self.attempt(lambda: orders.record_payment(number, due, method="card", actor=ACTOR, now=NOW))
            else:
                self.attempt(lambda: orders.cancel(number, reason="test", actor=ACTOR, now=NOW))

        @invariant()
        def books_balance(self):
            db.session.rollback()
            report = stock_verify.verify()
            assert report.ok, [d.message for d in report.drifts]

    run_state_machine_as_test(Books, settings=settings(max_examples=15, stateful_step_count=15, deadline=None,
                                                       suppress_health_check=list(HealthCheck)))
