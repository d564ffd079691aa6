"""Bookkeeping of scheduled jobs: the heartbeat and each job's last run."""

from __future__ import annotations

import os
import socket
from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.models import JobRun
from app.services.health import HEARTBEAT_JOB
from app.services.tx import begin_write

RUNNER = f"{socket.gethostname()}:{os.getpid()}"


def record_run(name: str, *, started_at: datetime, finished_at: datetime, status: str,
               result: str | None = None, error: str | None = None) -> None:
    # One upsert: two schedulers recording a job's very first run at once cannot collide.
    session = begin_write()
    values = {"last_started_at": started_at, "last_finished_at": finished_at, "last_status": status,
              "last_result": (result or "")[:200] or None, "last_error": (error or "")[:500] or None,
              "runner": RUNNER}
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(JobRun).values(name=name, **values)
                    .on_conflict_do_update(index_elements=["name"], set_=values))
    session.commit()


def beat(now: datetime) -> None:
    """The scheduler is alive as of `now` (what /healthz and the manager banner read)."""
    record_run(HEARTBEAT_JOB, started_at=now, finished_at=now, status="ok")
