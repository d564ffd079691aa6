from sqlalchemy import func, select

from app.models import Event, StockLevel
from app.services import orders, routing_preview
from tests.services.conftest import ACTOR, NOW, order_body, stock


def test_preview_writes_nothing_and_shows_a_better_route(app, db, shop):
    stock("LEJ", "MUG", 1)
    order = orders.create_order(order_body("P-1"), actor=ACTOR, now=NOW)[0]  # only Leipzig had it
    stock("AMS", "MUG", 3)  # now the NL warehouse (serves NL) has it too
    events_before = db.session.scalar(select(func.count()).select_from(Event))
    [routed] = routing_preview.preview([order.number])
    assert routed.current_locations == ["LEJ"] and routed.locations == ["AMS"] and routed.changes
    assert routed.shipments == 1 and routed.short == 0
    assert db.session.scalar(select(func.count()).select_from(Event)) == events_before
    routing_preview.apply([order.number], actor=ACTOR, now=NOW)
    db.session.expire_all()
    reserved = dict(db.session.execute(select(StockLevel.location_id, StockLevel.reserved)).all())
    assert sorted(reserved.values()) == [0, 1]
    assert [a.location.code for ln in order.lines for a in ln.allocations] == ["AMS"]


def test_preview_counts_split_shipments(app, db, shop):
    stock("AMS", "MUG", 1)
    stock("LEJ", "TEE", 1)
    order = orders.create_order(order_body("P-2", lines=[("MUG", 1, "12.50"), ("TEE", 1, "25.00")]),
                                actor=ACTOR, now=NOW)[0]
    [routed] = routing_preview.preview([order.number])
    assert routed.shipments == 2 and routed.locations == ["AMS", "LEJ"]
