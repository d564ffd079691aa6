"""Reading stock levels (writes live in app.services.inventory)."""

from __future__ import annotations

from sqlalchemy import select

from app.models import Location, Product, StockLevel
from app.services.pagination import Page, clamp_limit, keyset_page


def list_levels(
    *, sku: str | None = None, location: str | None = None, cursor: str | None = None, limit: int | None = None
) -> Page[StockLevel]:
    stmt = (
        select(StockLevel)
        .join(Product, Product.id == StockLevel.product_id)
        .join(Location, Location.id == StockLevel.location_id)
    )
    if sku:
        stmt = stmt.where(Product.sku == sku)
    if location:
        stmt = stmt.where(Location.code == location)
    return keyset_page(
        stmt, [Product.sku, Location.code], cursor=cursor, limit=clamp_limit(limit),
        key=lambda lvl: [lvl.product.sku, lvl.location.code],
    )


def level_dict(level: StockLevel) -> dict:
    return {
        "sku": level.product.sku,
        "location": level.location.code,
        "on_hand": level.on_hand,
        "reserved": level.reserved,
        "available": level.available,
    }
