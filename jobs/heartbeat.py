"""Tell the world the scheduler is alive."""

from __future__ import annotations

from datetime import datetime

from app.services import job_runs

NAME = "heartbeat"


def run(now: datetime) -> str:
    job_runs.beat(now)
    return "alive"
