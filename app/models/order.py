"""Customers, orders, their lines, payments and refunds."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, func, literal_column
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.enums import AddressStatus
from app.domain.order_states import HoldReason, OrderStatus, PaymentStatus
from app.models._util import one_of
from app.models.base import Base, BigID, Money, Rate, UTCDateTime, utcnow


def _lower_prefix_index(name: str, column: str) -> Index:
    """An index on (lower(column), id) that serves a case-insensitive prefix match (order
    search): `lower(x) LIKE 'abc%'` on PostgreSQL (text_pattern_ops, whatever the
    collation), the range `lower(x) >= 'abc' AND lower(x) < 'abd'` on SQLite. With the id
    in it, finding the matching ids reads the index alone."""
    label = f"lower_{column}"
    return Index(name, func.lower(literal_column(column)).label(label), "id",
                 postgresql_ops={label: "text_pattern_ops"})


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (_lower_prefix_index("ix_customers_lower_name", "name"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # lower-case; matches orders across channels
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    orders: Mapped[list[Order]] = relationship(back_populates="customer", order_by="Order.id")


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("channel_id", "external_id"),
        one_of("status", OrderStatus.values()),
        one_of("payment_status", PaymentStatus.values()),
        CheckConstraint(
            "hold_reason IS NULL OR hold_reason IN ("
            + ", ".join(f"'{v}'" for v in HoldReason.values())
            + ")",
            name="hold_reason_valid",
        ),
        CheckConstraint("(status = 'on_hold') = (hold_reason IS NOT NULL)", name="hold_reason_iff_on_hold"),
        one_of("address_status", AddressStatus.values()),
        CheckConstraint("total >= 0 AND shipping_price >= 0", name="totals_non_negative"),
        CheckConstraint("paid_amount >= 0 AND refunded_amount >= 0", name="payments_non_negative"),
        # Board columns and queues: keyset pagination by (ship_by, id) within a status.
        Index("ix_orders_status_ship_by_id", "status", "ship_by", "id"),
        Index("ix_orders_status_placed_at_id", "status", "placed_at", "id"),
        Index("ix_orders_placed_at_id", "placed_at", "id"),
        _lower_prefix_index("ix_orders_lower_ship_name", "ship_name"),
    )

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    external_id: Mapped[str] = mapped_column(String(100))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    # Intake fingerprint: the same external_id with a different body is a conflict.
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    source: Mapped[str] = mapped_column(String(20), default="api")  # api, csv, ui, exchange, demo

    ship_name: Mapped[str] = mapped_column(String(200))
    ship_line1: Mapped[str] = mapped_column(String(200))
    ship_line2: Mapped[str | None] = mapped_column(String(200))
    ship_city: Mapped[str] = mapped_column(String(120))
    ship_region: Mapped[str | None] = mapped_column(String(120))
    ship_postcode: Mapped[str] = mapped_column(String(20))
    ship_country: Mapped[str] = mapped_column(String(2))
    address_status: Mapped[str] = mapped_column(String(20), default=AddressStatus.OK)

    currency: Mapped[str] = mapped_column(String(3))
    prices_include_tax: Mapped[bool] = mapped_column(default=True)
    subtotal: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    shipping_price: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    tax_total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    paid_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    refunded_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))

    placed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ship_by: Mapped[datetime | None] = mapped_column(UTCDateTime)
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    status: Mapped[str] = mapped_column(String(20), default=OrderStatus.NEW)
    payment_status: Mapped[str] = mapped_column(String(20), default=PaymentStatus.UNPAID)
    hold_reason: Mapped[str | None] = mapped_column(String(20), index=True)
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    held_by: Mapped[str | None] = mapped_column(String(120))  # who or what put it on hold
    hold_note: Mapped[str | None] = mapped_column(String(500))
    # A person accepted the prices despite the catalog check (releases a `review` hold for good).
    review_cleared: Mapped[bool] = mapped_column(default=False)
    priority: Mapped[int] = mapped_column(default=0)  # higher is more urgent
    replaces_order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))  # exchanges
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, index=True)

    # version_id_col makes every UPDATE check and bump the version: a concurrent
    # writer that read an older version fails instead of overwriting silently.
    __mapper_args__ = {"version_id_col": version}

    channel = relationship("Channel", lazy="joined")
    customer: Mapped[Customer] = relationship(back_populates="orders")
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", order_by="OrderLine.line_no", cascade="all, delete-orphan"
    )
    payments: Mapped[list[Payment]] = relationship(back_populates="order", order_by="Payment.id")
    refunds: Mapped[list[Refund]] = relationship(back_populates="order", order_by="Refund.id")

    @property
    def item_count(self) -> int:
        return sum(line.qty for line in self.lines)

    @property
    def balance_due(self) -> Decimal:
        return self.total - self.paid_amount + self.refunded_amount


class OrderLine(Base):
    __tablename__ = "order_lines"
    __table_args__ = (
        UniqueConstraint("order_id", "line_no"),
        CheckConstraint("qty > 0", name="qty_positive"),
        CheckConstraint("unit_price >= 0", name="unit_price_non_negative"),
        CheckConstraint("qty_allocated >= 0 AND qty_allocated <= qty", name="allocated_range"),
        CheckConstraint("qty_shipped >= 0 AND qty_shipped <= qty", name="shipped_range"),
        CheckConstraint("qty_returned >= 0 AND qty_returned <= qty_shipped", name="returned_range"),
        CheckConstraint("qty_allocated + qty_shipped <= qty", name="allocated_plus_shipped"),
        # Orders with a SKU (search) read from the index alone.
        Index("ix_order_lines_sku_order_id", "sku", "order_id"),
    )

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    line_no: Mapped[int]
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    sku: Mapped[str] = mapped_column(String(64))  # snapshot at intake; ix_order_lines_sku_order_id
    name: Mapped[str] = mapped_column(String(200))
    qty: Mapped[int]
    unit_price: Mapped[Decimal] = mapped_column(Money)
    tax_rate: Mapped[Decimal] = mapped_column(Rate)
    # Kept equal to the sum of live allocations / shipped / returned quantities
    # by the services that change those (stock verify checks it).
    qty_allocated: Mapped[int] = mapped_column(default=0)
    qty_shipped: Mapped[int] = mapped_column(default=0)
    qty_returned: Mapped[int] = mapped_column(default=0)

    order: Mapped[Order] = relationship(back_populates="lines")
    product = relationship("Product")
    allocations = relationship("Allocation", back_populates="line", cascade="all, delete-orphan")

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.qty


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    method: Mapped[str] = mapped_column(String(40))
    reference: Mapped[str] = mapped_column(String(120), default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120), default="")

    order: Mapped[Order] = relationship(back_populates="payments")


class Refund(Base):
    __tablename__ = "refunds"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    return_id: Mapped[int | None] = mapped_column(ForeignKey("returns.id"), index=True)
    credit_note_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    amount: Mapped[Decimal] = mapped_column(Money)
    method: Mapped[str] = mapped_column(String(40))
    reference: Mapped[str] = mapped_column(String(120), default="")
    reason: Mapped[str] = mapped_column(String(500), default="")
    refunded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120), default="")

    order: Mapped[Order] = relationship(back_populates="refunds")
