"""Catalog fixtures built through the services, as an integrator would."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from app.services import catalog, inventory
from app.services.actors import Actor

ACTOR = Actor(label="test")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday morning


@pytest.fixture
def shop(app):
    """A web store, two warehouses (NL serves NL/BE, DE serves DE/AT) and three products."""
    return build_shop()


def build_shop():
    catalog.create_channel(code="web", name="Web store", actor=ACTOR)
    catalog.create_location(code="AMS", name="Amsterdam", regions=["NL", "BE"], priority=1,
                            timezone="Europe/Amsterdam", actor=ACTOR)
    catalog.create_location(code="LEJ", name="Leipzig", regions=["DE", "AT"], priority=2,
                            timezone="Europe/Berlin", actor=ACTOR)
    for sku, price in (("MUG", "12.50"), ("TEE", "25.00"), ("CAP", "15.00")):
        catalog.create_product(sku=sku, name=sku.title(), unit_price=Decimal(price), actor=ACTOR)
    return ACTOR


def order_body(external_id: str = "A-1", lines=(("MUG", 1, "12.50"),), country: str = "NL",
               postcode: str = "1011 AB", **extra) -> dict:
    body = {
        "channel": "web",
        "external_id": external_id,
        "placed_at": extra.pop("placed_at", NOW),
        "customer": {"name": "Ada Buyer", "email": "ada@example.com"},
        "ship_to": {"name": "Ada Buyer", "line1": "Damrak 1", "line2": None, "city": "Amsterdam",
                    "region": None, "postcode": postcode, "country": country},
        "lines": [{"sku": s, "qty": q, "unit_price": Decimal(p)} for s, q, p in lines],
        "shipping_price": Decimal("4.95"),
        "currency": "EUR",
    }
    body.update(extra)
    return body


def stock(location: str, sku: str, qty: int) -> None:
    inventory.receive(location=location, sku=sku, qty=qty, reference="initial", actor=ACTOR, now=NOW)
