"""Concurrent writers: with BEGIN IMMEDIATE none of them fails with "database is locked".

Each worker reads first and then writes (the pattern that breaks a deferred
SQLite transaction on lock upgrade). The test runs on both engines.
"""

from __future__ import annotations

import threading

from sqlalchemy import select

from app.extensions import db
from app.models import Counter
from app.services.numbering import next_number
from app.services.tx import begin_write

WORKERS = 8
ROUNDS = 25


def test_concurrent_read_then_write_transactions_all_succeed(app):
    errors: list[BaseException] = []
    numbers: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(WORKERS)

    def worker():
        with app.app_context():
            start.wait()
            try:
                for _ in range(ROUNDS):
                    # A read outside the write transaction, as a request's login lookup would do.
                    db.session.execute(select(Counter)).all()
                    session = begin_write()
                    session.execute(select(Counter)).all()
                    number = next_number("order")
                    session.commit()
                    with lock:
                        numbers.append(number)
            except BaseException as exc:
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    assert len(numbers) == len(set(numbers)) == WORKERS * ROUNDS


def test_sqlite_runs_in_wal_mode_with_foreign_keys(app, engine_name):
    if engine_name != "sqlite":
        return
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
