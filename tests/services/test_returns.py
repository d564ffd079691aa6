"""Returns through the services: opening an RMA, approving, receiving (restock, write-off,
partial parcels), closing rules, and the refusals that leave nothing half-done.

Refunds, credit notes and exchanges are in test_returns_resolution.py.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.domain.errors import IllegalTransition, NotFound, StaleVersion, ValidationFailed
from app.domain.returns import NotReturnable
from app.extensions import db
from app.models import Event, Location, Order, Return, ReturnReceipt, StockLevel, StockMove
from app.services import orders, stock_verify
from app.services import returns as returns_service
from app.services.tx import begin_write
from tests.fulfillment_scenes import ready_order, reload, shipped_order
from tests.services.conftest import ACTOR, NOW, order_body, shop, stock  # noqa: F401  (shop is a fixture)

RETURNED_AT = NOW + timedelta(days=3)


# Scenes shared by the returns tests (service, API, web, browser) ----------------------------


@pytest.fixture
def stocked(shop):  # noqa: F811
    stock("AMS", "MUG", 10)
    stock("AMS", "TEE", 10)
    return shop


def shipped_mugs_and_tee(external_id: str = "R-1") -> str:
    """Shipped and invoiced in one parcel: 2 × MUG at 12.50, 1 × TEE at 25.00, shipping 4.95 (54.95 paid)."""
    return shipped_order(external_id, (("MUG", 2, "12.50"), ("TEE", 1, "25.00")))


def open_return(order: str, lines=(("MUG", 1),), reason: str = "damaged", **kwargs) -> str:
    ret = returns_service.create_return(order, [{"sku": s, "qty": q} for s, q in lines], reason, actor=ACTOR,
                                        now=kwargs.pop("now", RETURNED_AT), **kwargs)
    return ret.number


def approved_return(order: str, lines=(("MUG", 1),), **kwargs) -> str:
    number = open_return(order, lines, **kwargs)
    returns_service.approve(number, actor=ACTOR, now=RETURNED_AT)
    return number


def restock(sku: str, qty: int, location: str = "AMS", condition: str | None = None) -> dict:
    entry = {"sku": sku, "qty": qty, "disposition": "restock", "location": location}
    if condition:
        entry["condition"] = condition
    return entry


def write_off(sku: str, qty: int) -> dict:
    return {"sku": sku, "qty": qty, "disposition": "write_off", "condition": "damaged"}


def receive(number: str, *entries: dict, not_returned=(), **kwargs) -> Return:
    return returns_service.receive(number, list(entries), not_returned=list(not_returned), actor=ACTOR,
                                   now=kwargs.pop("now", RETURNED_AT + timedelta(days=2)), **kwargs)


def fresh_return(number: str) -> Return:
    db.session.rollback()
    return returns_service.get_return(number)


def level(sku: str, location: str = "AMS") -> StockLevel:
    db.session.rollback()  # a fresh transaction: a live server may have changed it
    return next(lv for lv in db.session.scalars(select(StockLevel))
                if lv.product.sku == sku and lv.location.code == location)


def books_balance() -> None:
    db.session.expire_all()
    report = stock_verify.verify()
    assert report.ok, [d.message for d in report.drifts]


def returned_per_line(order: str) -> dict[str, int]:
    return {line.sku: line.qty_returned for line in reload(order).lines}


def deactivate(code: str) -> None:
    session = begin_write()
    session.scalar(select(Location).where(Location.code == code)).active = False
    session.commit()


def nothing_written(number: str) -> tuple:
    """What a refused change must not have touched."""
    db.session.rollback()
    return (db.session.scalar(select(func.count()).select_from(ReturnReceipt)),
            db.session.scalar(select(func.count()).select_from(StockMove).where(StockMove.kind == "return_restock")),
            fresh_return(number).status, fresh_return(number).version)


# Opening a return ---------------------------------------------------------------------------


def test_an_rma_is_opened_for_shipped_units_with_a_readable_number(stocked):
    order = shipped_mugs_and_tee()
    ret = returns_service.create_return(order, [{"sku": "MUG", "qty": 2}], "not_as_described", actor=ACTOR,
                                        reason_note="colour differs", resolution="exchange", now=RETURNED_AT)

    ret = fresh_return(ret.number)
    assert (ret.number, ret.status, ret.reason, ret.reason_note, ret.resolution) == (
        "RMA-000001", "requested", "not_as_described", "colour differs", "exchange")
    assert [(line.line.sku, line.qty) for line in ret.lines] == [("MUG", 2)]
    assert ret.requested_at == RETURNED_AT and ret.order.number == order
    assert open_return(order, (("TEE", 1),)) == "RMA-000002"
    actions = db.session.scalars(select(Event.action).where(Event.entity_id == "RMA-000001")).all()
    assert actions == ["return_requested"]
    on_order = db.session.scalars(select(Event.details).where(Event.entity_id == order,
                                                             Event.action == "return_requested")).all()
    assert [d["return"] for d in on_order] == ["RMA-000001", "RMA-000002"]
    # Opening a return claims units but moves no stock and returns nothing yet.
    assert returned_per_line(order) == {"MUG": 0, "TEE": 0}
    assert level("MUG").on_hand == 8


def test_more_than_was_shipped_is_refused_per_line(stocked):
    order = shipped_mugs_and_tee()
    with pytest.raises(ValidationFailed) as exc:
        returns_service.create_return(order, [{"sku": "MUG", "qty": 3}, {"sku": "CAP", "qty": 1}], "damaged",
                                      actor=ACTOR, now=RETURNED_AT)
    assert "Only 2 × MUG can still be returned (2 shipped, 0 already in other returns)." in exc.value.message
    assert exc.value.details["lines"] == {"0": ["Only 2 × MUG can still be returned (2 shipped, 0 already in "
                                                "other returns)."], "1": ["CAP is not on this order."]}
    assert db.session.scalar(select(func.count()).select_from(Return)) == 0


def test_a_sku_named_twice_adds_up(stocked):
    order = shipped_mugs_and_tee()
    with pytest.raises(ValidationFailed, match="Only 2 × MUG"):
        open_return(order, (("MUG", 1), ("MUG", 2)))
    number = open_return(order, (("MUG", 1), ("MUG", 1)))
    assert [(ln.line.sku, ln.qty) for ln in fresh_return(number).lines] == [("MUG", 2)]


def test_two_rmas_cannot_claim_the_same_unit_until_one_is_rejected(stocked):
    order = shipped_mugs_and_tee()
    first = open_return(order, (("MUG", 2),))
    with pytest.raises(ValidationFailed, match=r"Only 0 × MUG can still be returned \(2 shipped, 2 already"):
        open_return(order, (("MUG", 1),))
    open_return(order, (("TEE", 1),))  # other lines are still free

    returns_service.reject(first, reason="outside the 30-day window", actor=ACTOR, now=RETURNED_AT)
    assert fresh_return(open_return(order, (("MUG", 2),))).status == "requested"


def test_received_and_closed_returns_keep_their_units(stocked):
    order = shipped_mugs_and_tee()
    first = approved_return(order, (("MUG", 2),))
    receive(first, restock("MUG", 1), not_returned=["MUG"])
    # The unit that never came back is free again; the one that did is not.
    with pytest.raises(ValidationFailed, match="Only 1 × MUG can still be returned"):
        open_return(order, (("MUG", 2),))
    assert fresh_return(open_return(order, (("MUG", 1),))).lines[0].qty == 1


def test_an_unshipped_order_cannot_be_returned(stocked):
    order = ready_order("R-READY")
    with pytest.raises(NotReturnable, match=r"has not shipped anything yet \(ready\)") as exc:
        open_return(order)
    assert exc.value.http_status == 409


def test_a_cancelled_order_cannot_be_returned(stocked):
    order, _ = orders.create_order(order_body("R-CANC"), actor=ACTOR, now=NOW)
    orders.cancel(order.number, reason="customer asked", actor=ACTOR, now=NOW)
    with pytest.raises(NotReturnable, match="is cancelled; nothing was sent"):
        open_return(order.number)
    assert db.session.scalar(select(func.count()).select_from(Return)) == 0


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"reason": "bored"}, "“bored” is not a return reason."),
    ({"reason": "other"}, "Say what the reason is when it is “other”."),
    ({"reason": "damaged", "resolution": "credit"}, "“credit” is not a resolution."),
    ({"reason": "damaged", "lines": []}, "Choose at least one unit to return."),
    ({"reason": "damaged", "lines": [{"sku": "MUG", "qty": 0}]}, "Return at least one unit of MUG."),
])
def test_bad_return_requests_are_refused(stocked, kwargs, message):
    order = shipped_mugs_and_tee()
    kwargs = dict(kwargs)  # the parameters are shared by both engines' runs
    lines = kwargs.pop("lines", [{"sku": "MUG", "qty": 1}])
    with pytest.raises(ValidationFailed) as exc:
        returns_service.create_return(order, lines, actor=ACTOR, now=RETURNED_AT, **kwargs)
    assert exc.value.message == message


def test_an_unknown_order_is_not_found(stocked):
    with pytest.raises(NotFound, match=r"There is no order SO-999999."):
        open_return("SO-999999")


# Deciding -----------------------------------------------------------------------------------


def test_approve_then_cancel_and_reject_with_a_reason(stocked):
    order = shipped_mugs_and_tee()
    first = open_return(order, (("MUG", 1),))
    returns_service.approve(first, actor=ACTOR, note="label sent", now=RETURNED_AT)
    ret = fresh_return(first)
    assert (ret.status, ret.approved_at) == ("approved", RETURNED_AT)
    returns_service.cancel(first, reason="customer kept it", actor=ACTOR, now=RETURNED_AT)
    assert fresh_return(first).status == "cancelled"

    second = open_return(order, (("TEE", 1),))
    with pytest.raises(ValidationFailed, match="Say why the return is rejected"):
        returns_service.reject(second, reason=" ", actor=ACTOR)
    returns_service.reject(second, reason="worn", actor=ACTOR, now=RETURNED_AT)
    events = db.session.execute(select(Event.entity_id, Event.from_state, Event.to_state, Event.details)
                                .where(Event.action == "status_changed", Event.entity_type == "return")
                                .order_by(Event.id)).all()
    assert [tuple(e) for e in events] == [
        (first, "requested", "approved", {"note": "label sent"}),
        (first, "approved", "cancelled", {"note": "customer kept it"}),
        (second, "requested", "rejected", {"note": "worn"}),
    ]


@pytest.mark.parametrize(("steps", "action", "message"), [
    ([], "receive", "A return that is requested cannot be moved to received (approve it first"),
    ([], "cancel", "A return that is requested cannot be moved to cancelled (reject it instead)."),
    (["approve"], "approve", "The return is already approved."),
    (["approve"], "reject", "(it was already approved; cancel it instead)"),
    (["approve"], "close", "A return that is approved cannot be moved to closed (record what arrived first)."),
    (["reject"], "approve", "A return that is rejected is final and cannot be moved to approved."),
    (["approve", "receive"], "cancel", "goods have arrived; close it with a refund or an exchange"),
])
def test_moves_the_state_machine_forbids_are_refused(stocked, steps, action, message):
    number = open_return(shipped_mugs_and_tee())
    do = {
        "approve": lambda: returns_service.approve(number, actor=ACTOR, now=RETURNED_AT),
        "reject": lambda: returns_service.reject(number, reason="no", actor=ACTOR, now=RETURNED_AT),
        "cancel": lambda: returns_service.cancel(number, actor=ACTOR, now=RETURNED_AT),
        "receive": lambda: receive(number, restock("MUG", 1)),
        "close": lambda: returns_service.close(number, actor=ACTOR, now=RETURNED_AT),
    }
    for step in steps:
        do[step]()
    before = fresh_return(number).status
    with pytest.raises(IllegalTransition) as exc:
        do[action]()
    assert message in exc.value.message and exc.value.http_status == 409
    assert fresh_return(number).status == before


# Receiving ----------------------------------------------------------------------------------


def test_restocked_units_are_a_return_restock_move_and_available_at_once(stocked):
    order = shipped_mugs_and_tee()
    number = approved_return(order, (("MUG", 2),))
    assert (level("MUG").on_hand, level("MUG").available) == (8, 8)

    receive(number, restock("MUG", 2))

    ret = fresh_return(number)
    assert (ret.status, ret.received_at) == ("received", RETURNED_AT + timedelta(days=2))
    assert [(r.qty, r.condition, r.disposition, r.location.code) for r in ret.lines[0].receipts] == [
        (2, "resellable", "restock", "AMS")]
    assert (level("MUG").on_hand, level("MUG").available) == (10, 10)
    move = db.session.scalars(select(StockMove).order_by(StockMove.id.desc())).first()
    assert (move.kind, move.qty, move.reference, move.return_id, move.order_id) == (
        "return_restock", 2, number, ret.id, reload(order).id)
    assert returned_per_line(order) == {"MUG": 2, "TEE": 0}
    books_balance()


def test_restock_to_another_active_location_creates_its_level(stocked):
    order = shipped_mugs_and_tee()
    number = approved_return(order, (("TEE", 1),))
    receive(number, restock("TEE", 1, location="LEJ"))
    assert (level("TEE", "LEJ").on_hand, level("TEE", "AMS").on_hand) == (1, 9)
    books_balance()


def test_a_write_off_records_the_receipt_and_moves_no_stock(stocked):
    order = shipped_mugs_and_tee()
    number = approved_return(order, (("TEE", 1),))
    moves_before = db.session.scalar(select(func.count()).select_from(StockMove))

    receive(number, write_off("TEE", 1))

    ret = fresh_return(number)
    assert [(r.qty, r.condition, r.disposition, r.location_id) for r in ret.lines[0].receipts] == [
        (1, "damaged", "write_off", None)]
    assert db.session.scalar(select(func.count()).select_from(StockMove)) == moves_before
    assert level("TEE").on_hand == 9
    event = db.session.scalar(select(Event).where(Event.action == "return_written_off"))
    assert (event.entity_id, event.details) == (number, {"sku": "TEE", "qty": 1, "condition": "damaged"})
    assert returned_per_line(order)["TEE"] == 1
    books_balance()


def test_the_same_sku_can_be_part_restocked_part_written_off(stocked):
    order = shipped_mugs_and_tee()
    number = approved_return(order, (("MUG", 2),))
    receive(number, restock("MUG", 1), write_off("MUG", 1))
    receipts = fresh_return(number).lines[0].receipts
    assert [(r.qty, r.condition, r.disposition) for r in receipts] == [
        (1, "resellable", "restock"), (1, "damaged", "write_off")]
    assert level("MUG").on_hand == 9


def test_a_partial_receipt_keeps_waiting_for_the_rest(stocked):
    order = shipped_mugs_and_tee()
    number = approved_return(order, (("MUG", 2), ("TEE", 1)))
    receive(number, restock("MUG", 1))
    ret = fresh_return(number)
    assert ret.status == "received"
    assert [(ln.line.sku, ln.qty, ln.qty_received) for ln in ret.lines] == [("MUG", 2, 1), ("TEE", 1, 0)]
    with pytest.raises(IllegalTransition, match=r"cannot be closed yet: 1 × MUG, 1 × TEE not received"):
        returns_service.close(number, actor=ACTOR, now=RETURNED_AT)

    # The second parcel: the rest of the mugs, and the tee will not come.
    receive(number, restock("MUG", 1), not_returned=["TEE"], now=RETURNED_AT + timedelta(days=5))
    ret = fresh_return(number)
    assert [(ln.line.sku, ln.qty_received, ln.not_returned) for ln in ret.lines] == [
        ("MUG", 2, False), ("TEE", 0, True)]
    assert ret.received_at == RETURNED_AT + timedelta(days=2)  # the first parcel's time stays
    actions = db.session.scalars(select(Event.action).where(Event.entity_id == number).order_by(Event.id)).all()
    assert actions == ["return_requested", "status_changed", "goods_received", "status_changed", "goods_received"]
    assert returned_per_line(order) == {"MUG": 2, "TEE": 0}


def test_restocked_returns_release_orders_held_for_that_stock(stocked):
    order = shipped_mugs_and_tee()  # AMS keeps 8 mugs
    waiting, _ = orders.create_order(order_body("R-WAIT", lines=(("MUG", 9, "12.50"),)),
                                     actor=ACTOR, now=NOW)
    orders.record_payment(waiting.number, reload(waiting.number).total, method="card", actor=ACTOR, now=NOW)
    held = reload(waiting.number)
    assert (held.status, held.hold_reason) == ("on_hold", "stock")

    number = approved_return(order, (("MUG", 1),))
    receive(number, restock("MUG", 1))

    released = reload(waiting.number)
    assert (released.status, released.hold_reason) == ("ready", None)
    assert (level("MUG").on_hand, level("MUG").reserved) == (9, 9)
    books_balance()


def test_a_written_off_return_releases_nothing(stocked):
    order = shipped_mugs_and_tee()
    waiting, _ = orders.create_order(order_body("R-WAIT", lines=(("MUG", 9, "12.50"),)), actor=ACTOR, now=NOW)
    orders.record_payment(waiting.number, reload(waiting.number).total, method="card", actor=ACTOR, now=NOW)
    number = approved_return(order, (("MUG", 1),))
    receive(number, write_off("MUG", 1))
    assert reload(waiting.number).hold_reason == "stock"


def test_restocking_to_an_inactive_location_is_refused_with_no_partial_effects(stocked):
    order = shipped_mugs_and_tee()
    number = approved_return(order, (("MUG", 1), ("TEE", 1)))
    deactivate("LEJ")
    before = nothing_written(number)

    with pytest.raises(ValidationFailed, match=r"Location LEJ is inactive; restock the goods to an active location."):
        receive(number, restock("MUG", 1), restock("TEE", 1, location="LEJ"))

    assert nothing_written(number) == before
    assert returned_per_line(order) == {"MUG": 0, "TEE": 0}
    with pytest.raises(ValidationFailed, match=r"There is no location NOPE."):
        receive(number, restock("MUG", 1, location="NOPE"))


@pytest.mark.parametrize(("entries", "not_returned", "message"), [
    ([restock("MUG", 2)], [], "2 × MUG is more than the 1 still expected on this return."),
    ([restock("MUG", 1), restock("MUG", 1)], [], "1 × MUG is more than the 0 still expected on this return."),
    ([restock("CAP", 1)], [], "CAP is not on this return."),
    ([{"sku": "MUG", "qty": 1, "disposition": "restock"}], [], "Choose the location MUG is restocked to."),
    ([{"sku": "MUG", "qty": 1, "disposition": "bin"}], [], "Say what happens to MUG: restock or write_off."),
    ([restock("MUG", 1, condition="damaged")], [], "Damaged MUG cannot go back into sellable stock; write it off."),
    ([{**write_off("MUG", 1), "location": "AMS"}], [], "Written-off MUG goes to no location; leave the location out."),
    ([], [], "Record at least one unit that arrived, or mark what will not come back."),
    ([], ["MUG"], "Record at least one unit that arrived; if nothing will come back, cancel the return instead."),
])
def test_bad_receipts_are_refused_and_record_nothing(stocked, entries, not_returned, message):
    order = shipped_mugs_and_tee()
    number = approved_return(order, (("MUG", 1),))
    before = nothing_written(number)
    with pytest.raises(ValidationFailed) as exc:
        receive(number, *entries, not_returned=not_returned)
    assert message in exc.value.message
    assert nothing_written(number) == before


def test_a_line_marked_as_not_coming_back_cannot_be_received_later(stocked):
    order = shipped_mugs_and_tee()
    number = approved_return(order, (("MUG", 2), ("TEE", 1)))
    receive(number, restock("MUG", 1), not_returned=["TEE"])
    with pytest.raises(ValidationFailed, match="TEE was marked as not coming back"):
        receive(number, restock("TEE", 1))


def test_closing_is_refused_until_every_line_is_settled(stocked):
    order = shipped_mugs_and_tee()
    number = approved_return(order, (("MUG", 2),))
    receive(number, restock("MUG", 1))
    with pytest.raises(IllegalTransition) as exc:
        returns_service.close(number, actor=ACTOR, now=RETURNED_AT)
    assert exc.value.message == ("RMA-000001 cannot be closed yet: 1 × MUG not received. Record what arrived, or "
                                 "mark what will not come back.")
    assert fresh_return(number).status == "received"
    assert db.session.scalar(select(func.count()).select_from(Event).where(Event.action == "refund_recorded")) == 0


# Two people at once --------------------------------------------------------------------------


def test_a_receipt_on_a_stale_version_is_refused_and_changes_nothing(stocked):
    order = shipped_mugs_and_tee()
    number = approved_return(order, (("MUG", 2),))
    seen = fresh_return(number).version
    receive(number, restock("MUG", 1), expected_version=seen)
    before = nothing_written(number)

    with pytest.raises(StaleVersion) as exc:
        receive(number, write_off("MUG", 1), expected_version=seen)

    assert exc.value.http_status == 409
    assert "was changed by someone else while you had it open (it is now received" in exc.value.message
    assert nothing_written(number) == before
    assert level("MUG").on_hand == 9


def test_two_receivers_at_the_same_moment_one_wins_the_other_is_told(app, stocked):
    order = shipped_mugs_and_tee()
    number = approved_return(order, (("MUG", 2),))
    seen = fresh_return(number).version
    db.session.remove()
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def receiver(entry):
        with app.app_context():
            start.wait()
            try:
                receive(number, entry, expected_version=seen)
                outcomes.append("ok")
            except StaleVersion:
                outcomes.append("stale")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=receiver, args=(e,)) for e in (restock("MUG", 2), write_off("MUG", 2))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(outcomes) == ["ok", "stale"]
    ret = fresh_return(number)
    assert [r.qty for r in ret.lines[0].receipts] == [2] and ret.lines[0].qty_received == 2
    assert returned_per_line(order)["MUG"] == 2
    books_balance()


def test_the_order_is_locked_first_so_two_rmas_opened_at_once_never_overclaim(app, stocked):
    order = shipped_mugs_and_tee()
    db.session.remove()
    outcomes: list[str] = []
    start = threading.Barrier(4)

    def claimant():
        with app.app_context():
            start.wait()
            try:
                open_return(order, (("MUG", 1),))
                outcomes.append("ok")
            except ValidationFailed:
                outcomes.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=claimant) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "ok", "refused", "refused"]
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Return)) == 2
    assert db.session.scalar(select(Order.status).where(Order.number == order)) == "shipped"
