"""Auditing the invoice and credit-note series of a period.

What an auditor asks: is every number of each series and year used exactly once, with
no gaps; were the numbers issued in date order; does every credit note correct an
existing invoice of the same order and currency, and do an invoice's credit notes
never add up to more than the invoice? Each finding names the documents involved.
Read-only.
"""

from __future__ import annotations

import re
from collections import Counter as Tally
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import pairwise
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from app.domain.enums import DocumentKind
from app.domain.numbering import DOCUMENT_PREFIXES
from app.extensions import db
from app.models import Counter, Invoice
from app.services.documents.export import bounds, check_period

NUMBER = re.compile(r"^(?P<prefix>[A-Z]+)-(?P<year>\d{4})-(?P<seq>\d{6,})$")
MAX_LISTED = 50  # missing numbers listed one by one before "… and N more"


@dataclass
class Anomaly:
    kind: str  # gap, duplicate, malformed, out_of_order, unused_numbers, credit_note
    message: str


@dataclass
class SeriesYear:
    kind: str
    year: int
    count: int = 0  # documents of the series issued in the period
    first: str | None = None
    last: str | None = None
    anomalies: list[Anomaly] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.anomalies

    @property
    def label(self) -> str:
        return f"{DOCUMENT_PREFIXES[self.kind]}-{self.year}"


@dataclass
class SeriesReport:
    date_from: date
    date_to: date
    series: list[SeriesYear]
    credit_notes_checked: int
    credit_anomalies: list[Anomaly]

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.series) and not self.credit_anomalies

    @property
    def anomaly_count(self) -> int:
        return sum(len(s.anomalies) for s in self.series) + len(self.credit_anomalies)


def missing_numbers(seqs: list[int]) -> list[int]:
    """Sequence numbers absent between 1 and the highest one used."""
    used = set(seqs)
    return [n for n in range(1, max(used, default=0) + 1) if n not in used]


def _compress(numbers: list[int]) -> str:
    """[3, 4, 5, 9] -> "3–5, 9"."""
    parts, start = [], None
    for i, n in enumerate(numbers):
        start = n if start is None else start
        if i + 1 == len(numbers) or numbers[i + 1] != n + 1:
            parts.append(str(start) if start == n else f"{start}–{n}")
            start = None
    shown = parts[:MAX_LISTED]
    more = len(parts) - len(shown)
    return ", ".join(shown) + (f" and {more} more range(s)" if more else "")


def audit(date_from: date, date_to: date) -> SeriesReport:
    check_period(date_from, date_to)
    tz = ZoneInfo(current_app.config["TIMEZONE"])
    start, end = bounds(date_from, date_to, tz)
    in_period = list(
        db.session.execute(
            select(Invoice.id, Invoice.number, Invoice.kind, Invoice.issued_at)
            .where(Invoice.issued_at >= start, Invoice.issued_at < end)
            .order_by(Invoice.issued_at, Invoice.id)
        )
    )
    series: dict[tuple[str, int], SeriesYear] = {}
    for _, number, kind, issued_at in in_period:
        match = NUMBER.match(number)
        year = int(match["year"]) if match else issued_at.astimezone(tz).year
        entry = series.setdefault((kind, year), SeriesYear(kind=kind, year=year))
        entry.count += 1
        entry.first = entry.first or number
        entry.last = number
    for (kind, year), entry in sorted(series.items()):
        _check_series(entry, kind, year, tz)
    checked, credit_anomalies = _check_credit_notes(start, end)
    return SeriesReport(
        date_from=date_from,
        date_to=date_to,
        series=sorted(series.values(), key=lambda s: (s.kind != DocumentKind.INVOICE, s.year)),
        credit_notes_checked=checked,
        credit_anomalies=credit_anomalies,
    )


def _check_series(entry: SeriesYear, kind: str, year: int, tz) -> None:
    """The whole series of that year up to the period's last number: gaps anywhere before
    it make the period's numbering incomplete too."""
    prefix = f"{DOCUMENT_PREFIXES[kind]}-{year}-"
    rows = list(
        db.session.execute(
            select(Invoice.number, Invoice.issued_at, Invoice.kind).where(Invoice.number.like(f"{prefix}%"))
        )
    )
    seqs, dated = [], []
    for number, issued_at, row_kind in rows:
        match = NUMBER.match(number)
        if not match or row_kind != kind:
            entry.anomalies.append(
                Anomaly("malformed", f"{number} does not belong to the {prefix}… series (kind {row_kind}).")
            )
            continue
        seqs.append(int(match["seq"]))
        dated.append((int(match["seq"]), issued_at, number))
    last_in_period = int(NUMBER.match(entry.last)["seq"]) if entry.last and NUMBER.match(entry.last) else 0
    for seq, times in Tally(seqs).items():
        if times > 1:
            entry.anomalies.append(Anomaly("duplicate", f"{prefix}{seq:06d} is used {times} times."))
    gaps = [n for n in missing_numbers([s for s in seqs if s <= last_in_period])]
    if gaps:
        entry.anomalies.append(Anomaly("gap", f"Missing numbers in {prefix}…: {_compress(gaps)}."))
    dated.sort()
    for (_, earlier_time, earlier), (_, later_time, later) in pairwise(dated):
        if later_time < earlier_time:
            entry.anomalies.append(Anomaly("out_of_order", f"{later} is dated before {earlier}."))
    counter = db.session.scalar(select(Counter.value).where(Counter.name == f"{kind}:{year}"))
    highest = max(seqs, default=0)
    if counter is not None and counter > highest:
        entry.anomalies.append(
            Anomaly(
                "unused_numbers",
                f"The {prefix}… counter stands at {counter} but the highest number issued is {highest}.",
            )
        )


def _check_credit_notes(start, end) -> tuple[int, list[Anomaly]]:
    corrected = aliased(Invoice)
    rows = list(
        db.session.execute(
            select(Invoice, corrected)
            .outerjoin(corrected, corrected.id == Invoice.corrects_id)
            .where(Invoice.kind == DocumentKind.CREDIT_NOTE, Invoice.issued_at >= start, Invoice.issued_at < end)
            .order_by(Invoice.issued_at, Invoice.id)
        )
    )
    anomalies = []
    invoices = {}
    for note, invoice in rows:
        if invoice is None:
            anomalies.append(Anomaly("credit_note", f"{note.number} does not point at an invoice."))
            continue
        if invoice.kind != DocumentKind.INVOICE:
            anomalies.append(
                Anomaly("credit_note", f"{note.number} corrects {invoice.number}, which is not an invoice.")
            )
        if invoice.order_id != note.order_id:
            anomalies.append(
                Anomaly(
                    "credit_note",
                    f"{note.number} and the invoice it corrects, {invoice.number}, belong to different orders.",
                )
            )
        if invoice.currency != note.currency:
            anomalies.append(
                Anomaly(
                    "credit_note", f"{note.number} is in {note.currency} but {invoice.number} is in {invoice.currency}."
                )
            )
        if note.issued_at < invoice.issued_at:
            anomalies.append(
                Anomaly("credit_note", f"{note.number} is dated before the invoice it corrects, {invoice.number}.")
            )
        invoices[invoice.id] = invoice
    for invoice in invoices.values():
        credited = db.session.scalar(select(func.sum(Invoice.total)).where(Invoice.corrects_id == invoice.id))
        if Decimal(credited or 0) > invoice.total:
            anomalies.append(
                Anomaly(
                    "credit_note",
                    f"Credit notes for {invoice.number} add up to {credited}, more than its {invoice.total}.",
                )
            )
    return len(rows), anomalies
