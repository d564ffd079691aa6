"""Importing orders from a CSV file (DESIGN.md §6 "Order CSV").

    summary = import_orders(data, "web", actor=actor, dry_run=True)

Validates everything first (the API's schema, then the catalog and the orders already
received), then — unless it is a dry run — creates the new orders in ONE transaction:
all of them, or with skip_invalid=True the valid ones, never a part of a file. Each
created order is what create_order() would have made of the same body (numbering,
totals, customer, payment, review, allocation, holds, SLA clocks, audit events), but
the file is written with bulk inserts instead of a flush per order.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Location
from app.models.base import utcnow
from app.services import allocation
from app.services.actors import Actor
from app.services.audit import record_event
from app.services.clocks import policy_of
from app.services.order_import import checks, csvfile, writer
from app.services.order_import.assemble import Draft, assemble
from app.services.order_import.plan import IntakeContext, StockBook, plan_order
from app.services.order_import.summary import ImportSummary, OrderNote, RowError
from app.services.tx import begin_write

__all__ = ["ImportSummary", "OrderNote", "Progress", "RowError", "import_orders"]

WRITE_CHUNK = 2000  # orders per round of INSERTs (and per progress report while writing)

# progress(stage, processed_rows, total_rows); stage is "validating" or "importing".
Progress = Callable[[str, int, int], None]


def import_orders(data: bytes, channel: str, *, actor: Actor, filename: str = "", dry_run: bool = False,
                  skip_invalid: bool = False, now: datetime | None = None, progress: Progress | None = None,
                  reference: str | None = None) -> ImportSummary:
    """Check (and unless dry_run, import) an order CSV for sales channel `channel`.

    Never raises for bad content: every problem is in the summary, with its line and
    column. `reference` names the import in the audit log (the job token, or the file)."""
    started = time.perf_counter()
    now = now or utcnow()
    summary = ImportSummary(channel=channel, filename=filename, dry_run=dry_run, skip_invalid=skip_invalid)
    report = progress or (lambda stage, done, total: None)
    try:
        content = csvfile.read(data)
    except csvfile.CsvFileError as exc:
        summary.errors.append(RowError(None, None, str(exc)))
        return _finish(summary, started)
    summary.total_rows = len(content.rows) + len(content.problems)
    summary.warnings.extend(content.warnings)
    summary.errors.extend(RowError(line, None, message) for line, message in content.problems)
    summary.rejected_rows = len(content.problems)
    total = summary.total_rows
    report("validating", 0, total)
    drafts = assemble(content.rows, channel, timezone=current_app.config["TIMEZONE"],
                      progress=lambda done: report("validating", done, total))
    del content  # the drafts keep what is still needed; the raw rows can go

    if dry_run:
        _check(drafts, channel, summary, now=now)
        db.session.rollback()  # end the read transaction; nothing was written
        return _finish(summary, started)

    begin_write()
    try:
        checked = _check(drafts, channel, summary, now=now)
        if checked is None or summary.blocked or not checked.accepted:
            db.session.rollback()
            return _finish(summary, started)
        report("importing", 0, total)
        _create(checked, summary, actor=actor, now=now, report=report, total=total)
        record_event("order_import", (reference or filename or "csv")[:64], "orders_imported", actor=actor, at=now,
                     details={"channel": channel, "filename": filename, "created": summary.orders,
                              "duplicates": summary.duplicates, "rejected_rows": summary.rejected_rows})
        db.session.commit()
    except IntegrityError:
        # A concurrent intake created one of these orders after the checks (PostgreSQL);
        # the whole file is rolled back, and a second run skips what now exists.
        db.session.rollback()
        summary.errors.append(RowError(None, None, "Another intake created some of these orders while the "
                                                   "import ran; nothing was imported. Run the import again."))
        summary.created, summary.orders, summary.lines = [], 0, 0
        return _finish(summary, started)
    except BaseException:
        db.session.rollback()
        raise
    summary.imported = True
    report("importing", total, total)
    return _finish(summary, started)


def _finish(summary: ImportSummary, started: float) -> ImportSummary:
    summary.seconds = round(time.perf_counter() - started, 3)
    return summary


def _check(drafts: list[Draft], channel_code: str, summary: ImportSummary, *,
           now: datetime) -> checks.Checked | None:
    channel = checks.find_channel(channel_code)
    if channel is None:
        summary.errors.append(RowError(None, None, f"There is no active sales channel “{channel_code}”."))
        return None
    checked = checks.check(drafts, channel, now=now)
    for draft in checked.rejected:
        summary.errors.extend(draft.errors)
    summary.errors.sort(key=lambda e: (e.line or 0,))
    summary.rejected_orders = len(checked.rejected)
    summary.rejected_rows += sum(len(d.lines) for d in checked.rejected)
    summary.duplicates = len(checked.duplicates)
    summary.skipped = [OrderNote(dup.draft.external_id, len(dup.draft.body["lines"]), "", _currency(dup.draft.body),
                                 number=dup.number) for dup in checked.duplicates]
    summary.orders = len(checked.accepted)
    summary.lines = sum(len(a.body["lines"]) for a in checked.accepted)
    if summary.dry_run:
        summary.created = [
            OrderNote(a.draft.external_id, len(a.body["lines"]), str(a.totals.total), _currency(a.body))
            for a in checked.accepted
        ]
    return checked


def _currency(body: dict) -> str:
    return (body.get("currency") or current_app.config["DEFAULT_CURRENCY"]).upper()


def _create(checked: checks.Checked, summary: ImportSummary, *, actor: Actor, now: datetime, report: Progress,
            total: int) -> None:
    accepted = checked.accepted
    wall_clock = utcnow()
    people: dict[str, str] = {}
    for a in accepted:  # the first order of a new customer names them, as one-by-one intake would
        people.setdefault(a.body["customer"]["email"].strip().lower(), a.body["customer"]["name"].strip())
    customer_ids = writer.upsert_customers(people, now=wall_clock)
    numbers = writer.reserve_order_numbers(len(accepted))
    stock = StockBook(allocation.lock_levels({checked.products[line["sku"]].id
                                              for a in accepted for line in a.body["lines"]}))
    first_location = db.session.scalar(
        select(Location).where(Location.active.is_(True)).order_by(Location.priority, Location.code).limit(1))
    ctx = IntakeContext(channel=checked.channel, policy=policy_of(checked.channel), products=checked.products,
                        stock=stock, first_location=first_location, actor=actor, now=now,
                        default_currency=current_app.config["DEFAULT_CURRENCY"])
    done_rows = summary.rejected_rows + sum(len(d.draft.lines) for d in checked.duplicates)
    created = []
    for start in range(0, len(accepted), WRITE_CHUNK):
        chunk = accepted[start:start + WRITE_CHUNK]
        planned = [
            plan_order(a, numbers[start + i], customer_ids[a.body["customer"]["email"].strip().lower()], ctx,
                       wall_clock=wall_clock)
            for i, a in enumerate(chunk)
        ]
        writer.write(planned)
        for a, p in zip(chunk, planned, strict=True):
            order = p.order
            created.append(OrderNote(a.draft.external_id, len(p.lines), str(order["total"]), order["currency"],
                                     number=order["number"], status=str(order["status"]),
                                     hold_reason=str(order["hold_reason"]) if order["hold_reason"] else None))
        done_rows += sum(len(a.draft.lines) for a in chunk)
        report("importing", done_rows, total)
    stock.write_back()
    summary.created = created

