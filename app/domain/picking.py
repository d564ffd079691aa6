"""Picking and packing rules (DESIGN.md §5): which order is picked first, how a pick
list reads, which orders may share a parcel, and where a scanned unit goes.

Pure: the services hand in plain values and get decisions back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from app.domain.errors import Conflict, ValidationFailed

# Pick priority -------------------------------------------------------------------

# An order without a dispatch deadline (not paid yet when it was released by hand, say)
# waits behind every order that has one.
NO_DEADLINE = datetime(9999, 12, 31, tzinfo=UTC)


@dataclass(frozen=True)
class QueueEntry:
    number: str
    ship_by: datetime | None
    placed_at: datetime
    line_count: int
    id: int = 0  # the last tie-breaker: the order that arrived first in the database


def pick_priority(entry: QueueEntry) -> tuple:
    """Earliest dispatch deadline first, then the order placed first, then single-line
    orders before multi-line ones (one trip to one bin finishes an order)."""
    return (entry.ship_by or NO_DEADLINE, entry.placed_at, 0 if entry.line_count <= 1 else 1, entry.id)


def in_pick_order(entries: Iterable[QueueEntry]) -> list[QueueEntry]:
    return sorted(entries, key=pick_priority)


def next_by_priority(entries: Iterable[QueueEntry], n: int) -> list[QueueEntry]:
    if n < 1:
        raise ValidationFailed(
            "Choose how many orders the wave should take (at least 1).", details={"count": ["At least 1."]}
        )
    return in_pick_order(entries)[:n]


# Pick lists ----------------------------------------------------------------------


@dataclass(frozen=True)
class PickItem:
    """Units of one SKU that one order needs from one bin."""

    order_number: str
    sku: str
    name: str
    bin: str
    qty: int


@dataclass(frozen=True)
class PickRow:
    bin: str
    sku: str
    name: str
    qty: int
    orders: tuple[tuple[str, int], ...]  # (order number, units for it), in order-number order


def bin_key(bin_code: str) -> tuple:
    """Natural order of shelf positions: A-2 before A-10; items without a bin come last."""
    if not bin_code:
        return (1, ())
    parts = re.split(r"(\d+)", bin_code.upper())
    return (0, tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts if p))


def pick_list(items: Iterable[PickItem]) -> list[PickRow]:
    """One row per SKU and bin, summing what every order needs, in walking order (by bin)."""
    grouped: dict[tuple[str, str], dict] = {}
    for item in items:
        row = grouped.setdefault((item.bin, item.sku), {"name": item.name, "orders": {}})
        row["orders"][item.order_number] = row["orders"].get(item.order_number, 0) + item.qty
    rows = [
        PickRow(
            bin=bin_code,
            sku=sku,
            name=row["name"],
            qty=sum(row["orders"].values()),
            orders=tuple(sorted(row["orders"].items())),
        )
        for (bin_code, sku), row in grouped.items()
    ]
    return sorted(rows, key=lambda r: (bin_key(r.bin), r.sku))


# Combined parcels ----------------------------------------------------------------


@dataclass(frozen=True)
class ParcelCandidate:
    """A ready order at one location, with who and where it goes to."""

    number: str
    customer_id: int
    address: tuple[str, ...]  # name, line1, line2, postcode, city, country, as on the order


def _same_address_key(address: Sequence[str | None]) -> tuple[str, ...]:
    # Case, spaces and punctuation differences are typing, not another address.
    return tuple(re.sub(r"[\W_]+", "", (part or "").casefold()) for part in address)


def combinable_parcels(candidates: Iterable[ParcelCandidate]) -> list[tuple[str, ...]]:
    """Groups of two or more orders of one customer to one address: one parcel could carry
    them all. Each group lists its order numbers sorted; groups are sorted by first number."""
    groups: dict[tuple, set[str]] = {}
    for c in candidates:
        groups.setdefault((c.customer_id, _same_address_key(c.address)), set()).add(c.number)
    return sorted(tuple(sorted(numbers)) for numbers in groups.values() if len(numbers) > 1)


# Packing -------------------------------------------------------------------------


@dataclass(frozen=True)
class PackLine:
    """One line of a parcel being packed, as the scanner sees it."""

    sku: str
    barcode: str | None
    qty: int
    qty_packed: int


class WrongItem(ValidationFailed):
    code = "wrong_item"


class TooMany(Conflict):
    code = "too_many"


def matches_code(line: PackLine, code: str) -> bool:
    code = code.strip()
    return bool(code) and (line.sku.casefold() == code.casefold() or (line.barcode or "") == code)


def place_scan(lines: Sequence[PackLine], code: str) -> int:
    """Index of the line a scanned SKU or barcode counts towards: the first matching line
    that still needs units. Refuses a unit that is not in the parcel, or one too many."""
    code = (code or "").strip()
    if not code:
        raise WrongItem("Scan a barcode or type a SKU, then press Enter.", details={"code": ["Required."]})
    matching = [i for i, line in enumerate(lines) if matches_code(line, code)]
    if not matching:
        raise WrongItem(
            f"“{code}” is not in this parcel. Put it aside and check the pick.",
            details={"code": [f"{code} is not in this parcel."]},
        )
    for i in matching:
        if lines[i].qty_packed < lines[i].qty:
            return i
    wanted = sum(lines[i].qty for i in matching)
    sku = lines[matching[0]].sku
    raise TooMany(
        f"Too many {sku}: the parcel needs {wanted} and all {wanted} are already packed. Take this one out.",
        details={"code": [f"{sku} is complete ({wanted} of {wanted})."]},
    )


def fully_packed(lines: Iterable[PackLine]) -> bool:
    return all(line.qty_packed >= line.qty for line in lines)
