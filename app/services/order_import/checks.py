"""What only the database can tell about the file's orders: does the channel exist, are
the SKUs sold, was the order already received (same content: skip it; different
content: reject it), does the payment fit the total. Read-only; the dry run and the
real run (under its write lock) ask the same questions.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select

from app.domain.errors import ValidationFailed
from app.domain.intake import OrderTotals, after_payment, order_totals
from app.extensions import db
from app.models import Channel, Order, Product
from app.services.order_import.assemble import Draft
from app.services.orders import content_hash

# Bound parameters per IN (…) query: far below SQLite's 32,766 and PostgreSQL's 65,535.
IN_CHUNK = 5000


@dataclass(frozen=True)
class CatalogProduct:
    id: int
    sku: str
    name: str
    unit_price: Decimal
    tax_rate: Decimal
    active: bool


@dataclass
class Accepted:
    """A valid, new order: what the import creates."""

    draft: Draft
    fingerprint: str
    totals: OrderTotals
    placed_at: datetime  # the placing time, or the import's "now" when the file left it empty

    @property
    def body(self) -> dict:
        return self.draft.body


@dataclass
class Duplicate:
    draft: Draft
    number: str


@dataclass
class Checked:
    channel: Channel
    products: dict[str, CatalogProduct]
    accepted: list[Accepted] = field(default_factory=list)  # in placing order: the order they are created in
    duplicates: list[Duplicate] = field(default_factory=list)
    rejected: list[Draft] = field(default_factory=list)


def chunked(items: Sequence, size: int) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def find_channel(code: str) -> Channel | None:
    channel = db.session.scalar(select(Channel).where(Channel.code == code))
    return channel if channel is not None and channel.active else None


def load_products(skus: Iterable[str]) -> dict[str, CatalogProduct]:
    products = {}
    for chunk in chunked(sorted(set(skus)), IN_CHUNK):
        rows = db.session.execute(
            select(Product.id, Product.sku, Product.name, Product.unit_price, Product.tax_rate, Product.active)
            .where(Product.sku.in_(chunk))
        )
        products.update({row.sku: CatalogProduct(*row) for row in rows})
    return products


def load_existing(channel_id: int, external_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
    """external_id -> (number, content_hash) of orders this channel already has."""
    existing = {}
    for chunk in chunked(sorted(set(external_ids)), IN_CHUNK):
        rows = db.session.execute(
            select(Order.external_id, Order.number, Order.content_hash)
            .where(Order.channel_id == channel_id, Order.external_id.in_(chunk))
        )
        existing.update({ext: (number, fingerprint) for ext, number, fingerprint in rows})
    return existing


def check(drafts: list[Draft], channel: Channel, *, now: datetime) -> Checked:
    valid = [d for d in drafts if d.body is not None]
    products = load_products(line["sku"] for d in valid for line in d.body["lines"])
    existing = load_existing(channel.id, (d.external_id for d in valid))
    result = Checked(channel=channel, products=products)
    for draft in drafts:
        if draft.body is None:
            result.rejected.append(draft)
            continue
        fingerprint = content_hash(draft.body)
        known = existing.get(draft.external_id)
        if known is not None:
            number, known_fingerprint = known
            if known_fingerprint == fingerprint:
                result.duplicates.append(Duplicate(draft, number))
            else:
                draft.reject("external_id", f"{channel.code} order {draft.external_id} was already imported with "
                                            f"different content (as {number}).")
                result.rejected.append(draft)
            continue
        totals = _check_lines_and_payment(draft, channel, products)
        if draft.body is None:
            result.rejected.append(draft)
            continue
        result.accepted.append(Accepted(draft, fingerprint, totals, draft.body.get("placed_at") or now))
    result.accepted.sort(key=lambda a: (a.placed_at, a.draft.first_line))
    return result


def _check_lines_and_payment(draft: Draft, channel: Channel, products: dict[str, CatalogProduct]) -> OrderTotals:
    body = draft.body
    for csv_line, line in zip(draft.lines, body["lines"], strict=True):
        product = products.get(line["sku"])
        if product is None:
            draft.reject("sku", f"Unknown SKU {line['sku']}.", csv_line)
        elif not product.active:
            draft.reject("sku", f"{line['sku']} is no longer sold.", csv_line)
    if draft.errors:
        return OrderTotals(Decimal("0.00"), Decimal("0.00"), Decimal("0.00"))
    totals = order_totals(
        ((line["qty"], line["unit_price"], products[line["sku"]].tax_rate) for line in body["lines"]),
        body.get("shipping_price") or Decimal("0.00"),
        prices_include_tax=channel.prices_include_tax,
    )
    paid = body.get("paid_amount")
    if paid:
        try:
            after_payment(totals.total, Decimal("0.00"), paid, order_label=f"{channel.code} order {draft.external_id}")
        except ValidationFailed as exc:
            draft.reject("paid_amount", exc.message, draft.sources.get("paid_amount"))
    return totals
