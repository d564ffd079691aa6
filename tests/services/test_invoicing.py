"""Invoices and credit notes: gapless numbers (also when issued in parallel), frozen snapshots,
full and partial corrections, and no second invoice for one shipment."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from app.domain.enums import DocumentKind
from app.domain.errors import Conflict, ValidationFailed
from app.extensions import db
from app.models import Customer, Event, Invoice, Product, Shipment
from app.services import invoicing, orders
from app.services.documents import render
from app.services.fulfillment import shipping
from app.services.invoicing import DocumentLine, ImmutableDocument
from app.services.tx import begin_write
from tests.fulfillment_scenes import UPS, invoice_on_payment, packed_order, reload, shipments_of, shipped_order
from tests.services.conftest import ACTOR, NOW, order_body, stock

LATER = NOW + timedelta(hours=3)


def invoice_of(number: str) -> Invoice:
    db.session.expire_all()
    order = reload(number)
    return db.session.scalar(select(Invoice).where(Invoice.order_id == order.id, Invoice.kind == "invoice"))


def pdf_text(snapshot: dict) -> str:
    import io

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(render.document_pdf(snapshot))).pages)


def set_tax_rate(sku: str, rate: str) -> None:
    session = begin_write()
    session.scalar(select(Product).where(Product.sku == sku)).tax_rate = Decimal(rate)
    session.commit()


# Issue ------------------------------------------------------------------------------


def test_the_invoice_freezes_seller_buyer_lines_taxes_and_totals(shop, app):
    set_tax_rate("CAP", "9.00")
    stock("AMS", "MUG", 5)
    stock("AMS", "CAP", 5)
    app.config.update(SELLER_ADDRESS="Waalhaven 21\n3089 JH Rotterdam", SELLER_VAT_NUMBER="NL001234567B01")
    number = shipped_order("INV", (("MUG", 2, "12.50"), ("CAP", 1, "15.00")))
    invoice = invoice_of(number)
    snap = invoice.snapshot

    assert invoice.number == snap["number"] == "INV-2026-000001"
    assert (snap["kind"], snap["order"], snap["currency"], snap["shipment"]) == (
        "invoice",
        number,
        "EUR",
        shipments_of(number)[0].number,
    )
    assert snap["seller"] == {
        "name": app.config["SELLER_NAME"],
        "address": ["Waalhaven 21", "3089 JH Rotterdam"],
        "vat_number": "NL001234567B01",
    }
    assert snap["buyer"] == {"name": "Ada Buyer", "email": "ada@example.com"}
    assert snap["ship_to"]["city"] == "Amsterdam" and snap["ship_to"]["postcode"] == "1011 AB"
    assert [(x["no"], x["sku"], x["qty"], x["unit_price"], x["tax_rate"], x["total"]) for x in snap["lines"]] == [
        (1, "MUG", 2, "12.50", "21.00", "25.00"),
        (2, "CAP", 1, "15.00", "9.00", "15.00"),
        (3, None, 1, "4.95", "21.00", "4.95"),  # shipping, at the main supply's rate
    ]
    # Tax contained per rate, rounded once per rate: 29.95 at 21 % holds 5.20, 15.00 at 9 % holds 1.24.
    assert snap["taxes"] == [
        {"rate": "21.00", "net": "24.75", "tax": "5.20", "gross": "29.95"},
        {"rate": "9.00", "net": "13.76", "tax": "1.24", "gross": "15.00"},
    ]
    assert snap["totals"] == {"net": "38.51", "tax": "6.44", "total": "44.95"}
    assert (invoice.net_total, invoice.tax_total, invoice.total) == (
        Decimal("38.51"),
        Decimal("6.44"),
        Decimal("44.95"),
    )
    assert snap["payment_terms"].startswith("Paid in full on 2026-03-02")
    actions = db.session.scalars(select(Event.action).where(Event.entity_id == invoice.number)).all()
    assert actions == ["invoice_issued"]


def test_numbers_follow_the_local_year(shop, app):
    # 23:30 UTC on 31 December is already 1 January in Amsterdam: the new year's series.
    stock("AMS", "MUG", 5)
    number = packed_order("NY")
    new_year = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    shipping.ship_order(number, carrier="ups", tracking_number=UPS, actor=ACTOR, now=new_year)
    invoice = invoice_of(number)
    assert invoice.number == "INV-2027-000001" and invoice.snapshot["issue_date"] == "2027-01-01"


def test_a_shipment_is_invoiced_once(shop):
    stock("AMS", "MUG", 5)
    number = shipped_order("TWICE")
    sh = shipments_of(number)[0]
    with pytest.raises(Conflict, match=f"{sh.number} is already invoiced"):
        invoicing.issue_for_shipment(sh.number, actor=ACTOR, now=LATER)
    db.session.rollback()
    # Past the service's own check, the partial unique index still refuses it.
    begin_write()
    shipment = db.session.get(Shipment, sh.id)
    line = DocumentLine("MUG", "Mug", 1, Decimal("12.50"), Decimal("21.00"))
    with pytest.raises(Conflict, match="at the same moment"):
        invoicing._issue(shipment.order, DocumentKind.INVOICE, [line], actor=ACTOR, at=LATER, shipment=shipment)
    db.session.rollback()
    assert db.session.scalars(select(Invoice.number)).all() == ["INV-2026-000001"]
    # The refused attempts gave their numbers back.
    other = shipped_order("NEXT")
    assert invoice_of(other).number == "INV-2026-000002"


def test_an_unshipped_shipment_is_not_invoiced(shop):
    stock("AMS", "MUG", 5)
    number = packed_order("EARLY")
    with pytest.raises(Conflict, match="has not shipped yet"):
        invoicing.issue_for_shipment(shipments_of(number)[0].number, actor=ACTOR, now=LATER)


@pytest.mark.slow
def test_parallel_issuers_get_gapless_unique_numbers(shop, app):
    """Threads, each with its own app context and database connection, issue at once;
    two of them race for the same shipment (one must fail and give its number back)."""
    stock("AMS", "MUG", 20)
    numbers = [packed_order(f"PAR-{i}") for i in range(6)]  # paid while the channel invoiced per shipment
    invoice_on_payment()  # so shipping issues nothing now; the threads do the issuing
    shipment_numbers = []
    for number in numbers:
        shipping.ship_order(number, carrier="ups", tracking_number=UPS, actor=ACTOR, now=LATER)
        shipment_numbers.append(shipments_of(number)[0].number)
    db.session.commit()
    targets = shipment_numbers + shipment_numbers[:2]  # 8 issuers, 2 duplicates
    barrier = threading.Barrier(len(targets))
    issued, refused, crashed = [], [], []

    def issue(shipment_number: str) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                issued.append(invoicing.issue_for_shipment(shipment_number, actor=ACTOR, now=LATER).number)
            except Conflict:
                refused.append(shipment_number)
            except Exception as exc:  # surfaced below: a deadlock or lock timeout fails the test
                crashed.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=issue, args=(n,)) for n in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    assert not crashed
    assert len(refused) == 2
    assert sorted(issued) == [f"INV-2026-{n:06d}" for n in range(1, 7)]
    db.session.expire_all()
    assert sorted(db.session.scalars(select(Invoice.number))) == sorted(issued)
    assert len(set(db.session.scalars(select(Invoice.shipment_id)))) == 6


# Immutability -----------------------------------------------------------------------


def test_a_reprint_is_the_same_after_product_price_and_customer_change(shop, app):
    stock("AMS", "MUG", 5)
    number = shipped_order("SAME", (("MUG", 2, "12.50"),))
    invoice = invoice_of(number)
    before = pdf_text(invoice.snapshot)
    assert "Mug" in before and "Ada Buyer" in before

    session = begin_write()
    product = session.scalar(select(Product).where(Product.sku == "MUG"))
    product.name, product.unit_price, product.tax_rate = "Giant mug", Decimal("99.00"), Decimal("9.00")
    session.scalar(select(Customer).where(Customer.email == "ada@example.com")).name = "Ada Renamed"
    session.commit()
    app.config["SELLER_NAME"] = "A Different Company B.V."

    after = pdf_text(invoice_of(number).snapshot)
    assert after == before
    assert "Giant mug" not in after and "Ada Renamed" not in after and "99.00" not in after


def test_an_issued_document_cannot_be_edited(shop):
    stock("AMS", "MUG", 5)
    number = shipped_order("EDIT")
    invoice = invoice_of(number)
    begin_write()
    invoice.total = Decimal("1.00")
    with pytest.raises(ImmutableDocument, match="issue a credit note instead"):
        db.session.flush()
    db.session.rollback()
    assert invoice_of(number).total == reload(number).total


# Credit notes -----------------------------------------------------------------------


def test_a_full_credit_note_mirrors_the_invoice(shop):
    stock("AMS", "MUG", 5)
    number = shipped_order("FULL", (("MUG", 2, "12.50"),))
    invoice = invoice_of(number)

    note = invoicing.credit_invoice(invoice.number, reason="Order cancelled after shipping", actor=ACTOR, now=LATER)

    assert note.number == "CN-2026-000001" and note.kind == "credit_note" and note.corrects_id == invoice.id
    assert (note.net_total, note.tax_total, note.total) == (invoice.net_total, invoice.tax_total, invoice.total)
    snap = note.snapshot
    assert snap["corrects"] == invoice.number and snap["reason"] == "Order cancelled after shipping"
    assert [(x["sku"], x["qty"], x["invoice_line"]) for x in snap["lines"]] == [("MUG", 2, 1), (None, 1, 2)]
    assert "refunded to the original payment method" in snap["payment_terms"]
    with pytest.raises(Conflict, match="already credited"):
        invoicing.credit_invoice(invoice.number, reason="again", actor=ACTOR, now=LATER)
    with pytest.raises(ValidationFailed, match="only invoices can be corrected"):
        invoicing.credit_invoice(note.number, reason="a note of a note", actor=ACTOR, now=LATER)


def test_partial_credit_notes_by_units_and_by_amount_never_exceed_the_invoice(shop):
    set_tax_rate("CAP", "9.00")
    stock("AMS", "MUG", 5)
    stock("AMS", "CAP", 5)
    number = shipped_order("PARTIAL", (("MUG", 2, "12.50"), ("CAP", 1, "15.00")))
    invoice = invoice_of(number)  # 44.95: 29.95 at 21 %, 15.00 at 9 %

    one_mug = invoicing.credit_invoice(
        invoice.number, lines=[{"sku": "MUG", "qty": 1}], reason="Returned: broken", actor=ACTOR, now=LATER
    )
    assert one_mug.total == Decimal("12.50") and one_mug.tax_total == Decimal("2.17")
    assert one_mug.snapshot["taxes"] == [{"rate": "21.00", "net": "10.33", "tax": "2.17", "gross": "12.50"}]

    goodwill = invoicing.credit_invoice(
        invoice.number, amount=Decimal("10.00"), reason="Late delivery", actor=ACTOR, now=LATER
    )
    # Split like the invoice: 29.95 of 44.95 at 21 %, the rest at 9 %.
    assert [(x["tax_rate"], x["total"]) for x in goodwill.snapshot["lines"]] == [("21.00", "6.66"), ("9.00", "3.34")]
    assert goodwill.total == Decimal("10.00") and goodwill.number == "CN-2026-000002"

    with pytest.raises(ValidationFailed, match="Only 1 × MUG on"):
        invoicing.credit_invoice(invoice.number, lines=[{"sku": "MUG", "qty": 2}], reason="x", actor=ACTOR, now=LATER)
    with pytest.raises(ValidationFailed, match="TEE is not on"):
        invoicing.credit_invoice(invoice.number, lines=[{"sku": "TEE", "qty": 1}], reason="x", actor=ACTOR, now=LATER)
    with pytest.raises(ValidationFailed, match=r"only 22\.45 EUR of"):
        invoicing.credit_invoice(invoice.number, amount=Decimal("30.00"), reason="x", actor=ACTOR, now=LATER)
    with pytest.raises(ValidationFailed, match="Say why"):
        invoicing.credit_invoice(invoice.number, amount=Decimal("1.00"), reason=" ", actor=ACTOR, now=LATER)
    both = invoicing.credit_invoice(
        invoice.number,
        lines=[{"sku": "CAP", "qty": 1}],
        amount=Decimal("1.00"),
        reason="Cap returned, plus postage",
        actor=ACTOR,
        now=LATER,
    )
    assert both.total == Decimal("16.00")
    assert invoicing.credited_total(invoice) == Decimal("38.50")
    assert db.session.scalars(
        select(Invoice.number).where(Invoice.kind == "credit_note").order_by(Invoice.id)
    ).all() == ["CN-2026-000001", "CN-2026-000002", "CN-2026-000003"]


def test_a_channel_invoicing_at_payment_invoices_the_whole_order_when_it_is_paid(shop):
    invoice_on_payment()
    stock("AMS", "MUG", 5)
    order, _ = orders.create_order(order_body("WHOLE", lines=(("MUG", 3, "12.50"),)), actor=ACTOR, now=NOW)
    assert invoice_of(order.number) is None  # nothing is invoiced before it is paid

    orders.record_payment(order.number, Decimal("20.00"), method="card", actor=ACTOR, now=NOW)
    assert invoice_of(order.number) is None  # nor when it is paid in part
    orders.record_payment(order.number, Decimal("22.45"), method="card", actor=ACTOR, now=LATER)

    invoice = invoice_of(order.number)
    assert invoice.shipment_id is None and invoice.snapshot["shipment"] is None
    assert invoice.issued_at == LATER
    assert [(x["sku"], x["qty"]) for x in invoice.snapshot["lines"]] == [("MUG", 3), (None, 1)]
    assert invoice.total == reload(order.number).total == Decimal("42.45")
    issued = db.session.scalars(select(Event.action).where(Event.entity_id == order.number)).all()
    assert "invoice_issued" in issued
    assert invoicing.invoice_at_payment(reload(order.number), actor=ACTOR, at=LATER) is None  # only once
    with pytest.raises(Conflict, match="already has invoice"):
        invoicing.issue_invoice_for_order(reload(order.number), actor=ACTOR, at=NOW)


def test_an_order_that_arrives_paid_on_such_a_channel_is_invoiced_at_intake(shop):
    invoice_on_payment()
    stock("AMS", "MUG", 5)
    order, _ = orders.create_order(order_body("PAID", paid_amount=Decimal("17.45")), actor=ACTOR, now=NOW)
    invoice = invoice_of(order.number)
    assert invoice is not None and invoice.total == Decimal("17.45") and invoice.shipment_id is None
    assert reload(order.number).status == "ready"


def test_a_channel_invoicing_per_shipment_issues_nothing_at_payment(shop):
    stock("AMS", "MUG", 5)
    number = packed_order("SHIP-LATER")
    assert invoice_of(number) is None
