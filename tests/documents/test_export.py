"""Bulk export of a period: worker processes (recycled), the ZIP, the register, refusals, the CLI."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from app.domain.errors import ValidationFailed
from app.extensions import db
from app.models import Invoice
from app.services import invoicing
from app.services.documents.export import NothingToExport, export_period
from app.services.fulfillment import shipping
from tests.fulfillment_scenes import UPS, invoice_on_payment, packed_order, shipments_of
from tests.services.conftest import ACTOR, NOW, stock

MARCH = (date(2026, 3, 1), date(2026, 3, 31))


@pytest.fixture
def twelve_invoices(shop):
    """Twelve invoices on twelve days of March (more than an inline export takes)."""
    stock("AMS", "MUG", 50)
    for i in range(12):
        number = packed_order(f"EXP-{i}")
        shipping.ship_order(number, carrier="ups", tracking_number=UPS, actor=ACTOR, now=NOW + timedelta(days=i))
    return 12


@pytest.mark.slow
def test_two_recycled_worker_processes_render_the_period(twelve_invoices, tmp_path):
    seen = []
    out = tmp_path / "march.zip"
    result = export_period(
        *MARCH, out, processes=2, recycle_every=4, progress=lambda done, total: seen.append((done, total))
    )

    assert (result.documents, result.processes) == (12, 2)
    assert result.workers_used == 3  # three chunks of four, each worker replaced after one
    assert seen[-1] == (12, 12) and [d for d, _ in seen] == list(range(1, 13))
    archive = zipfile.ZipFile(out)
    names = sorted(archive.namelist())
    assert names == sorted([f"INV-2026-{n:06d}.pdf" for n in range(1, 13)] + ["register.csv"])
    text = PdfReader(io.BytesIO(archive.read("INV-2026-000007.pdf"))).pages[0].extract_text()
    assert "INV-2026-000007" in text and "Page 1 of 1" in text
    register = list(csv.reader(io.StringIO(archive.read("register.csv").decode())))
    assert register[0] == ["number", "date", "customer", "net", "tax", "gross", "currency", "order", "kind", "corrects"]
    assert [row[0] for row in register[1:]] == [f"INV-2026-{n:06d}" for n in range(1, 13)]
    assert register[1][1:3] == ["2026-03-02", "Ada Buyer"] and register[1][5:7] == ["17.45", "EUR"]
    assert not list(tmp_path.glob(".*partial"))


def test_a_part_of_the_period_renders_inline(twelve_invoices, tmp_path):
    result = export_period(date(2026, 3, 2), date(2026, 3, 4), tmp_path / "three.zip", processes=2)
    assert (result.documents, result.processes, result.workers_used) == (3, 0, 1)  # too few to start workers
    assert len(zipfile.ZipFile(tmp_path / "three.zip").namelist()) == 4


def test_an_empty_period_writes_nothing_and_a_long_one_is_refused(shop, tmp_path):
    with pytest.raises(NothingToExport, match="Nothing to export: no invoices or credit notes were issued"):
        export_period(*MARCH, tmp_path / "empty.zip")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValidationFailed, match="367 days is too long"):
        export_period(date(2025, 1, 1), date(2026, 1, 2), tmp_path / "long.zip")
    with pytest.raises(NothingToExport):  # a whole (leap) year is allowed: 366 days
        export_period(date(2024, 1, 1), date(2024, 12, 31), tmp_path / "year.zip")


def test_the_cli_exports_and_says_nothing_to_export(app, shop, tmp_path):
    stock("AMS", "MUG", 5)
    number = packed_order("CLI")
    invoice_on_payment("web")  # paid already: shipping issues nothing; the invoice is issued by hand below
    shipping.ship_order(number, carrier="ups", tracking_number=UPS, actor=ACTOR, now=NOW)
    invoicing.issue_for_shipment(shipments_of(number)[0].number, actor=ACTOR, now=NOW)
    runner = app.test_cli_runner()
    out = tmp_path / "cli.zip"
    result = runner.invoke(args=["invoices", "export", "--from", "2026-03-01", "--to", "2026-03-31", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"Exported 1 documents to {out}" in result.output
    assert zipfile.ZipFile(out).namelist() == [f"{db.session.scalar(select(Invoice.number))}.pdf", "register.csv"]

    empty = runner.invoke(
        args=["invoices", "export", "--from", "2026-04-01", "--to", "2026-04-30", "--out", str(tmp_path / "april.zip")]
    )
    assert empty.exit_code == 1 and "Nothing to export" in empty.output
    assert not (tmp_path / "april.zip").exists()
    long = runner.invoke(
        args=["invoices", "export", "--from", "2024-01-01", "--to", "2026-04-30", "--out", str(tmp_path / "long.zip")]
    )
    assert long.exit_code == 2 and "too long" in long.output
    bad = runner.invoke(args=["invoices", "export", "--from", "March", "--to", "2026-04-30", "--out", "x.zip"])
    assert bad.exit_code == 2 and "is not a date" in bad.output
