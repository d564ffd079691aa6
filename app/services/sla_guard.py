"""One sweep at a time, whatever the number of scheduler processes.

Every effect of a sweep is keyed (a notification's dedup key, a clock's conditional
state change), so even two sweeps at once would double nothing; the guard makes the
second one step aside instead of racing the first for the same rows.

PostgreSQL: a transaction-scoped advisory lock (`pg_try_advisory_xact_lock`), held by
a connection of its own for as long as the sweep runs and released when that
transaction ends — also when the process dies and the connection drops.
SQLite: a lease row in job_locks, taken with a conditional UPDATE that succeeds only
when the lease is free, expired, or already ours. The lease runs on the wall clock,
not on the sweep's as-of time, so `flask jobs tick --at` far in the past or future
cannot leave a lease that never expires. The holder names its host and pid: a lease
left by a killed process on this host is taken over at once instead of after LEASE,
so the next run finishes the interrupted sweep (its keyed effects double nothing).
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select, text, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.extensions import db
from app.models import JobLock
from app.services.process_owner import current_owner, owner_is_gone
from app.services.tx import begin_write

LEASE = timedelta(minutes=10)
SKIPPED = "skipped: another scheduler is running it"


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key per sweep name (Python's hash() changes per process)."""
    digest = hashlib.blake2b(f"orderdeck:sweep:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def sweep_guard(name: str) -> Iterator[bool]:
    """`with sweep_guard("dispatch_sla") as mine:` — run the sweep only if `mine`."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as conn:
            transaction = conn.begin()
            try:
                yield bool(conn.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": advisory_key(name)}))
            finally:
                transaction.rollback()
        return
    me = current_owner()
    holder = f"{me['host']}:{me['pid']}:{threading.get_ident()}:{uuid.uuid4().hex[:8]}"
    mine = _take_lease(name, holder)
    try:
        yield mine
    finally:
        if mine:
            _give_back_lease(name, holder)


def _take_lease(name: str, holder: str) -> bool:
    session = begin_write()
    clock = datetime.now(UTC)
    taken = session.execute(
        update(JobLock)
        .where(JobLock.name == name,
               or_(JobLock.expires_at.is_(None), JobLock.expires_at < clock, JobLock.holder == holder))
        .values(holder=holder, expires_at=clock + LEASE)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not taken:
        taken = _take_over_from_the_dead(session, name, holder, clock)
    if not taken:
        created = session.execute(
            sqlite_insert(JobLock).values(name=name, holder=holder, expires_at=clock + LEASE)
            .on_conflict_do_nothing(index_elements=["name"])
        ).rowcount
        taken = created
    session.commit()
    return bool(taken)


def _take_over_from_the_dead(session, name: str, holder: str, clock: datetime) -> bool:
    current = session.scalar(select(JobLock.holder).where(JobLock.name == name))
    if not current:
        return False
    host, _, rest = current.partition(":")
    pid = rest.partition(":")[0]
    if not pid.isdigit() or not owner_is_gone({"host": host, "pid": int(pid)}):
        return False
    return bool(session.execute(
        update(JobLock).where(JobLock.name == name, JobLock.holder == current)
        .values(holder=holder, expires_at=clock + LEASE).execution_options(synchronize_session=False)
    ).rowcount)


def _give_back_lease(name: str, holder: str) -> None:
    session = begin_write()
    session.execute(
        update(JobLock).where(JobLock.name == name, JobLock.holder == holder)
        .values(holder=None, expires_at=None).execution_options(synchronize_session=False)
    )
    session.commit()

