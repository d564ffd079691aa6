"""Finance pages: the document list with PDFs, credit notes, the bulk export with its
progress, and the series audit."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ExportJob, Invoice
from app.services import invoicing
from app.services.documents import export_jobs
from app.services.tx import begin_write
from tests.fulfillment_scenes import shipped_order
from tests.services.conftest import ACTOR, NOW, shop, stock  # noqa: F401  (shop is a fixture)

HX = {"HX-Request": "true"}


def rows(body: str, prefix: str) -> list[str]:
    return re.findall(rf'\sid="{prefix}-([^"]+)"', body)


@pytest.fixture
def documents(shop, app, tmp_path):  # noqa: F811
    """Two shipped orders (two invoices) and a credit note; exports run inline into tmp_path."""
    app.config.update(EXPORT_DIR=str(tmp_path / "exports"), EXPORT_PROCESSES=0)
    app.extensions["document_export_runner"] = lambda _app, token: export_jobs.run(token)
    stock("AMS", "MUG", 10)
    first = shipped_order("D1", (("MUG", 2, "12.50"),))
    second = shipped_order("D2", customer={"name": "Élodie Brûlé", "email": "elodie@example.com"})
    invoice = db.session.scalar(select(Invoice).order_by(Invoice.id))
    invoicing.credit_invoice(
        invoice.number, lines=[{"sku": "MUG", "qty": 1}], reason="Broken", actor=ACTOR, now=NOW + timedelta(days=1)
    )
    yield {"orders": [first, second]}
    app.extensions.pop("document_export_runner", None)


def test_the_list_links_every_document_to_its_pdf_and_filters_by_channel(login, documents):
    client = login("finance")
    body = client.get("/documents/").get_data(as_text=True)
    assert rows(body, "doc") == ["CN-2026-000001", "INV-2026-000002", "INV-2026-000001"]
    assert "/invoices/INV-2026-000001.pdf?download=1" in body
    assert rows(client.get("/documents/?channel=web").get_data(as_text=True), "doc") == rows(body, "doc")
    assert rows(client.get("/documents/?channel=other").get_data(as_text=True), "doc") == []


def test_an_invoice_pdf_downloads_for_finance_but_not_for_ops(login, documents):
    response = login("finance").get("/invoices/INV-2026-000001.pdf?download=1")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == 'attachment; filename="INV-2026-000001.pdf"'
    assert login("manager").get("/invoices/CN-2026-000001.pdf").status_code == 200
    assert login("ops").get("/invoices/INV-2026-000001.pdf").status_code == 403
    assert login("admin").get("/invoices/INV-2099-000001.pdf").status_code == 404


def test_finance_issues_a_credit_note_from_the_invoice_page(login, documents):
    client = login("finance")
    page = client.get("/documents/INV-2026-000002").get_data(as_text=True)
    assert "Issue a credit note" in page and "None yet." in page
    refused = client.post("/documents/INV-2026-000002/credit-notes", data={"reason": "x", "amount": "999.00"})
    assert refused.status_code == 422 and "left to credit" in refused.get_data(as_text=True)
    done = client.post("/documents/INV-2026-000002/credit-notes", data={"reason": "Goodwill", "amount": "2.00"})
    assert done.status_code == 303 and done.headers["Location"] == "/documents/CN-2026-000002"
    note = client.get("/documents/CN-2026-000002").get_data(as_text=True)
    assert "Credit note CN-2026-000002" in note and "INV-2026-000002" in note and "Issue a credit note" not in note
    by_units = client.post("/documents/INV-2026-000001/credit-notes", data={"reason": "Second mug", "qty-MUG": "1"})
    assert by_units.status_code == 303
    assert db.session.scalar(select(Invoice.total).where(Invoice.number == "CN-2026-000003")) == Decimal("12.50")


def test_a_bulk_export_runs_reports_progress_and_downloads_a_zip_with_a_register(login, documents):
    client = login("finance")
    response = client.post("/documents/exports", data={"date_from": "2026-03-01", "date_to": "2026-03-31"}, headers=HX)
    assert response.status_code == 200
    job = db.session.scalar(select(ExportJob))
    fragment = response.get_data(as_text=True)
    assert f'id="export-{job.token}"' in fragment and "<html" not in fragment
    assert (job.status, job.done_count, job.total) == ("done", 3, 3)

    row = client.get(f"/documents/exports/{job.token}", headers=HX).get_data(as_text=True)
    assert 'data-state="done"' in row and "3 / 3" in row and "hx-trigger" not in row  # polling stops
    download = client.get(f"/documents/exports/{job.token}.zip")
    assert download.status_code == 200 and download.mimetype == "application/zip"
    assert "documents-2026-03-01-to-2026-03-31.zip" in download.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(download.data))
    assert sorted(archive.namelist()) == [
        "CN-2026-000001.pdf",
        "INV-2026-000001.pdf",
        "INV-2026-000002.pdf",
        "register.csv",
    ]
    register = list(csv.DictReader(io.StringIO(archive.read("register.csv").decode())))
    assert [r["number"] for r in register] == ["INV-2026-000001", "INV-2026-000002", "CN-2026-000001"]
    assert register[1]["customer"] == "Élodie Brûlé" and register[1]["gross"] == "17.45"
    assert (register[2]["gross"], register[2]["corrects"], register[2]["kind"]) == (
        "-12.50",
        "INV-2026-000001",
        "credit_note",
    )
    assert list(register[0])[:8] == ["number", "date", "customer", "net", "tax", "gross", "currency", "order"]
    # The page shows the job (and its download) when you come back to it later.
    assert "Download ZIP" in client.get("/documents/").get_data(as_text=True)


def test_a_running_export_polls_and_an_abandoned_one_shows_as_interrupted(login, documents, app):
    app.extensions["document_export_runner"] = lambda _app, token: None  # started, never finishes here
    client = login("finance")
    client.post("/documents/exports", data={"date_from": "2026-03-01", "date_to": "2026-03-31"}, headers=HX)
    job = db.session.scalar(select(ExportJob))
    row = client.get(f"/documents/exports/{job.token}", headers=HX).get_data(as_text=True)
    assert 'hx-trigger="every 1s"' in row and 'data-state="queued"' in row
    assert client.get(f"/documents/exports/{job.token}.zip").status_code == 404
    session = begin_write()
    session.get(ExportJob, job.id).updated_at = datetime(2026, 1, 1, tzinfo=UTC)
    session.commit()
    row = client.get(f"/documents/exports/{job.token}", headers=HX).get_data(as_text=True)
    assert 'data-state="interrupted"' in row and "hx-trigger" not in row


@pytest.mark.parametrize(
    ("period", "message"),
    [
        ({"date_from": "2026-04-01", "date_to": "2026-04-30"}, "Nothing to export"),
        ({"date_from": "2025-01-01", "date_to": "2026-03-31"}, "too long"),
        ({"date_from": "2026-03-31", "date_to": "2026-03-01"}, "ends before it starts"),
        ({"date_from": "", "date_to": "2026-03-01"}, "Choose the first and the last day"),
    ],
)
def test_empty_or_too_long_periods_are_refused_without_a_file(login, documents, app, period, message):
    response = login("finance").post("/documents/exports", data=period, headers=HX)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert db.session.scalar(select(ExportJob)) is None
    export_dir = Path(app.config["EXPORT_DIR"])
    assert not export_dir.exists() or not list(export_dir.glob("*.zip"))


def test_the_series_audit_proves_the_numbering_and_shows_anomalies(login, documents, db):
    client = login("finance")
    clean = client.get("/documents/audit?from=2026-03-01&to=2026-03-31").get_data(as_text=True)
    assert 'data-ok="true"' in clean and "No gaps, no duplicates" in clean
    assert 'data-series="INV-2026"' in clean and 'data-series="CN-2026"' in clean

    # A document number skipped (as if imported from elsewhere) and a credit note for another order.
    first = db.session.scalar(select(Invoice).where(Invoice.number == "INV-2026-000001"))
    other_order = db.session.scalar(select(Invoice.order_id).where(Invoice.number == "INV-2026-000002"))
    session = begin_write()
    for number, kind, corrects, order_id in (
        ("INV-2026-000005", "invoice", None, first.order_id),
        ("CN-2026-000002", "credit_note", first.id, other_order),
    ):
        session.add(
            Invoice(
                number=number,
                kind=kind,
                order_id=order_id,
                corrects_id=corrects,
                issued_at=datetime(2026, 3, 20, 12, 0, tzinfo=UTC),
                currency="EUR",
                net_total=Decimal("1.00"),
                tax_total=Decimal("0.00"),
                total=Decimal("1.00"),
                snapshot={"number": number},
            )
        )
    session.commit()
    page = client.get("/documents/audit?from=2026-03-01&to=2026-03-31").get_data(as_text=True)
    assert 'data-ok="false"' in page
    assert "Missing numbers in INV-2026-…: 3–4." in page
    assert "CN-2026-000002 and the invoice it corrects, INV-2026-000001, belong to different orders" in page
    assert "too long" in client.get("/documents/audit?from=2020-01-01&to=2026-03-31").get_data(as_text=True)
    assert "No invoices or credit notes" in client.get("/documents/audit?from=2026-05-01&to=2026-05-02").get_data(
        as_text=True
    )
