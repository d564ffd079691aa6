"""The notification outbox: deciding to notify, once per dedup key.

Called inside the caller's transaction. A second decision with the same key (a job
run twice, two schedulers) inserts nothing: the database's unique key decides, so
it holds across processes too. Sending is a separate job (see the SLA jobs).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.domain.enums import NotificationKind, NotificationStatus
from app.extensions import db
from app.models import Notification


def enqueue(kind: NotificationKind | str, *, dedup_key: str, recipient: str, subject: str, body: str,
            at: datetime, order_id: int | None = None) -> bool:
    """Put a notification in the outbox unless one with this key exists. True if it was new."""
    values = {
        "kind": str(NotificationKind(kind)), "order_id": order_id, "recipient": recipient, "dedup_key": dedup_key,
        "subject": subject[:200], "body": body, "status": NotificationStatus.PENDING.value, "attempts": 0,
        "created_at": at, "next_attempt_at": at,
    }
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = (insert(Notification).values(**values).on_conflict_do_nothing(index_elements=["dedup_key"])
            .returning(Notification.id))
    return db.session.execute(stmt).scalar() is not None
