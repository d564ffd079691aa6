"""The PDFs read back with pypdf: numbers, parties, lines, taxes, totals and page counters
are real text (copyable, searchable), in a font that has the accents."""

from __future__ import annotations

import io
from decimal import Decimal

from pypdf import PdfReader
from sqlalchemy import select

from app.extensions import db
from app.models import Invoice
from app.services import invoicing
from app.services.documents import render, slips
from app.services.fulfillment import parcels, shipping
from tests.fulfillment_scenes import UPS, pack_all, ready_order, reload, set_bin, shipments_of, shipped_order, wave_of
from tests.services.conftest import ACTOR, NOW, stock


def pages(pdf: bytes) -> list[str]:
    assert pdf.startswith(b"%PDF-")
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def snapshot(lines: int = 3, **extra) -> dict:
    body = {
        "number": "INV-2026-000042",
        "kind": "invoice",
        "issued_at": "2026-03-02T09:00:00+00:00",
        "issue_date": "2026-03-02",
        "order": "SO-000007",
        "external_id": "web-7",
        "shipment": "SH-000003",
        "currency": "EUR",
        "prices_include_tax": True,
        "seller": {
            "name": "Brouwerij Ærø & Søn B.V.",
            "address": ["Waalhaven 21", "3089 JH Rotterdam"],
            "vat_number": "NL001234567B01",
        },
        "buyer": {"name": "Zoë Ångström-Müller", "email": "zoe@example.com"},
        "ship_to": {
            "name": "Zoë Ångström-Müller",
            "line1": "Rue de l'Église 3",
            "line2": None,
            "city": "Liège",
            "region": None,
            "postcode": "4000",
            "country": "BE",
        },
        "lines": [
            {
                "no": i,
                "sku": f"SKU-{i:03d}",
                "name": f"Crème brûlée dish nº{i}",
                "qty": 1,
                "unit_price": "12.10",
                "tax_rate": "21.00",
                "total": "12.10",
            }
            for i in range(1, lines + 1)
        ],
        "taxes": [{"rate": "21.00", "net": "10.00", "tax": "2.10", "gross": "12.10"}],
        "totals": {"net": "10.00", "tax": "2.10", "total": "12.10"},
        "payment_terms": "Payment due within 14 days, by 2026-03-16.",
    }
    body.update(extra)
    return body


def test_an_invoice_pdf_has_its_number_parties_lines_taxes_totals_and_page_counter():
    [text] = pages(render.document_pdf(snapshot()))
    for expected in (
        "Invoice",
        "INV-2026-000042",
        "SO-000007",
        "SH-000003",
        "Brouwerij Ærø & Søn B.V.",
        "NL001234567B01",
        "Zoë Ångström-Müller",
        "Rue de l'Église 3",
        "4000 Liège",
        "SKU-001",
        "SKU-003",
        "Crème brûlée dish nº2",
        "21 %",
        "10.00",
        "2.10",
        "12.10 EUR",
        "Payment due within 14 days",
        "Page 1 of 1",
    ):
        assert expected in text, expected


def test_a_long_invoice_repeats_its_table_header_and_counts_pages():
    texts = pages(render.document_pdf(snapshot(lines=90)))
    assert len(texts) >= 3
    for i, text in enumerate(texts, start=1):
        assert f"Page {i} of {len(texts)}" in text
        if "SKU-0" in text:  # every page with lines starts with the table's header
            assert "UNIT PRICE" in text.upper() and "DESCRIPTION" in text.upper()
    assert sum("SKU-0" in t for t in texts) >= 3
    # The totals and the payment terms stay together, after the last line.
    assert "12.10 EUR" in texts[-1] and "Payment due within" in texts[-1]


def test_without_page_numbers_there_is_no_counter():
    [text] = pages(render.document_pdf(snapshot(), page_numbers=False))
    assert "Page 1" not in text and "INV-2026-000042" in text


def test_a_snapshot_written_before_line_numbers_and_terms_existed_still_prints():
    old = snapshot()
    for line in old["lines"]:
        del line["no"]
    del old["issue_date"], old["payment_terms"]
    [text] = pages(render.document_pdf(old))
    assert "INV-2026-000042" in text and "2026-03-02" in text and "SKU-002" in text


def test_issued_invoice_and_credit_note_print_from_their_snapshots(shop):
    stock("AMS", "MUG", 5)
    number = shipped_order("PDF", (("MUG", 2, "12.50"),))
    invoice = db.session.scalar(select(Invoice).where(Invoice.kind == "invoice"))
    [text] = pages(render.document_pdf(invoice.snapshot))
    assert all(s in text for s in (invoice.number, number, "MUG", "Shipping", "29.95 EUR", "5.20", "Page 1 of 1"))

    note = invoicing.credit_invoice(
        invoice.number,
        lines=[{"sku": "MUG", "qty": 1}],
        amount=Decimal("4.95"),
        reason="Broken handle",
        actor=ACTOR,
        now=NOW,
    )
    [text] = pages(render.document_pdf(note.snapshot))
    assert "Credit note" in text and note.number in text and f"corrects invoice {invoice.number}" in text
    assert "Broken handle" in text and "17.45 EUR" in text and "Total credited" in text


def test_a_packing_slip_lists_each_order_of_a_combined_parcel_without_prices(shop):
    stock("AMS", "MUG", 5)
    stock("AMS", "TEE", 5)
    first = ready_order("S1", (("MUG", 2, "12.50"),))
    second = ready_order("S2", (("TEE", 1, "25.00"),))
    wave = parcels.accept("AMS", [first, second], actor=ACTOR, now=NOW)
    pack_all(wave.shipments[0].number)
    [text] = pages(slips.packing_slip_pdf(wave.shipments[1].number))
    group = wave.shipments[0].number
    assert "Packing slip" in text and group in text and "Ada Buyer" in text and "Damrak 1" in text
    assert f"Order {first}" in text and f"Order {second}" in text and "MUG" in text and "TEE" in text
    assert "2 orders, 3 units" in text and "12.50" not in text and "Page 1 of 1" in text

    shipping.ship_parcel(group, carrier="ups", tracking_number=UPS, actor=ACTOR, now=NOW)
    [text] = pages(slips.packing_slip_pdf(group))
    assert "UPS" in text and UPS in text


def test_a_pick_list_walks_the_bins_and_says_which_order_gets_what(shop):
    stock("AMS", "MUG", 10)
    stock("AMS", "TEE", 10)
    set_bin("MUG", "AMS", "C-07")
    set_bin("TEE", "AMS", "A-02")
    a = ready_order("P1", (("MUG", 2, "12.50"), ("TEE", 1, "25.00")))
    b = ready_order("P2", (("MUG", 1, "12.50"),))
    wave = wave_of("AMS", a, b)
    [text] = pages(slips.pick_list_pdf(wave.number))
    assert "Pick list" in text and wave.number in text and "Amsterdam (AMS)" in text
    assert text.index("A-02") < text.index("C-07")
    assert f"{a} × 2, {b} × 1" in text and "3" in text
    assert reload(a).status == "picking" and shipments_of(b)[0].wave_id == wave.id
