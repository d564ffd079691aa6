"""Writing the demo world in bulk, inside the caller's write transaction.

Keys and readable numbers are handed out in blocks but from the same sources
single inserts use (the PostgreSQL sequences, SQLite's max(id) under the
write lock, the counters table), so the application carries on numbering
after the demo data without gaps in invoice series or collisions.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.domain.enums import ShipmentStatus
from app.domain.numbering import format_document_number, format_number
from app.models import (
    Allocation,
    Channel,
    Customer,
    Event,
    Invoice,
    Location,
    LocationHoliday,
    Order,
    OrderLine,
    Payment,
    Product,
    Refund,
    Shipment,
    ShipmentLine,
    SlaClock,
    StockLevel,
    StockMove,
    Wave,
)
from app.services.demo.catalog import Catalog
from app.services.demo.invoices import InvoicePlan, snapshot
from app.services.demo.people import CustomerPlan
from app.services.demo.plans import OrderPlan
from app.services.demo.warehouse import WavePlan
from app.services.numbering import SEQUENCES

ACTOR = "demo"


@dataclass(eq=False)
class World:
    anchor: datetime
    catalog: Catalog
    customers: list[CustomerPlan]
    orders: list[OrderPlan]
    waves: list[WavePlan]
    invoices: list[InvoicePlan]

    @property
    def shipments(self):
        return sorted((s for o in self.orders for s in o.shipments), key=lambda s: (s.created_at, s.picked_at))


class Keys:
    """Primary keys and readable numbers in blocks, from the sources single inserts use."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.postgres = session.get_bind().dialect.name == "postgresql"

    def ids(self, table: str, n: int) -> list[int]:
        if n == 0:
            return []
        if self.postgres:
            seq = self.session.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table}).scalar_one()
            return self._nextvals(seq, n)
        last = self.session.execute(text(f"SELECT coalesce(max(id), 0) FROM {table}")).scalar_one()
        return list(range(last + 1, last + n + 1))

    def numbers(self, kind: str, n: int) -> list[str]:
        if n == 0:
            return []
        values = self._nextvals(SEQUENCES[kind], n) if self.postgres else self._bump(kind, n)
        return [format_number(kind, v) for v in values]

    def document_numbers(self, kind: str, year: int, n: int) -> list[str]:
        return [format_document_number(kind, year, v) for v in self._bump(f"{kind}:{year}", n)]

    def _nextvals(self, sequence: str, n: int) -> list[int]:
        return sorted(self.session.execute(
            text("SELECT nextval(CAST(:seq AS regclass)) FROM generate_series(1, :n)"), {"seq": sequence, "n": n}
        ).scalars())

    def _bump(self, name: str, n: int) -> list[int]:
        """Like app.services.numbering._bump_counter, n steps at once (the row stays locked until commit)."""
        bump = text("UPDATE counters SET value = value + :n WHERE name = :name RETURNING value")
        last = self.session.execute(bump, {"n": n, "name": name}).scalar()
        if last is None:
            try:
                with self.session.begin_nested():
                    self.session.execute(text("INSERT INTO counters (name, value) VALUES (:name, :n)"),
                                         {"name": name, "n": n})
                last = n
            except IntegrityError:  # a concurrent first use created it
                last = self.session.execute(bump, {"n": n, "name": name}).scalar_one()
        return list(range(last - n + 1, last + 1))


def write(session: Session, world: World, *, seller_name: str) -> None:
    keys = Keys(session)
    catalog, orders = world.catalog, world.orders
    channels, locations = list(catalog.channels.values()), list(catalog.locations.values())
    shipments = world.shipments
    lines = [line for o in orders for line in o.lines]
    for rows, table in ((channels, "channels"), (locations, "locations")):
        for row, key in zip(rows, keys.ids(table, len(rows)), strict=True):
            row["id"] = key
    _assign(catalog.products, keys.ids("products", len(catalog.products)))
    _assign(world.customers, keys.ids("customers", len(world.customers)))
    _assign(orders, keys.ids("orders", len(orders)), keys.numbers("order", len(orders)))
    _assign(lines, keys.ids("order_lines", len(lines)))
    _assign(world.waves, keys.ids("waves", len(world.waves)), keys.numbers("wave", len(world.waves)))
    _assign(shipments, keys.ids("shipments", len(shipments)), keys.numbers("shipment", len(shipments)))
    _assign(world.invoices, keys.ids("invoices", len(world.invoices)), _invoice_numbers(keys, world.invoices))

    loc_id = {code: row["id"] for code, row in catalog.locations.items()}
    created = world.anchor - timedelta(days=90)
    events: list[dict] = []

    def event(entity_type: str, entity_id: str, action: str, at: datetime, before=None, after=None, details=None):
        events.append({"entity_type": entity_type, "entity_id": entity_id, "action": action, "from_state": before,
                       "to_state": after, "user_id": None, "actor": ACTOR, "created_at": at, "details": details})

    channel_cols = ("id", "code", "name", "kind", "dispatch_sla_hours", "dispatch_warn_pct",
                    "payment_reminder_1_hours", "payment_reminder_2_hours", "auto_cancel_hours", "routing_strategy")
    _insert(session, Channel, [{**{c: ch[c] for c in channel_cols}, "created_at": created} for ch in channels])
    location_cols = ("id", "code", "name", "kind", "regions", "priority", "timezone", "cutoff_time", "working_days")
    _insert(session, Location, [{**{c: loc[c] for c in location_cols}, "created_at": created} for loc in locations])
    _insert(session, LocationHoliday, [{"location_id": loc_id[code], "day": day, "name": name}
                                       for code, days in catalog.holidays.items() for day, name in days])
    _insert(session, Product, [
        {"id": p.id, "sku": p.sku, "name": p.name, "unit_price": p.unit_price, "tax_rate": p.home_tax_rate,
         "weight_g": p.weight_g, "barcode": p.barcode, "reorder_point": p.reorder_point, "active": p.active,
         "created_at": created} for p in catalog.products])
    for ch in channels:
        event("channel", ch["code"], "channel_created", created)
    for loc in locations:
        event("location", loc["code"], "location_created", created)
    for p in catalog.products:
        event("product", p.sku, "product_created", created, details={"unit_price": str(p.unit_price)})

    first_order: dict[int, datetime] = {}
    for o in orders:
        first_order.setdefault(id(o.customer), o.placed_at)
    _insert(session, Customer, [{"id": c.id, "email": c.email, "name": c.name,
                                 "created_at": first_order.get(id(c), created)} for c in world.customers])
    _insert(session, Order, [_order_row(o) for o in orders])
    _insert(session, OrderLine, [
        {"id": line.id, "order_id": o.id, "line_no": line.line_no, "product_id": line.product.id,
         "sku": line.product.sku, "name": line.product.name, "qty": line.qty, "unit_price": line.unit_price,
         "tax_rate": line.tax_rate, "qty_allocated": line.allocated, "qty_shipped": line.shipped, "qty_returned": 0}
        for o in orders for line in o.lines])
    _insert(session, Payment, [{"order_id": o.id, **p} for o in orders for p in o.payments])
    _insert(session, Refund, [{"order_id": o.id, "return_id": None, "credit_note_id": None, **r}
                              for o in orders for r in o.refunds])
    _insert(session, Allocation, [
        {"order_line_id": line.id, "order_id": o.id, "product_id": line.product.id,
         "location_id": loc_id[line.location], "qty": line.allocated, "created_at": o.placed_at + timedelta(seconds=1)}
        for o in orders for line in o.lines if line.allocated])
    _insert(session, Wave, [{"id": w.id, "number": w.number, "location_id": loc_id[w.location], "status": w.status,
                             "created_at": w.created_at, "created_by": ACTOR, "completed_at": w.completed_at}
                            for w in world.waves])
    _insert(session, Shipment, [
        {"id": s.id, "number": s.number, "order_id": s.order.id, "location_id": loc_id[s.location],
         "wave_id": s.wave.id, "status": s.status, "carrier": s.carrier, "tracking_number": s.tracking_number,
         "created_at": s.created_at, "packed_at": s.packed_at, "shipped_at": s.shipped_at,
         "delivered_at": s.delivered_at} for s in shipments])
    _insert(session, ShipmentLine, [
        {"shipment_id": s.id, "order_line_id": line.id, "qty": qty,
         "qty_packed": 0 if s.status == ShipmentStatus.PICKING else qty}
        for s in shipments for line, qty in s.items])
    _write_stock(session, world, loc_id, event)
    _insert(session, Invoice, [
        {"id": inv.id, "number": inv.number, "kind": "invoice", "order_id": inv.order.id,
         "shipment_id": inv.shipment.id, "corrects_id": None, "issued_at": inv.issued_at,
         "currency": inv.order.currency, "net_total": inv.net_total, "tax_total": inv.tax_total,
         "total": inv.total, "snapshot": snapshot(inv, seller_name), "issued_by": ACTOR}
        for inv in world.invoices])
    for inv in world.invoices:
        event("invoice", inv.number, "invoice_issued", inv.issued_at,
              details={"order": inv.order.number, "shipment": inv.shipment.number, "total": str(inv.total)})
    _insert(session, SlaClock, [{"order_id": o.id, "warned_at": None, **clock} for o in orders for clock in o.clocks])
    for o in orders:
        for at, action, before, after, details in o.events:
            event("order", o.number, action, at, before, after, details)
    events.sort(key=lambda e: e["created_at"])
    _insert(session, Event, events)


def _assign(plans: list, ids: list[int], numbers: list[str] | None = None) -> None:
    for i, plan in enumerate(plans):
        plan.id = ids[i]
        if numbers is not None:
            plan.number = numbers[i]


def _invoice_numbers(keys: Keys, invoices: list[InvoicePlan]) -> list[str]:
    """Gapless per year, in issue order (invoices are sorted by issued_at)."""
    per_year: dict[int, int] = {}
    for inv in invoices:
        per_year[inv.issued_at.year] = per_year.get(inv.issued_at.year, 0) + 1
    numbers = {year: iter(keys.document_numbers("invoice", year, n)) for year, n in per_year.items()}
    return [next(numbers[inv.issued_at.year]) for inv in invoices]


def _order_row(o: OrderPlan) -> dict:
    content = {"channel": o.channel["code"], "external_id": o.external_id, "email": o.customer.email,
               "lines": [[line.product.sku, line.qty, str(line.unit_price)] for line in o.lines],
               "shipping_price": str(o.shipping_price)}
    return {
        "id": o.id, "number": o.number, "channel_id": o.channel["id"], "external_id": o.external_id,
        "customer_id": o.customer.id, "source": "demo",
        "content_hash": hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest(),
        **o.address, "address_status": o.address_status, "currency": o.currency, "prices_include_tax": True,
        "subtotal": o.subtotal, "shipping_price": o.shipping_price, "tax_total": o.tax_total, "total": o.total,
        "paid_amount": o.paid_amount, "refunded_amount": o.refunded_amount,
        "placed_at": o.placed_at, "paid_at": o.paid_at, "ship_by": o.ship_by, "shipped_at": o.shipped_at,
        "delivered_at": o.delivered_at, "cancelled_at": o.cancelled_at, "status": o.status,
        "payment_status": o.payment_status, "hold_reason": o.hold_reason, "held_at": o.held_at,
        "held_by": o.held_by, "hold_note": o.hold_note, "priority": o.priority, "replaces_order_id": None,
        # every update bumps the version: one per step after intake
        "version": len(o.events), "created_at": o.placed_at, "updated_at": o.updated_at,
    }


def _write_stock(session: Session, world: World, loc_id: dict[str, int], event) -> None:
    levels, moves = [], []
    for level in world.catalog.levels.values():
        p, location = level.product, loc_id[level.location]
        levels.append({"product_id": p.id, "location_id": location, "on_hand": level.on_hand,
                       "reserved": level.reserved, "bin": level.bin, "reorder_point": level.reorder_point,
                       "updated_at": level.moves[-1][0]})
        for at, qty, kind, reason, reference, order, shipment in level.moves:
            moves.append({"product_id": p.id, "location_id": location, "qty": qty, "kind": kind, "reason": reason,
                          "reference": order.number if order else reference, "order_id": order.id if order else None,
                          "return_id": None, "shipment_id": shipment.id if shipment else None, "user_id": None,
                          "actor": ACTOR, "created_at": at})
            if order is None:
                event("stock_level", f"{p.sku}@{level.location}", f"stock_{kind}", at,
                      details={"qty": qty, "reason": reason, "reference": reference})
    moves.sort(key=lambda m: m["created_at"])
    _insert(session, StockLevel, levels)
    _insert(session, StockMove, moves)


def _insert(session: Session, model, rows: list[dict]) -> None:
    """One executemany per table; the driver batches it (insertmanyvalues on PostgreSQL)."""
    if rows:
        session.execute(insert(model.__table__), rows)


__all__ = ["Keys", "World", "write"]
