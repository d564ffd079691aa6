"""Closing a return: every line settled, then a refund (with its credit notes) or an
exchange (a replacement order at zero price) — in the same transaction as the close.

A refund credits the invoices the returned units were charged on: an order invoiced
per shipment may need a credit note for each of several invoices, one Refund each.
The full received value is credited line by line at the invoiced prices and rates; a
refund lowered by a person (with a reason) is credited by amount instead, split over
those invoices in proportion to the value of the units each one charged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select

from app.domain.enums import ClockKind, DocumentKind, ReturnReason, ReturnResolution
from app.domain.errors import Conflict, IllegalTransition, ValidationFailed
from app.domain.order_states import PaymentStatus
from app.domain.return_states import ReturnStatus, check_return_transition
from app.domain.returns import (
    ZERO,
    PricedUnits,
    check_may_close,
    check_refund_amount,
    refund_value,
    split_amount,
    unsettled,
)
from app.extensions import db
from app.models import Invoice, Order, Refund, Return
from app.models.base import utcnow
from app.services import clocks, invoicing
from app.services import orders as order_service
from app.services.actors import Actor
from app.services.audit import record_event
from app.services.returns.common import expected_lines, load_for_change, set_status

SHIPPING = None  # the SKU of an invoice's shipping line


def close(number: str, *, resolution: str | None = None, refund_amount: Decimal | None = None,
          include_shipping: bool = False, refund_reason: str = "", method: str = "original", actor: Actor,
          expected_version: int | None = None, now: datetime | None = None) -> Return:
    """Settle a received return: refund what arrived (optionally shipping; an amount may be
    lowered with a reason) or send a replacement. Refused while a line still waits for units."""
    now = now or utcnow()
    ret, order = load_for_change(number, expected_version)
    check_return_transition(ret.status, ReturnStatus.CLOSED)
    waiting = unsettled(expected_lines(ret))
    if waiting:
        raise IllegalTransition(
            f"{ret.number} cannot be closed yet: {', '.join(waiting)} not received. Record what arrived, "
            f"or mark what will not come back.", details={"waiting": waiting})
    resolution = resolution or ret.resolution
    if resolution not in ReturnResolution.values():
        raise ValidationFailed(f"“{resolution}” is not a resolution.",
                               details={"resolution": [f"One of {', '.join(ReturnResolution.values())}."]})
    check_may_close(actor.role, resolution)
    if resolution != ret.resolution:
        record_event("return", ret.number, "resolution_changed", actor=actor, before=ret.resolution,
                     after=resolution, at=now)
        ret.resolution = resolution
    if resolution == ReturnResolution.REFUND:
        details = _refund(ret, order, requested=refund_amount, include_shipping=include_shipping,
                          reason=(refund_reason or "").strip(), method=(method or "original")[:40], actor=actor,
                          at=now)
    else:
        if refund_amount is not None or include_shipping:
            raise ValidationFailed("An exchange refunds nothing; leave the refund out or close with a refund.",
                                   details={"refund": ["Not with an exchange."]})
        replacement = _exchange(ret, order, actor=actor, at=now)
        details = {"exchange_order": replacement.number}
    set_status(ret, ReturnStatus.CLOSED, actor=actor, at=now, details={"resolution": resolution, **details})
    db.session.commit()
    return ret


# Refund ---------------------------------------------------------------------------------


@dataclass
class _Credit:
    """What one invoice credits for this return."""

    invoice: Invoice
    lines: list[dict] = field(default_factory=list)  # [{"sku", "qty"}] as issue_credit_note takes them
    units: list[PricedUnits] = field(default_factory=list)

    @property
    def value(self) -> Decimal:
        return refund_value(self.units, prices_include_tax=self.invoice.snapshot.get("prices_include_tax", True))


def _invoiced_price(invoice: Invoice, sku: str | None) -> tuple[Decimal, Decimal]:
    line = next(line for line in invoice.snapshot.get("lines", []) if line.get("sku") == sku)
    return Decimal(line["unit_price"]), Decimal(line["tax_rate"])


def credit_plan(order: Order, ret: Return, *, include_shipping: bool, lock: bool = True) -> list[_Credit]:
    """Where each received unit (and shipping) is credited: the order's invoices in the
    order they were issued, each up to what it charged and no credit note took back yet."""
    stmt = (select(Invoice).where(Invoice.order_id == order.id, Invoice.kind == DocumentKind.INVOICE)
            .order_by(Invoice.id))
    invoices = list(db.session.scalars(stmt.with_for_update(of=Invoice) if lock else stmt))
    if not invoices:
        raise Conflict(f"{order.number} has no invoice, so no credit note can be issued for {ret.number}; "
                       f"issue the invoice first (Documents).")
    left = {invoice.id: invoicing.creditable_units(invoice) for invoice in invoices}
    credits = {invoice.id: _Credit(invoice) for invoice in invoices}
    wanted: dict[str, int] = {}
    for line in ret.lines:
        if line.qty_received:
            wanted[line.line.sku] = wanted.get(line.line.sku, 0) + line.qty_received
    if include_shipping:
        wanted[SHIPPING] = 1
    for sku, qty in wanted.items():
        for invoice in invoices:
            take = min(qty, left[invoice.id].get(sku, 0))
            if take <= 0:
                continue
            price, rate = _invoiced_price(invoice, sku)
            credits[invoice.id].lines.append({"sku": sku, "qty": take})
            credits[invoice.id].units.append(PricedUnits(take, price, rate))
            qty -= take
        if qty > 0 and sku is None:
            raise ValidationFailed(f"No shipping is left to refund on {order.number}: it was not charged, or "
                                   f"was credited already.", details={"include_shipping": ["Nothing to refund."]})
        if qty > 0:
            raise Conflict(f"{qty} × {sku} of {ret.number} cannot be credited: the invoices of {order.number} "
                           f"have no uncredited {sku} left (see its credit notes).")
    return [credit for credit in credits.values() if credit.lines]


def refund_preview(ret: Return, *, include_shipping: bool = False) -> Decimal | None:
    """The full refund the return would get now (None when nothing can be credited)."""
    try:
        return sum((c.value for c in credit_plan(ret.order, ret, include_shipping=include_shipping, lock=False)), ZERO)
    except (Conflict, ValidationFailed):
        return None


def _refund(ret: Return, order: Order, *, requested: Decimal | None, include_shipping: bool, reason: str,
            method: str, actor: Actor, at: datetime) -> dict:
    credits = credit_plan(order, ret, include_shipping=include_shipping)
    full = sum((credit.value for credit in credits), ZERO)
    refundable = order.paid_amount - order.refunded_amount
    amount = check_refund_amount(requested, full=full, refundable=refundable, reason=reason, currency=order.currency)
    if amount == 0:
        record_event("return", ret.number, "refund_waived", actor=actor, details={"reason": reason}, at=at)
        return {"refund": "0.00", "reason": reason}
    printed = f"Return {ret.number} ({ReturnReason(ret.reason).label})" + (f": {reason}" if reason else "")
    notes: list[Invoice] = []
    if amount == full:
        for credit in credits:
            notes.append(invoicing.issue_credit_note(credit.invoice, lines=credit.lines, reason=printed,
                                                     actor=actor, at=at))
    else:
        for credit, share in zip(credits, split_amount(amount, [c.value for c in credits]), strict=True):
            if share > 0:
                notes.append(invoicing.issue_credit_note(credit.invoice, amount=share, reason=printed,
                                                         actor=actor, at=at))
    total = sum((note.total for note in notes), ZERO)
    if total > refundable:  # a net-priced order's per-note rounding can add a cent
        raise ValidationFailed(f"The credit notes add up to {total} {order.currency}, more than the "
                               f"{refundable} {order.currency} left to refund.", details={"amount": [str(refundable)]})
    for note in notes:
        db.session.add(Refund(order_id=order.id, return_id=ret.id, credit_note_id=note.id, amount=note.total,
                              method=method, reference=note.number, reason=printed[:500], refunded_at=at,
                              created_by=actor.display))
    before = order.payment_status
    order.refunded_amount += total
    order.payment_status = (PaymentStatus.REFUNDED if order.refunded_amount >= order.paid_amount
                            else PaymentStatus.PARTIALLY_REFUNDED)
    ret.refund_total += total
    details = {"amount": str(total), "return": ret.number, "credit_notes": [n.number for n in notes],
               "method": method, "reason": reason or None}
    record_event("order", order.number, "refund_recorded", actor=actor, before=before, after=order.payment_status,
                 details=details, at=at)
    record_event("return", ret.number, "refund_recorded", actor=actor, details=details, at=at)
    return {"refund": str(total), "credit_notes": [n.number for n in notes]}


# Exchange -------------------------------------------------------------------------------


def exchange_external_id(ret: Return) -> str:
    return f"{ret.number}-EXCHANGE"


def _exchange(ret: Return, order: Order, *, actor: Actor, at: datetime) -> Order:
    """A replacement order for what arrived, at zero price, to the same customer and address
    on the same channel; it is reviewed and allocated like any new order."""
    channel = order.channel
    if not channel.active:
        raise Conflict(f"The channel {channel.code} is inactive, so no replacement order can be created on it.")
    external_id = exchange_external_id(ret)
    taken = db.session.scalar(select(Order.number).where(Order.channel_id == channel.id,
                                                         Order.external_id == external_id))
    if taken is not None:
        raise Conflict(f"{channel.code} already has an order {external_id} ({taken}); it cannot be the exchange "
                       f"order of {ret.number} too.", details={"number": taken})
    units: dict[str, int] = {}
    for line in ret.lines:
        if line.qty_received:
            units[line.line.sku] = units.get(line.line.sku, 0) + line.qty_received
    data = {
        "channel": channel.code,
        "external_id": external_id,
        "customer": {"name": order.customer.name, "email": order.customer.email},
        "ship_to": {"name": order.ship_name, "line1": order.ship_line1, "line2": order.ship_line2,
                    "city": order.ship_city, "region": order.ship_region, "postcode": order.ship_postcode,
                    "country": order.ship_country},
        "lines": [{"sku": sku, "qty": qty, "unit_price": ZERO} for sku, qty in units.items()],
        "shipping_price": ZERO,
        "currency": order.currency,
        "replaces_order_id": order.id,
        "placed_at": at,
    }
    # Built inside this transaction (create_order would commit on its own), so the close,
    # the replacement and its allocation happen together or not at all.
    replacement = order_service._build_order(data, channel, order_service.content_hash(data), actor=actor,
                                             source="exchange", now=at)
    _settle_free_order(replacement, ret, actor=actor, at=at)
    ret.exchange_order_id = replacement.id
    record_event("order", order.number, "exchange_order_created", actor=actor, at=at,
                 details={"return": ret.number, "exchange_order": replacement.number})
    return replacement


def _settle_free_order(order: Order, ret: Return, *, actor: Actor, at: datetime) -> None:
    """A zero-total order owes nothing: it counts as paid now, so no payment reminder is
    sent for it and its dispatch clock starts (as a payment in full would do)."""
    if order.total > 0 or order.payment_status != PaymentStatus.UNPAID:
        return
    order.payment_status = PaymentStatus.PAID
    order.paid_at = at
    clocks.stop(order, ClockKind.PAYMENT, at, met=True)
    clocks.start_dispatch_clock(order, at)
    dispatch = clocks.running(order, ClockKind.DISPATCH)
    order.ship_by = dispatch.due_at if dispatch else None
    record_event("order", order.number, "nothing_to_pay", actor=actor, before=PaymentStatus.UNPAID,
                 after=PaymentStatus.PAID, details={"reason": f"replacement for {ret.number}"}, at=at)
