"""The one scheduler process (`flask jobs run`).

Web workers never start a scheduler. If a second one is started by mistake,
every effect of every job is keyed (unique dedup keys) and sweeps take a
database-level guard, so nothing happens twice.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from app.services import job_runs
from jobs import auto_cancel, dispatch_sla, heartbeat, hold_deadlines, outbox, payment_reminders

log = logging.getLogger("orderdeck.jobs")

# name -> (run(now) callable, interval in seconds), in the order `tick` runs them: the
# sweeps decide before the outbox sends, so one tick also delivers what it decided, and
# reminders come before auto-cancel so a reminder due in the same run is judged first.
JOBS: dict[str, tuple[Callable[[datetime], str], int | None]] = {
    heartbeat.NAME: (heartbeat.run, None),  # interval from HEARTBEAT_SECONDS
    **{job.NAME: (job.run, job.INTERVAL_SECONDS)
       for job in (payment_reminders, auto_cancel, dispatch_sla, hold_deadlines, outbox)},
}


def run_job(app: Flask, name: str, now: datetime | None = None) -> str:
    """Run one job once inside an app context and record how it went."""
    func, _ = JOBS[name]
    with app.app_context():
        started = datetime.now(UTC)
        as_of = now or started
        try:
            result = func(as_of)
        except Exception as exc:  # a failing job must not kill the scheduler
            from app.extensions import db

            db.session.rollback()
            log.error("job %s failed: %s", name, traceback.format_exc())
            if name != heartbeat.NAME:
                job_runs.record_run(name, started_at=started, finished_at=datetime.now(UTC),
                                    status="failed", error=str(exc))
            return f"failed: {exc}"
        if name != heartbeat.NAME:
            job_runs.record_run(name, started_at=started, finished_at=datetime.now(UTC),
                                status="ok", result=str(result))
        return str(result)


def tick(app: Flask, now: datetime | None = None) -> dict[str, str]:
    """Every job once, as of `now` (tests, cron, `flask jobs tick --at`)."""
    return {name: run_job(app, name, now) for name in JOBS}


def build_scheduler(app: Flask) -> BlockingScheduler:
    scheduler = BlockingScheduler(
        timezone=UTC,
        # After downtime, run a missed job once (coalesce) rather than once per
        # missed interval; the jobs themselves decide what is too stale to send.
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
    )
    for name, (_, interval) in JOBS.items():
        seconds = interval or app.config["HEARTBEAT_SECONDS"]
        scheduler.add_job(run_job, "interval", seconds=seconds, args=[app, name], id=name,
                          name=name, next_run_time=datetime.now(UTC))
    return scheduler
