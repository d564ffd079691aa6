"""Reference data of the benchmark set: channels, locations, products and customers.

Built in memory as plain columns (lists indexed by position; database id = position + 1)
and written with the sink's bulk loader.
"""

from __future__ import annotations

import json
import random
import unicodedata

from bench.lib import reference as ref
from bench.lib.sinks import Sink
from bench.lib.timeline import CHANNELS

LOCATION_IDS = {row[0]: i + 1 for i, row in enumerate(ref.LOCATIONS)}
APPAREL = 10  # the first families come in sizes


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "".join(ch for ch in folded if ch.isalnum())


class Catalog:
    """Products with a long-tailed popularity, a few sold out everywhere (they cause stock holds)."""

    def __init__(self, rng: random.Random, n_products: int) -> None:
        self.skus: list[str] = []
        self.names: list[str] = []
        self.prices: list[int] = []  # cents
        self.reduced: list[bool] = []
        self.weights_g: list[int] = []
        self.reorder_points: list[int] = []
        styles = [
            "Classic",
            "Everyday",
            "Studio",
            "Field",
            "Harbour",
            "Nordic",
            "Atlas",
            "Dune",
            "Coast",
            "Alpine",
            "Meadow",
            "Urban",
        ]
        per_family: dict[str, int] = {}
        for i in range(n_products):
            code, name, reduced, base, weight = ref.FAMILIES[i % len(ref.FAMILIES)]
            n = per_family[code] = per_family.get(code, 0) + 1
            colour = ref.COLOURS[(i // len(ref.FAMILIES)) % len(ref.COLOURS)]
            style = styles[(i // (len(ref.FAMILIES) * len(ref.COLOURS))) % len(styles)]
            label = f"{style} {name} — {colour}"
            if i % len(ref.FAMILIES) < APPAREL:
                label += f" / {ref.SIZES[n % len(ref.SIZES)]}"
            self.skus.append(f"{code}-{colour[:3].upper()}-{n:04d}")
            self.names.append(label)
            self.prices.append(max(195, int(base * rng.uniform(0.8, 1.6)) // 100 * 100 + 95))
            self.reduced.append(reduced)
            self.weights_g.append(int(weight * rng.uniform(0.9, 1.1)))
        ranked = list(range(n_products))
        rng.shuffle(ranked)
        weight = [0.0] * n_products
        self.reorder_points = [0] * n_products
        for rank, p in enumerate(ranked):
            weight[p] = 1 / (rank + 20) ** 0.9
            self.reorder_points[p] = max(3, int(40 / (1 + rank / 200)))
        self.cum_weights = []
        total = 0.0
        for w in weight:
            total += w
            self.cum_weights.append(total)
        middle = ranked[200 : max(201, n_products // 5)]
        self.sold_out = sorted(rng.sample(middle, max(1, n_products * 15 // 1000)))
        self.sold_out_set = set(self.sold_out)

    def __len__(self) -> int:
        return len(self.skus)


class People:
    """Customers: consumers in the countries the locations serve, 1 % of them shops."""

    def __init__(self, rng: random.Random, n_customers: int) -> None:
        countries = list(ref.COUNTRIES)
        shares = [ref.COUNTRIES[c][0] for c in countries]
        self.countries = rng.choices(countries, weights=shares, k=n_customers)
        self.names: list[str] = []
        self.emails: list[str] = []
        self.addresses: list[tuple] = []  # (line1, line2, city, region, postcode, country)
        self.shops: set[int] = set()
        firsts = [(f, _ascii(f)) for f in ref.FIRST_NAMES]
        lasts = [(last, _ascii(last)) for last in ref.LAST_NAMES]
        for i, country in enumerate(self.countries):
            first, first_a = rng.choice(firsts)
            last, last_a = rng.choice(lasts)
            city, region, kind = rng.choice(ref.CITIES[country])
            if rng.random() < ref.WHOLESALE_SHARE:
                self.shops.add(i)
                name = f"{last} Home & Living {city}"
                email = f"orders.{last_a}{i + 1}@{ref.EMAIL_DOMAINS[i % 3]}"
            else:
                name = f"{first} {last}"
                email = f"{first_a}.{last_a}{i + 1}@{ref.EMAIL_DOMAINS[i % 3]}"
            self.names.append(name)
            self.emails.append(email)
            street = rng.choice(ref.STREETS[country])
            number = rng.randint(1, 240)
            line1 = f"{number} {street}" if country in ("US", "CA", "AU", "GB", "FR") else f"{street} {number}"
            line2 = f"Apt {rng.randint(1, 40)}" if rng.random() < 0.12 else None
            self.addresses.append((line1, line2, city, region, ref.postcode(rng, kind), country))

    def __len__(self) -> int:
        return len(self.names)


def write_channels_and_locations(sink: Sink, created: int) -> None:
    t, flag, rate = sink.time, sink.flag, sink.rate
    sink.load(
        "channels",
        (
            "id",
            "code",
            "name",
            "kind",
            "active",
            "dispatch_sla_hours",
            "dispatch_warn_pct",
            "dispatch_business_hours",
            "payment_reminder_1_hours",
            "payment_reminder_2_hours",
            "auto_cancel_hours",
            "routing_strategy",
            "prices_include_tax",
            "invoice_on",
            "price_tolerance_pct",
            "created_at",
        ),
        [
            (
                c.idx + 1,
                c.code,
                c.name,
                c.kind,
                flag(True),
                c.sla // 3600,
                c.warn_pct,
                flag(False),
                24,
                48,
                c.auto_cancel,
                c.routing,
                flag(True),
                "shipment",
                rate(1000),
                t(created),
            )
            for c in CHANNELS
        ],
    )
    sink.load(
        "locations",
        (
            "id",
            "code",
            "name",
            "kind",
            "regions",
            "priority",
            "timezone",
            "cutoff_time",
            "working_days",
            "active",
            "created_at",
        ),
        [
            (
                LOCATION_IDS[code],
                code,
                name,
                kind,
                json.dumps(regions),
                priority,
                tz,
                cutoff,
                "123456" if kind == "store" else "12345",
                flag(True),
                t(created),
            )
            for code, name, kind, regions, priority, tz, cutoff in ref.LOCATIONS
        ],
    )


def write_products(sink: Sink, catalog: Catalog, created: int) -> None:
    t, money, rate, flag = sink.time, sink.money, sink.rate, sink.flag
    nl_standard, nl_reduced = ref.COUNTRIES["NL"][2]
    sink.load(
        "products",
        (
            "id",
            "sku",
            "name",
            "unit_price",
            "tax_rate",
            "weight_g",
            "barcode",
            "reorder_point",
            "active",
            "created_at",
        ),
        [
            (
                i + 1,
                catalog.skus[i],
                catalog.names[i],
                money(catalog.prices[i]),
                rate(nl_reduced if catalog.reduced[i] else nl_standard),
                catalog.weights_g[i],
                ref.ean13(f"87145{i + 1:07d}"),
                catalog.reorder_points[i],
                flag(True),
                t(created),
            )
            for i in range(len(catalog))
        ],
    )


def write_customers(sink: Sink, people: People, first_order: list[int | None], created: int) -> None:
    t = sink.time
    batch = 100_000
    for start in range(0, len(people), batch):
        sink.load(
            "customers",
            ("id", "email", "name", "created_at"),
            [
                (i + 1, people.emails[i], people.names[i], t(first_order[i] or created))
                for i in range(start, min(start + batch, len(people)))
            ],
        )
        sink.commit()
