"""Invoices and credit notes (one table, two series) and the counters behind their numbers."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.enums import DocumentKind, LabelledEnum
from app.models._util import one_of
from app.models.base import Base, BigID, Money, UTCDateTime, utcnow


class Counter(Base):
    """A named counter: gapless document series per year, and readable numbers on SQLite.

    Gapless series take the row lock (UPDATE … RETURNING) inside the issuing
    transaction, so a rolled-back issue gives its number back.
    """

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)  # e.g. "invoice:2026", "order"
    value: Mapped[int] = mapped_column(default=0)


class Invoice(Base):
    """An issued document. Immutable: `snapshot` holds everything printed on it."""

    __tablename__ = "invoices"
    __table_args__ = (
        one_of("kind", DocumentKind.values()),
        CheckConstraint(
            "(kind = 'credit_note') = (corrects_id IS NOT NULL)", name="credit_note_corrects_invoice"
        ),
        # One invoice per shipment, and at most one whole-order invoice per order.
        Index(
            "uq_invoices_shipment",
            "shipment_id",
            unique=True,
            sqlite_where=text("kind = 'invoice' AND shipment_id IS NOT NULL"),
            postgresql_where=text("kind = 'invoice' AND shipment_id IS NOT NULL"),
        ),
        Index(
            "uq_invoices_whole_order",
            "order_id",
            unique=True,
            sqlite_where=text("kind = 'invoice' AND shipment_id IS NULL"),
            postgresql_where=text("kind = 'invoice' AND shipment_id IS NULL"),
        ),
        Index("ix_invoices_issued_at_id", "issued_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipments.id"))
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    currency: Mapped[str] = mapped_column(String(3))
    net_total: Mapped[Decimal] = mapped_column(Money)
    tax_total: Mapped[Decimal] = mapped_column(Money)
    total: Mapped[Decimal] = mapped_column(Money)
    snapshot: Mapped[dict] = mapped_column(JSON)  # seller, buyer, ship-to, lines, taxes: never recomputed
    issued_by: Mapped[str] = mapped_column(String(120), default="")

    order = relationship("Order")
    corrects: Mapped[Invoice | None] = relationship(remote_side=[id])


class ExportStatus(LabelledEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ExportJob(Base):
    """A bulk export of one period's documents (a ZIP of PDFs and a CSV register),
    rendered in the background; the page polls this row for progress."""

    __tablename__ = "export_jobs"
    __table_args__ = (
        one_of("status", ExportStatus.values()),
        CheckConstraint("done_count >= 0 AND total >= 0", name="counts_non_negative"),
        Index("ix_export_jobs_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)  # unguessable: it names the file in URLs
    date_from: Mapped[date] = mapped_column(Date)
    date_to: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default=ExportStatus.QUEUED)
    total: Mapped[int] = mapped_column(default=0)
    done_count: Mapped[int] = mapped_column(default=0)
    filename: Mapped[str] = mapped_column(String(120), default="")
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
