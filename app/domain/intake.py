"""What a new order looks like when it is taken in: address fields, totals, the effect
of a payment, hold fields and the SLA clocks that start.

Shared by the single-order intake (app.services.orders.create_order) and the CSV batch
import (app.services.order_import), so that an order is the same whichever way it
arrived. Pure: no Flask, no session, no clock read (times are parameters).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from app.domain.calendar import BusinessCalendar
from app.domain.enums import ClockKind
from app.domain.errors import ValidationFailed
from app.domain.money import TaxLine, totals
from app.domain.order_states import HoldReason, PaymentStatus
from app.domain.review import normalise_postcode
from app.domain.sla import Deadline, SlaPolicy, dispatch_deadline, payment_deadline, same_day_hold_deadline

# Holds that a person must resolve within the business day carry an SLA clock of their own.
HOLD_CLOCKS: Mapping[HoldReason, ClockKind] = {
    HoldReason.STOCK: ClockKind.STOCK_HOLD,
    HoldReason.ADDRESS: ClockKind.ADDRESS_HOLD,
}

HOLD_NOTE_MAX = 500  # orders.hold_note


def ship_to_fields(ship: Mapping[str, str | None]) -> dict[str, str | None]:
    """The order's ship_* columns from an intake body's ship_to."""
    return {
        "ship_name": (ship["name"] or "").strip(),
        "ship_line1": (ship["line1"] or "").strip(),
        "ship_line2": (ship.get("line2") or "").strip() or None,
        "ship_city": (ship["city"] or "").strip(),
        "ship_region": (ship.get("region") or "").strip() or None,
        "ship_postcode": normalise_postcode(ship["country"], ship["postcode"]),
        "ship_country": (ship["country"] or "").strip().upper(),
    }


@dataclass(frozen=True)
class OrderTotals:
    subtotal: Decimal
    tax_total: Decimal
    total: Decimal


def order_totals(lines: Iterable[tuple[int, Decimal, Decimal]], shipping_price: Decimal, *,
                 prices_include_tax: bool) -> OrderTotals:
    """Totals of (qty, unit_price, tax_rate) lines plus shipping (DESIGN.md §6: total =
    Σ qty × unit_price + shipping_price when prices include tax; tax on top otherwise)."""
    t = totals([TaxLine(unit_price * qty, rate) for qty, unit_price, rate in lines],
               prices_include_tax=prices_include_tax)
    return OrderTotals(subtotal=t.gross if prices_include_tax else t.net, tax_total=t.tax,
                       total=t.gross + shipping_price)


def payment_received_at(placed_at: datetime, now: datetime) -> datetime:
    """A payment that arrives with the order (a channel collected it) was received when
    the order was placed, unless the placing time lies in the future."""
    return placed_at if placed_at <= now else now


@dataclass(frozen=True)
class PaymentState:
    paid_amount: Decimal
    payment_status: PaymentStatus

    @property
    def paid_in_full(self) -> bool:
        return self.payment_status == PaymentStatus.PAID


def after_payment(total: Decimal, paid_amount: Decimal, amount: Decimal, *, order_label: str) -> PaymentState:
    """The order's payment state once `amount` is received; refuses nothing-payments and
    payments above what is still due."""
    if amount <= 0:
        raise ValidationFailed("A payment must be more than zero.", details={"amount": ["Must be more than 0."]})
    due = total - paid_amount
    if amount > due:
        raise ValidationFailed(f"{amount} is more than the {due} still due on {order_label}.",
                               details={"amount": [f"At most {due}."]})
    paid = paid_amount + amount
    return PaymentState(paid_amount=paid,
                        payment_status=PaymentStatus.PAID if paid >= total else PaymentStatus.PARTIALLY_PAID)


def hold_fields(reason: HoldReason, *, at: datetime, by: str, note: str | None) -> dict[str, object]:
    """The order columns that say why, since when and by whom it is on hold."""
    return {"hold_reason": reason, "held_at": at, "held_by": by, "hold_note": (note or "")[:HOLD_NOTE_MAX] or None}


@dataclass(frozen=True)
class ClockStart:
    kind: ClockKind
    started_at: datetime
    deadline: Deadline
    met_at: datetime | None = None  # already met when the order is saved (paid at intake)
    location_id: int | None = None  # the location whose calendar set the deadline


def intake_clocks(*, placed_at: datetime, now: datetime, policy: SlaPolicy, paid_at: datetime | None,
                  dispatch_calendar: BusinessCalendar | None, hold: HoldReason | None,
                  hold_calendar: BusinessCalendar | None = None, dispatch_location_id: int | None = None,
                  hold_location_id: int | None = None) -> list[ClockStart]:
    """The SLA clocks of a new order (DESIGN.md §5), in the order they start.

    The payment clock runs from placing and is met when the order arrives paid in full;
    the dispatch clock then runs from the payment. A stock or address hold is due by the
    end of the business day it started on (the calendar of the location that would ship);
    an address hold also tells the customer at once."""
    started = [ClockStart(ClockKind.PAYMENT, now, payment_deadline(placed_at, policy), met_at=paid_at)]
    if paid_at is not None:
        started.append(ClockStart(ClockKind.DISPATCH, paid_at, dispatch_deadline(paid_at, policy, dispatch_calendar),
                                  location_id=dispatch_location_id))
    if hold in HOLD_CLOCKS:
        kind = HOLD_CLOCKS[hold]
        deadline = same_day_hold_deadline(now, hold_calendar or BusinessCalendar(),
                                          notify_customer=kind == ClockKind.ADDRESS_HOLD)
        started.append(ClockStart(kind, now, deadline, location_id=hold_location_id))
    return started
