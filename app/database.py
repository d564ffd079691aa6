"""Engine tuning that the rest of the code relies on.

SQLite: WAL (readers never block the writer), foreign keys on, a busy timeout,
and write transactions that start with BEGIN IMMEDIATE. pysqlite's default
deferred transaction takes the write lock only at the first write; if another
connection committed in between, the upgrade fails at once with "database is
locked" whatever the timeout. Services ask for a write transaction up front
(app.services.tx.begin_write) so the lock is taken (and waited for) before
anything is read. This is SQLAlchemy's documented pysqlite recipe, extended
with an execution option that picks IMMEDIATE only for writers.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy import event
from sqlalchemy.engine import Engine

SQLITE_BUSY_TIMEOUT_MS = 15_000


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, _record) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # Let SQLAlchemy (below) emit BEGIN itself instead of pysqlite's implicit one.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(conn) -> None:
    if conn.dialect.name != "sqlite":
        return
    immediate = conn.get_execution_options().get("sqlite_immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def engine_options(uri: str) -> dict:
    """Pool settings per engine; PostgreSQL gets pre-ping and a statement timeout."""
    if uri.startswith("postgresql"):
        return {
            "pool_pre_ping": True,
            "pool_size": 10,
            "max_overflow": 10,
            "pool_recycle": 1800,
            # A runaway query must not hold locks for minutes: 30 s is far beyond
            # any page's budget and still lets exports finish.
            "connect_args": {"options": "-c statement_timeout=30000"},
        }
    if uri in ("sqlite://", "sqlite:///:memory:"):
        from sqlalchemy.pool import StaticPool

        return {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
    return {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}}
