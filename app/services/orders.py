"""Order use cases: intake, payments, moves along the state machine, cancel, address edits."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached, selectinload

from app.domain.enums import ClockKind, ShipmentStatus
from app.domain.errors import (
    IdempotencyConflict,
    IllegalTransition,
    NotFound,
    StaleVersion,
    ValidationFailed,
)
from app.domain.money import TaxLine, totals
from app.domain.order_states import HoldReason, OrderStatus, PaymentStatus, check_transition
from app.domain.review import normalise_postcode
from app.extensions import db
from app.models import Channel, Customer, Order, OrderLine, Payment, Shipment
from app.models.base import utcnow
from app.services import allocation, clocks, invoicing, review
from app.services.actors import Actor
from app.services.audit import record_event
from app.services.fulfillment import waves
from app.services.numbering import next_number
from app.services.order_status import set_status
from app.services.tx import begin_write

# Moves that belong to fulfillment (waves, packing, shipments) and cannot be made by
# dragging a card: they need the boxes and tracking numbers that those screens record.
ADDRESS_FIELDS = ("name", "line1", "line2", "city", "region", "postcode", "country")

FULFILLMENT_ONLY = {
    OrderStatus.PACKED: "An order becomes packed when its units are scanned on the packing screen.",
    OrderStatus.SHIPPED: "Ship it from the Fulfillment screen: a shipment needs its carrier and tracking number.",
    OrderStatus.PARTIALLY_SHIPPED: "Ship it, or part of it, from the Fulfillment screen: a shipment needs its "
                                   "carrier and tracking number.",
    OrderStatus.DELIVERED: "Mark its parcels delivered on the Fulfillment screen: an order is delivered when "
                           "every parcel is.",
}
# Statuses in which the ship-to address may still be corrected (nothing is picked yet).
ADDRESS_EDITABLE = (OrderStatus.NEW, OrderStatus.ON_HOLD, OrderStatus.READY)


def content_hash(data: dict) -> str:
    """Fingerprint of an intake body: same key + same content = the same order."""

    def plain(value):
        if isinstance(value, Decimal):
            return str(value.quantize(Decimal("0.01")))
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, dict):
            return {k: plain(v) for k, v in sorted(value.items()) if v not in (None, "", [])}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    return hashlib.sha256(json.dumps(plain(data), sort_keys=True).encode()).hexdigest()


# Reading -------------------------------------------------------------------------


def get_order(number: str, *, for_update: bool = False) -> Order:
    stmt = select(Order).where(Order.number == number).options(selectinload(Order.lines))
    if for_update:
        stmt = stmt.with_for_update(of=Order)
    order = db.session.scalar(stmt)
    if order is None:
        raise NotFound(f"There is no order {number}.")
    return order


def _load_for_change(number: str, expected_version: int | None) -> Order:
    begin_write()
    order = get_order(number, for_update=True)
    if expected_version is not None and order.version != expected_version:
        raise StaleVersion(
            f"{order.number} was changed by someone else (it is now {OrderStatus(order.status).label}, "
            f"version {order.version}). Reload to see the changes.",
            details={"status": order.status, "version": order.version, "hold_reason": order.hold_reason},
        )
    return order


# Intake --------------------------------------------------------------------------


def create_order(data: dict, *, actor: Actor, source: str = "api", now: datetime | None = None) -> tuple[Order, bool]:
    """Create an order from a validated intake body; idempotent on (channel, external_id).

    Returns (order, created). The same key with the same content returns the existing
    order; the same key with different content raises IdempotencyConflict.

    A new order is planned and written by app.services.order_intake (the CSV import's
    planner, a few Core statements); an exchange order (`replaces_order_id`) is built
    through the ORM services, which know that a person already accepted its prices."""
    # Imported here: the intake planner imports this module (content_hash).
    from app.services import order_intake

    now = now or utcnow()
    fingerprint = content_hash(data)
    session = begin_write()
    channel = order_intake.active_channel(data["channel"])
    existing = _existing(channel, order_intake.existing_order(channel.id, data["external_id"]), fingerprint)
    if existing is not None:
        return existing, False
    try:
        if data.get("replaces_order_id") is None:
            order_id, number = order_intake.take_in(data, channel, fingerprint, actor=actor, source=source, now=now)
        else:
            built = _build_order(data, session.get(Channel, channel.id), fingerprint, actor=actor, source=source,
                                 now=now)
            order_id, number = built.id, built.number
        session.commit()
    except IntegrityError:
        # Two identical requests raced past the check above (PostgreSQL); the loser
        # answers with the winner's order.
        session.rollback()
        begin_write()
        existing = _existing(channel, order_intake.existing_order(channel.id, data["external_id"]), fingerprint)
        if existing is None:
            raise
        return existing, False
    return _unloaded(order_id, number), True


def _unloaded(order_id: int, number: str) -> Order:
    """The order as a persistent instance that knows its id and number and loads every other
    column from the database on first use: the API only wants the number to read the order
    back, a bulk intake wants nothing."""
    session = db.session()
    known = session.identity_map.get(session.identity_key(Order, order_id))
    if known is not None:
        return known
    order = Order(id=order_id, number=number)
    make_transient_to_detached(order)  # "loaded" with these two; every other column is expired
    session.add(order)
    return order


def _existing(channel, found, fingerprint: str) -> Order | None:
    """The order already received under this key (`found`: its id, number and fingerprint),
    or None; refuses the same key with different content."""
    if found is None:
        return None
    if found.content_hash != fingerprint:
        raise IdempotencyConflict(
            f"{channel.code} order {found.external_id} was already received as {found.number} with different "
            f"content.", details={"number": found.number},
        )
    return db.session.get(Order, found.id)


def upsert_customer(email: str, name: str) -> Customer:
    email = email.strip().lower()
    customer = db.session.scalar(select(Customer).where(Customer.email == email))
    if customer is None:
        customer = Customer(email=email, name=name.strip())
        try:
            with db.session.begin_nested():
                db.session.add(customer)
        except IntegrityError:
            customer = db.session.scalar(select(Customer).where(Customer.email == email))
    return customer


def _build_order(data: dict, channel: Channel, fingerprint: str, *, actor: Actor, source: str,
                 now: datetime) -> Order:
    from app.services.order_intake import catalog_products

    products = catalog_products(data["lines"])
    customer = upsert_customer(data["customer"]["email"], data["customer"]["name"])
    ship = data["ship_to"]
    order = Order(
        number=next_number("order"),
        channel_id=channel.id,
        channel=channel,
        external_id=data["external_id"],
        customer_id=customer.id,
        content_hash=fingerprint,
        source=source,
        ship_name=ship["name"].strip(),
        ship_line1=ship["line1"].strip(),
        ship_line2=(ship.get("line2") or "").strip() or None,
        ship_city=ship["city"].strip(),
        ship_region=(ship.get("region") or "").strip() or None,
        ship_postcode=normalise_postcode(ship["country"], ship["postcode"]),
        ship_country=ship["country"].strip().upper(),
        currency=(data.get("currency") or _default_currency()).upper(),
        prices_include_tax=channel.prices_include_tax,
        shipping_price=data.get("shipping_price") or Decimal("0.00"),
        placed_at=data.get("placed_at") or now,
        replaces_order_id=data.get("replaces_order_id"),
        status=OrderStatus.NEW,
        payment_status=PaymentStatus.UNPAID,
    )
    for i, line in enumerate(data["lines"], start=1):
        product = products[line["sku"]]
        order.lines.append(OrderLine(line_no=i, product_id=product.id, sku=product.sku, name=product.name,
                                     qty=line["qty"], unit_price=line["unit_price"], tax_rate=product.tax_rate))
    _set_totals(order)
    db.session.add(order)
    db.session.flush()
    record_event("order", order.number, "order_created", actor=actor, after=OrderStatus.NEW,
                 details={"channel": channel.code, "external_id": order.external_id, "source": source,
                          "total": str(order.total)}, at=now)
    clocks.start_payment_clock(order, now)
    paid = data.get("paid_amount")
    if paid:
        _apply_payment(order, paid, method="channel", reference=f"{channel.code}:{order.external_id}",
                       actor=actor, at=order.placed_at if order.placed_at <= now else now)
    review.review(order, actor=actor, at=now)
    return order


def _default_currency() -> str:
    from flask import current_app

    return current_app.config["DEFAULT_CURRENCY"]


def _set_totals(order: Order) -> None:
    t = totals([TaxLine(ln.unit_price * ln.qty, ln.tax_rate) for ln in order.lines],
               prices_include_tax=order.prices_include_tax)
    order.subtotal = t.gross if order.prices_include_tax else t.net
    order.tax_total = t.tax
    order.total = t.gross + order.shipping_price


# Payments ------------------------------------------------------------------------


def record_payment(number: str, amount: Decimal, *, method: str, reference: str = "", actor: Actor,
                   now: datetime | None = None) -> Payment:
    now = now or utcnow()
    order = _load_for_change(number, None)
    payment = _apply_payment(order, amount, method=method, reference=reference, actor=actor, at=now)
    review.review(order, actor=actor, at=now)
    db.session.commit()
    return payment


def _apply_payment(order: Order, amount: Decimal, *, method: str, reference: str, actor: Actor,
                   at: datetime) -> Payment:
    if order.status == OrderStatus.CANCELLED:
        raise IllegalTransition(f"{order.number} is cancelled; it cannot take payments.")
    if amount <= 0:
        raise ValidationFailed("A payment must be more than zero.", details={"amount": ["Must be more than 0."]})
    due = order.total - order.paid_amount
    if amount > due:
        raise ValidationFailed(
            f"{amount} is more than the {due} still due on {order.number}.",
            details={"amount": [f"At most {due}."]},
        )
    payment = Payment(order_id=order.id, amount=amount, method=(method or "other")[:40],
                      reference=(reference or "")[:120], received_at=at, created_by=actor.display)
    order.payments.append(payment)
    order.paid_amount += amount
    before = order.payment_status
    order.payment_status = PaymentStatus.PAID if order.paid_amount >= order.total else PaymentStatus.PARTIALLY_PAID
    if order.payment_status == PaymentStatus.PAID and order.paid_at is None:
        order.paid_at = at
        clocks.stop(order, ClockKind.PAYMENT, at, met=True)
        clocks.start_dispatch_clock(order, at)
        order.ship_by = clocks.running(order, ClockKind.DISPATCH).due_at
    record_event("order", order.number, "payment_recorded", actor=actor, before=before, after=order.payment_status,
                 details={"amount": str(amount), "method": payment.method, "reference": payment.reference}, at=at)
    if order.payment_status == PaymentStatus.PAID:
        # Channels that invoice the whole order at payment get it now, in this transaction
        # (a no-op for channels invoicing per shipment, and for an order already invoiced).
        invoicing.invoice_at_payment(order, actor=actor, at=at)
    return payment


# The state machine ---------------------------------------------------------------


def transition(number: str, target: str, *, actor: Actor, expected_version: int | None = None,
               reason: str | None = None, now: datetime | None = None) -> Order:
    """Move an order as a person or API client asked; the rules decide whether it may."""
    now = now or utcnow()
    try:
        target = OrderStatus(target)
    except ValueError:
        raise ValidationFailed(f"“{target}” is not an order status.",
                               details={"to": [f"One of {', '.join(OrderStatus.values())}."]}) from None
    order = _load_for_change(number, expected_version)
    current = OrderStatus(order.status)
    if target in FULFILLMENT_ONLY and target != current:
        check_transition(current, target)
        raise IllegalTransition(FULFILLMENT_ONLY[target])
    if current == OrderStatus.PICKING and target in (OrderStatus.READY, OrderStatus.ON_HOLD):
        _stop_picking(order, target, reason, actor=actor, at=now)
    if target == OrderStatus.CANCELLED:
        _cancel(order, reason, actor=actor, at=now)
    elif target == OrderStatus.ON_HOLD:
        hold = HoldReason(reason) if reason in HoldReason.values() else HoldReason.MANUAL
        note = None if reason in HoldReason.values() else reason
        if current == OrderStatus.ON_HOLD and order.hold_reason == hold:
            raise IllegalTransition(f"{order.number} is already on hold for {hold.label}.")
        set_status(order, OrderStatus.ON_HOLD, actor=actor, at=now, hold_reason=hold, note=note)
    elif target in (OrderStatus.READY, OrderStatus.NEW) and current in (OrderStatus.NEW, OrderStatus.ON_HOLD):
        _release(order, target, actor=actor, at=now)
    else:
        set_status(order, target, actor=actor, at=now, note=reason)
    db.session.commit()
    return order


def _stop_picking(order: Order, target: OrderStatus, reason: str | None, *, actor: Actor, at: datetime) -> None:
    """A picking order goes back to ready or on hold: its parcels still being picked are
    put back (cancelled, their units stay reserved), as the Fulfillment screen does. One
    already packed is not unpacked: it ships first."""
    packed = db.session.scalars(
        select(Shipment.number).where(Shipment.order_id == order.id, Shipment.status == ShipmentStatus.PACKED)
        .order_by(Shipment.id)
    ).all()
    if packed:
        raise IllegalTransition(
            f"{order.number} cannot go back to {target.label}: parcel {', '.join(packed)} is already packed. "
            f"Ship it from the Fulfillment screen first."
        )
    why = (reason or "").strip() or f"moved back to {target.label}"
    waves.put_back_picks(order, reason=why, actor=actor, at=at)


def _release(order: Order, target: OrderStatus, *, actor: Actor, at: datetime) -> None:
    """A person asks for new/ready: allowed when the checks agree."""
    check_transition(order.status, target)
    if order.status == OrderStatus.ON_HOLD and order.hold_reason == HoldReason.REVIEW:
        order.review_cleared = True  # the person looked at the prices and accepts them
    result = review.check(order, actor=actor)
    problems = result.address + result.prices + ([result.hold[1]] if result.short and not result.address
                                                 and not result.prices else [])
    if problems:
        raise IllegalTransition(f"{order.number} cannot be {target.label} yet: {' '.join(problems)}")
    if target == OrderStatus.READY and not result.paid:
        raise IllegalTransition(f"{order.number} cannot be ready: it is not paid in full "
                                f"({order.paid_amount} of {order.total}).")
    if target == OrderStatus.NEW and result.paid:
        raise IllegalTransition(f"{order.number} is paid; move it to ready instead of new.")
    set_status(order, target, actor=actor, at=at, note="released by hand")


def cancel(number: str, *, reason: str, actor: Actor, expected_version: int | None = None,
           now: datetime | None = None) -> Order:
    now = now or utcnow()
    order = _load_for_change(number, expected_version)
    _cancel(order, reason, actor=actor, at=now)
    db.session.commit()
    return order


def _cancel(order: Order, reason: str | None, *, actor: Actor, at: datetime) -> None:
    check_transition(order.status, OrderStatus.CANCELLED)
    allocation.release_order(order, actor=actor, reason="allocations_released")
    set_status(order, OrderStatus.CANCELLED, actor=actor, at=at, note=reason or "cancelled")


def set_hold(number: str, reason: str, *, note: str | None, actor: Actor, expected_version: int | None = None,
             now: datetime | None = None) -> Order:
    now = now or utcnow()
    order = _load_for_change(number, expected_version)
    set_status(order, OrderStatus.ON_HOLD, actor=actor, at=now, hold_reason=HoldReason(reason), note=note)
    db.session.commit()
    return order


def update_address(number: str, fields: dict, *, actor: Actor, expected_version: int | None = None,
                   now: datetime | None = None) -> Order:
    """Correct the ship-to address; an address hold releases itself when the address is now fine."""
    now = now or utcnow()
    order = _load_for_change(number, expected_version)
    if order.status not in ADDRESS_EDITABLE:
        raise IllegalTransition(
            f"{order.number} is {OrderStatus(order.status).label}; its address can no longer change.")
    missing = {k: ["Required."] for k in ("name", "line1", "city", "postcode", "country")
               if k in fields and not (fields[k] or "").strip()}
    if missing:
        raise ValidationFailed("Some required address fields are empty.", details=missing)
    before = {k: getattr(order, f"ship_{k}") for k in ADDRESS_FIELDS}
    for key, value in fields.items():
        if key not in ADDRESS_FIELDS:
            continue
        value = (value or "").strip() or None
        if key == "country" and value:
            value = value.upper()
        if key == "postcode" and value:
            value = normalise_postcode(fields.get("country") or order.ship_country, value)
        setattr(order, f"ship_{key}", value)
    after = {k: getattr(order, f"ship_{k}") for k in before}
    changed = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    if changed:
        record_event("order", order.number, "address_changed", actor=actor, details=changed, at=now)
    review.review(order, actor=actor, at=now)
    db.session.commit()
    return order
