"""The intake rules both the single-order path and the CSV import apply (app.domain.intake)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from app.domain.calendar import BusinessCalendar
from app.domain.errors import ValidationFailed
from app.domain.intake import (
    after_payment,
    hold_fields,
    intake_clocks,
    order_totals,
    payment_received_at,
    ship_to_fields,
)
from app.domain.order_states import HoldReason
from app.domain.sla import SlaPolicy

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


def test_ship_to_fields_are_trimmed_and_normalised():
    fields = ship_to_fields({"name": " Ada ", "line1": "Damrak 1 ", "line2": " ", "city": "Amsterdam",
                             "region": None, "postcode": " 1011  ab", "country": "nl"})
    assert fields == {"ship_name": "Ada", "ship_line1": "Damrak 1", "ship_line2": None, "ship_city": "Amsterdam",
                      "ship_region": None, "ship_postcode": "1011 AB", "ship_country": "NL"}


def test_totals_include_shipping_and_the_tax_contained():
    t = order_totals([(2, Decimal("12.50"), Decimal("21.00"))], Decimal("4.95"), prices_include_tax=True)
    assert (t.subtotal, t.tax_total, t.total) == (Decimal("25.00"), Decimal("4.34"), Decimal("29.95"))
    net = order_totals([(2, Decimal("12.50"), Decimal("21.00"))], Decimal("0.00"), prices_include_tax=False)
    assert (net.subtotal, net.tax_total, net.total) == (Decimal("25.00"), Decimal("5.25"), Decimal("30.25"))


def test_a_payment_pays_in_full_or_in_part_and_never_more_than_due():
    assert after_payment(Decimal("10.00"), Decimal("0.00"), Decimal("10.00"), order_label="SO-1").paid_in_full
    part = after_payment(Decimal("10.00"), Decimal("0.00"), Decimal("4.00"), order_label="SO-1")
    assert (part.paid_amount, part.payment_status) == (Decimal("4.00"), "partially_paid")
    with pytest.raises(ValidationFailed, match=r"more than the 6\.00 still due on SO-1"):
        after_payment(Decimal("10.00"), Decimal("4.00"), Decimal("7.00"), order_label="SO-1")
    with pytest.raises(ValidationFailed, match="more than zero"):
        after_payment(Decimal("10.00"), Decimal("0.00"), Decimal("0.00"), order_label="SO-1")


def test_a_payment_collected_by_the_channel_counts_from_placing_but_never_from_the_future():
    assert payment_received_at(NOW - timedelta(hours=2), NOW) == NOW - timedelta(hours=2)
    assert payment_received_at(NOW + timedelta(hours=2), NOW) == NOW


def test_hold_fields_keep_the_note_short():
    fields = hold_fields(HoldReason.STOCK, at=NOW, by="ana", note="x" * 600)
    assert (fields["hold_reason"], fields["held_by"], len(fields["hold_note"])) == ("stock", "ana", 500)
    assert hold_fields(HoldReason.REVIEW, at=NOW, by="ana", note=None)["hold_note"] is None


def test_an_order_paid_at_intake_meets_its_payment_clock_and_starts_dispatch():
    clocks = intake_clocks(placed_at=NOW, now=NOW, policy=SlaPolicy(), paid_at=NOW, dispatch_calendar=None,
                           hold=None)
    assert [(c.kind, c.met_at, c.deadline.due_at) for c in clocks] == [
        ("payment", NOW, NOW + timedelta(hours=72)), ("dispatch", None, NOW + timedelta(hours=72))]


def test_a_stock_hold_is_due_at_the_cut_off_of_the_day():
    clocks = intake_clocks(placed_at=NOW, now=NOW, policy=SlaPolicy(), paid_at=None, dispatch_calendar=None,
                           hold=HoldReason.STOCK, hold_calendar=BusinessCalendar(timezone="Europe/Amsterdam"))
    assert [(c.kind, c.met_at) for c in clocks] == [("payment", None), ("stock_hold", None)]
    assert clocks[1].deadline.due_at == datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # 16:00 in Amsterdam
    review = intake_clocks(placed_at=NOW, now=NOW, policy=SlaPolicy(), paid_at=None, dispatch_calendar=None,
                           hold=HoldReason.REVIEW)
    assert [c.kind for c in review] == ["payment"]
