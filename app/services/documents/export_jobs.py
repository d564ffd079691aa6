"""Bulk exports started from the finance page: a job row the page polls, a background
thread that drives the export (its worker processes do the rendering), and the ZIP
in instance/exports/ to download when it is done.

The job row is the only state: a person may leave the page and come back (or open
it on another machine) and sees the same progress. Progress is written in short
transactions of its own at most every PROGRESS_EVERY seconds. A job that stops
reporting (the server was restarted mid-export) shows as interrupted — at once when
the process that ran it is known to be gone (an owner file beside the ZIP names it).
Starting the export again is the way to resume; leftovers of a killed run are removed.

A full disk fails the job with a message saying so; the half-written file is removed
and nothing in the database changes except the job's own row.
"""

from __future__ import annotations

import errno
import json
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import select, update

from app.domain.errors import NotFound
from app.extensions import db
from app.models import ExportJob
from app.models.base import utcnow
from app.models.documents import ExportStatus
from app.services.actors import Actor
from app.services.audit import record_event
from app.services.documents.export import check_period, count_documents, export_period, nothing_to_export
from app.services.process_owner import current_owner, owner_is_gone, pid_alive
from app.services.tx import begin_write
from config import INSTANCE_DIR

log = logging.getLogger(__name__)

PROGRESS_EVERY = 0.5  # seconds
STALE_AFTER = timedelta(minutes=3)
_threads: dict[str, threading.Thread] = {}


def exports_dir() -> Path:
    path = Path(current_app.config.get("EXPORT_DIR") or INSTANCE_DIR / "exports")
    path.mkdir(parents=True, exist_ok=True)
    return path


def zip_path(job: ExportJob) -> Path:
    return exports_dir() / f"{job.token}.zip"


def owner_path(token: str) -> Path:
    return exports_dir() / f"{token}.owner"


def _owner_gone(token: str) -> bool:
    try:
        return owner_is_gone(json.loads(owner_path(token).read_text()))
    except (FileNotFoundError, ValueError):
        return False


def remove_dead_partials() -> int:
    """Delete half-written ZIPs of exports whose process was killed (export.py names
    them .<name>.<pid>.partial) and owner files of finished jobs' dead processes."""
    removed = 0
    for path in exports_dir().glob(".*.partial"):
        pid = path.name.rsplit(".", 2)[-2]
        if pid.isdigit() and not pid_alive(int(pid)):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def download_name(job: ExportJob) -> str:
    return f"documents-{job.date_from}-to-{job.date_to}.zip"


@dataclass(frozen=True)
class JobView:
    job: ExportJob
    interrupted: bool
    ready: bool

    @property
    def percent(self) -> int:
        if self.job.status == ExportStatus.DONE:
            return 100
        return int(100 * self.job.done_count / self.job.total) if self.job.total else 0

    @property
    def running(self) -> bool:
        return self.job.status in (ExportStatus.QUEUED, ExportStatus.RUNNING) and not self.interrupted

    @property
    def state(self) -> str:
        return "interrupted" if self.interrupted else self.job.status


def view(job: ExportJob, now: datetime | None = None) -> JobView:
    now = now or utcnow()
    last = job.updated_at or job.started_at or job.created_at
    unfinished = job.status in (ExportStatus.QUEUED, ExportStatus.RUNNING)
    interrupted = unfinished and (now - last > STALE_AFTER or _owner_gone(job.token))
    ready = job.status == ExportStatus.DONE and zip_path(job).exists()
    return JobView(job=job, interrupted=interrupted, ready=ready)


def get_job(token: str) -> ExportJob:
    job = db.session.scalar(select(ExportJob).where(ExportJob.token == token))
    if job is None:
        raise NotFound("There is no such export.")
    return job


def recent_jobs(limit: int = 5) -> list[JobView]:
    jobs = db.session.scalars(select(ExportJob).order_by(ExportJob.created_at.desc(), ExportJob.id.desc()).limit(limit))
    return [view(job) for job in jobs]


def start_export(
    date_from: date | None, date_to: date | None, *, actor: Actor, runner=None, now: datetime | None = None
) -> ExportJob:
    """Check the period (refusing an empty or too long one), record a job and start it."""
    now = now or utcnow()
    check_period(date_from, date_to)
    total = count_documents(date_from, date_to)
    if total == 0:
        raise nothing_to_export(date_from, date_to)
    remove_dead_partials()
    session = begin_write()
    job = ExportJob(
        token=secrets.token_urlsafe(24),
        date_from=date_from,
        date_to=date_to,
        status=ExportStatus.QUEUED,
        total=total,
        done_count=0,
        created_by=actor.display,
        created_at=now,
        updated_at=now,
    )
    session.add(job)
    record_event(
        "export",
        job.token[:12],
        "export_started",
        actor=actor,
        at=now,
        details={"from": str(date_from), "to": str(date_to), "documents": total},
    )
    session.commit()
    (runner or current_app.extensions.get("document_export_runner") or run_in_thread)(
        current_app._get_current_object(), job.token
    )
    return job


def run_in_thread(app: Flask, token: str) -> threading.Thread:
    def work() -> None:
        with app.app_context():
            try:
                run(token)
            finally:
                db.session.remove()

    thread = threading.Thread(target=work, name=f"document-export-{token[:8]}", daemon=True)
    _threads[token] = thread
    thread.start()
    return thread


def wait(token: str, timeout: float | None = None) -> bool:
    """Block until this process's export of `token` has finished; False on timeout."""
    thread = _threads.get(token)
    if thread is None:
        return True
    thread.join(timeout)
    if thread.is_alive():
        return False
    _threads.pop(token, None)
    return True


def _set(token: str, **values) -> None:
    session = begin_write()
    session.execute(update(ExportJob).where(ExportJob.token == token).values(updated_at=utcnow(), **values))
    session.commit()


def run(token: str) -> None:
    """Do the export of a recorded job, reporting progress on its row."""
    job = get_job(token)
    date_from, date_to, out = job.date_from, job.date_to, zip_path(job)
    db.session.rollback()
    _set(token, status=ExportStatus.RUNNING, started_at=utcnow())
    last = 0.0

    def progress(done: int, total: int) -> None:
        nonlocal last
        clock = time.monotonic()
        if done < total and clock - last < PROGRESS_EVERY:
            return
        last = clock
        _set(token, done_count=done, total=total)

    try:
        owner_path(token).write_text(json.dumps(current_owner()))
        result = export_period(date_from, date_to, out, progress=progress)
    except Exception as exc:
        log.exception("document export %s failed", token[:8])
        db.session.rollback()
        _set(token, status=ExportStatus.FAILED, error=failure_message(exc)[:500], finished_at=utcnow())
        return
    finally:
        owner_path(token).unlink(missing_ok=True)
    _set(
        token,
        status=ExportStatus.DONE,
        done_count=result.documents,
        total=result.documents,
        filename=download_name(job),
        finished_at=utcnow(),
    )


def failure_message(exc: Exception) -> str:
    """What the finance page says about a failed export."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return ("The disk holding the exports is full, so the ZIP could not be written. Nothing was changed; "
                "free some space (or point EXPORT_DIR at a larger disk) and start the export again.")
    if isinstance(exc, OSError):
        return f"The ZIP could not be written ({exc.strerror or exc}). Nothing was changed; start the export again."
    return f"The export stopped with an error ({type(exc).__name__}: {exc}). Start it again."
