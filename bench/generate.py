"""Build a large OrderDeck data set for the benchmarks, straight into the database.

    .venv/bin/python bench/generate.py --orders 1000000 --database-url sqlite:///bench/out/orders-1m.db
    .venv/bin/python bench/generate.py --database-url postgresql://postgres@127.0.0.1:5432/od_bench

The schema comes from the project's Alembic migrations (after dropping everything);
the rows are bulk-inserted (SQLite executemany, PostgreSQL COPY) with the secondary
indexes set aside, then the indexes are rebuilt, the counters and sequences set so
the application numbers on from the data set, a benchmark user created and the
planner statistics gathered. Each phase's time is printed at the end.

The data: N orders (10 % open) over the last year, 10,000 products, 10 locations,
about 0.3 × N customers, 1-4 lines per order, stock levels for every product ×
location whose ledger adds up exactly, allocations for the open orders, payments,
shipments, SLA clocks (about 1 % of N running past due) and each order's audit trail.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.lib import appsetup  # noqa: E402
from bench.lib.orders import TABLES, OrderWriter  # noqa: E402
from bench.lib.parties import Catalog, People, write_channels_and_locations, write_customers, write_products  # noqa: E402
from bench.lib.sinks import open_sink  # noqa: E402
from bench.lib.stock import write_stock  # noqa: E402
from bench.lib.timeline import DAY, HISTORY_DAYS, TimelineBuilder  # noqa: E402

LOADED_TABLES = ["channels", "locations", "products", "customers", *TABLES, "stock_levels", "stock_moves"]
DEFAULT_SQLITE = f"sqlite:///{ROOT / 'bench' / 'out' / 'orders-1m.db'}"


@dataclass
class Phase:
    name: str
    seconds: float
    db_seconds: float | None = None
    note: str = ""


@dataclass
class Report:
    url: str
    orders: int
    phases: list[Phase] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    stats: dict[str, int] = field(default_factory=dict)
    load: str = ""

    @property
    def total_seconds(self) -> float:
        return sum(p.seconds for p in self.phases)

    def table(self) -> str:
        lines = ["| phase | seconds | of which in the database | what |", "|---|---:|---:|---|"]
        for p in self.phases:
            db = f"{p.db_seconds:.1f}" if p.db_seconds is not None else ""
            lines.append(f"| {p.name} | {p.seconds:.1f} | {db} | {p.note} |")
        lines.append(f"| **total** | **{self.total_seconds:.1f}** | | |")
        return "\n".join(lines)

    def rows_line(self) -> str:
        return ", ".join(f"{table} {n:,}" for table, n in self.rows.items())


class PhaseClock:
    def __init__(self, report: Report, log) -> None:
        self.report, self.log = report, log

    def run(self, name: str, fn, *, sink=None, note=""):
        self.log(f"[{name}] …")
        db_before = sink.db_seconds if sink is not None else 0.0
        started = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - started
        db = sink.db_seconds - db_before if sink is not None else None
        text = note(result) if callable(note) else note
        self.report.phases.append(Phase(name, seconds, db, text))
        self.log(f"[{name}] {seconds:.1f} s {text}")
        return result


def generate(
    url: str,
    n_orders: int = 1_000_000,
    *,
    n_products: int = 10_000,
    n_customers: int | None = None,
    seed: int = 1,
    batch: int = 20_000,
    log=print,
) -> Report:
    url = appsetup.normalise_url(url)
    n_customers = n_customers or max(1_000, n_orders * 3 // 10)
    now = int(time.time()) // 60 * 60
    report = Report(url=url, orders=n_orders)
    clock = PhaseClock(report, log)
    rng = random.Random(seed)

    clock.run("schema", lambda: appsetup.rebuild_schema(url), note="drop everything, `flask db upgrade`")

    def plan():
        catalog = Catalog(rng, n_products)
        people = People(rng, n_customers)
        skeletons = TimelineBuilder(rng, now, people.countries, people.shops).build(n_orders, n_customers)
        return catalog, people, skeletons

    catalog, people, skeletons = clock.run("plan", plan, note="statuses and timelines in memory")
    sink = open_sink(url)
    try:
        n_indexes = clock.run(
            "set aside indexes",
            lambda: sink.set_aside_indexes(LOADED_TABLES),
            note=lambda n: f"{n} secondary indexes dropped for the load",
        )

        def reference():
            created = now - (HISTORY_DAYS + 30) * DAY
            first_order: list[int | None] = [None] * n_customers
            for sk in skeletons:  # sorted by placing time: the first seen is the first order
                if first_order[sk.customer] is None:
                    first_order[sk.customer] = sk.placed
            write_channels_and_locations(sink, created)
            write_products(sink, catalog, created)
            write_customers(sink, people, first_order, created)
            sink.commit()

        clock.run(
            "channels, locations, products, customers",
            reference,
            sink=sink,
            note=f"{len(catalog):,} products, {n_customers:,} customers",
        )

        writer = OrderWriter(sink, rng, now, catalog, people)
        step = max(batch, n_orders // 10 // batch * batch)
        clock.run(
            "orders",
            lambda: writer.write(skeletons, batch, lambda done: done % step == 0 and log(f"  {done:,} orders")),
            sink=sink,
            note="orders, lines, payments, refunds, allocations, shipments, clocks, events",
        )
        skeletons.clear()  # free the memory before the stock phase
        clock.run(
            "stock",
            lambda: write_stock(sink, rng, now, catalog, writer, lambda msg: None),
            sink=sink,
            note="levels (on_hand = Σ moves, reserved = Σ allocations) and the ledger in time order",
        )
        clock.run("rebuild indexes", sink.restore_indexes, note=f"{n_indexes} indexes")

        def numbering():
            sink.set_counters({"order": n_orders, "shipment": writer.next_id["shipments"] - 1})

        clock.run("counters and sequences", numbering, note=f"next order SO-{n_orders + 1:06d}")
        report.rows = dict(sink.rows)
        report.stats = writer.stats
        clock.run("analyze", sink.analyze, note="VACUUM ANALYZE" if sink.engine == "postgresql" else "ANALYZE")
    finally:
        sink.close()
    clock.run("benchmark user", lambda: appsetup.ensure_bench_user(url), note=appsetup.BENCH_EMAIL)
    report.load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    log(f"load average at the end: {report.load} (other work on the machine slows every phase)")
    log(f"rows: {report.rows_line()}")
    log(
        f"open orders {report.stats['open']:,}; running SLA clocks {report.stats['running_clocks']:,}, "
        f"of which past due {report.stats['due_clocks']:,}"
    )
    log(report.table())
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument(
        "--database-url",
        default=DEFAULT_SQLITE,
        help="sqlite:///path or postgresql://user@host:port/db (everything in it is dropped)",
    )
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--customers", type=int, default=None, help="default: 0.3 × orders")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch", type=int, default=20_000, help="orders per insert batch")
    args = parser.parse_args(argv)
    started = time.perf_counter()

    def log(message: str) -> None:
        print(
            f"{time.perf_counter() - started:7.1f}s  {message}" if not message.startswith("|") else message, flush=True
        )

    generate(
        args.database_url,
        args.orders,
        n_products=args.products,
        n_customers=args.customers,
        seed=args.seed,
        batch=args.batch,
        log=log,
    )


if __name__ == "__main__":
    main()
