"""The demo catalogue: products, where each is stocked, and how much should be left.

Stock is spread unevenly on purpose: the store and the 3PL carry a selection,
some levels are low or empty, and a few products are sold out everywhere so
that orders for them wait on a `stock` hold.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from app.services.demo import reference as ref


@dataclass(slots=True, eq=False)
class ProductPlan:
    idx: int
    sku: str
    name: str
    unit_price: Decimal
    tax_class: str  # standard | reduced
    weight_g: int
    barcode: str
    reorder_point: int
    active: bool = True
    id: int = 0

    @property
    def home_tax_rate(self) -> Decimal:
        """The rate stored on the product: the seller's own country (NL)."""
        return ref.TAX_RATES["NL"][0 if self.tax_class == "standard" else 1]


@dataclass(slots=True, eq=False)
class LevelPlan:
    product: ProductPlan
    location: str
    bin: str
    reorder_point: int | None
    target_available: int  # on_hand - reserved once every order has been placed
    reserved: int = 0
    # The ledger: (time, signed qty, kind, reason, reference, OrderPlan | None, ShipmentPlan | None)
    moves: list[tuple] = field(default_factory=list)
    on_hand: int = 0


@dataclass(eq=False)
class Catalog:
    channels: dict[str, dict]
    locations: dict[str, dict]
    holidays: dict[str, list[tuple[date, str]]]
    products: list[ProductPlan]
    levels: dict[tuple[int, str], LevelPlan]
    orderable: list[ProductPlan]
    cum_weights: list[float]
    sold_out: list[ProductPlan]

    def stocked_at(self, product: ProductPlan, location: str) -> bool:
        return (product.idx, location) in self.levels


def build_catalog(rng: random.Random, anchor: datetime) -> Catalog:
    channels = {c["code"]: dict(c) for c in ref.CHANNELS}
    locations = {loc["code"]: dict(loc) for loc in ref.LOCATIONS}
    products = _products(rng)
    orderable = [p for p in products if p.active]
    # A long tail: a few best sellers, many slow movers (weights by a shuffled rank).
    ranked = orderable[:]
    rng.shuffle(ranked)
    weight = {p.idx: 1 / (rank + 6) ** 0.9 for rank, p in enumerate(ranked)}
    for rank, p in enumerate(ranked):
        p.reorder_point = max(3, int(40 / (1 + rank / 12)))
    sold_out = rng.sample(orderable, max(2, len(orderable) // 25))
    sold_out.sort(key=lambda p: p.idx)
    levels = _levels(rng, products, sold_out)
    return Catalog(
        channels=channels,
        locations=locations,
        holidays=_holidays(anchor),
        products=products,
        levels=levels,
        orderable=orderable,
        cum_weights=list(itertools.accumulate(weight[p.idx] for p in orderable)),
        sold_out=sold_out,
    )


def _products(rng: random.Random) -> list[ProductPlan]:
    products: list[ProductPlan] = []
    for family, name, tax_class, price, weight, dims in ref.FAMILIES:
        for combo in itertools.product(*dims) if dims else [()]:
            unit_price, weight_g = Decimal(price), weight
            for _code, _label, v_price, v_weight in combo:
                if v_price and v_price.startswith("x"):  # a pack size: scale, then end in .90
                    unit_price = (unit_price * Decimal(v_price[1:])).quantize(Decimal("1")) - Decimal("0.10")
                elif v_price:
                    unit_price = Decimal(v_price)
                weight_g = v_weight or weight_g
            idx = len(products)
            sku = "-".join([family, *(c[0] for c in combo)])
            label = " / ".join(c[1] for c in combo)
            products.append(ProductPlan(
                idx=idx, sku=sku, name=f"{name} — {label}" if label else name, unit_price=unit_price,
                tax_class=tax_class, weight_g=weight_g, barcode=ref.ean13(f"8714582{10000 + idx:05d}"),
                reorder_point=0,
            ))
    if len({p.sku for p in products}) != len(products):
        raise RuntimeError("demo catalogue has duplicate SKUs")
    # A few discontinued variants: still on the shelf, no longer sold.
    for p in rng.sample(products, 3):
        p.active = False
    return products


def _levels(rng: random.Random, products: list[ProductPlan], sold_out: list[ProductPlan]) -> dict:
    sold_out_ids = [p.idx for p in sold_out]
    levels: dict[tuple[int, str], LevelPlan] = {}
    for code in ref.STOCKING:
        bins = _bins(rng, code)
        for p in products:
            if rng.random() >= ref.STOCKING[code]:
                continue
            # The store keeps a shelf's worth; its own reorder point overrides the product's.
            store = code == "GB-LON"
            rp = max(2, p.reorder_point // 3) if store else None
            point = rp if store else p.reorder_point
            roll = rng.random()
            if p.idx in sold_out_ids or roll < 0.08:
                target = 0
            elif roll < 0.24:
                target = rng.randint(1, max(1, point))
            else:
                target = rng.randint(point + 1, point * (2 if store else 6) + 10)
            levels[(p.idx, code)] = LevelPlan(product=p, location=code, bin=next(bins), reorder_point=rp,
                                              target_available=target)
    # Every product is stocked somewhere: Rotterdam's overflow aisle takes the ones nobody carries.
    for p in products:
        if not any((p.idx, c) in levels for c in ref.STOCKING):
            levels[(p.idx, "NL-RTM")] = LevelPlan(product=p, location="NL-RTM", bin=f"Z-{p.idx % 24 + 1:02d}-1",
                                                  reorder_point=None, target_available=rng.randint(5, 40))
    return dict(sorted(levels.items(), key=lambda kv: (kv[0][1], kv[0][0])))


def _bins(rng: random.Random, location: str):
    """Shelf positions A-03-2 (aisle, bay, level) in walking order, with a few gaps."""
    for aisle in itertools.cycle(ref.AISLES[location]):
        for bay in range(1, 25):
            for level in range(1, 5):
                if rng.random() < 0.15:
                    continue
                yield f"{aisle}-{bay:02d}-{level}"


def _holidays(anchor: datetime) -> dict[str, list[tuple[date, str]]]:
    years = (anchor.year - 1, anchor.year)
    out: dict[str, list[tuple[date, str]]] = {}
    for code, days in ref.HOLIDAYS.items():
        out[code] = [(date(y, m, d), name) for y in years for m, d, name in days]
        if code == "US-NJ":  # fourth Thursday of November
            for y in years:
                first = date(y, 11, 1)
                thursday = first + timedelta(days=(3 - first.weekday()) % 7 + 21)
                out[code].append((thursday, "Thanksgiving Day"))
        out[code].sort()
    return out
