"""Stock levels for every product × location and the ledger behind them.

Worked out after the orders, from what they reserved and shipped:

- reserved = the units allocated to open orders at that level (exactly);
- on_hand = reserved + what is still free to sell (some levels low, some empty, the
  sold-out products empty everywhere);
- the ledger: an opening receipt, one receipt per month for what the next month
  shipped (purchase orders), the shipment moves of the orders, and now and then a
  cycle-count adjustment. It adds up exactly to on_hand, and the running balance never
  drops below zero, because each month's receipt arrives before that month's first
  shipment.

Moves are written in time order, so ids follow time as they do in a live ledger.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from operator import itemgetter

from bench.lib.orders import LOCATION_CODES, RECEIPT_PERIOD, OrderWriter
from bench.lib.parties import Catalog
from bench.lib.sinks import Sink
from bench.lib.timeline import DAY

WAREHOUSE = "user:warehouse@orderdeck.example"
MOVE_COLUMNS = (
    "id",
    "product_id",
    "location_id",
    "qty",
    "kind",
    "reason",
    "reference",
    "order_id",
    "return_id",
    "shipment_id",
    "user_id",
    "actor",
    "created_at",
)
LEVEL_COLUMNS = ("id", "product_id", "location_id", "on_hand", "reserved", "bin", "reorder_point", "updated_at")


def _free_units(rng: random.Random, reorder_point: int, sold_out: bool) -> int:
    if sold_out:
        return 0
    roll = rng.random()
    if roll < 0.06:
        return 0
    if roll < 0.18:
        return rng.randint(1, reorder_point)
    return rng.randint(reorder_point + 1, reorder_point * 6 + 60)


def _bin(product: int, location: int) -> str:
    aisle = "ABCDEFGHJKLMNPQRSTUV"[(product * 7 + location) % 20]
    return f"{aisle}-{product % 48 + 1:02d}-{product % 5 + 1}"


def write_stock(
    sink: Sink, rng: random.Random, now: int, catalog: Catalog, orders: OrderWriter, progress: Callable[[str], None]
) -> dict[str, int]:
    n_loc, periods, start = len(LOCATION_CODES), orders.periods, orders.receipts_start
    moves = orders.moves  # (time, level, qty, order id, shipment id) for shipments
    levels = []
    last_move = [start] * (len(catalog) * n_loc)
    for t_, level, _q, _o, _s in moves:
        if t_ > last_move[level]:
            last_move[level] = t_
    po = 0
    for p in range(len(catalog)):
        sold_out = p in catalog.sold_out_set
        for loc in range(n_loc):
            level = p * n_loc + loc
            reserved = orders.reserved[level]
            store = LOCATION_CODES[loc] == "GB-LON"
            reorder_point = max(2, catalog.reorder_points[p] // 3) if store else catalog.reorder_points[p]
            free = _free_units(rng, reorder_point, sold_out)
            shipped = orders.shipped[level * periods : (level + 1) * periods]
            counted = rng.randint(1, 2) if free and rng.random() < 0.03 else 0  # lost in a cycle count
            opening = shipped[0] + reserved + free + counted
            if opening:
                moves.append((start, level, opening, None, None))
            for period in range(1, periods):
                if shipped[period]:
                    moves.append((start + period * RECEIPT_PERIOD, level, shipped[period], None, None))
                    last_move[level] = max(last_move[level], start + period * RECEIPT_PERIOD)
            if counted:
                at = rng.randint(start + DAY, now - DAY)
                moves.append((at, level, -counted, None, None))
                last_move[level] = max(last_move[level], at)
            levels.append(
                (
                    level + 1,
                    p + 1,
                    loc + 1,
                    reserved + free,
                    reserved,
                    _bin(p, loc),
                    reorder_point if store else None,
                    sink.time(last_move[level]),
                )
            )
    sink.load("stock_levels", LEVEL_COLUMNS, levels)
    sink.commit()
    progress(f"{len(levels):,} stock levels")

    moves.sort(key=itemgetter(0))
    t = sink.time
    batch, written = 250_000, 0
    for first in range(0, len(moves), batch):
        rows = []
        for i in range(first, min(first + batch, len(moves))):
            at, level, qty, order_id, shipment_id = moves[i]
            p, loc = divmod(level, n_loc)
            if order_id is not None:
                row = (
                    i + 1,
                    p + 1,
                    loc + 1,
                    qty,
                    "shipment",
                    "Shipped",
                    f"SO-{order_id:06d}",
                    order_id,
                    None,
                    shipment_id,
                    None,
                    "user:ops@orderdeck.example",
                    t(at),
                )
            elif qty < 0:
                row = (
                    i + 1,
                    p + 1,
                    loc + 1,
                    qty,
                    "adjustment",
                    "count: cycle count correction",
                    f"CC-{LOCATION_CODES[loc]}",
                    None,
                    None,
                    None,
                    None,
                    WAREHOUSE,
                    t(at),
                )
            elif at == start:
                row = (
                    i + 1,
                    p + 1,
                    loc + 1,
                    qty,
                    "receipt",
                    "Opening stock count",
                    f"OPENING-{LOCATION_CODES[loc]}",
                    None,
                    None,
                    None,
                    None,
                    WAREHOUSE,
                    t(at),
                )
            else:
                po += 1
                row = (
                    i + 1,
                    p + 1,
                    loc + 1,
                    qty,
                    "receipt",
                    "Purchase order received",
                    f"PO-{po:07d}",
                    None,
                    None,
                    None,
                    None,
                    WAREHOUSE,
                    t(at),
                )
            rows.append(row)
        sink.load("stock_moves", MOVE_COLUMNS, rows)
        sink.commit()
        written += len(rows)
        progress(f"{written:,} of {len(moves):,} stock moves")
    return {"stock_levels": len(levels), "stock_moves": len(moves)}
