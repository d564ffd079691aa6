"""Rows for tests, written straight through the models (no service rules run).

Use these to set the scene a test needs — "two new orders and one held for
stock" — when the way the rows came to be is not what the test is about. Each
function commits, so a live server running in another thread sees the rows at
once. Call them inside the `app` fixture's application context.

    channel = make_channel()
    order = make_order(status="on_hold", hold_reason="stock", lines=[(make_product(), 2)])
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from app.domain.order_states import OrderStatus
from app.models import Channel, Customer, Location, Order, OrderLine, Product, StockLevel, StockMove
from app.services.numbering import next_number
from app.services.tx import begin_write

_seq = itertools.count(1)

# A line given to make_order: a Product (qty 1 at its price), (product, qty),
# (product, qty, unit_price) or a dict with product, qty and optionally unit_price.
LineSpec = Product | tuple | dict


def _next() -> int:
    return next(_seq)


def _save(*rows: Any) -> None:
    session = begin_write()
    session.add_all(rows)
    session.commit()


def make_channel(code: str | None = None, **fields: Any) -> Channel:
    n = _next()
    channel = Channel(code=code or f"WEB{n}", name=fields.pop("name", f"Webstore {n}"), **fields)
    _save(channel)
    return channel


def make_customer(email: str | None = None, **fields: Any) -> Customer:
    n = _next()
    customer = Customer(email=email or f"customer-{n}@example.com", name=fields.pop("name", f"Customer {n}"), **fields)
    _save(customer)
    return customer


def make_product(sku: str | None = None, unit_price: Decimal | str = "19.90", **fields: Any) -> Product:
    n = _next()
    product = Product(
        sku=sku or f"SKU-{n:05d}", name=fields.pop("name", f"Product {n}"), unit_price=Decimal(unit_price), **fields
    )
    _save(product)
    return product


def make_location(code: str | None = None, **fields: Any) -> Location:
    n = _next()
    location = Location(code=code or f"WH{n}", name=fields.pop("name", f"Warehouse {n}"), **fields)
    _save(location)
    return location


def make_stock(
    product: Product,
    location: Location,
    on_hand: int,
    *,
    reserved: int = 0,
    bin: str = "",
    reorder_point: int | None = None,
) -> StockLevel:
    """A stock level with the receipt that explains it: on_hand always equals the ledger."""
    level = StockLevel(
        product_id=product.id,
        location_id=location.id,
        on_hand=on_hand,
        reserved=reserved,
        bin=bin,
        reorder_point=reorder_point,
    )
    rows: list[Any] = [level]
    if on_hand:
        rows.append(
            StockMove(
                product_id=product.id,
                location_id=location.id,
                qty=on_hand,
                kind="receipt",
                reason="test stock",
                actor="tests",
            )
        )
    _save(*rows)
    return level


def _line_parts(spec: LineSpec) -> tuple[Product, int, Decimal]:
    if isinstance(spec, Product):
        return spec, 1, spec.unit_price
    if isinstance(spec, dict):
        product = spec["product"]
        return product, spec.get("qty", 1), Decimal(spec.get("unit_price", product.unit_price))
    product, qty, *price = spec
    return product, qty, Decimal(price[0]) if price else product.unit_price


def _tax_contained(gross: Decimal, rate: Decimal) -> Decimal:
    return (gross * rate / (100 + rate)).quantize(Decimal("0.01"))


def make_order(
    status: str = OrderStatus.NEW,
    *,
    lines: Sequence[LineSpec] | None = None,
    hold_reason: str | None = None,
    channel: Channel | None = None,
    customer: Customer | None = None,
    placed_at: datetime | None = None,
    shipping_price: Decimal | str = "0.00",
    **fields: Any,
) -> Order:
    """An order in any status, with tax-inclusive totals worked out from its lines.

    `lines` defaults to one unit of a new product; pass `lines=[]` for an order
    without lines. An `on_hold` order needs a hold reason (the database checks
    it): `manual` unless one is given. Nothing is allocated or reserved.
    """
    if status == OrderStatus.ON_HOLD and hold_reason is None:
        hold_reason = "manual"
    channel = channel or make_channel()
    customer = customer or make_customer()
    specs: Iterable[LineSpec] = [make_product()] if lines is None else lines
    placed_at = placed_at or datetime.now(UTC)

    session = begin_write()
    number = next_number("order")
    order = Order(
        number=number,
        channel_id=channel.id,
        external_id=fields.pop("external_id", number),
        customer_id=customer.id,
        ship_name=fields.pop("ship_name", customer.name),
        ship_line1=fields.pop("ship_line1", "1 Canal Street"),
        ship_city=fields.pop("ship_city", "Amsterdam"),
        ship_postcode=fields.pop("ship_postcode", "1011 AA"),
        ship_country=fields.pop("ship_country", "NL"),
        currency=fields.pop("currency", "EUR"),
        placed_at=placed_at,
        status=status,
        hold_reason=hold_reason,
        held_at=placed_at if hold_reason else None,
        shipping_price=Decimal(shipping_price),
        **fields,
    )
    subtotal = tax = Decimal("0.00")
    for line_no, spec in enumerate(specs, start=1):
        product, qty, unit_price = _line_parts(spec)
        gross = unit_price * qty
        subtotal += gross
        tax += _tax_contained(gross, product.tax_rate)
        order.lines.append(
            OrderLine(
                line_no=line_no,
                product_id=product.id,
                sku=product.sku,
                name=product.name,
                qty=qty,
                unit_price=unit_price,
                tax_rate=product.tax_rate,
            )
        )
    order.subtotal, order.tax_total = subtotal, tax
    order.total = subtotal + order.shipping_price
    session.add(order)
    session.commit()
    return order


__all__ = ["make_channel", "make_customer", "make_location", "make_order", "make_product", "make_stock"]
