"""Returns (RMAs), their lines, and what was received for each line."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.enums import Disposition, ItemCondition, ReturnReason, ReturnResolution
from app.domain.return_states import ReturnStatus
from app.models._util import one_of
from app.models.base import Base, BigID, Money, UTCDateTime, utcnow


class Return(Base):
    __tablename__ = "returns"
    __table_args__ = (
        one_of("status", ReturnStatus.values()),
        one_of("reason", ReturnReason.values()),
        one_of("resolution", ReturnResolution.values()),
        # The returns queue: one status at a time, in number order (keyset by id).
        Index("ix_returns_status_id", "status", "id"),
        # The returns report reads returns by the day they were requested.
        Index("ix_returns_requested_at", "requested_at"),
    )

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=ReturnStatus.REQUESTED)
    reason: Mapped[str] = mapped_column(String(30))
    reason_note: Mapped[str] = mapped_column(String(500), default="")
    resolution: Mapped[str] = mapped_column(String(20), default=ReturnResolution.REFUND)
    refund_total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    exchange_order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    version: Mapped[int] = mapped_column(default=1)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(120), default="")
    # Set by every change (see app/services/returns): rewriting the row moves `version`,
    # so a receipt recorded by someone else makes a form opened earlier stale.
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __mapper_args__ = {"version_id_col": version}

    order = relationship("Order", foreign_keys=[order_id])
    exchange_order = relationship("Order", foreign_keys=[exchange_order_id])
    lines: Mapped[list[ReturnLine]] = relationship(
        back_populates="ret", order_by="ReturnLine.id", cascade="all, delete-orphan"
    )
    refunds = relationship("Refund", foreign_keys="Refund.return_id", order_by="Refund.id")

    @property
    def item_count(self) -> int:
        return sum(line.qty for line in self.lines)

    @property
    def received_count(self) -> int:
        return sum(line.qty_received for line in self.lines)


class ReturnLine(Base):
    __tablename__ = "return_lines"
    __table_args__ = (
        UniqueConstraint("return_id", "order_line_id"),
        CheckConstraint("qty > 0", name="qty_positive"),
    )

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"), index=True)
    qty: Mapped[int]  # units the customer asked to send back
    # The customer will not send (the rest of) this line: it counts as settled with
    # what arrived, and its unreceived units no longer block other returns.
    not_returned: Mapped[bool] = mapped_column(default=False, server_default=false())

    ret: Mapped[Return] = relationship(back_populates="lines")
    line = relationship("OrderLine")
    receipts: Mapped[list[ReturnReceipt]] = relationship(
        back_populates="return_line", order_by="ReturnReceipt.id", cascade="all, delete-orphan"
    )

    @property
    def qty_received(self) -> int:
        return sum(receipt.qty for receipt in self.receipts)


class ReturnReceipt(Base):
    """Units of a return line that arrived, with their condition and where they went."""

    __tablename__ = "return_receipts"
    __table_args__ = (
        CheckConstraint("qty > 0", name="qty_positive"),
        one_of("condition", ItemCondition.values()),
        one_of("disposition", Disposition.values()),
        CheckConstraint(
            "(disposition = 'restock') = (location_id IS NOT NULL)", name="restock_needs_location"
        ),
    )

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    return_line_id: Mapped[int] = mapped_column(ForeignKey("return_lines.id", ondelete="CASCADE"), index=True)
    qty: Mapped[int]
    condition: Mapped[str] = mapped_column(String(20))
    disposition: Mapped[str] = mapped_column(String(20))
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    received_by: Mapped[str] = mapped_column(String(120), default="")

    return_line: Mapped[ReturnLine] = relationship(back_populates="receipts")
    location = relationship("Location")
