"""Health of the database and the scheduler, for /healthz and the banner for managers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.models import JobRun
from app.models.base import utcnow

HEARTBEAT_JOB = "heartbeat"


@dataclass(frozen=True)
class SchedulerHealth:
    status: str  # ok, stale, never
    last_heartbeat: datetime | None
    age_seconds: int | None
    jobs: list[JobRun]

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def database_ok() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except SQLAlchemyError:
        db.session.rollback()
        return False


def scheduler_health(now: datetime | None = None) -> SchedulerHealth:
    now = now or utcnow()
    jobs = list(db.session.scalars(select(JobRun).order_by(JobRun.name)))
    beat = next((j for j in jobs if j.name == HEARTBEAT_JOB), None)
    if beat is None or beat.last_finished_at is None:
        return SchedulerHealth("never", None, None, jobs)
    age = int((now - beat.last_finished_at).total_seconds())
    stale_after = current_app.config["SCHEDULER_STALE_AFTER_SECONDS"]
    return SchedulerHealth("ok" if age <= stale_after else "stale", beat.last_finished_at, age, jobs)
