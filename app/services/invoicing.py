"""Issuing invoices and credit notes.

An issued document is a legal record: its number comes from a gapless series per
year (INV-2026-000001, CN-2026-000001; the counter row stays locked until the issuing
transaction ends, so concurrent issuers queue up and a rollback gives the number
back), and everything it prints is written into `snapshot` at issue and never
recomputed. Later changes to a product, a price or a customer do not touch it; a
mistake is corrected by a credit note, never by editing.

The issue functions run inside the caller's write transaction (shipping issues the
invoice in the same transaction that records the shipment) and never commit;
`credit_invoice` is the stand-alone use case for the finance pages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import object_session

from app.domain.enums import DocumentKind, InvoiceTrigger, ShipmentStatus
from app.domain.errors import Conflict, NotFound, ValidationFailed
from app.domain.money import TaxLine, round_money, totals
from app.extensions import db
from app.models import Invoice, Order, Shipment
from app.models.base import utcnow
from app.services.actors import Actor
from app.services.audit import record_event
from app.services.numbering import next_document_number
from app.services.tx import begin_write

ZERO = Decimal("0.00")
SHIPPING_NAME = "Shipping"


class ImmutableDocument(RuntimeError):
    """Raised when code tries to change an issued invoice or credit note."""


@event.listens_for(Invoice, "before_update")
def _issued_documents_never_change(mapper, connection, target: Invoice) -> None:
    session = object_session(target)
    if session is not None and session.is_modified(target, include_collections=False):
        raise ImmutableDocument(f"{target.number} is issued and cannot change; issue a credit note instead.")


@dataclass(frozen=True)
class DocumentLine:
    sku: str | None  # None for shipping and corrections
    name: str
    qty: int
    unit_price: Decimal
    tax_rate: Decimal
    invoice_line: int | None = None  # on a credit note: the invoice line it corrects

    @property
    def amount(self) -> Decimal:
        return round_money(self.unit_price * self.qty)


# Who we are, who bought, where it went --------------------------------------------


def _tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def seller() -> dict:
    """The seller block printed on every document, from configuration at the time of issue."""
    config = current_app.config
    address = config.get("SELLER_ADDRESS") or ()
    if isinstance(address, str):
        address = [part.strip() for part in address.split("\n") if part.strip()]
    block = {"name": config["SELLER_NAME"], "address": list(address)}
    for key in ("vat_number", "chamber_of_commerce", "iban", "email"):
        value = config.get(f"SELLER_{key.upper()}")
        if value:
            block[key] = value
    return block


def _buyer(order: Order) -> dict:
    return {"name": order.customer.name, "email": order.customer.email}


def _ship_to(order: Order) -> dict:
    return {
        "name": order.ship_name,
        "line1": order.ship_line1,
        "line2": order.ship_line2,
        "city": order.ship_city,
        "region": order.ship_region,
        "postcode": order.ship_postcode,
        "country": order.ship_country,
    }


def _payment_terms(order: Order, issued_on) -> str:
    if order.paid_amount - order.refunded_amount >= order.total and order.paid_at is not None:
        return f"Paid in full on {order.paid_at.astimezone(_tz()).date().isoformat()}. Nothing to pay."
    days = int(current_app.config.get("INVOICE_PAYMENT_DAYS", 14))
    return f"Payment due within {days} days, by {(issued_on + timedelta(days=days)).isoformat()}."


# Issuing ----------------------------------------------------------------------------


def _snapshot(
    order: Order,
    kind: DocumentKind,
    number: str,
    lines: list[DocumentLine],
    at: datetime,
    *,
    shipment: Shipment | None,
    corrects: Invoice | None,
    reason: str | None,
) -> tuple[dict, object]:
    sums = totals([TaxLine(line.amount, line.tax_rate) for line in lines], prices_include_tax=order.prices_include_tax)
    issued_on = at.astimezone(_tz()).date()
    snapshot = {
        "number": number,
        "kind": str(kind),
        "issued_at": at.isoformat(),
        "issue_date": issued_on.isoformat(),
        "order": order.number,
        "external_id": order.external_id,
        "channel": order.channel.code,
        "shipment": shipment.number if shipment else None,
        "corrects": corrects.number if corrects else None,
        "reason": reason,
        "currency": order.currency,
        "prices_include_tax": order.prices_include_tax,
        "seller": seller(),
        "buyer": _buyer(order),
        "ship_to": _ship_to(order),
        "lines": [
            {
                "no": i,
                "sku": line.sku,
                "name": line.name,
                "qty": line.qty,
                "unit_price": str(line.unit_price),
                "tax_rate": str(line.tax_rate),
                "total": str(line.amount),
                "invoice_line": line.invoice_line,
            }
            for i, line in enumerate(lines, start=1)
        ],
        "taxes": [
            {"rate": str(rate), "net": str(net), "tax": str(tax), "gross": str(net + tax)}
            for rate, (net, tax) in sorted(sums.by_rate.items(), reverse=True)
        ],
        "totals": {"net": str(sums.net), "tax": str(sums.tax), "total": str(sums.gross)},
        "payment_terms": (
            "The amount is refunded to the original payment method or set off against open invoices."
            if corrects
            else _payment_terms(order, issued_on)
        ),
    }
    return snapshot, sums


def _issue(
    order: Order,
    kind: DocumentKind,
    lines: list[DocumentLine],
    *,
    actor: Actor,
    at: datetime,
    shipment: Shipment | None = None,
    corrects: Invoice | None = None,
    reason: str | None = None,
) -> Invoice:
    if not lines:
        raise ValidationFailed("A document needs at least one line.")
    year = at.astimezone(_tz()).year
    number = next_document_number(str(kind), year)
    snapshot, sums = _snapshot(order, kind, number, lines, at, shipment=shipment, corrects=corrects, reason=reason)
    document = Invoice(
        number=number,
        kind=kind,
        order_id=order.id,
        shipment_id=shipment.id if shipment else None,
        corrects_id=corrects.id if corrects else None,
        issued_at=at,
        currency=order.currency,
        net_total=sums.net,
        tax_total=sums.tax,
        total=sums.gross,
        snapshot=snapshot,
        issued_by=actor.display,
    )
    try:
        with db.session.begin_nested():
            db.session.add(document)
    except IntegrityError:
        # The partial unique indexes: another transaction issued this shipment's (or this
        # order's) invoice first. The caller rolls back, which also returns the number.
        raise Conflict(
            f"{shipment.number if shipment else order.number} was invoiced at the same moment by "
            f"someone else; reload to see that invoice."
        ) from None
    action = "invoice_issued" if kind == DocumentKind.INVOICE else "credit_note_issued"
    details = {
        "order": order.number,
        "shipment": shipment.number if shipment else None,
        "corrects": corrects.number if corrects else None,
        "total": str(sums.gross),
        "currency": order.currency,
        "reason": reason,
    }
    record_event("invoice", number, action, actor=actor, details=details, at=at)
    record_event("order", order.number, action, actor=actor, details={"number": number, **details}, at=at)
    return document


def _shipping_line(order: Order) -> DocumentLine | None:
    """Shipping is charged once, on an order's first invoice, at the highest rate of its
    goods (the main supply decides the rate of the delivery that goes with it)."""
    if order.shipping_price <= 0:
        return None
    rate = max((line.tax_rate for line in order.lines), default=Decimal("0.00"))
    return DocumentLine(None, SHIPPING_NAME, 1, order.shipping_price, rate)


def _invoices_of(order: Order) -> list[Invoice]:
    return list(
        db.session.scalars(
            select(Invoice)
            .where(Invoice.order_id == order.id, Invoice.kind == DocumentKind.INVOICE)
            .order_by(Invoice.id)
        )
    )


def issue_invoice_for_shipment(shipment: Shipment, *, actor: Actor, at: datetime) -> Invoice:
    """The invoice for what one shipment carried (plus shipping on the order's first invoice).

    Runs in the shipping transaction; refuses a second invoice for the same shipment."""
    order = shipment.order
    if shipment.status not in (ShipmentStatus.SHIPPED, ShipmentStatus.DELIVERED):
        raise Conflict(f"{shipment.number} has not shipped yet; it is invoiced when it ships.")
    earlier = _invoices_of(order)
    for invoice in earlier:
        if invoice.shipment_id == shipment.id:
            raise Conflict(
                f"{shipment.number} is already invoiced ({invoice.number}).", details={"invoice": invoice.number}
            )
        if invoice.shipment_id is None:
            raise Conflict(
                f"{order.number} was invoiced as a whole ({invoice.number}); its shipments are not invoiced again.",
                details={"invoice": invoice.number},
            )
    order_lines = {line.id: line for line in order.lines}
    lines = []
    for shipped in shipment.lines:
        line = order_lines[shipped.order_line_id]
        lines.append(DocumentLine(line.sku, line.name, shipped.qty, line.unit_price, line.tax_rate))
    shipping = _shipping_line(order) if not earlier else None
    if shipping:
        lines.append(shipping)
    return _issue(order, DocumentKind.INVOICE, lines, actor=actor, at=at, shipment=shipment)


def issue_invoice_for_order(order: Order, *, actor: Actor, at: datetime) -> Invoice:
    """One invoice for the whole order (every line in full, and shipping)."""
    earlier = _invoices_of(order)
    if earlier:
        raise Conflict(
            f"{order.number} already has invoice {earlier[0].number}.", details={"invoice": earlier[0].number}
        )
    lines = [DocumentLine(line.sku, line.name, line.qty, line.unit_price, line.tax_rate) for line in order.lines]
    shipping = _shipping_line(order)
    if shipping:
        lines.append(shipping)
    return _issue(order, DocumentKind.INVOICE, lines, actor=actor, at=at)


def invoice_at_payment(order: Order, *, actor: Actor, at: datetime) -> Invoice | None:
    """Hook for the orders service: call it, inside the payment's transaction, when a payment
    makes the order paid in full. Channels set to invoice at payment get their whole-order
    invoice then; for every other channel (invoice per shipment) it does nothing. Safe to
    call twice: an order that already has its invoice is left alone."""
    if order.channel.invoice_on != InvoiceTrigger.PAYMENT:
        return None
    if _invoices_of(order):
        return None
    return issue_invoice_for_order(order, actor=actor, at=at)


# Credit notes -----------------------------------------------------------------------


def credited_total(invoice: Invoice) -> Decimal:
    total = db.session.scalar(
        select(func.sum(Invoice.total)).where(
            Invoice.corrects_id == invoice.id, Invoice.kind == DocumentKind.CREDIT_NOTE
        )
    )
    return Decimal(total or ZERO)


def _invoice_lines(invoice: Invoice) -> list[dict]:
    return [{**line, "no": line.get("no") or i} for i, line in enumerate(invoice.snapshot.get("lines", []), start=1)]


def _credited_qty(invoice: Invoice) -> dict[int, int]:
    """Units already credited per invoice line number."""
    credited: dict[int, int] = {}
    for note in db.session.scalars(select(Invoice).where(Invoice.corrects_id == invoice.id)):
        for line in note.snapshot.get("lines", []):
            if line.get("invoice_line"):
                credited[line["invoice_line"]] = credited.get(line["invoice_line"], 0) + int(line["qty"])
    return credited


def creditable_units(invoice: Invoice) -> dict[str | None, int]:
    """Units per SKU (None: shipping) that the invoice charged and no credit note has
    credited yet — where a credit of some units can still go (returns credit several
    invoices of one order)."""
    credited = _credited_qty(invoice)
    left: dict[str | None, int] = {}
    for line in _invoice_lines(invoice):
        sku = line.get("sku")
        left[sku] = left.get(sku, 0) + int(line["qty"]) - credited.get(line["no"], 0)
    return left


def _lines_to_credit(invoice: Invoice, wanted: Iterable[Mapping]) -> list[DocumentLine]:
    available = _invoice_lines(invoice)
    credited = _credited_qty(invoice)
    remaining = {line["no"]: int(line["qty"]) - credited.get(line["no"], 0) for line in available}
    out: list[DocumentLine] = []
    errors: dict[str, list[str]] = {}
    for i, request in enumerate(wanted):
        sku, qty = request.get("sku"), int(request.get("qty") or 0)
        if qty <= 0:
            errors[str(i)] = [f"Credit at least one unit of {sku}."]
            continue
        matching = [line for line in available if line.get("sku") == sku]
        if not matching:
            errors[str(i)] = [f"{sku} is not on {invoice.number}."]
            continue
        left = sum(remaining[line["no"]] for line in matching)
        if qty > left:
            errors[str(i)] = [f"Only {left} × {sku} on {invoice.number} can still be credited."]
            continue
        for line in matching:
            take = min(qty, remaining[line["no"]])
            if take <= 0:
                continue
            remaining[line["no"]] -= take
            qty -= take
            out.append(
                DocumentLine(
                    sku,
                    line["name"],
                    take,
                    Decimal(line["unit_price"]),
                    Decimal(line["tax_rate"]),
                    invoice_line=line["no"],
                )
            )
    if errors:
        raise ValidationFailed(" ".join(m for msgs in errors.values() for m in msgs), details={"lines": errors})
    return out


def _amount_lines(invoice: Invoice, amount: Decimal, reason: str) -> list[DocumentLine]:
    """A correction by amount, split over the invoice's tax rates in proportion to what was
    charged at each (the last rate takes the rounding cent). `amount` is what the customer
    gets back; on net-priced invoices it is converted to net per rate."""
    gross_by_rate: dict[Decimal, Decimal] = {}
    for tax in invoice.snapshot.get("taxes", []):
        gross_by_rate[Decimal(tax["rate"])] = Decimal(tax["gross"])
    if not gross_by_rate:
        raise ValidationFailed(f"{invoice.number} has no amounts to correct.")
    charged = sum(gross_by_rate.values())
    rates = sorted(gross_by_rate, reverse=True)
    shares, left = {}, amount
    for rate in rates[:-1]:
        share = round_money(amount * gross_by_rate[rate] / charged) if charged else ZERO
        shares[rate], left = share, left - share
    shares[rates[-1]] = left
    include_tax = invoice.snapshot.get("prices_include_tax", True)
    label = f"Correction: {reason}" if reason else "Correction"
    lines = []
    for rate in rates:
        share = shares[rate]
        if share <= 0:
            continue
        price = share if include_tax else round_money(share * 100 / (100 + rate))
        lines.append(DocumentLine(None, label[:200], 1, price, rate))
    return lines


def issue_credit_note(
    invoice: Invoice,
    *,
    lines: Iterable[Mapping] | None = None,
    amount: Decimal | None = None,
    reason: str,
    actor: Actor,
    at: datetime,
) -> Invoice:
    """Correct an issued invoice with a credit note (CN-YYYY-NNNNNN).

    - neither `lines` nor `amount`: a full credit of the invoice (refused once anything
      on it was credited; credit the rest by lines or amount then);
    - `lines=[{"sku": "MUG", "qty": 1}, …]`: those units, at the invoice's prices and rates
      (a SKU can be credited up to what the invoice charged, minus earlier credit notes);
    - `amount=Decimal("5.00")`: that much back (a goodwill gesture, shipping), split over the
      invoice's tax rates in proportion;
    - both: the units plus the amount.
    `reason` is printed on the note. The credit notes of one invoice never add up to more
    than it. Runs inside the caller's write transaction (lock the invoice first, see
    `credit_invoice`); never commits. Returns the credit note (an Invoice row, kind
    credit_note, `corrects` = the invoice)."""
    if invoice.kind != DocumentKind.INVOICE:
        raise ValidationFailed(f"{invoice.number} is a credit note; only invoices can be corrected.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            "Say why the invoice is corrected; the reason is printed on the credit note.",
            details={"reason": ["Required."]},
        )
    already = credited_total(invoice)
    wanted_lines = list(lines or [])
    if not wanted_lines and amount is None:
        if already > 0:
            raise Conflict(
                f"Part of {invoice.number} was already credited ({already} {invoice.currency}); "
                f"credit the rest by lines or by amount."
            )
        document_lines = [
            DocumentLine(
                line.get("sku"),
                line["name"],
                int(line["qty"]),
                Decimal(line["unit_price"]),
                Decimal(line["tax_rate"]),
                invoice_line=line["no"],
            )
            for line in _invoice_lines(invoice)
        ]
    else:
        document_lines = _lines_to_credit(invoice, wanted_lines) if wanted_lines else []
        if amount is not None:
            if amount <= 0:
                raise ValidationFailed(
                    "A credit amount must be more than zero.", details={"amount": ["Must be more than 0."]}
                )
            document_lines += _amount_lines(invoice, round_money(Decimal(amount)), reason)
    order = db.session.get(Order, invoice.order_id)
    sums = totals(
        [TaxLine(line.amount, line.tax_rate) for line in document_lines],
        prices_include_tax=invoice.snapshot.get("prices_include_tax", order.prices_include_tax),
    )
    if sums.gross + already > invoice.total:
        left = invoice.total - already
        raise ValidationFailed(
            f"That credits {sums.gross} {invoice.currency}, but only {left} {invoice.currency} of "
            f"{invoice.number} is left to credit.",
            details={"amount": [f"At most {left}."]},
        )
    return _issue(order, DocumentKind.CREDIT_NOTE, document_lines, actor=actor, at=at, corrects=invoice, reason=reason)


def lock_invoice(number: str) -> Invoice:
    invoice = db.session.scalar(select(Invoice).where(Invoice.number == number).with_for_update(of=Invoice))
    if invoice is None:
        raise NotFound(f"There is no invoice {number}.")
    return invoice


def credit_invoice(
    number: str,
    *,
    lines: Iterable[Mapping] | None = None,
    amount: Decimal | None = None,
    reason: str,
    actor: Actor,
    now: datetime | None = None,
) -> Invoice:
    """Issue a credit note for invoice `number` in a transaction of its own (finance pages, CLI)."""
    now = now or utcnow()
    begin_write()
    invoice = lock_invoice(number)
    note = issue_credit_note(invoice, lines=lines, amount=amount, reason=reason, actor=actor, at=now)
    db.session.commit()
    return note


def issue_for_shipment(shipment_number: str, *, actor: Actor, now: datetime | None = None) -> Invoice:
    """Issue a missing invoice for an already shipped shipment in a transaction of its own."""
    now = now or utcnow()
    begin_write()
    shipment = db.session.scalar(
        select(Shipment).where(Shipment.number == shipment_number).with_for_update(of=Shipment)
    )
    if shipment is None:
        raise NotFound(f"There is no shipment {shipment_number}.")
    invoice = issue_invoice_for_shipment(shipment, actor=actor, at=now)
    db.session.commit()
    return invoice
