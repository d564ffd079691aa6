"""Checking the books: every level against its ledger, every reservation against live allocations.

Read-only. Each drift found is reported with what the level says and what the
ledger (or the allocations) say, so a person can see where it went wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from app.extensions import db
from app.models import Allocation, Location, OrderLine, Product, StockLevel, StockMove


@dataclass(frozen=True)
class Drift:
    kind: str  # on_hand, reserved, line_allocated, orphan_moves, orphan_allocations
    subject: str  # "MUG@AMS" or an order line
    recorded: int
    expected: int

    @property
    def message(self) -> str:
        what = {
            "on_hand": "on hand differs from the sum of its ledger moves",
            "reserved": "reserved differs from its live allocations",
            "line_allocated": "allocated quantity on the order line differs from its allocations",
            "orphan_moves": "ledger moves exist but there is no stock level",
            "orphan_allocations": "allocations exist but there is no stock level",
        }[self.kind]
        return f"{self.subject}: {what} (recorded {self.recorded}, expected {self.expected})"


@dataclass
class VerifyReport:
    levels_checked: int = 0
    moves_counted: int = 0
    drifts: list[Drift] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.drifts


def verify() -> VerifyReport:
    report = VerifyReport()
    names = {
        (p, loc): f"{sku}@{code}"
        for p, loc, sku, code in db.session.execute(
            select(StockLevel.product_id, StockLevel.location_id, Product.sku, Location.code)
            .join(Product, Product.id == StockLevel.product_id)
            .join(Location, Location.id == StockLevel.location_id)
        )
    }
    ledger: dict[tuple[int, int], int] = {}
    for p, loc, total, count in db.session.execute(
        select(StockMove.product_id, StockMove.location_id, func.sum(StockMove.qty), func.count())
        .group_by(StockMove.product_id, StockMove.location_id)
    ):
        ledger[(p, loc)] = int(total)
        report.moves_counted += int(count)
    allocated: dict[tuple[int, int], int] = {
        (p, loc): int(q)
        for p, loc, q in db.session.execute(
            select(Allocation.product_id, Allocation.location_id, func.sum(Allocation.qty))
            .group_by(Allocation.product_id, Allocation.location_id)
        )
    }
    for p, loc, on_hand, reserved in db.session.execute(
        select(StockLevel.product_id, StockLevel.location_id, StockLevel.on_hand, StockLevel.reserved)
    ):
        report.levels_checked += 1
        key, name = (p, loc), names[(p, loc)]
        if on_hand != ledger.get(key, 0):
            report.drifts.append(Drift("on_hand", name, on_hand, ledger.get(key, 0)))
        if reserved != allocated.get(key, 0):
            report.drifts.append(Drift("reserved", name, reserved, allocated.get(key, 0)))
    for key, total in ledger.items():
        if key not in names:
            report.drifts.append(Drift("orphan_moves", f"product {key[0]} at location {key[1]}", 0, total))
    for key, total in allocated.items():
        if key not in names:
            report.drifts.append(Drift("orphan_allocations", f"product {key[0]} at location {key[1]}", 0, total))
    per_line = (
        select(Allocation.order_line_id.label("line_id"), func.sum(Allocation.qty).label("qty"))
        .group_by(Allocation.order_line_id).subquery()
    )
    for line_id, sku, recorded, expected in db.session.execute(
        select(OrderLine.id, OrderLine.sku, OrderLine.qty_allocated, func.coalesce(per_line.c.qty, 0))
        .outerjoin(per_line, per_line.c.line_id == OrderLine.id)
        .where(OrderLine.qty_allocated != func.coalesce(per_line.c.qty, 0))
    ):
        report.drifts.append(Drift("line_allocated", f"order line {line_id} ({sku})", recorded, int(expected)))
    return report
