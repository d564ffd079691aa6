"""Document rendering benchmark (DESIGN.md §8): one invoice PDF against bare WeasyPrint on
the same HTML, what "Page X of Y" costs, and a 1,000-invoice export with two processes.

    .venv/bin/python bench/pdf.py              # full run (≈ 1 minute on 2 cores)
    .venv/bin/python bench/pdf.py --quick      # fewer renders, a 200-document export

1. One page: the median of N renders of a 5-line invoice through
   app.services.documents.render (Jinja template + the cached print stylesheet +
   WeasyPrint), beside bare WeasyPrint given the very same HTML with the stylesheet
   inlined (what a caller with no caching does). Target: ≤ 1.3× bare.
2. "Page X of Y": the same invoice, and a 5-page one, rendered with and without the
   counter in the page margin.
3. Export: 1,000 invoices in a fresh SQLite database, exported to a ZIP by
   app.services.documents.export (2 worker processes recycled every 200 documents).
   Target: < 60 s. Reports documents/s and the peak RSS of this process and of the
   largest worker, and how much one long-lived process grows per render (why the
   workers are recycled).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

OUT = Path(__file__).resolve().parent / "out"


def snapshot(number: str = "INV-2026-000001", lines: int = 5, issued: datetime | None = None) -> dict:
    issued = issued or datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    rows = [
        {
            "no": i,
            "sku": f"SKU-{i:04d}",
            "name": f"Crème brûlée dish nº{i}, stoneware",
            "qty": 1 + i % 3,
            "unit_price": "18.15",
            "tax_rate": "21.00",
            "total": f"{18.15 * (1 + i % 3):.2f}",
        }
        for i in range(1, lines + 1)
    ]
    gross = sum(Decimal(r["total"]) for r in rows)
    tax = (gross * 21 / 121).quantize(Decimal("0.01"))
    return {
        "number": number,
        "kind": "invoice",
        "issued_at": issued.isoformat(),
        "issue_date": issued.date().isoformat(),
        "order": "SO-000123",
        "external_id": "web-123",
        "shipment": "SH-000077",
        "currency": "EUR",
        "prices_include_tax": True,
        "seller": {
            "name": "OrderDeck Demo Brand B.V.",
            "address": ["Waalhaven Zuidzijde 21", "3089 JH Rotterdam"],
            "vat_number": "NL862345117B01",
            "iban": "NL91 ABNA 0417 1643 00",
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
        "lines": rows,
        "taxes": [{"rate": "21.00", "net": str(gross - tax), "tax": str(tax), "gross": str(gross)}],
        "totals": {"net": str(gross - tax), "tax": str(tax), "total": str(gross)},
        "payment_terms": "Paid in full on 2026-03-01. Nothing to pay.",
    }


def medians_ms(runs: int, **candidates) -> dict[str, float]:
    """Median wall time of each candidate, measured alternately so that other load on the
    machine hits every candidate alike."""
    times: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(runs):
        for name, fn in candidates.items():
            started = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - started) * 1000)
    return {name: statistics.median(values) for name, values in times.items()}


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def one_page(runs: int) -> dict:
    import weasyprint

    from app.services.documents import render

    doc = snapshot()
    html = render.document_html(doc)
    css_text = render.STYLESHEET.read_text() + render.PAGE_NUMBERS_CSS
    bare_html = html.replace("</head>", f"<style>{css_text}</style></head>")
    assert len(weasyprint.HTML(string=bare_html).render().pages) == 1
    for _ in range(3):  # warm up both paths (font loading, first layout)
        render.document_pdf(doc)
        weasyprint.HTML(string=bare_html).write_pdf()
    parsed = weasyprint.CSS(string=css_text)
    one = medians_ms(
        runs,
        bare=lambda: weasyprint.HTML(string=bare_html).write_pdf(),
        bare_parsed_css=lambda: weasyprint.HTML(string=html).write_pdf(stylesheets=[parsed]),
        ours=lambda: render.document_pdf(doc),
        without=lambda: render.document_pdf(doc, page_numbers=False),
    )
    bare, ours, without = one["bare"], one["ours"], one["without"]
    long_doc = snapshot(lines=120)
    pages = len(
        weasyprint.HTML(string=render.document_html(long_doc)).render(stylesheets=[render.stylesheet(True)]).pages
    )
    long = medians_ms(
        max(5, runs // 4),
        with_=lambda: render.document_pdf(long_doc),
        without=lambda: render.document_pdf(long_doc, page_numbers=False),
    )
    long_with, long_without = long["with_"], long["without"]
    return {
        "runs": runs,
        "bare_ms": round(bare, 1),
        "bare_parsed_css_ms": round(one["bare_parsed_css"], 1),
        "ours_ms": round(ours, 1),
        "ratio": round(ours / bare, 2),
        "page_x_of_y": {
            "one_page_with_ms": round(ours, 1),
            "one_page_without_ms": round(without, 1),
            "one_page_factor": round(ours / without, 2),
            "long_pages": pages,
            "long_with_ms": round(long_with, 1),
            "long_without_ms": round(long_without, 1),
            "long_factor": round(long_with / long_without, 2),
        },
    }


def growth_per_render(n: int) -> float:
    """RSS growth of one process per render, over n renders after a warm-up (MB/render)."""
    from app.services.documents import render

    for i in range(20):
        render.document_pdf(snapshot(f"INV-2026-{i:06d}"))
    before = rss_mb()
    for i in range(n):
        render.document_pdf(snapshot(f"INV-2026-{i:06d}"))
    return (rss_mb() - before) / n


def build_invoices(app, count: int) -> None:
    """`count` issued invoices over March 2026, each with its own order (straight into the tables)."""
    from sqlalchemy import insert

    from app.extensions import db
    from app.models import Channel, Customer, Invoice, Order

    with app.app_context():
        session = db.session
        channel = Channel(code="web", name="Web")
        customer = Customer(email="zoe@example.com", name="Zoë Ångström-Müller")
        session.add_all([channel, customer])
        session.flush()
        start = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
        orders = []
        for i in range(1, count + 1):
            orders.append(
                {
                    "id": i,
                    "number": f"SO-{i:06d}",
                    "channel_id": channel.id,
                    "external_id": f"web-{i}",
                    "customer_id": customer.id,
                    "ship_name": customer.name,
                    "ship_line1": "Rue de l'Église 3",
                    "ship_city": "Liège",
                    "ship_postcode": "4000",
                    "ship_country": "BE",
                    "currency": "EUR",
                    "placed_at": start,
                    "status": "shipped",
                    "payment_status": "paid",
                    "total": Decimal("90.75"),
                    "paid_amount": Decimal("90.75"),
                }
            )
        session.execute(insert(Order), orders)
        invoices = []
        for i in range(1, count + 1):
            issued = start + timedelta(minutes=40 * i)
            doc = snapshot(f"INV-2026-{i:06d}", lines=3 + i % 5, issued=issued)
            invoices.append(
                {
                    "number": doc["number"],
                    "kind": "invoice",
                    "order_id": i,
                    "issued_at": issued,
                    "currency": "EUR",
                    "net_total": Decimal(doc["totals"]["net"]),
                    "tax_total": Decimal(doc["totals"]["tax"]),
                    "total": Decimal(doc["totals"]["total"]),
                    "snapshot": doc,
                    "issued_by": "bench",
                }
            )
        session.execute(insert(Invoice), invoices)
        session.commit()


def export(count: int, processes: int, recycle_every: int) -> dict:
    from flask_migrate import upgrade

    from app import create_app
    from app.services.documents.export import export_period
    from config import Config

    with tempfile.TemporaryDirectory(prefix="od-bench-pdf-") as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        config = type("BenchConfig", (Config,), {"SQLALCHEMY_DATABASE_URI": url, "TIMEZONE": "Europe/Amsterdam"})
        app = create_app(config)
        with app.app_context():
            upgrade(directory=str(Path(app.root_path).parent / "migrations"))
        build_invoices(app, count)
        out = Path(tmp) / "export.zip"
        children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        self_before = resource.getrusage(resource.RUSAGE_SELF)
        with app.app_context():
            started = time.perf_counter()
            result = export_period(
                date(2026, 3, 1), date(2026, 3, 31), out, processes=processes, recycle_every=recycle_every
            )
            seconds = time.perf_counter() - started
        size_mb = out.stat().st_size / 1024 / 1024
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    self_after = resource.getrusage(resource.RUSAGE_SELF)
    children = children_after.ru_maxrss / 1024
    # CPU seconds, which other load on the machine does not inflate: what the export would
    # take on two otherwise idle cores is the larger of the workers' CPU split over the
    # processes and this process's own CPU.
    worker_cpu = (children_after.ru_utime + children_after.ru_stime) - (
        children_before.ru_utime + children_before.ru_stime
    )
    main_cpu = (self_after.ru_utime + self_after.ru_stime) - (self_before.ru_utime + self_before.ru_stime)
    idle_estimate = max(worker_cpu / max(processes, 1), main_cpu)
    return {
        "documents": result.documents,
        "processes": result.processes,
        "recycle_every": recycle_every,
        "workers_used": result.workers_used,
        "seconds": round(seconds, 1),
        "documents_per_s": round(result.documents / seconds, 1),
        "zip_mb": round(size_mb, 1),
        "peak_rss_worker_mb": round(children, 1),
        "peak_rss_main_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "worker_cpu_s": round(worker_cpu, 1),
        "worker_cpu_ms_per_document": round(1000 * worker_cpu / result.documents, 1),
        "main_cpu_s": round(main_cpu, 1),
        "idle_cores_estimate_s": round(idle_estimate, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer renders and a 200-document export")
    parser.add_argument("--documents", type=int, default=None, help="documents in the export (default 1000)")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--recycle-every", type=int, default=200)
    parser.add_argument("--part", choices=("all", "page", "export"), default="all", help="run only one part")
    args = parser.parse_args()
    runs = 15 if args.quick else 40
    count = args.documents or (200 if args.quick else 1000)

    results: dict = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
    }
    print()
    print("| measure | reference | ours |")
    print("|---|---|---|")
    if args.part in ("all", "export"):
        # The export runs first, in a clean process, so its peak RSS is the export's own.
        exported = export(count, args.processes, args.recycle_every)
        results["export"] = exported
        print(
            f"| export of {exported['documents']} invoices | ≈ 29 documents/s with 2 processes | "
            f"{exported['seconds']} s, {exported['documents_per_s']} documents/s (target < 60 s) |"
        )
        print(
            f"| export CPU time | — | workers {exported['worker_cpu_s']} s "
            f"({exported['worker_cpu_ms_per_document']} ms per document), this process {exported['main_cpu_s']} s: "
            f"≈ {exported['idle_cores_estimate_s']} s on {args.processes} idle cores |"
        )
        print(
            f"| peak RSS | — | main {exported['peak_rss_main_mb']} MB, largest worker "
            f"{exported['peak_rss_worker_mb']} MB ({exported['workers_used']} workers over the run) |"
        )
    if args.part in ("all", "page"):
        page = one_page(runs)
        results["one_page"] = page
        results["rss_growth_mb_per_render"] = round(growth_per_render(50 if args.quick else 150), 3)
        p = page["page_x_of_y"]
        print(
            f"| one-page invoice, same HTML, stylesheet parsed once | bare WeasyPrint {page['bare_parsed_css_ms']} ms "
            f"| {page['ours_ms']} ms ({round(page['ours_ms'] / page['bare_parsed_css_ms'], 2)}×) |"
        )
        print(
            f"| one-page invoice, median of {runs} | bare WeasyPrint {page['bare_ms']} ms | {page['ours_ms']} ms "
            f"({page['ratio']}×; target ≤ 1.3×) |"
        )
        print(
            f"| Page X of Y, 1 page | without {p['one_page_without_ms']} ms | with {p['one_page_with_ms']} ms "
            f"({p['one_page_factor']}×) |"
        )
        print(
            f"| Page X of Y, {p['long_pages']} pages | without {p['long_without_ms']} ms | "
            f"with {p['long_with_ms']} ms ({p['long_factor']}×) |"
        )
        print(f"| growth of one long-lived process | — | {results['rss_growth_mb_per_render']} MB per render |")
    results["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    print(
        f"\nLoad average (1, 5, 15 min) before {results['load_average_before']}, "
        f"after {results['load_average_after']} on {os.cpu_count()} cores."
    )
    OUT.mkdir(exist_ok=True)
    (OUT / "pdf.json").write_text(json.dumps(results, indent=2))
    print(f"\nWrote {OUT / 'pdf.json'}")


if __name__ == "__main__":
    main()
