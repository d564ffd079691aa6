"""Pick waves and the stock ledger behind the demo orders.

Stock is worked out backwards from what the orders did: each level's receipts
cover everything that was shipped or lost from it plus what is reserved and
what should still be free, so that on_hand always equals the sum of the
ledger and the running balance never dips below zero.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from app.domain.enums import MoveKind, ShipmentStatus, WaveStatus
from app.services.demo.catalog import Catalog
from app.services.demo.plans import OrderPlan, ShipmentPlan

MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)
WAVE_SPAN = 3 * HOUR  # shipments picked within this time of the wave's first pick share it
WAVE_SIZE = {WaveStatus.DONE: 24, WaveStatus.OPEN: 12}


@dataclass(slots=True, eq=False)
class WavePlan:
    location: str
    status: str
    created_at: datetime
    shipments: list[ShipmentPlan] = field(default_factory=list)
    completed_at: datetime | None = None
    id: int = 0
    number: str = ""


def plan_waves(orders: list[OrderPlan], rng: random.Random) -> list[WavePlan]:
    """Batch shipments per location by picking time; a wave only takes orders ready when it was made."""
    shipments = sorted((s for o in orders for s in o.shipments), key=lambda s: s.picked_at)
    current: dict[tuple[str, str], WavePlan] = {}
    waves: list[WavePlan] = []
    for s in shipments:
        status = WaveStatus.OPEN if s.status == ShipmentStatus.PICKING else WaveStatus.DONE
        wave = current.get((s.location, status))
        fits = (wave is not None and len(wave.shipments) < WAVE_SIZE[status]
                and s.picked_at - wave.shipments[0].picked_at <= WAVE_SPAN
                and s.order.paid_at <= wave.created_at)
        if not fits:
            start = max(s.picked_at - timedelta(seconds=rng.uniform(120, 900)), s.order.paid_at + MINUTE)
            wave = WavePlan(location=s.location, status=status, created_at=min(start, s.picked_at))
            current[(s.location, status)] = wave
            waves.append(wave)
        wave.shipments.append(s)
        s.wave, s.created_at = wave, wave.created_at
    for wave in waves:
        if wave.status == WaveStatus.DONE:
            wave.completed_at = max(s.packed_at for s in wave.shipments)
    waves.sort(key=lambda w: w.created_at)
    return waves


def settle_stock(catalog: Catalog, orders: list[OrderPlan], anchor: datetime, rng: random.Random) -> None:
    """Fill every level's reserved, on_hand and ledger (receipts first, then losses and shipments)."""
    levels = catalog.levels
    for order in orders:
        for line in order.lines:
            if line.allocated:
                levels[(line.product.idx, line.location)].reserved += line.allocated
        for s in order.shipments:
            if s.shipped_at is None:
                continue
            for line, qty in s.items:
                levels[(line.product.idx, s.location)].moves.append(
                    (s.shipped_at, -qty, MoveKind.SHIPMENT, "Shipped", None, order, s))
    opening = anchor - 75 * DAY
    po = 0
    for level in levels.values():
        level.on_hand = level.reserved + level.target_available
        if rng.random() < 0.06:  # a cycle count found a unit or two missing, or damaged
            kind, reason = rng.choice([(MoveKind.ADJUSTMENT, "Cycle count correction"),
                                       (MoveKind.WRITE_OFF, "Damaged in the warehouse")])
            at = anchor - _between(rng, 2 * DAY, 55 * DAY)
            level.moves.append((at, -rng.randint(1, 2), kind, reason, f"CC-{at:%Y%m%d}", None, None))
        received = level.on_hand - sum(m[1] for m in level.moves)
        if received == 0:  # never had stock that stayed: a batch came in and was recalled
            received = rng.randint(6, 24)
            level.moves.append((anchor - _between(rng, 20 * DAY, 55 * DAY), -received, MoveKind.WRITE_OFF,
                                "Recalled by the supplier", "RECALL", None, None))
        first_in = opening + _between(rng, timedelta(0), 2 * DAY)
        receipts = [(first_in, received)]
        if received >= 10 and rng.random() < 0.35:  # part of it arrived later, on a purchase order
            restock = anchor - _between(rng, 2 * DAY, 45 * DAY)
            needed_before = -sum(m[1] for m in level.moves if m[0] < restock)
            first = max(received - int(received * rng.uniform(0.3, 0.6)), needed_before)
            if first < received:
                receipts = [(first_in, first), (restock, received - first)]
        for i, (at, qty) in enumerate(receipts):
            if i == 0:
                reference, reason = f"OPENING-{level.location}", "Opening stock count"
            else:
                po += 1
                reference, reason = f"PO-{at.year}-{po:04d}", "Purchase order received"
            level.moves.append((at, qty, MoveKind.RECEIPT, reason, reference, None, None))
        level.moves.sort(key=lambda m: m[0])


def _between(rng: random.Random, lo: timedelta, hi: timedelta) -> timedelta:
    return timedelta(seconds=rng.uniform(lo.total_seconds(), hi.total_seconds()))
