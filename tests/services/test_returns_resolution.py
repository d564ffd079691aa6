"""Closing returns: refund → credit note(s) → payment status, lowered and refused refunds,
and exchanges that create a replacement order going through review and allocation."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.domain.errors import Conflict, ValidationFailed
from app.domain.returns import NotAllowed
from app.extensions import db
from app.models import Event, Invoice, Order, Refund, SlaClock
from app.services import inventory, invoicing
from app.services import returns as returns_service
from app.services.actors import Actor
from app.services.fulfillment import shipping
from app.services.tx import begin_write
from tests.fulfillment_scenes import pack_all, packed_order, reload, shipments_of, wave_of
from tests.services.conftest import ACTOR, NOW, shop, stock  # noqa: F401  (shop is a fixture)
from tests.services.test_returns import (  # noqa: F401  (stocked is a fixture)
    RETURNED_AT,
    approved_return,
    books_balance,
    fresh_return,
    level,
    receive,
    restock,
    shipped_mugs_and_tee,
    stocked,
    write_off,
)

pytestmark = pytest.mark.usefixtures("stocked")

CLOSED_AT = RETURNED_AT + timedelta(days=4)


def received_return(order: str, *entries: dict, lines=None) -> str:
    lines = lines or tuple((e["sku"], e["qty"]) for e in entries)
    number = approved_return(order, lines)
    receive(number, *entries)
    return number


def close(number: str, **kwargs):
    return returns_service.close(number, actor=kwargs.pop("actor", ACTOR), now=CLOSED_AT, **kwargs)


def credit_notes() -> list[Invoice]:
    db.session.rollback()
    return list(db.session.scalars(select(Invoice).where(Invoice.kind == "credit_note").order_by(Invoice.id)))


def refunds_of(number: str) -> list[Refund]:
    db.session.rollback()
    return list(db.session.scalars(select(Refund).where(Refund.return_id == fresh_return(number).id)
                                   .order_by(Refund.id)))


# Refunds ------------------------------------------------------------------------------------


def test_a_refund_credits_what_arrived_and_updates_the_payment_status():
    order = shipped_mugs_and_tee()
    number = received_return(order, restock("MUG", 1), write_off("MUG", 1), lines=(("MUG", 2),))

    close(number, method="card")

    ret = fresh_return(number)
    assert (ret.status, ret.closed_at, ret.refund_total) == ("closed", CLOSED_AT, Decimal("25.00"))
    [note] = credit_notes()
    assert (note.number, note.total, note.corrects.number) == ("CN-2026-000001", Decimal("25.00"), "INV-2026-000001")
    assert [(x["sku"], x["qty"], x["unit_price"]) for x in note.snapshot["lines"]] == [("MUG", 2, "12.50")]
    assert note.snapshot["reason"] == f"Return {number} (damaged)"
    [refund] = refunds_of(number)
    assert (refund.amount, refund.credit_note_id, refund.method, refund.reference) == (
        Decimal("25.00"), note.id, "card", "CN-2026-000001")
    paid = reload(order)
    assert (paid.payment_status, paid.refunded_amount, paid.paid_amount) == (
        "partially_refunded", Decimal("25.00"), Decimal("54.95"))
    on_order = db.session.scalar(select(Event).where(Event.entity_id == order, Event.action == "refund_recorded"))
    assert (on_order.from_state, on_order.to_state, on_order.details["credit_notes"]) == (
        "paid", "partially_refunded", ["CN-2026-000001"])
    closed = db.session.scalar(select(Event).where(Event.entity_id == number, Event.to_state == "closed"))
    assert closed.details == {"resolution": "refund", "refund": "25.00", "credit_notes": ["CN-2026-000001"]}


def test_returning_everything_with_shipping_refunds_the_order_in_full():
    order = shipped_mugs_and_tee()
    number = received_return(order, restock("MUG", 2), restock("TEE", 1))
    assert returns_service.refund_preview(fresh_return(number), include_shipping=True) == Decimal("54.95")

    close(number, include_shipping=True)

    [note] = credit_notes()
    assert note.total == Decimal("54.95")
    assert [(x["sku"], x["qty"]) for x in note.snapshot["lines"]] == [("MUG", 2), ("TEE", 1), (None, 1)]
    paid = reload(order)
    assert (paid.payment_status, paid.refunded_amount) == ("refunded", Decimal("54.95"))


def test_shipping_is_refunded_once():
    order = shipped_mugs_and_tee()
    first = received_return(order, restock("MUG", 1))
    close(first, include_shipping=True)
    assert credit_notes()[0].total == Decimal("17.45")
    second = received_return(order, restock("TEE", 1))
    assert returns_service.refund_preview(fresh_return(second), include_shipping=True) is None
    with pytest.raises(ValidationFailed, match="No shipping is left to refund on SO-000001"):
        close(second, include_shipping=True)
    close(second)
    assert reload(order).refunded_amount == Decimal("42.45")


def test_a_lowered_refund_needs_a_reason_and_is_credited_by_amount():
    order = shipped_mugs_and_tee()
    number = received_return(order, restock("TEE", 1))
    with pytest.raises(ValidationFailed, match=r"Say why the refund is lower than the 25.00 EUR received"):
        close(number, refund_amount=Decimal("20.00"))
    assert credit_notes() == [] and fresh_return(number).status == "received"

    close(number, refund_amount=Decimal("20.00"), refund_reason="worn once")

    [note] = credit_notes()
    assert note.total == Decimal("20.00")
    assert note.snapshot["reason"] == f"Return {number} (damaged): worn once"
    assert [x["sku"] for x in note.snapshot["lines"]] == [None]  # a correction by amount
    assert (fresh_return(number).refund_total, reload(order).refunded_amount) == (Decimal("20.00"),
                                                                                   Decimal("20.00"))


def test_the_refund_cannot_go_above_the_received_value():
    order = shipped_mugs_and_tee()
    number = received_return(order, restock("TEE", 1))
    with pytest.raises(ValidationFailed, match=r"at most the value of what was received, 25.00 EUR"):
        close(number, refund_amount=Decimal("25.01"), refund_reason="generous")
    assert credit_notes() == []


def test_refunding_more_than_was_paid_is_refused_and_issues_nothing():
    order = shipped_mugs_and_tee()
    number = received_return(order, restock("MUG", 2), restock("TEE", 1))
    # A goodwill refund of 40.00 paid out earlier leaves 14.95 of the 54.95 paid.
    session = begin_write()
    session.scalar(select(Order).where(Order.number == order)).refunded_amount = Decimal("40.00")
    session.commit()

    with pytest.raises(ValidationFailed) as exc:
        close(number)

    assert exc.value.message == ("50.00 EUR is more than was paid: only 14.95 EUR of this order's payments is left "
                                 "to refund.")
    assert credit_notes() == [] and refunds_of(number) == []
    assert fresh_return(number).status == "received"
    assert db.session.scalar(select(func.count()).select_from(Event).where(Event.action == "credit_note_issued")) == 0
    close(number, refund_amount=Decimal("14.95"), refund_reason="rest was refunded as goodwill")
    assert reload(order).payment_status == "refunded"


def test_a_zero_refund_closes_without_a_credit_note():
    order = shipped_mugs_and_tee()
    number = received_return(order, write_off("TEE", 1))
    close(number, refund_amount=Decimal("0"), refund_reason="damaged by the customer")
    assert fresh_return(number).status == "closed"
    assert credit_notes() == [] and reload(order).payment_status == "paid"
    assert db.session.scalar(select(Event.details).where(Event.action == "refund_waived")) == {
        "reason": "damaged by the customer"}


def test_units_charged_on_two_invoices_get_a_credit_note_each():
    order = packed_order("R-SPLIT", (("MUG", 3, "12.50"), ("TEE", 1, "25.00")))
    shipping.ship_order(order, carrier="dhl_express", tracking_number="1234567890", lines=[{"sku": "MUG", "qty": 2}],
                        actor=ACTOR, now=NOW + timedelta(hours=3))
    wave_of("AMS", order)
    second = shipments_of(order)[1]
    pack_all(second.number)
    shipping.ship_parcel(second.number, carrier="dpd", tracking_number="01234567890123", actor=ACTOR,
                         now=NOW + timedelta(hours=5))
    number = received_return(order, restock("MUG", 3))

    close(number)

    notes = credit_notes()
    assert [(n.corrects.number, n.total, [(x["sku"], x["qty"]) for x in n.snapshot["lines"]]) for n in notes] == [
        ("INV-2026-000001", Decimal("25.00"), [("MUG", 2)]),
        ("INV-2026-000002", Decimal("12.50"), [("MUG", 1)]),
    ]
    assert [(r.amount, r.reference) for r in refunds_of(number)] == [
        (Decimal("25.00"), "CN-2026-000001"), (Decimal("12.50"), "CN-2026-000002")]
    assert fresh_return(number).refund_total == Decimal("37.50")


def test_a_lowered_refund_over_two_invoices_is_split_by_their_value():
    order = packed_order("R-SPLIT", (("MUG", 3, "12.50"),))
    shipping.ship_order(order, carrier="dhl_express", tracking_number="1234567890", lines=[{"sku": "MUG", "qty": 2}],
                        actor=ACTOR, now=NOW + timedelta(hours=3))
    wave_of("AMS", order)
    second = shipments_of(order)[1]
    pack_all(second.number)
    shipping.ship_parcel(second.number, carrier="dpd", tracking_number="01234567890123", actor=ACTOR,
                         now=NOW + timedelta(hours=5))
    number = received_return(order, restock("MUG", 3))
    close(number, refund_amount=Decimal("30.00"), refund_reason="one mug chipped")
    assert [n.total for n in credit_notes()] == [Decimal("20.00"), Decimal("10.00")]


def test_units_already_credited_by_finance_cannot_be_credited_again():
    order = shipped_mugs_and_tee()
    invoicing.credit_invoice("INV-2026-000001", lines=[{"sku": "TEE", "qty": 1}], reason="price error",
                             actor=ACTOR, now=NOW + timedelta(days=1))
    number = received_return(order, restock("TEE", 1))
    with pytest.raises(Conflict, match="1 × TEE of RMA-000001 cannot be credited"):
        close(number)
    assert len(credit_notes()) == 1 and fresh_return(number).status == "received"


def test_a_refund_is_finances_call_and_an_exchange_ops(make_user):
    order = shipped_mugs_and_tee()
    number = received_return(order, restock("TEE", 1))
    ops = Actor.for_user(make_user("ops"))
    with pytest.raises(NotAllowed, match="Closing a return with a refund is for finance") as exc:
        close(number, actor=ops)
    assert exc.value.http_status == 403
    finance = Actor.for_user(make_user("finance"))
    with pytest.raises(NotAllowed, match="an exchange is for ops"):
        close(number, actor=finance, resolution="exchange")
    close(number, actor=finance)
    assert fresh_return(number).status == "closed"


# Exchanges ----------------------------------------------------------------------------------


def test_an_exchange_creates_a_free_replacement_that_is_allocated_like_any_order():
    order = shipped_mugs_and_tee()
    number = received_return(order, restock("MUG", 1), write_off("TEE", 1), lines=(("MUG", 1), ("TEE", 1)))

    close(number, resolution="exchange")

    ret = fresh_return(number)
    replacement = ret.exchange_order
    original = reload(order)
    assert (ret.status, ret.resolution, ret.refund_total) == ("closed", "exchange", Decimal("0.00"))
    assert (replacement.number, replacement.source, replacement.external_id) == (
        "SO-000002", "exchange", "RMA-000001-EXCHANGE")
    assert (replacement.channel_id, replacement.customer_id, replacement.replaces_order_id) == (
        original.channel_id, original.customer_id, original.id)
    assert (replacement.ship_line1, replacement.ship_postcode, replacement.ship_country) == (
        original.ship_line1, original.ship_postcode, original.ship_country)
    assert [(ln.sku, ln.qty, ln.unit_price) for ln in replacement.lines] == [
        ("MUG", 1, Decimal("0.00")), ("TEE", 1, Decimal("0.00"))]
    assert (replacement.total, replacement.status, replacement.payment_status) == (Decimal("0.00"), "ready", "paid")
    assert [(ln.sku, ln.qty_allocated) for ln in replacement.lines] == [("MUG", 1), ("TEE", 1)]
    clocks = {c.kind: c.state for c in db.session.scalars(select(SlaClock).where(SlaClock.order_id == replacement.id))}
    assert clocks == {"payment": "met", "dispatch": "running"}  # no reminder for a free order
    assert replacement.ship_by is not None
    assert credit_notes() == [] and original.payment_status == "paid"
    assert db.session.scalar(select(Event.details).where(Event.action == "exchange_order_created")) == {
        "return": number, "exchange_order": "SO-000002"}
    books_balance()


def test_an_exchange_without_stock_waits_on_hold_like_any_order():
    order = shipped_mugs_and_tee()
    inventory.adjust(location="AMS", sku="TEE", delta=-9, reason="loss", actor=ACTOR, now=NOW)
    number = received_return(order, write_off("TEE", 1))
    close(number, resolution="exchange")
    replacement = fresh_return(number).exchange_order
    assert (replacement.status, replacement.hold_reason) == ("on_hold", "stock")


def test_an_exchange_takes_no_refund():
    order = shipped_mugs_and_tee()
    number = received_return(order, restock("TEE", 1))
    with pytest.raises(ValidationFailed, match="An exchange refunds nothing"):
        close(number, resolution="exchange", include_shipping=True)
    assert db.session.scalar(select(func.count()).select_from(Order)) == 1
