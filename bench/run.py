"""Measure OrderDeck on a large data set and print each figure beside its baseline and target.

    .venv/bin/python bench/run.py --database-url sqlite:///bench/out/orders-1m.db
    .venv/bin/python bench/run.py --database-url postgresql://postgres@127.0.0.1:5432/od_bench
    .venv/bin/python bench/run.py --quick          (`make bench`: a 100k-order SQLite set under bench/out/)

Pages are timed in-process through the Flask test client as a signed-in user (the
app's own server time); their baseline is the very SQL the page ran, replayed bare on
the engine. Writes are timed through the services and, for the API, through gunicorn
(2 workers) driven by keep-alive http.client connections. Targets are DESIGN.md §8's.
The data set is changed only by the orders the write figures create (and two board
moves that cancel out). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from bench.lib import appsetup, scenarios, workloads  # noqa: E402
from bench.lib.report import markdown, plans_markdown  # noqa: E402

QUICK_ORDERS = 100_000
QUICK_URL = f"sqlite:///{ROOT / 'bench' / 'out' / 'quick-100k.db'}"


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem_kb = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
    )
    return f"{os.cpu_count()} cores, {cpu}, {mem_kb / 1024 / 1024:.0f} GB RAM, Python {platform.python_version()}"


def load_average() -> str:
    """Other work on the machine skews every figure: printed before and after the run."""
    return "load average " + " / ".join(f"{x:.2f}" for x in os.getloadavg())


def _schema_is_current(url: str) -> bool:
    """The quick data set is rebuilt when the migrations moved on since it was generated."""
    from alembic.script import ScriptDirectory

    if not appsetup.sqlite_path(url).exists():
        return False
    heads = set(ScriptDirectory(str(ROOT / "migrations")).get_heads())
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            current = {row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))}
        return current == heads
    except Exception:
        return False
    finally:
        engine.dispose()


def ensure_quick_data_set(url: str) -> None:
    if _schema_is_current(url):
        return
    from bench.generate import generate

    print(f"generating the {QUICK_ORDERS:,}-order quick data set in {appsetup.sqlite_path(url)} …", flush=True)
    generate(url, QUICK_ORDERS, log=lambda message: None)


def data_set_size(url: str) -> str:
    engine = create_engine(url)
    with engine.connect() as conn:
        counts = {
            t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in ("orders", "stock_moves", "events")
        }
        open_orders = conn.execute(
            text(
                "SELECT count(*) FROM orders WHERE status IN ('new', 'on_hold', 'ready', 'picking', 'packed', "
                "'partially_shipped')"
            )
        ).scalar_one()
    engine.dispose()
    return (
        f"{counts['orders']:,} orders ({open_orders:,} open), {counts['stock_moves']:,} stock moves, "
        f"{counts['events']:,} events"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a data set made by bench/generate.py")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"fewer repetitions; without --database-url, a {QUICK_ORDERS:,}-order SQLite set",
    )
    parser.add_argument("--no-server", action="store_true", help="skip the gunicorn figures")
    parser.add_argument(
        "--explain",
        action="store_true",
        help="print the query plan of the slowest statement behind every figure that misses",
    )
    parser.add_argument("--out", type=Path, help="also write the Markdown table (and plans) to this file")
    args = parser.parse_args(argv)
    if not args.database_url and not args.quick:
        parser.error("give --database-url (or --quick for the small SQLite data set)")
    url = appsetup.normalise_url(args.database_url or QUICK_URL)
    if args.quick and not args.database_url:
        ensure_quick_data_set(url)

    started = time.perf_counter()
    engine_name = "PostgreSQL" if appsetup.is_postgres(url) else "SQLite"
    header = [
        f"engine: {engine_name} · data set: {data_set_size(url)}",
        f"machine: {machine()} · {datetime.now(UTC):%Y-%m-%d %H:%M} UTC · {'quick' if args.quick else 'full'} run",
        f"before the run: {load_average()}",
    ]
    print("\n".join(header), flush=True)

    app = appsetup.make_app(url)
    ctx = scenarios.prepare(url, app, quick=args.quick)
    s = scenarios.samples(ctx)
    figures = []
    for label, group in (
        ("order pages", lambda: scenarios.order_pages(ctx, s)),
        ("stock pages", lambda: scenarios.stock_pages(ctx)),
        ("board", lambda: scenarios.board_pages(ctx)),
        ("stock verify", lambda: [scenarios.stock_verify(ctx)]),
    ):
        print(f"… {label}", flush=True)
        figures += group()
    products = workloads.sellable(app)
    print("… allocation", flush=True)
    figures.append(scenarios.allocation(ctx, products))
    figures.append(scenarios.allocation_only(ctx))
    if not args.no_server:
        print("… gunicorn", flush=True)
        figures += scenarios.served(ctx, products, url)
    table = markdown(figures, f"{engine_name}, {data_set_size(url).split(' (')[0]}")
    print()
    print(table)
    header.append(f"after the run: {load_average()} · {time.perf_counter() - started:.0f} s")
    print("\n" + header[-1])
    if args.explain:
        plans = plans_markdown(figures, ctx.engine)
        print("\n" + plans)
        table += "\n\n" + plans
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(header) + "\n\n" + table + "\n")


if __name__ == "__main__":
    main()
