"""Reading an order CSV (DESIGN.md §6) as real shops export it.

UTF-8 with or without a byte-order mark (Windows-1252 as a fallback, which is what
Excel writes), `;` or `,` between fields, quoted or bare fields, Windows or Unix line
endings, and — in `;` files, as European spreadsheets write them — a decimal comma
in money ("12,50", "1.234,50"). Columns are found by their header name, in any order.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass

COLUMNS = (
    "external_id", "placed_at", "customer_name", "customer_email", "ship_name", "line1", "line2", "city",
    "region", "postcode", "country", "sku", "qty", "unit_price", "shipping_price", "currency", "paid_amount",
)
OPTIONAL = frozenset({"line2", "region", "shipping_price", "currency", "paid_amount"})
LINE_COLUMNS = ("sku", "qty", "unit_price")
ORDER_COLUMNS = tuple(c for c in COLUMNS if c not in LINE_COLUMNS and c != "external_id")
MONEY_COLUMNS = frozenset({"unit_price", "shipping_price", "paid_amount"})
INDEX = {name: i for i, name in enumerate(COLUMNS)}

DELIMITERS = (";", ",")
SNIFF_BYTES = 64 * 1024

# 1.234,50 or 12,50 — the European way of writing an amount.
_DECIMAL_COMMA = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+),\d+$")


class CsvFileError(Exception):
    """The file as a whole cannot be read as an order CSV."""


@dataclass(frozen=True, slots=True)
class CsvRow:
    line: int  # where the record starts; the header is line 1
    values: tuple[str, ...]  # in COLUMNS order, stripped; "" when empty or absent

    def __getitem__(self, column: str) -> str:
        return self.values[INDEX[column]]


@dataclass
class CsvContent:
    rows: list[CsvRow]
    delimiter: str
    warnings: list[str]
    problems: list[tuple[int, str]]  # (line, message) for records that are not rows at all


def decode(data: bytes) -> tuple[str, list[str]]:
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
        return text, ["The file is not UTF-8; it was read as Windows-1252 (Excel’s default). "
                      "Check that accented names look right."]


def _known_columns(header_line: str, delimiter: str) -> int:
    names = {cell.strip().strip('"').strip().lower() for cell in header_line.split(delimiter)}
    return len(names & INDEX.keys())


def detect_delimiter(text: str) -> str:
    """`;` or `,`: what csv.Sniffer says, unless the header line disagrees (it names our
    columns, so it is the better witness); `,` when neither can tell."""
    header_line = text.split("\n", 1)[0]
    sample = text[:SNIFF_BYTES]
    if len(text) > SNIFF_BYTES and "\n" in sample:
        sample = sample[: sample.rfind("\n")]  # whole lines only, or the sniffer guesses from a fragment
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        sniffed = None
    counts = {d: _known_columns(header_line, d) for d in DELIMITERS}
    if sniffed in counts and counts[sniffed] >= max(counts.values()):
        return sniffed
    return max(DELIMITERS, key=lambda d: (counts[d], d == ","))


def normalise_money(value: str, delimiter: str) -> str:
    if delimiter == ";" and _DECIMAL_COMMA.match(value):
        return value.replace(".", "").replace(",", ".")
    return value


def read(data: bytes) -> CsvContent:
    """Every data row of the file, with its line number; raises CsvFileError when the
    file has no usable header."""
    text, warnings = decode(data)
    if not text.strip():
        raise CsvFileError("The file is empty.")
    delimiter = detect_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', doublequote=True,
                        skipinitialspace=True, strict=False)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise CsvFileError(f"The header row cannot be read: {exc}.") from exc
    positions = _header_positions(header, warnings)
    rows, problems = [], []
    # Order-level values repeat on every row of an order: keep one copy of each (a
    # 100,000-row file then takes about half the memory).
    shared: dict[str, str] = {}
    has_nul = "\x00" in text  # PostgreSQL cannot store NUL in text; SQLite would keep it silently
    for line, record in _records(reader):
        if not any(cell.strip() for cell in record):
            continue  # blank lines and spreadsheets' trailing ";;;;" rows
        if has_nul and any("\x00" in cell for cell in record):
            problems.append((line, "The row holds a NUL character (a binary or damaged export); no field may "
                                   "hold one. Export the file again as plain CSV text."))
            continue
        if any(cell.strip() for cell in record[len(header):]):
            problems.append((line, f"The row has {len(record)} fields but the header has {len(header)}; "
                                   "check the quoting of fields that contain the delimiter."))
            continue
        values = []
        for name in COLUMNS:
            pos = positions.get(name)
            value = record[pos].strip() if pos is not None and pos < len(record) else ""
            if name in MONEY_COLUMNS:
                value = normalise_money(value, delimiter)
            values.append(shared.setdefault(value, value))
        rows.append(CsvRow(line, tuple(values)))
    if not rows and not problems:
        raise CsvFileError("The file has a header but no order rows.")
    return CsvContent(rows=rows, delimiter=delimiter, warnings=warnings, problems=problems)


def _header_positions(header: list[str], warnings: list[str]) -> dict[str, int]:
    names = [cell.strip().lower() for cell in header]
    seen: dict[str, int] = {}
    duplicated = sorted({n for n in names if names.count(n) > 1 and n})
    if duplicated:
        raise CsvFileError(f"The header names {', '.join(duplicated)} more than once.")
    for i, name in enumerate(names):
        if name in INDEX:
            seen[name] = i
    missing = [c for c in COLUMNS if c not in seen and c not in OPTIONAL]
    if missing:
        found = ", ".join(n for n in names if n) or "nothing"
        raise CsvFileError(f"The header row lacks the column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                           f"(it has: {found}). The first row of the file must name the columns.")
    ignored = [header[i].strip() for i, n in enumerate(names) if n and n not in INDEX]
    if ignored:
        warnings.append(f"Columns ignored (not part of the order CSV format): {', '.join(ignored)}.")
    return seen


def _records(reader) -> Iterator[tuple[int, list[str]]]:
    while True:
        line = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise CsvFileError(f"Line {line} cannot be read: {exc}.") from exc
        yield line, record
