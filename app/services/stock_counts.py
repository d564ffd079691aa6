"""Stock counts from a CSV file: read it, plan the corrections, book them all at once.

A count says what is on the shelf, so each row becomes an adjustment of
counted − on_hand with reason "count". parse() and plan() write nothing: the same
code shows the dry run and checks the file again when it is confirmed. apply()
books every correction in one transaction — or nothing at all when a row is bad,
unless the user chose to skip the bad rows.

The file: a header row naming `sku`, `location` and `counted` (any order, other
columns ignored), separated by `,` or `;`, UTF-8 with or without a BOM (Windows-1252
from older spreadsheets is read too), LF or CRLF line ends.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from app.domain.enums import MoveKind
from app.domain.errors import ValidationFailed
from app.extensions import db
from app.models import Allocation, Location, Order, Product, StockLevel
from app.models.base import utcnow
from app.services import inventory, review
from app.services.actors import Actor
from app.services.allocation import MOVABLE_STATUSES
from app.services.audit import record_event
from app.services.tx import begin_write

COLUMNS = ("sku", "location", "counted")
MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5_000
MAX_COUNT = 10_000_000  # far above any shelf; stops a typo from overflowing on_hand
_WHOLE = re.compile(r"[+-]?\d+")


class BadCountRows(ValidationFailed):
    """Some rows cannot be booked and the user did not choose to skip them."""

    def __init__(self, plan: CountPlan) -> None:
        bad = len(plan.bad)
        super().__init__(
            f"{bad} row{'s' if bad != 1 else ''} of the file cannot be booked, so nothing was imported. "
            "Correct the file, or tick “Skip bad rows” to import the others.",
            details={"rows": {str(p.row.line): p.problem for p in plan.bad}},
        )
        self.plan = plan


@dataclass(frozen=True)
class CountRow:
    line: int  # line of the file, the header being line 1
    sku: str
    location: str
    counted_text: str


@dataclass(frozen=True)
class PlannedCount:
    row: CountRow
    on_hand: int = 0
    counted: int | None = None
    problem: str | None = None
    product: Product | None = None
    location: Location | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def delta(self) -> int:
        return (self.counted - self.on_hand) if self.ok and self.counted is not None else 0


@dataclass(frozen=True)
class CountPlan:
    rows: list[PlannedCount]

    @property
    def adjustments(self) -> list[PlannedCount]:
        return [p for p in self.rows if p.ok and p.delta != 0]

    @property
    def unchanged(self) -> list[PlannedCount]:
        return [p for p in self.rows if p.ok and p.delta == 0]

    @property
    def bad(self) -> list[PlannedCount]:
        return [p for p in self.rows if not p.ok]

    @property
    def units_added(self) -> int:
        return sum(p.delta for p in self.adjustments if p.delta > 0)

    @property
    def units_removed(self) -> int:
        return -sum(p.delta for p in self.adjustments if p.delta < 0)


@dataclass(frozen=True)
class CountResult:
    reference: str  # on every ledger move of the import
    plan: CountPlan
    skipped: list[PlannedCount] = field(default_factory=list)


# Reading the file -----------------------------------------------------------------


NUL = "\x00"


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Spreadsheets on Windows still save "CSV" as Windows-1252.
        return data.decode("cp1252", errors="replace")


def _file_error(message: str) -> ValidationFailed:
    return ValidationFailed(message, details={"file": [message]})


def parse(data: bytes) -> list[CountRow]:
    """The rows of a count file. Raises ValidationFailed when the file as a whole is
    unusable (empty, too big, header missing a column); bad values are left for plan()."""
    if len(data) > MAX_BYTES:
        raise _file_error(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB; split it into smaller files.")
    text = _text(data)
    if not text.strip():
        raise _file_error("The file is empty.")
    first_line = next(line for line in text.splitlines() if line.strip())
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [name.strip().lower() for name in next(row for row in reader if any(cell.strip() for cell in row))]
    missing = [name for name in COLUMNS if name not in header]
    if missing:
        raise _file_error(
            f"The first row must name the columns sku, location and counted; missing: {', '.join(missing)}."
        )
    repeated = sorted({name for name in COLUMNS if header.count(name) > 1})
    if repeated:
        raise _file_error(f"The header names {', '.join(repeated)} more than once.")
    index = {name: header.index(name) for name in COLUMNS}
    rows = []
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        value = {name: (cells[i].strip() if i < len(cells) else "") for name, i in index.items()}
        rows.append(CountRow(reader.line_num, value["sku"], value["location"], value["counted"]))
        if len(rows) > MAX_ROWS:
            raise _file_error(f"The file has more than {MAX_ROWS} counts; split it into smaller files.")
    if not rows:
        raise _file_error("The file has a header but no counts.")
    return rows


# Checking it against the books ------------------------------------------------------


@dataclass
class _Books:
    products: dict[str, Product]
    locations: dict[str, Location]
    levels: dict[tuple[int, int], StockLevel]
    packed: dict[tuple[int, int], int]  # units that may not move: packed or partly shipped orders


def _books(rows: list[CountRow], *, lock: bool) -> _Books:
    # A NUL cannot be looked up on PostgreSQL (it cannot be in text); such rows are bad rows.
    skus = {r.sku for r in rows if r.sku and NUL not in r.sku}
    codes = {r.location for r in rows if r.location and NUL not in r.location}
    products = {p.sku: p for p in db.session.scalars(select(Product).where(Product.sku.in_(skus)))} if skus else {}
    locations = (
        {loc.code: loc for loc in db.session.scalars(select(Location).where(Location.code.in_(codes)))}
        if codes else {}
    )
    product_ids = [p.id for p in products.values()]
    location_ids = [loc.id for loc in locations.values()]
    if not product_ids or not location_ids:
        return _Books(products, locations, {}, {})
    same_levels = (StockLevel.product_id.in_(product_ids), StockLevel.location_id.in_(location_ids))
    # Locked in (product_id, location_id) order, as every allocator locks them.
    stmt = select(StockLevel).where(*same_levels).order_by(StockLevel.product_id, StockLevel.location_id)
    if lock:
        stmt = stmt.with_for_update(of=StockLevel)
    levels = {(lv.product_id, lv.location_id): lv for lv in db.session.scalars(stmt)}
    packed = {
        (p, loc): int(qty)
        for p, loc, qty in db.session.execute(
            select(Allocation.product_id, Allocation.location_id, func.sum(Allocation.qty))
            .join(Order, Order.id == Allocation.order_id)
            .where(Allocation.product_id.in_(product_ids), Allocation.location_id.in_(location_ids),
                   Order.status.not_in(MOVABLE_STATUSES))
            .group_by(Allocation.product_id, Allocation.location_id)
        )
    }
    return _Books(products, locations, levels, packed)


def _problem_with_values(row: CountRow, books: _Books) -> str | None:
    if any(NUL in value for value in (row.sku, row.location, row.counted_text)):
        return "The row holds a NUL character (a binary or damaged file); export the counts again as CSV text."
    if not row.sku:
        return "No SKU given."
    if not row.location:
        return "No location given."
    if row.sku not in books.products:
        return f"Unknown SKU {row.sku}."
    if row.location not in books.locations:
        return f"Unknown location {row.location}."
    if not row.counted_text:
        return "No count given."
    if not _WHOLE.fullmatch(row.counted_text):
        return f"“{row.counted_text}” is not a whole number."
    if int(row.counted_text) < 0:
        return f"A count cannot be negative ({row.counted_text})."
    if int(row.counted_text) > MAX_COUNT:
        return f"{row.counted_text} is more than a count can be ({MAX_COUNT:,})."
    return None


def _plan(rows: list[CountRow], books: _Books) -> CountPlan:
    lines_of: dict[tuple[str, str], list[int]] = defaultdict(list)
    for row in rows:
        if row.sku and row.location:
            lines_of[(row.sku, row.location)].append(row.line)
    planned = []
    for row in rows:
        problem = _problem_with_values(row, books)
        if problem:
            planned.append(PlannedCount(row, problem=problem))
            continue
        product, location = books.products[row.sku], books.locations[row.location]
        key = (product.id, location.id)
        level = books.levels.get(key)
        on_hand, counted = (level.on_hand if level else 0), int(row.counted_text)
        repeated = lines_of[(row.sku, row.location)]
        if len(repeated) > 1:
            problem = f"{row.sku} at {row.location} is counted more than once (lines {', '.join(map(str, repeated))})."
        elif counted < books.packed.get(key, 0):
            problem = (f"{books.packed[key]} units are packed or shipping here; "
                       f"the count cannot be lower than that.")
        planned.append(PlannedCount(row, on_hand, counted, problem, product, location))
    return CountPlan(planned)


def plan(rows: list[CountRow]) -> CountPlan:
    """What importing these counts would do now. Reads, writes nothing."""
    return _plan(rows, _books(rows, lock=False))


def preview(data: bytes) -> CountPlan:
    """The dry run of a file: parse() then plan()."""
    return plan(parse(data))


# Booking it ---------------------------------------------------------------------------


def apply(data: bytes, *, actor: Actor, skip_bad: bool = False, source: str = "",
          now: datetime | None = None) -> CountResult:
    """Book every count of the file in one transaction.

    The file is checked again against stock as it is now (with the levels locked), so
    what is booked is counted − on_hand at this moment. Any bad row stops the whole
    import (BadCountRows) unless `skip_bad`; then only the good rows are booked."""
    now = now or utcnow()
    rows = parse(data)
    begin_write()
    books = _books(rows, lock=True)
    counted = _plan(rows, books)
    if counted.bad and not skip_bad:
        db.session.rollback()
        raise BadCountRows(counted)
    reference = f"COUNT-{now:%Y%m%d-%H%M%S}"
    losers = []
    for row in sorted(counted.adjustments, key=lambda p: (p.product.id, p.location.id)):
        level = books.levels.get((row.product.id, row.location.id)) or inventory.lock_level(
            row.product, row.location, create=True
        )
        losers.append((inventory.make_room(level, row.counted, actor=actor), level))
        inventory.add_move(level, row.delta, MoveKind.ADJUSTMENT, actor=actor, at=now, reference=reference,
                           reason=f"count: counted {row.counted}, was {row.on_hand}")
    # Every level has its new on_hand before any order that lost stock looks for more.
    for affected, level in losers:
        inventory.reallocate(affected, level, actor=actor, at=now)
    review.retry_stock_holds({row.product.id for row in counted.adjustments}, actor=actor, at=now)
    record_event("stock_count", reference, "stock_count_imported", actor=actor, at=now, details={
        "source": source[:200] or None,
        "adjusted": len(counted.adjustments),
        "unchanged": len(counted.unchanged),
        "skipped_lines": [p.row.line for p in counted.bad],
    })
    db.session.commit()
    return CountResult(reference, counted, skipped=counted.bad)
