"""SLA clocks and the notification outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.enums import ClockKind, ClockState, NotificationKind, NotificationStatus
from app.models._util import one_of
from app.models.base import Base, BigID, UTCDateTime, utcnow


class SlaClock(Base):
    """A deadline on an order. Deadlines are computed once, when the clock starts,
    so the sweeps read only running clocks whose warn/due time has passed."""

    __tablename__ = "sla_clocks"
    __table_args__ = (
        one_of("kind", ClockKind.values()),
        one_of("state", ClockState.values()),
        # At most one running clock of a kind per order.
        Index(
            "uq_sla_clocks_running",
            "order_id",
            "kind",
            unique=True,
            sqlite_where=text("state = 'running'"),
            postgresql_where=text("state = 'running'"),
        ),
        Index("ix_sla_clocks_due", "state", "due_at"),
        # What the sweeps read: only clocks with a warning or notice still to give, so a
        # sweep with nothing to do touches no rows however many clocks have been warned.
        Index("ix_sla_clocks_warn_pending", "kind", "warn_at",
              sqlite_where=text("state = 'running' AND warned_at IS NULL"),
              postgresql_where=text("state = 'running' AND warned_at IS NULL")),
        Index("ix_sla_clocks_notice_pending", "kind", "notice_at",
              sqlite_where=text("state = 'running' AND noticed_at IS NULL"),
              postgresql_where=text("state = 'running' AND noticed_at IS NULL")),
        Index("ix_sla_clocks_running_due", "kind", "due_at",
              sqlite_where=text("state = 'running'"), postgresql_where=text("state = 'running'")),
        # Breaches nobody has resolved yet (the SLA page's "breached now").
        Index("ix_sla_clocks_open_breaches", "due_at",
              sqlite_where=text("state = 'breached' AND met_at IS NULL AND stopped_at IS NULL"),
              postgresql_where=text("state = 'breached' AND met_at IS NULL AND stopped_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20), default=ClockState.RUNNING)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Payment: the second reminder; address hold: the message asking the customer to fix it.
    notice_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    noticed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    met_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A breached clock stays breached; met_at then records when it was met late, and
    # stopped_at when the order was cancelled before anyone met it.
    breach_reason: Mapped[str | None] = mapped_column(String(40))
    # The location whose calendar set the deadline (compliance by location).
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))

    order = relationship("Order")
    location = relationship("Location")


class Notification(Base):
    """Outbox row. Deciding to notify (unique dedup_key) is separate from sending."""

    __tablename__ = "notifications"
    __table_args__ = (
        one_of("kind", NotificationKind.values()),
        one_of("status", NotificationStatus.values()),
        Index("ix_notifications_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(254))
    dedup_key: Mapped[str] = mapped_column(String(120), unique=True)
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default=NotificationStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    order = relationship("Order")
