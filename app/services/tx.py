"""Transaction helpers shared by every service."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db

_WRITE = "orderdeck_write"


def begin_write() -> Session:
    """Make sure the session is in a write transaction and return it.

    On SQLite the transaction starts with BEGIN IMMEDIATE, so the write lock is
    waited for up front instead of failing on upgrade. A read transaction left
    open by the request (the login lookup, say) is ended first: its snapshot
    may already be stale, which is exactly what makes the upgrade fail.
    On PostgreSQL this is a plain BEGIN; services lock rows with FOR UPDATE.
    """
    session = db.session()
    if session.info.get(_WRITE) and session.in_transaction():
        return session
    if session.in_transaction():
        if session.new or session.dirty or session.deleted:
            # Pending changes outside a write transaction are a bug in a caller.
            raise RuntimeError("begin_write() called with unsaved changes in the session")
        session.rollback()
    session.connection(execution_options={"sqlite_immediate": True})
    session.info[_WRITE] = True
    return session


@event.listens_for(Session, "after_transaction_end")
def _clear_write_flag(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_WRITE, None)
