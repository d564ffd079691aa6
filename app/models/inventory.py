"""Stock per product and location, its append-only ledger, and allocations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.enums import MoveKind
from app.models._util import one_of
from app.models.base import Base, BigID, UTCDateTime, utcnow


class StockLevel(Base):
    __tablename__ = "stock_levels"
    __table_args__ = (
        UniqueConstraint("product_id", "location_id"),
        # What must never break is enforced by the database itself.
        CheckConstraint("on_hand >= 0", name="on_hand_non_negative"),
        CheckConstraint("reserved >= 0 AND reserved <= on_hand", name="reserved_within_on_hand"),
        Index("ix_stock_levels_location_product", "location_id", "product_id"),
    )

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    on_hand: Mapped[int] = mapped_column(default=0)
    reserved: Mapped[int] = mapped_column(default=0)
    bin: Mapped[str] = mapped_column(String(32), default="")
    reorder_point: Mapped[int | None]  # overrides the product's when set
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    product = relationship("Product", lazy="joined")
    location = relationship("Location", lazy="joined")

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class StockMove(Base):
    """One signed change of on_hand. Never updated or deleted: the ledger is the truth."""

    __tablename__ = "stock_moves"
    __table_args__ = (
        one_of("kind", MoveKind.values()),
        CheckConstraint("qty <> 0", name="qty_non_zero"),
        Index("ix_stock_moves_level", "product_id", "location_id", "id"),
        Index("ix_stock_moves_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    qty: Mapped[int]
    kind: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(200), default="")
    reference: Mapped[str] = mapped_column(String(64), default="")  # SO-…, RMA-…, TR-…, free text
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    return_id: Mapped[int | None] = mapped_column(ForeignKey("returns.id"))
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipments.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    product = relationship("Product")
    location = relationship("Location")


class Allocation(Base):
    """Stock of one location reserved for one order line."""

    __tablename__ = "allocations"
    __table_args__ = (
        UniqueConstraint("order_line_id", "location_id"),
        CheckConstraint("qty > 0", name="qty_positive"),
        Index("ix_allocations_location", "location_id", "order_line_id"),
    )

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id", ondelete="CASCADE"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)  # denormalised for queues
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    qty: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    line = relationship("OrderLine", back_populates="allocations")
    location = relationship("Location")
