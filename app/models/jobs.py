"""Scheduler bookkeeping: last runs (the heartbeat among them) and sweep locks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime


class JobRun(Base):
    """Last run of each job; the `heartbeat` row is what /healthz reads."""

    __tablename__ = "job_runs"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[str] = mapped_column(String(20), default="never")
    last_error: Mapped[str | None] = mapped_column(String(500))
    last_result: Mapped[str | None] = mapped_column(String(200))
    runner: Mapped[str | None] = mapped_column(String(120))  # host:pid of the scheduler


class JobLock(Base):
    """A lease that keeps two schedulers from running the same sweep at once (SQLite;
    PostgreSQL uses advisory locks)."""

    __tablename__ = "job_locks"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(120))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
