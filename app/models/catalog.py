"""Sales channels, products, locations and their business calendars."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.enums import ChannelKind, InvoiceTrigger, LocationKind, RoutingStrategy
from app.models._util import one_of
from app.models.base import Base, Money, Rate, UTCDateTime, utcnow


class Channel(Base):
    __tablename__ = "channels"
    __table_args__ = (
        one_of("kind", ChannelKind.values()),
        one_of("routing_strategy", RoutingStrategy.values()),
        one_of("invoice_on", InvoiceTrigger.values()),
        CheckConstraint("dispatch_sla_hours > 0", name="dispatch_sla_positive"),
        CheckConstraint("dispatch_warn_pct > 0 AND dispatch_warn_pct < 100", name="warn_pct_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20), default=ChannelKind.WEBSTORE)
    active: Mapped[bool] = mapped_column(default=True)
    # SLA policy (DESIGN.md §5 defaults)
    dispatch_sla_hours: Mapped[int] = mapped_column(default=72)
    dispatch_warn_pct: Mapped[int] = mapped_column(default=80)
    dispatch_business_hours: Mapped[bool] = mapped_column(default=False)
    payment_reminder_1_hours: Mapped[int] = mapped_column(default=24)
    payment_reminder_2_hours: Mapped[int] = mapped_column(default=48)
    auto_cancel_hours: Mapped[int | None] = mapped_column(default=72)
    # Behaviour
    routing_strategy: Mapped[str] = mapped_column(String(20), default=RoutingStrategy.SINGLE_FIRST)
    prices_include_tax: Mapped[bool] = mapped_column(default=True)
    invoice_on: Mapped[str] = mapped_column(String(20), default=InvoiceTrigger.SHIPMENT)
    price_tolerance_pct: Mapped[Decimal] = mapped_column(Rate, default=Decimal("10.00"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Product(Base):
    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("unit_price >= 0", name="unit_price_non_negative"),
        CheckConstraint("weight_g IS NULL OR weight_g >= 0", name="weight_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    unit_price: Mapped[Decimal] = mapped_column(Money)
    tax_rate: Mapped[Decimal] = mapped_column(Rate, default=Decimal("21.00"))
    weight_g: Mapped[int | None]
    barcode: Mapped[str | None] = mapped_column(String(64), unique=True)
    reorder_point: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Location(Base):
    __tablename__ = "locations"
    __table_args__ = (one_of("kind", LocationKind.values()),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20), default=LocationKind.WAREHOUSE)
    # Regions (ISO country codes, "US-CA" style regions or postcode prefixes) this
    # location prefers to serve; routing ranks such locations first.
    regions: Mapped[list[str]] = mapped_column(JSON, default=list)
    priority: Mapped[int] = mapped_column(default=100)  # lower is preferred
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    cutoff_time: Mapped[str] = mapped_column(String(5), default="16:00")  # local HH:MM
    working_days: Mapped[str] = mapped_column(String(7), default="12345")  # ISO weekdays
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    holidays: Mapped[list[LocationHoliday]] = relationship(
        back_populates="location", order_by="LocationHoliday.day", cascade="all, delete-orphan"
    )


class LocationHoliday(Base):
    __tablename__ = "location_holidays"
    __table_args__ = (UniqueConstraint("location_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    name: Mapped[str] = mapped_column(String(120), default="")

    location: Mapped[Location] = relationship(back_populates="holidays")
