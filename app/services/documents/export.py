"""Bulk export of a period's invoices and credit notes: a ZIP of their PDFs plus a CSV
register (number, date, customer, net, tax, gross, currency, order).

Rendering is the slow part (WeasyPrint, ~0.1 s a page) and uses one core, so the
PDFs are rendered by a pool of worker processes (two by default: both cores of the
servers we run on) while this process reads the snapshots and writes the ZIP. A
long-lived WeasyPrint process grows by about 0.2 MB per document, so each worker is
replaced after `recycle_every` documents and memory stays flat however long the
period. Workers are spawned, not forked: the web process has threads and open
database connections that a fork would copy.

Everything printed comes from the stored snapshots; the register's amounts are the
stored totals (credit notes negative, so the column sums to what was invoiced net
of corrections).
"""

from __future__ import annotations

import csv
import io
import multiprocessing
import os
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from datetime import time as day_start
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select

from app.domain.enums import DocumentKind
from app.domain.errors import ValidationFailed
from app.extensions import db
from app.models import Invoice

MAX_DAYS = 366  # a (leap) year; longer periods are exported year by year
BATCH = 100  # snapshots read from the database at a time
INLINE_UP_TO = 8  # smaller exports render in this process: starting workers would cost more
CHUNK = 4  # documents handed to a worker at a time
REGISTER = "register.csv"
REGISTER_COLUMNS = ("number", "date", "customer", "net", "tax", "gross", "currency", "order", "kind", "corrects")

Progress = Callable[[int, int], None]  # (documents done, documents in total)


class NothingToExport(ValidationFailed):
    code = "nothing_to_export"


@dataclass(frozen=True)
class ExportResult:
    path: Path
    documents: int
    seconds: float
    processes: int
    workers_used: int  # distinct processes that rendered (more than `processes` when workers were recycled)


def check_period(date_from: date | None, date_to: date | None) -> None:
    if date_from is None or date_to is None:
        raise ValidationFailed(
            "Choose the first and the last day of the period.", details={"period": ["Both dates are required."]}
        )
    if date_to < date_from:
        raise ValidationFailed("The period ends before it starts.", details={"to": ["On or after the first day."]})
    days = (date_to - date_from).days + 1
    if days > MAX_DAYS:
        raise ValidationFailed(
            f"A period of {days} days is too long; export at most {MAX_DAYS} days at a time.",
            details={"period": [f"At most {MAX_DAYS} days."]},
        )


def bounds(date_from: date, date_to: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """[start, end) of the period, whose days are days in `tz`."""
    return (
        datetime.combine(date_from, day_start.min, tzinfo=tz),
        datetime.combine(date_to + timedelta(days=1), day_start.min, tzinfo=tz),
    )


def _tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def _in_period(date_from: date, date_to: date):
    start, end = bounds(date_from, date_to, _tz())
    return (Invoice.issued_at >= start, Invoice.issued_at < end)


def count_documents(date_from: date, date_to: date) -> int:
    check_period(date_from, date_to)
    return int(db.session.scalar(select(func.count(Invoice.id)).where(*_in_period(date_from, date_to))) or 0)


def nothing_to_export(date_from: date, date_to: date) -> NothingToExport:
    return NothingToExport(
        f"Nothing to export: no invoices or credit notes were issued from {date_from} to {date_to}.",
        details={"period": ["No documents in this period."]},
    )


# Rendering (runs in the worker processes) -------------------------------------------


def _warm_up() -> None:
    from app.services.documents import render

    render.stylesheet(True)


def render_one(item: tuple[str, dict]) -> tuple[str, bytes, int]:
    from app.services.documents import render

    name, snapshot = item
    return name, render.document_pdf(snapshot), os.getpid()


# Reading and writing (this process) -------------------------------------------------


def _register_row(doc: Invoice) -> list[str]:
    snap = doc.snapshot or {}
    sign = -1 if doc.kind == DocumentKind.CREDIT_NOTE else 1
    issued = snap.get("issue_date") or doc.issued_at.astimezone(_tz()).date().isoformat()
    return [
        doc.number,
        issued,
        (snap.get("buyer") or {}).get("name", ""),
        str(sign * doc.net_total),
        str(sign * doc.tax_total),
        str(sign * doc.total),
        doc.currency,
        snap.get("order") or "",
        doc.kind,
        snap.get("corrects") or "",
    ]


def _batches(date_from: date, date_to: date) -> Iterator[list[tuple[str, dict, list[str]]]]:
    """(file name, snapshot, register row) per document, BATCH at a time, in issue order."""
    ids = list(
        db.session.scalars(
            select(Invoice.id).where(*_in_period(date_from, date_to)).order_by(Invoice.issued_at, Invoice.id)
        )
    )
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        docs = db.session.scalars(select(Invoice).where(Invoice.id.in_(chunk)).order_by(Invoice.issued_at, Invoice.id))
        batch = [(f"{doc.number}.pdf", doc.snapshot, _register_row(doc)) for doc in docs]
        db.session.rollback()  # no read transaction held while the batch renders
        yield batch


def export_period(
    date_from: date,
    date_to: date,
    out: Path | str,
    *,
    processes: int | None = None,
    recycle_every: int | None = None,
    progress: Progress | None = None,
) -> ExportResult:
    """Write the period's documents to the ZIP at `out` (replaced atomically when complete).

    Raises NothingToExport for an empty period (no empty ZIP is written) and
    ValidationFailed for a period longer than MAX_DAYS."""
    started = time.perf_counter()
    total = count_documents(date_from, date_to)
    if total == 0:
        raise nothing_to_export(date_from, date_to)
    config = current_app.config
    processes = int(config.get("EXPORT_PROCESSES", 2) if processes is None else processes)
    recycle_every = int(recycle_every or config.get("EXPORT_RECYCLE_EVERY", 200))
    if total <= INLINE_UP_TO:
        processes = 0
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.{os.getpid()}.partial")
    register = io.StringIO()
    writer = csv.writer(register)
    writer.writerow(REGISTER_COLUMNS)
    done = 0
    pids: set[int] = set()
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
            pool = None
            if processes > 0:
                context = multiprocessing.get_context("spawn")
                pool = context.Pool(processes, initializer=_warm_up, maxtasksperchild=max(1, recycle_every // CHUNK))
            try:
                for batch in _batches(date_from, date_to):
                    items = [(name, snapshot) for name, snapshot, _ in batch]
                    results = pool.imap(render_one, items, chunksize=CHUNK) if pool else map(render_one, items)
                    for (name, pdf, pid), (_, _, row) in zip(results, batch, strict=True):
                        pids.add(pid)
                        archive.writestr(name, pdf)
                        writer.writerow(row)
                        done += 1
                        if progress:
                            progress(done, total)
            except BaseException:
                if pool is not None:
                    pool.terminate()
                raise
            if pool is not None:
                pool.close()
                pool.join()
            archive.writestr(REGISTER, register.getvalue())
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return ExportResult(
        path=out, documents=done, seconds=time.perf_counter() - started, processes=processes, workers_used=len(pids)
    )
