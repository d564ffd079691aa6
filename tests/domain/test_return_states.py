"""The return state machine (every pair), and the pure rules of returns: claiming units,
what a receipt may say, when a return may close, refund amounts and the report's rate."""

import itertools
from decimal import Decimal

import pytest

from app.domain.errors import IllegalTransition, ValidationFailed
from app.domain.return_states import ReturnStatus, check_can_receive, check_return_transition
from app.domain.returns import (
    ExpectedLine,
    NotAllowed,
    PricedUnits,
    ReturnableLine,
    check_may_close,
    check_may_handle,
    check_reason,
    check_refund_amount,
    may_close,
    plan_receipts,
    plan_return_lines,
    refund_value,
    return_rate,
    split_amount,
    units_held,
    unsettled,
)

EXPECTED = {
    ("requested", "approved"), ("requested", "rejected"),
    ("approved", "received"), ("approved", "cancelled"),
    ("received", "closed"),
}
FINAL = {"rejected", "cancelled", "closed"}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(ReturnStatus.values(), repeat=2)))
def test_return_transitions(current, target):
    if (current, target) in EXPECTED:
        check_return_transition(current, target)
        return
    with pytest.raises(IllegalTransition) as exc:
        check_return_transition(current, target)
    message = exc.value.message
    assert exc.value.http_status == 409
    if current == target:
        assert message == f"The return is already {current}."
    elif current in FINAL:
        assert message == f"A return that is {current} is final and cannot be moved to {target}."
    else:
        assert message.startswith(f"A return that is {current} cannot be moved to {target} (")


@pytest.mark.parametrize("status", ReturnStatus.values())
def test_goods_are_received_once_approved_and_again_while_received(status):
    if status in ("approved", "received"):
        check_can_receive(status)
    else:
        with pytest.raises(IllegalTransition):
            check_can_receive(status)


def test_refusals_say_what_to_do_instead():
    with pytest.raises(IllegalTransition, match=r"\(approve it first, then record what arrived\)"):
        check_return_transition("requested", "received")
    with pytest.raises(IllegalTransition, match=r"close it with a refund or an exchange"):
        check_return_transition("received", "cancelled")


# Claiming units -----------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "qty", "received", "not_returned", "held"), [
    ("requested", 3, 0, False, 3),
    ("approved", 3, 0, False, 3),
    ("received", 3, 1, False, 3),  # still waiting for two
    ("received", 3, 1, True, 1),  # the other two will not come
    ("closed", 3, 1, True, 1),
    ("closed", 3, 3, False, 3),
    ("rejected", 3, 0, False, 0),
    ("cancelled", 3, 0, False, 0),
])
def test_units_held_by_a_return_line(status, qty, received, not_returned, held):
    assert units_held(status, qty, received, not_returned) == held


def test_a_return_plan_fills_the_lines_of_a_sku_in_order():
    lines = [ReturnableLine(1, "MUG", shipped=2, held=1), ReturnableLine(2, "MUG", shipped=3, held=0),
             ReturnableLine(3, "TEE", shipped=1, held=0)]
    assert plan_return_lines([{"sku": "MUG", "qty": 2}, {"sku": "MUG", "qty": 1}, {"sku": "TEE", "qty": 1}],
                             lines) == {1: 1, 2: 2, 3: 1}


def test_a_return_plan_reports_every_problem_at_once():
    lines = [ReturnableLine(1, "MUG", shipped=2, held=2), ReturnableLine(2, "CAP", shipped=0, held=0)]
    with pytest.raises(ValidationFailed) as exc:
        plan_return_lines([{"sku": "MUG", "qty": 1}, {"sku": "TEE", "qty": 1}, {"sku": "CAP", "qty": 1},
                           {"sku": "MUG", "qty": 0}], lines)
    assert exc.value.details == {"lines": {
        "0": ["Only 0 × MUG can still be returned (2 shipped, 2 already in other returns)."],
        "1": ["TEE is not on this order."],
        "2": ["No CAP has shipped on this order yet."],
        "3": ["Return at least one unit of MUG."],
    }}
    with pytest.raises(ValidationFailed, match="Choose at least one unit"):
        plan_return_lines([], lines)


def test_reasons():
    check_reason("damaged", "")
    check_reason("other", "kept one size")
    with pytest.raises(ValidationFailed, match="when it is “other”"):
        check_reason("other", "  ")
    with pytest.raises(ValidationFailed, match="not a return reason"):
        check_reason("meh", "")


# Receiving ------------------------------------------------------------------------------------

AWAITED = [ExpectedLine(10, "MUG", qty=2, received=0, not_returned=False),
           ExpectedLine(11, "TEE", qty=1, received=0, not_returned=False)]


def test_a_receipt_splits_a_sku_and_defaults_the_condition():
    plan = plan_receipts([{"sku": "MUG", "qty": 1, "disposition": "restock", "location": "AMS"},
                          {"sku": "MUG", "qty": 1, "disposition": "write_off"}], ["TEE"], AWAITED,
                         first_receipt=True)
    assert [(r.line_id, r.qty, r.condition, r.disposition, r.location) for r in plan.receipts] == [
        (10, 1, "resellable", "restock", "AMS"), (10, 1, "damaged", "write_off", None)]
    assert plan.mark_not_returned == [11]


@pytest.mark.parametrize(("entry", "message"), [
    ({"sku": "MUG", "qty": 3, "disposition": "restock", "location": "AMS"},
     "3 × MUG is more than the 2 still expected on this return."),
    ({"sku": "CAP", "qty": 1, "disposition": "restock", "location": "AMS"}, "CAP is not on this return."),
    ({"sku": "MUG", "qty": 0, "disposition": "restock", "location": "AMS"}, "Record at least one unit of MUG."),
    ({"sku": "MUG", "qty": 1, "disposition": "keep"}, "Say what happens to MUG: restock or write_off."),
    ({"sku": "MUG", "qty": 1, "disposition": "restock"}, "Choose the location MUG is restocked to."),
    ({"sku": "MUG", "qty": 1, "disposition": "write_off", "location": "AMS"}, "goes to no location"),
    ({"sku": "MUG", "qty": 1, "disposition": "restock", "location": "AMS", "condition": "damaged"},
     "Damaged MUG cannot go back into sellable stock; write it off."),
    ({"sku": "MUG", "qty": 1, "disposition": "restock", "location": "AMS", "condition": "mint"},
     "The condition of MUG is resellable or damaged."),
])
def test_bad_receipts(entry, message):
    with pytest.raises(ValidationFailed) as exc:
        plan_receipts([entry], [], AWAITED, first_receipt=False)
    assert message in exc.value.message


def test_nothing_to_record_and_nothing_arrived_yet():
    with pytest.raises(ValidationFailed, match="Record at least one unit that arrived, or mark"):
        plan_receipts([], [], AWAITED, first_receipt=False)
    with pytest.raises(ValidationFailed, match="cancel the return instead"):
        plan_receipts([], ["MUG"], AWAITED, first_receipt=True)
    with pytest.raises(ValidationFailed, match="CAP is not on this return"):
        plan_receipts([], ["CAP"], AWAITED, first_receipt=False)


def test_a_line_marked_not_returned_expects_nothing_more():
    done = [ExpectedLine(10, "MUG", qty=2, received=1, not_returned=True)]
    with pytest.raises(ValidationFailed, match="MUG was marked as not coming back"):
        plan_receipts([{"sku": "MUG", "qty": 1, "disposition": "write_off"}], [], done, first_receipt=False)


def test_unsettled_lines_block_closing():
    assert unsettled(AWAITED) == ["2 × MUG", "1 × TEE"]
    assert unsettled([ExpectedLine(10, "MUG", 2, 1, True), ExpectedLine(11, "TEE", 1, 1, False)]) == []


# Refunds ----------------------------------------------------------------------------------------


def test_refund_value_adds_up_like_a_credit_note():
    units = [PricedUnits(2, Decimal("12.50"), Decimal("21.00")), PricedUnits(1, Decimal("4.95"), Decimal("9.00"))]
    assert refund_value(units, prices_include_tax=True) == Decimal("29.95")
    # Net prices: tax is added per rate on the summed lines (25.00 + 5.25; 4.95 + 0.45).
    assert refund_value(units, prices_include_tax=False) == Decimal("35.65")
    assert refund_value([], prices_include_tax=True) == Decimal("0.00")


@pytest.mark.parametrize(("requested", "reason", "refundable", "result"), [
    (None, "", "100.00", "25.00"),
    ("25.00", "", "100.00", "25.00"),
    ("20.00", "worn", "100.00", "20.00"),
    ("0", "damaged by the customer", "100.00", "0.00"),
    ("20.00", "", "100.00", "Say why the refund is lower than the 25.00 EUR received"),
    ("25.01", "x", "100.00", "at most the value of what was received, 25.00 EUR"),
    ("-1", "x", "100.00", "A refund cannot be negative."),
    (None, "", "10.00", "25.00 EUR is more than was paid: only 10.00 EUR"),
    (None, "", "-5.00", "only 0.00 EUR of this order's payments is left to refund"),
])
def test_refund_amounts(requested, reason, refundable, result):
    def check():
        return check_refund_amount(None if requested is None else Decimal(requested), full=Decimal("25.00"),
                                   refundable=Decimal(refundable), reason=reason, currency="EUR")

    if " " not in result:  # an amount; otherwise the sentence that refuses it
        assert check() == Decimal(result)
    else:
        with pytest.raises(ValidationFailed) as exc:
            check()
        assert result in exc.value.message


def test_a_lowered_refund_is_split_in_proportion_to_the_cent():
    assert split_amount(Decimal("30.00"), [Decimal("25.00"), Decimal("12.50")]) == [Decimal("20.00"),
                                                                                   Decimal("10.00")]
    assert split_amount(Decimal("10.00"), [Decimal("1"), Decimal("1"), Decimal("1")]) == [
        Decimal("3.33"), Decimal("3.33"), Decimal("3.34")]
    assert sum(split_amount(Decimal("0.01"), [Decimal("3"), Decimal("7")])) == Decimal("0.01")


def test_who_may_do_what():
    assert may_close("finance", "refund") and not may_close("finance", "exchange")
    assert may_close("ops", "exchange") and not may_close("ops", "refund")
    assert may_close("manager", "refund") and may_close("admin", "exchange") and may_close(None, "refund")
    check_may_handle("ops")
    check_may_handle(None)
    with pytest.raises(NotAllowed) as exc:
        check_may_handle("finance")
    assert exc.value.http_status == 403
    with pytest.raises(NotAllowed, match="refund is for finance"):
        check_may_close("ops", "refund")


# The report -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("returned", "shipped", "rate"), [
    (1, 8, Decimal("12.5")), (2, 3, Decimal("66.7")), (0, 5, Decimal("0.0")), (3, 0, None)])
def test_return_rate(returned, shipped, rate):
    assert return_rate(returned, shipped) == rate
