"""Order CSV imports started from the web or the command line, and how far they got."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.domain.enums import LabelledEnum
from app.models._util import one_of
from app.models.base import Base, BigID, UTCDateTime, utcnow


class ImportStatus(LabelledEnum):
    QUEUED = "queued"  # uploaded and checked (dry run); waiting for a person to confirm
    VALIDATING = "validating"
    IMPORTING = "importing"
    DONE = "done"
    FAILED = "failed"


class ImportJob(Base):
    """One uploaded file. While an import runs, its progress lives in a small JSON file
    beside the upload (SQLite's write lock is held by the import itself); this row gets
    the outcome once the import's transaction has ended."""

    __tablename__ = "import_jobs"
    __table_args__ = (
        one_of("status", ImportStatus.values()),
        CheckConstraint("processed_rows >= 0 AND total_rows >= 0", name="row_counts_non_negative"),
    )

    id: Mapped[int] = mapped_column(BigID, primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)  # unguessable: it names the job in URLs
    channel_code: Mapped[str] = mapped_column(String(32))
    filename: Mapped[str] = mapped_column(String(255))
    skip_invalid: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(20), default=ImportStatus.QUEUED)
    total_rows: Mapped[int] = mapped_column(default=0)
    processed_rows: Mapped[int] = mapped_column(default=0)
    summary: Mapped[dict | None] = mapped_column(JSON)  # the dry run's, then the import's
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
