"""HTML templates to PDF with WeasyPrint.

Deliberately independent of Flask and the database: the bulk export renders in
worker processes that never build the app, and a document printed today must come
out of the same stored snapshot exactly as it did the day it was issued.

The print stylesheet is parsed once per process and reused (parsing it again for
every document would cost more than the Jinja step). Text is set in DejaVu Sans,
found by family name through fontconfig (Debian's fonts-dejavu-core), which covers
accented Latin; WeasyPrint embeds the glyphs it uses, so the PDF's text can be
copied and extracted.
"""

from __future__ import annotations

import threading
from decimal import Decimal
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATES = Path(__file__).resolve().parents[3] / "templates"
STYLESHEET = TEMPLATES / "documents" / "pdf" / "print.css"

# "Page X of Y" in the bottom-right margin box. Kept apart from print.css so the
# benchmark can measure what the total page count costs.
PAGE_NUMBERS_CSS = """
@page { @bottom-right { content: "Page " counter(page) " of " counter(pages); } }
"""

TITLES = {"invoice": "Invoice", "credit_note": "Credit note"}

_lock = threading.Lock()


def money(value) -> str:
    if value is None or value == "":
        return ""
    return f"{Decimal(value):,.2f}"


def rate(value) -> str:
    number = Decimal(value)
    return f"{number.normalize():f} %" if number == number.to_integral() else f"{number:.2f} %"


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = money
    env.filters["rate"] = rate
    return env


@cache
def _weasyprint():
    # Imported on first use: the web process and the CLI load it only when printing.
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration

    return weasyprint, FontConfiguration()


@cache
def stylesheet(page_numbers: bool = True):
    weasyprint, fonts = _weasyprint()
    css = STYLESHEET.read_text(encoding="utf-8") + (PAGE_NUMBERS_CSS if page_numbers else "")
    return weasyprint.CSS(string=css, font_config=fonts)


def html_of(template: str, **context) -> str:
    return environment().get_template(template).render(**context)


def pdf_of(html: str, *, page_numbers: bool = True) -> bytes:
    weasyprint, fonts = _weasyprint()
    css = stylesheet(page_numbers)
    # One layout at a time per process: the cached font configuration is shared.
    with _lock:
        return weasyprint.HTML(string=html).write_pdf(stylesheets=[css], font_config=fonts)


# Invoices and credit notes ----------------------------------------------------------


def document_view(snapshot: dict) -> dict:
    """The snapshot as the template reads it; tolerant of snapshots written before a
    field existed (line numbers, issue date, payment terms)."""
    lines = []
    for i, line in enumerate(snapshot.get("lines", []), start=1):
        lines.append({**line, "no": line.get("no") or i, "sku": line.get("sku") or ""})
    ship_to = snapshot.get("ship_to") or {}
    place = " ".join(p for p in (ship_to.get("postcode"), ship_to.get("city")) if p)
    address = [
        p
        for p in (
            ship_to.get("name"),
            ship_to.get("line1"),
            ship_to.get("line2"),
            place,
            ship_to.get("region"),
            ship_to.get("country"),
        )
        if p
    ]
    kind = snapshot.get("kind", "invoice")
    return {
        "title": TITLES.get(kind, kind),
        "kind": kind,
        "number": snapshot["number"],
        "issue_date": snapshot.get("issue_date") or snapshot.get("issued_at", "")[:10],
        "order": snapshot.get("order"),
        "external_id": snapshot.get("external_id"),
        "shipment": snapshot.get("shipment"),
        "corrects": snapshot.get("corrects"),
        "reason": snapshot.get("reason"),
        "currency": snapshot.get("currency", ""),
        "prices_include_tax": snapshot.get("prices_include_tax", True),
        "seller": {"address": [], **(snapshot.get("seller") or {})},
        "buyer": snapshot.get("buyer") or {},
        "ship_to": address,
        "lines": lines,
        "taxes": snapshot.get("taxes", []),
        "totals": snapshot.get("totals", {}),
        "payment_terms": snapshot.get("payment_terms"),
    }


def document_html(snapshot: dict) -> str:
    return html_of("documents/pdf/invoice.html", doc=document_view(snapshot))


def document_pdf(snapshot: dict, *, page_numbers: bool = True) -> bytes:
    return pdf_of(document_html(snapshot), page_numbers=page_numbers)


def packing_slip_pdf(slip: dict) -> bytes:
    return pdf_of(html_of("documents/pdf/packing_slip.html", slip=slip))


def pick_list_pdf(pick: dict) -> bytes:
    return pdf_of(html_of("documents/pdf/pick_list.html", pick=pick))
