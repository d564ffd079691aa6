"""`flask demo seed` leaves a returns queue to look at: RMAs in every status, made through
the returns services, with the books still balancing."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from app.models import Return, ReturnReceipt, StockMove
from app.services import demo, stock_verify


def test_the_demo_has_returns_in_every_status_and_the_books_balance(app, db):
    demo.seed(n_orders=300, seed=7)

    returns = db.session.scalars(select(Return).order_by(Return.id)).all()
    assert Counter(r.status for r in returns) == {"requested": 3, "approved": 3, "received": 3, "closed": 1,
                                                  "rejected": 1, "cancelled": 1}
    assert all(r.order.status == "delivered" and r.requested_at > r.order.delivered_at for r in returns)
    received = [r for r in returns if r.status in ("received", "closed")]
    assert all(r.received_count >= 1 and r.received_at >= r.approved_at for r in received)
    restocked = db.session.scalar(select(func.sum(ReturnReceipt.qty)).where(ReturnReceipt.disposition == "restock"))
    moved = db.session.scalar(select(func.sum(StockMove.qty)).where(StockMove.kind == "return_restock"))
    assert restocked and moved == restocked
    assert {r.disposition for r in db.session.scalars(select(ReturnReceipt))} == {"restock", "write_off"}
    assert stock_verify.verify().ok

    # A second run changes nothing.
    demo.seed(n_orders=300, seed=7)
    assert db.session.scalar(select(func.count()).select_from(Return)) == len(returns)
