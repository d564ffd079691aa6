"""Pick waves and shipments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.enums import ShipmentStatus, WaveStatus
from app.models._util import one_of
from app.models.base import Base, BigID, UTCDateTime, utcnow


class Wave(Base):
    __tablename__ = "waves"
    __table_args__ = (one_of("status", WaveStatus.values()),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=WaveStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120), default="")
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    location = relationship("Location")
    shipments: Mapped[list[Shipment]] = relationship(back_populates="wave", order_by="Shipment.id")


class Shipment(Base):
    """One parcel (or set of parcels) leaving one location for one order."""

    __tablename__ = "shipments"
    __table_args__ = (
        one_of("status", ShipmentStatus.values()),
        Index("ix_shipments_location_status", "location_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    wave_id: Mapped[int | None] = mapped_column(ForeignKey("waves.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=ShipmentStatus.PENDING)
    carrier: Mapped[str | None] = mapped_column(String(40))
    tracking_number: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    packed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Shipments packed into one parcel (same customer, same address, same location) share
    # this key: the first shipment's number. Each keeps its own order, invoice and status.
    parcel_group: Mapped[str | None] = mapped_column(String(20), index=True)

    order = relationship("Order")
    location = relationship("Location")
    wave: Mapped[Wave | None] = relationship(back_populates="shipments")
    lines: Mapped[list[ShipmentLine]] = relationship(
        back_populates="shipment", order_by="ShipmentLine.id", cascade="all, delete-orphan"
    )


class ShipmentLine(Base):
    __tablename__ = "shipment_lines"
    __table_args__ = (
        UniqueConstraint("shipment_id", "order_line_id"),
        CheckConstraint("qty > 0", name="qty_positive"),
        CheckConstraint("qty_packed >= 0 AND qty_packed <= qty", name="packed_range"),
    )

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"))
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"), index=True)
    qty: Mapped[int]
    qty_packed: Mapped[int] = mapped_column(default=0)

    shipment: Mapped[Shipment] = relationship(back_populates="lines")
    line = relationship("OrderLine")


class ParcelDismissal(Base):
    """Ops said no to one suggestion to combine these orders into one parcel.

    Keyed by location and the exact set of orders: when another order of the same
    customer joins them, that is a new suggestion and it is shown again."""

    __tablename__ = "parcel_dismissals"
    __table_args__ = (UniqueConstraint("location_id", "orders_key"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    orders_key: Mapped[str] = mapped_column(String(64))  # sha256 of the sorted order numbers
    order_numbers: Mapped[list[str]] = mapped_column(JSON)
    dismissed_by: Mapped[str] = mapped_column(String(120), default="")
    dismissed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
