"""Write workloads: orders created through the service (allocation throughput), order
bodies for the API, the bare conditional UPDATE that DESIGN.md §8 measures allocation
against, and the drag-move pair (ready → on hold → ready)."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import Engine

from app.extensions import db

# An address the review accepts, served first by NL-RTM (bench/lib/reference.py).
SHIP_TO = {
    "name": "Sanne de Vries",
    "line1": "Prinsengracht 263",
    "city": "Amsterdam",
    "postcode": "1016 GV",
    "country": "NL",
}
LINE_COUNTS, LINE_WEIGHTS = (1, 2, 3, 4), (50, 28, 14, 8)  # as in the data set


@dataclass(frozen=True)
class Sellable:
    sku: str
    price: str
    level_id: int


def sellable(app: Flask, n: int = 500, location: str = "NL-RTM", min_available: int = 20) -> list[Sellable]:
    """Products with plenty of free stock at the location the bench address is served from."""
    with app.app_context():
        rows = db.session.execute(
            text(
                "SELECT p.sku, p.unit_price, s.id FROM stock_levels s JOIN products p ON p.id = s.product_id "
                "JOIN locations l ON l.id = s.location_id WHERE l.code = :loc AND s.on_hand - s.reserved >= :min "
                "AND p.active = :yes ORDER BY s.on_hand - s.reserved DESC LIMIT :n"
            ),
            {"loc": location, "min": min_available, "n": n, "yes": True},
        ).all()
        sqlite = db.engine.dialect.name == "sqlite"
    items = []
    for sku, price, level_id in rows:
        cents = int(price) if sqlite else round(float(price) * 100)  # SQLite stores integer cents
        items.append(Sellable(sku, f"{cents // 100}.{cents % 100:02d}", level_id))
    return items


def order_body(tag: str, i: int, products: list[Sellable], rng: random.Random, *, lines: int | None = None) -> dict:
    """A POST /api/v1/orders body (JSON-ready); `lines` None draws 1-4 lines like the data set."""
    count = lines or rng.choices(LINE_COUNTS, weights=LINE_WEIGHTS)[0]
    chosen = rng.sample(products, count)
    return {
        "channel": "webstore",
        "external_id": f"BENCH-{tag}-{i}",
        "customer": {"name": "Bench Customer", "email": f"bench.{tag}.{i}@example.com"},
        "ship_to": SHIP_TO,
        "lines": [{"sku": p.sku, "qty": 1, "unit_price": p.price} for p in chosen],
    }


def allocation_throughput(app: Flask, bodies: list[dict], *, warmup: int = 50) -> tuple[int, float]:
    """Create orders one by one through app.services.orders.create_order, each in its own app
    context (as a request would be). Returns (orders timed, seconds)."""
    from app.api.schemas import OrderCreateSchema
    from app.services import orders
    from app.services.actors import Actor

    schema = OrderCreateSchema()
    data = [schema.load(body) for body in bodies]  # what the API hands the service
    actor = Actor(label="bench")

    def create(item: dict) -> None:
        with app.app_context():
            orders.create_order(item, actor=actor, source="api")
            db.session.remove()

    for item in data[:warmup]:
        create(item)
    timed = data[warmup:]
    started = time.perf_counter()
    for item in timed:
        create(item)
    return len(timed), time.perf_counter() - started


def bare_reservations(engine: Engine, level_ids: list[int], n: int, *, clients: int = 1) -> tuple[int, float]:
    """DESIGN.md §8's reference: one conditional UPDATE per transaction (BEGIN IMMEDIATE on
    SQLite), `clients` connections in parallel. Every reservation is given back afterwards
    (untimed), so the data set is unchanged."""
    sqlite = engine.dialect.name == "sqlite"
    reserve = "UPDATE stock_levels SET reserved = reserved + 1 WHERE id = {p} AND on_hand - reserved >= 1"
    give_back = "UPDATE stock_levels SET reserved = reserved - 1 WHERE id = {p}"
    mark = "?" if sqlite else "%s"
    done: list[int] = []
    lock = threading.Lock()

    def run(share: int, sql: str, offset: int) -> None:
        raw = engine.raw_connection()
        cursor = raw.cursor()
        for i in range(share):
            level = level_ids[(offset + i) % len(level_ids)]
            if sqlite:
                cursor.execute("BEGIN IMMEDIATE")
            cursor.execute(sql.format(p=mark), (level,))
            if sqlite:
                cursor.execute("COMMIT")
            else:
                raw.commit()
            with lock:
                done.append(level)
        cursor.close()
        raw.close()

    def parallel(sql: str) -> float:
        threads = [threading.Thread(target=run, args=(n // clients, sql, k * (n // clients))) for k in range(clients)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return time.perf_counter() - started

    seconds = parallel(reserve)
    count = len(done)
    parallel(give_back)
    return count, seconds


def ready_orders(app: Flask, n: int) -> list[str]:
    """Recent ready orders (paid, fully allocated): they can be held and released again."""
    with app.app_context():
        return list(
            db.session.execute(
                text("SELECT number FROM orders WHERE status = 'ready' ORDER BY placed_at DESC, id DESC LIMIT :n"),
                {"n": n},
            ).scalars()
        )
