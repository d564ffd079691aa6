"""Products, locations and sales channels."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select

from app.domain.enums import ChannelKind, LocationKind
from app.domain.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.models import Channel, Location, Product
from app.services.actors import Actor
from app.services.audit import record_event
from app.services.pagination import Page, clamp_limit, keyset_page
from app.services.tx import begin_write

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
SKU_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")


def parse_money(value, field: str = "unit_price") -> Decimal:
    """A non-negative amount with at most two decimals, from a string or number."""
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationFailed(f"{field} must be an amount such as 19.90.", details={field: "not a number"}) from None
    if not amount.is_finite() or amount < 0:
        raise ValidationFailed(f"{field} must be zero or more.", details={field: "negative"})
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationFailed(f"{field} has more than two decimals.", details={field: "too many decimals"})
    return amount.quantize(Decimal("0.01"))


# Products --------------------------------------------------------------------


def get_product(sku: str) -> Product:
    product = db.session.scalar(select(Product).where(Product.sku == sku))
    if product is None:
        raise NotFound(f"There is no product with SKU {sku}.")
    return product


def list_products(*, q: str | None = None, cursor: str | None = None, limit: int | None = None) -> Page[Product]:
    stmt = select(Product)
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(Product.sku.ilike(like) | Product.name.ilike(like))
    return keyset_page(stmt, [Product.sku], cursor=cursor, limit=clamp_limit(limit), key=lambda p: [p.sku])


def create_product(
    *,
    sku: str,
    name: str,
    unit_price,
    actor: Actor,
    barcode: str | None = None,
    weight_g: int | None = None,
    tax_rate=None,
    reorder_point: int = 0,
) -> Product:
    sku = (sku or "").strip()
    errors = {}
    if not SKU_RE.match(sku):
        errors["sku"] = "Use letters, digits and . _ / - (up to 64 characters)."
    if not (name or "").strip():
        errors["name"] = "A product needs a name."
    if weight_g is not None and weight_g < 0:
        errors["weight_g"] = "Weight cannot be negative."
    if errors:
        raise ValidationFailed("The product is not valid.", details=errors)
    price = parse_money(unit_price)
    session = begin_write()
    if session.scalar(select(Product.id).where(Product.sku == sku)):
        raise Conflict(f"A product with SKU {sku} already exists.", details={"sku": sku})
    if barcode and session.scalar(select(Product.id).where(Product.barcode == barcode)):
        raise Conflict(f"Barcode {barcode} already belongs to another product.", details={"barcode": barcode})
    product = Product(
        sku=sku,
        name=name.strip(),
        unit_price=price,
        barcode=barcode or None,
        weight_g=weight_g,
        reorder_point=reorder_point,
    )
    if tax_rate is not None:
        product.tax_rate = Decimal(str(tax_rate))
    session.add(product)
    session.flush()
    record_event("product", sku, "product_created", actor=actor, details={"unit_price": str(price)})
    session.commit()
    return product


# Locations -------------------------------------------------------------------


def get_location(code: str) -> Location:
    location = db.session.scalar(select(Location).where(Location.code == code))
    if location is None:
        raise NotFound(f"There is no location with code {code}.")
    return location


def list_locations(*, cursor: str | None = None, limit: int | None = None) -> Page[Location]:
    return keyset_page(
        select(Location), [Location.priority, Location.code], cursor=cursor, limit=clamp_limit(limit),
        key=lambda loc: [loc.priority, loc.code],
    )


def create_location(
    *,
    code: str,
    name: str,
    actor: Actor,
    kind: str = LocationKind.WAREHOUSE,
    regions: list[str] | None = None,
    priority: int = 100,
    timezone: str = "UTC",
    cutoff_time: str = "16:00",
) -> Location:
    code = (code or "").strip()
    errors = {}
    if not CODE_RE.match(code):
        errors["code"] = "Use letters, digits and . _ - (up to 32 characters)."
    if not (name or "").strip():
        errors["name"] = "A location needs a name."
    if kind not in LocationKind.values():
        errors["kind"] = f"Choose one of {', '.join(LocationKind.values())}."
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        errors["timezone"] = f"Unknown timezone “{timezone}” (use an IANA name such as Europe/Berlin)."
    if not re.match(r"^([01]\d|2[0-3]):[0-5]\d$", cutoff_time or ""):
        errors["cutoff_time"] = "Use HH:MM, for example 16:00."
    if errors:
        raise ValidationFailed("The location is not valid.", details=errors)
    session = begin_write()
    if session.scalar(select(Location.id).where(Location.code == code)):
        raise Conflict(f"A location with code {code} already exists.", details={"code": code})
    location = Location(
        code=code,
        name=name.strip(),
        kind=kind,
        regions=[r.strip().upper() for r in (regions or []) if r.strip()],
        priority=priority,
        timezone=timezone,
        cutoff_time=cutoff_time,
    )
    session.add(location)
    session.flush()
    record_event("location", code, "location_created", actor=actor)
    session.commit()
    return location


# Channels --------------------------------------------------------------------


def get_channel(code: str) -> Channel:
    channel = db.session.scalar(select(Channel).where(Channel.code == code))
    if channel is None:
        raise NotFound(f"There is no sales channel with code {code}.")
    return channel


def list_channels(*, cursor: str | None = None, limit: int | None = None) -> Page[Channel]:
    return keyset_page(select(Channel), [Channel.code], cursor=cursor, limit=clamp_limit(limit),
                       key=lambda c: [c.code])


def create_channel(
    *, code: str, name: str, actor: Actor, kind: str = ChannelKind.WEBSTORE, dispatch_sla_hours: int = 72
) -> Channel:
    code = (code or "").strip()
    errors = {}
    if not CODE_RE.match(code):
        errors["code"] = "Use letters, digits and . _ - (up to 32 characters)."
    if not (name or "").strip():
        errors["name"] = "A channel needs a name."
    if kind not in ChannelKind.values():
        errors["kind"] = f"Choose one of {', '.join(ChannelKind.values())}."
    if not isinstance(dispatch_sla_hours, int) or not 1 <= dispatch_sla_hours <= 24 * 60:
        errors["dispatch_sla_hours"] = "Between 1 and 1440 hours."
    if errors:
        raise ValidationFailed("The channel is not valid.", details=errors)
    session = begin_write()
    if session.scalar(select(Channel.id).where(Channel.code == code)):
        raise Conflict(f"A channel with code {code} already exists.", details={"code": code})
    channel = Channel(code=code, name=name.strip(), kind=kind, dispatch_sla_hours=dispatch_sla_hours)
    session.add(channel)
    session.flush()
    record_event("channel", code, "channel_created", actor=actor)
    session.commit()
    return channel
