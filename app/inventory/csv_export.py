"""The stock grid as CSV: one line per level, written as the rows arrive."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from app.services.queries.inventory import LevelRow

CHUNK = 16 * 1024  # bytes sent at a time
COLUMNS = ("sku", "name", "location", "bin", "on_hand", "reserved", "available", "reorder_point")


def _cell(text: str) -> str:
    # A product name starting with = + - @ would run as a formula when the file is opened
    # in a spreadsheet; a leading apostrophe keeps it text.
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text


def stock_csv(rows: Iterable[LevelRow]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(COLUMNS)
    yield flush()
    for row in rows:
        level = row.level
        writer.writerow([level.product.sku, _cell(level.product.name), level.location.code, _cell(level.bin or ""),
                         level.on_hand, level.reserved, row.available, row.reorder_point])
        if buffer.tell() >= CHUNK:
            yield flush()
    yield flush()
