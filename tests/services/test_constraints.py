"""What must never break is enforced by the database itself, not only by the code."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy.exc import IntegrityError

from app.models import Channel, Customer, Location, Notification, Order, Product, StockLevel


@pytest.fixture
def level(db):
    product = Product(sku="S-1", name="Thing", unit_price=Decimal("5.00"))
    location = Location(code="L1", name="One")
    db.session.add_all([product, location])
    db.session.flush()
    level = StockLevel(product_id=product.id, location_id=location.id, on_hand=5, reserved=2)
    db.session.add(level)
    db.session.commit()
    return level


@pytest.mark.parametrize(("on_hand", "reserved"), [(-1, 0), (5, 6), (5, -1)])
def test_stock_checks(db, level, on_hand, reserved):
    level.on_hand, level.reserved = on_hand, reserved
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def _order(channel, customer, external_id, **kw):
    values = dict(
        number=f"SO-{external_id}", channel_id=channel.id, external_id=external_id, customer_id=customer.id,
        ship_name="A", ship_line1="B", ship_city="C", ship_postcode="1011AB", ship_country="NL",
        currency="EUR", placed_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    values.update(kw)
    return Order(**values)


def test_channel_and_external_id_are_unique(db):
    channel = Channel(code="web", name="Web")
    customer = Customer(email="a@example.com", name="A")
    db.session.add_all([channel, customer])
    db.session.flush()
    db.session.add(_order(channel, customer, "E-1"))
    db.session.commit()
    db.session.add(_order(channel, customer, "E-1", number="SO-other"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_hold_reason_only_when_on_hold(db):
    channel = Channel(code="web", name="Web")
    customer = Customer(email="a@example.com", name="A")
    db.session.add_all([channel, customer])
    db.session.flush()
    db.session.add(_order(channel, customer, "E-2", status="on_hold"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_notification_dedup_key_is_unique(db):
    db.session.add(Notification(kind="payment_reminder_1", recipient="a@example.com", dedup_key="k1"))
    db.session.commit()
    db.session.add(Notification(kind="payment_reminder_1", recipient="a@example.com", dedup_key="k1"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_money_round_trips_exactly(db, level):
    product = db.session.get(Product, level.product_id)
    product.unit_price = Decimal("1234567.89")
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Product, level.product_id).unit_price == Decimal("1234567.89")


def test_naive_datetimes_are_refused(db):
    db.session.add(Customer(email="b@example.com", name="B", created_at=datetime(2026, 1, 1)))
    with pytest.raises(Exception, match="naive"):
        db.session.commit()
    db.session.rollback()
