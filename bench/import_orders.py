"""Order CSV import benchmark: a realistic 100,000-row export (≈ 40,000 orders of 1–4
lines) imported through app.services.order_import into a fresh database.

    .venv/bin/python bench/import_orders.py                       # temporary SQLite file
    .venv/bin/python bench/import_orders.py --database-url postgresql+psycopg://postgres@127.0.0.1/od_bench --reset

Prints rows/s, orders/s, seconds and peak RSS, beside two references measured in the
same run: the bare time to parse the file with the csv module, and create_order() one
order at a time (a sample, extrapolated to the file).
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask_migrate import upgrade
from sqlalchemy import create_engine, func, inspect, select, text

from app import create_app
from app.extensions import db
from app.models import Order, StockLevel
from app.services import catalog, inventory, orders
from app.services.actors import Actor
from app.services.order_import import import_orders
from app.services.order_import.assemble import assemble
from app.services.order_import.csvfile import COLUMNS, read
from config import Config

ACTOR = Actor(label="bench")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LOCATIONS = (("AMS", "Amsterdam DC", ["NL", "BE"], 1, "Europe/Amsterdam"),
             ("LEJ", "Leipzig DC", ["DE", "AT"], 2, "Europe/Berlin"),
             ("MAD", "Madrid 3PL", ["ES", "FR"], 3, "Europe/Madrid"))
# country: (weight, cities, postcode maker)
COUNTRIES = {
    "NL": (40, ["Amsterdam", "Utrecht", "Den Haag", "Groningen"], lambda r: f"{r.randint(1000, 9999)} "
                                                                         f"{r.choice('ABCDEFGHJKLMNPRSTVWXZ')}"
                                                                         f"{r.choice('ABCDEFGHJKLMNPRSTVWXZ')}"),
    "BE": (12, ["Brussel", "Antwerpen", "Gent", "Liège"], lambda r: str(r.randint(1000, 9999))),
    "DE": (25, ["Leipzig", "Köln", "München", "Düsseldorf"], lambda r: f"{r.randint(1000, 99999):05d}"),
    "AT": (5, ["Wien", "Graz", "Innsbruck"], lambda r: str(r.randint(1000, 9999))),
    "FR": (10, ["Paris", "Lyon", "Besançon", "Orléans"], lambda r: f"{r.randint(1000, 95999):05d}"),
    "ES": (8, ["Madrid", "Córdoba", "Málaga", "Logroño"], lambda r: f"{r.randint(1, 52):02d}{r.randint(0, 999):03d}"),
}
FIRST = ["José", "Zoë", "Anaïs", "Jürgen", "Ada", "Søren", "Chloé", "Mateo", "Léa", "Björn", "Inês", "Noah",
         "Emma", "Françoise", "Łukasz", "Maël"]
LAST = ["Müller", "García", "de Vries", "Dubois", "Janssens", "Nuñez", "O'Brien", "Kowalczyk", "Peeters",
        "Bakker", "Lefèvre", "Schröder", "Jansen", "Martín"]
STREETS = ["Keizersgracht", "Hauptstraße", "Rue de la Paix", "Calle Mayor", "Grote Markt", "Mariahilfer Straße"]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--products", type=int, default=400)
    parser.add_argument("--database-url", help="PostgreSQL URL of a database the benchmark may fill "
                                               "(default: a temporary SQLite file)")
    parser.add_argument("--reset", action="store_true", help="drop and recreate the PostgreSQL public schema first")
    parser.add_argument("--sample", type=int, default=300, help="orders created one by one for the reference")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--comma", action="store_true", help="write a ',' file with decimal points "
                                                             "(default: a ';' European export with decimal commas)")
    return parser.parse_args()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def build_app(url: str, reset: bool):
    if url.startswith("postgresql"):
        engine = create_engine(url)
        with engine.begin() as conn:
            if reset:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
            elif ("orders" in inspect(conn).get_table_names()
                  and conn.execute(text("SELECT 1 FROM orders LIMIT 1")).first()):
                sys.exit("The database already has orders; give an empty one or pass --reset.")
        engine.dispose()
    config = type("BenchConfig", (Config,), {"SQLALCHEMY_DATABASE_URI": url, "TESTING": False})
    app = create_app(config)
    with app.app_context():
        upgrade()
    return app


def seed_catalog(rng: random.Random, n_products: int) -> dict[str, Decimal]:
    for code in ("web", "web2"):
        catalog.create_channel(code=code, name=f"Web store {code}", actor=ACTOR)
    for code, name, regions, priority, tz in LOCATIONS:
        catalog.create_location(code=code, name=name, regions=regions, priority=priority, timezone=tz, actor=ACTOR)
    prices = {}
    for i in range(n_products):
        sku = f"SKU-{i:05d}"
        prices[sku] = Decimal(rng.choice(["4.95", "9.90", "12.50", "19.95", "24.00", "39.90", "59.00", "89.50"]))
        catalog.create_product(sku=sku, name=f"Product {i}", unit_price=prices[sku], actor=ACTOR)
    for i, sku in enumerate(prices):
        for code, *_ in LOCATIONS:
            # Most products are well stocked somewhere; every 25th runs short, as real catalogs do.
            qty = rng.randint(0, 40) if i % 25 == 24 else rng.randint(300, 900)
            if qty:
                inventory.receive(location=code, sku=sku, qty=qty, reference="bench", actor=ACTOR, now=NOW)
    return prices


def money(value: Decimal, decimal_comma: bool) -> str:
    text = f"{value:.2f}"
    return text.replace(".", ",") if decimal_comma else text


def write_csv(path: Path, rng: random.Random, prices: dict[str, Decimal], n_rows: int, *, eu: bool) -> int:
    """Stream a realistic export to `path`; returns the number of orders."""
    skus = list(prices)
    weights = [1 / (1 + i) ** 0.6 for i in range(len(skus))]  # a long tail of slow sellers
    countries = list(COUNTRIES)
    country_weights = [COUNTRIES[c][0] for c in countries]
    rows = orders_written = 0
    with path.open("w", newline="", encoding="utf-8-sig" if eu else "utf-8") as out:
        writer = csv.writer(out, delimiter=";" if eu else ",", lineterminator="\r\n" if eu else "\n")
        writer.writerow(COLUMNS)
        while rows < n_rows:
            orders_written += 1
            n_lines = min(rng.choice([1, 2, 3, 4]), n_rows - rows)
            country = rng.choices(countries, country_weights)[0]
            _, cities, postcode = COUNTRIES[country]
            first, last = rng.choice(FIRST), rng.choice(LAST)
            customer = rng.randint(1, 30_000)  # repeat buyers
            email = f"{first.lower()[:3]}.{customer}@example.com".encode("ascii", "ignore").decode()
            name = f"{first} {last}"
            placed = NOW - timedelta(minutes=rng.randint(0, 60 * 24 * 14))
            lines = []
            for sku in rng.choices(skus, weights, k=n_lines):
                price = prices[sku]
                if rng.random() < 0.02:
                    price = (price * Decimal("0.5")).quantize(Decimal("0.01"))  # a mistake the review catches
                lines.append((sku, rng.choices([1, 2, 3], [80, 15, 5])[0], price))
            shipping = Decimal("0.00") if rng.random() < 0.4 else Decimal("4.95")
            total = sum((q * p for _, q, p in lines), Decimal("0.00")) + shipping
            paid = total if rng.random() < 0.7 else Decimal("0.00")
            post = postcode(rng) if rng.random() > 0.03 else "??"
            line2 = rng.choice(["", "", "", "2e étage", "Apt. 3; rear entrance", 'c/o "Studio B"'])
            street, city = f"{rng.choice(STREETS)} {rng.randint(1, 250)}", rng.choice(cities)
            for sku, qty, price in lines:
                writer.writerow([
                    f"WEB-{orders_written:07d}", placed.isoformat(), name, email, name,
                    street, line2, city, "", post, country,
                    sku, qty, money(price, eu), money(shipping, eu), "EUR", money(paid, eu) if paid else "",
                ])
                rows += 1
    return orders_written


def bare_parse_seconds(path: Path) -> float:
    started = time.perf_counter()
    with path.open(newline="", encoding="utf-8-sig") as f:
        delimiter = ";" if ";" in f.readline() else ","
        f.seek(0)
        for _ in csv.reader(f, delimiter=delimiter):
            pass
    return time.perf_counter() - started


def main() -> None:
    args = parse_args()
    rng = random.Random(args.seed)
    workdir = Path(tempfile.mkdtemp(prefix="od-bench-import-"))
    url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    engine_name = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    app = build_app(url, args.reset)
    with app.app_context():
        t0 = time.perf_counter()
        prices = seed_catalog(rng, args.products)
        path = workdir / "orders.csv"
        n_orders = write_csv(path, rng, prices, args.rows, eu=not args.comma)
        setup = time.perf_counter() - t0
        size_mb = path.stat().st_size / 1e6
        rss_before = peak_rss_mb()
        print(f"{engine_name}: {args.rows:,} rows, {n_orders:,} orders, {size_mb:.1f} MB "
              f"({'; with decimal commas' if not args.comma else ', decimal points'}); setup {setup:.1f} s")

        parse = bare_parse_seconds(path)
        print(f"baseline   csv module, parse only       {parse:7.2f} s   {args.rows / parse:>10,.0f} rows/s")

        data = path.read_bytes()
        dry = import_orders(data, "web", actor=ACTOR, filename=path.name, dry_run=True, now=NOW)
        print(f"dry run    parse + validate + checks   {dry.seconds:7.2f} s   {args.rows / dry.seconds:>10,.0f} rows/s"
              f"   ({dry.orders:,} orders would be created, {dry.rejected_rows} rows rejected)")

        started, cpu = time.perf_counter(), time.process_time()
        summary = import_orders(data, "web", actor=ACTOR, filename=path.name, skip_invalid=True, now=NOW)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        rss_after = peak_rss_mb()
        assert summary.imported, summary.headline
        print(f"import     all of it, one transaction  {seconds:7.2f} s   {args.rows / seconds:>10,.0f} rows/s"
              f"   {summary.orders / seconds:,.0f} orders/s   (CPU of this process: {cpu:.1f} s; "
              f"load average {os.getloadavg()[0]:.1f})")
        statuses = {f"{status}/{hold}" if hold else status: n for status, hold, n in db.session.execute(
            select(Order.status, Order.hold_reason, func.count()).group_by(Order.status, Order.hold_reason))}
        reserved = db.session.scalar(select(func.sum(StockLevel.reserved)))
        print(f"           {summary.headline}  statuses {statuses}; {reserved:,} units reserved")
        print(f"peak RSS   {rss_after:,.0f} MB (before the import: {rss_before:,.0f} MB)")

        drafts = [d for d in assemble(read(data).rows, "web2", timezone=app.config["TIMEZONE"])
                  if d.body is not None][: args.sample]
        started = time.perf_counter()
        for draft in drafts:
            orders.create_order(draft.body, actor=ACTOR, source="csv", now=NOW)
        single = (time.perf_counter() - started) / max(len(drafts), 1)
        print(f"reference  create_order() one by one  {single * 1000:7.1f} ms/order → {1 / single:,.0f} orders/s; "
              f"this file would take ≈ {single * n_orders:,.0f} s ({len(drafts)}-order sample)")
        db.session.remove()
        db.engine.dispose()
    if not args.database_url:
        for leftover in workdir.iterdir():
            leftover.unlink()
        os.rmdir(workdir)


if __name__ == "__main__":
    main()
