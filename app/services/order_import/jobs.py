"""Import jobs for the web: upload and dry run, confirmation, the import in a background
thread, and the progress a polling page reads.

While an import runs it holds SQLite's write lock for its whole transaction, so its
progress cannot be written to the database: it goes to instance/imports/<token>.json
(replaced atomically), and the job row gets its final state after the import's
transaction has ended. If the process dies mid-import the transaction rolls back and
nothing is half-imported. The progress file names the process doing the import: a job
whose process is gone (on this host) shows as failed ("interrupted") at once, and one
that shows no sign of life for STALE_AFTER (its process may be on another host) too.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import select, update

from app.domain.errors import Conflict, NotFound
from app.extensions import db
from app.models import Channel, Event, ImportJob
from app.models.base import utcnow
from app.models.imports import ImportStatus
from app.services.actors import Actor
from app.services.order_import import import_orders
from app.services.order_import.summary import ImportSummary
from app.services.process_owner import current_owner, owner_is_gone
from app.services.tx import begin_write
from config import INSTANCE_DIR

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=10)
KEEP_UPLOADS = timedelta(days=2)  # an upload nobody confirmed is removed after this
PROGRESS_EVERY_SECONDS = 0.5
RUNNING = (ImportStatus.VALIDATING, ImportStatus.IMPORTING)
INTERRUPTED = ("interrupted: the import stopped without finishing (the server was probably restarted). "
               "Nothing was imported; upload the file again.")

# Runner(app, token, actor): makes the import happen; the default is a background thread.
Runner = Callable[[Flask, str, Actor], object]

_threads: dict[str, threading.Thread] = {}
# One import at a time per process: a second would only wait for the first one's locks.
_one_at_a_time = threading.Lock()


# Files ------------------------------------------------------------------------------


def imports_dir() -> Path:
    path = Path(current_app.config.get("ORDER_IMPORT_DIR") or INSTANCE_DIR / "imports")
    path.mkdir(parents=True, exist_ok=True)
    return path


def upload_path(token: str) -> Path:
    return imports_dir() / f"{token}.csv"


def progress_path(token: str) -> Path:
    return imports_dir() / f"{token}.json"


def _write_atomically(path: Path, data: bytes) -> None:
    partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    partial.write_bytes(data)
    os.replace(partial, path)  # readers see the old file or the new one, never half of one


def _remove_old_files(directory: Path, now: float) -> None:
    for path in directory.iterdir():
        try:
            if now - path.stat().st_mtime > KEEP_UPLOADS.total_seconds():
                path.unlink()
        except FileNotFoundError:
            continue


@dataclass
class ProgressFile:
    """progress(stage, processed, total) for import_orders(), written at most every
    PROGRESS_EVERY_SECONDS (and at every change of stage)."""

    path: Path
    _stage: str = ""
    _last: float = 0.0

    def __call__(self, stage: str, processed: int, total: int) -> None:
        clock = time.monotonic()
        if stage == self._stage and processed < total and clock - self._last < PROGRESS_EVERY_SECONDS:
            return
        self._stage, self._last = stage, clock
        _write_atomically(self.path, json.dumps({
            "status": stage, "processed_rows": processed, "total_rows": total, "updated_at": utcnow().isoformat(),
            "owner": current_owner(),
        }).encode())


def read_progress(token: str) -> dict | None:
    try:
        return json.loads(progress_path(token).read_text())
    except (FileNotFoundError, ValueError):
        return None


# Upload and dry run -------------------------------------------------------------------


def create_job(data: bytes, *, channel: str, filename: str, skip_invalid: bool, actor: Actor,
               now: datetime | None = None) -> ImportJob:
    """Keep the uploaded file, check it (dry run) and record a queued job with that summary."""
    now = now or utcnow()
    token = secrets.token_urlsafe(24)
    directory = imports_dir()
    _remove_old_files(directory, time.time())
    _write_atomically(upload_path(token), data)
    summary = import_orders(data, channel, actor=actor, filename=filename, dry_run=True, skip_invalid=skip_invalid,
                            now=now)
    session = begin_write()
    job = ImportJob(token=token, channel_code=channel[:32], filename=filename[:255], skip_invalid=skip_invalid,
                    status=ImportStatus.QUEUED, total_rows=summary.total_rows, summary=summary.to_dict(),
                    created_by=actor.display, created_at=now)
    session.add(job)
    session.commit()
    return job


def active_channels() -> list[tuple[str, str]]:
    """(code, name) of the channels a file can be imported into."""
    return [(code, name) for code, name in db.session.execute(
        select(Channel.code, Channel.name).where(Channel.active.is_(True)).order_by(Channel.code))]


def get_job(token: str) -> ImportJob:
    job = db.session.scalar(select(ImportJob).where(ImportJob.token == token))
    if job is None:
        raise NotFound("There is no such import.")
    return job


# Running ----------------------------------------------------------------------------


def start(token: str, *, actor: Actor, runner: Runner | None = None, now: datetime | None = None) -> ImportJob:
    """Claim a queued job (once: a second confirmation is refused) and hand it to the runner."""
    now = now or utcnow()
    session = begin_write()
    claimed = session.execute(
        update(ImportJob).where(ImportJob.token == token, ImportJob.status == ImportStatus.QUEUED)
        .values(status=ImportStatus.VALIDATING, started_at=now)
    ).rowcount
    job = get_job(token)
    if not claimed:
        session.rollback()
        raise Conflict("This import was already started.")
    if not upload_path(token).exists():
        job.status, job.error, job.finished_at = ImportStatus.FAILED, "The uploaded file is gone; upload it again.", now
        session.commit()
        raise Conflict(job.error)
    session.commit()
    (runner or current_app.extensions.get("order_import_runner") or run_in_thread)(
        current_app._get_current_object(), token, actor)
    return job


def run_in_thread(app: Flask, token: str, actor: Actor) -> threading.Thread:
    def work() -> None:
        with app.app_context():
            try:
                run(token, actor=actor)
            finally:
                db.session.remove()

    # A daemon: a server that stops does not wait for the import, whose transaction then
    # rolls back (and the job shows as interrupted).
    thread = threading.Thread(target=work, name=f"order-import-{token[:8]}", daemon=True)
    _threads[token] = thread
    thread.start()
    return thread


def wait(token: str, timeout: float | None = None) -> bool:
    """Block until this process's import of `token` has finished; False on timeout."""
    thread = _threads.get(token)
    if thread is None:
        return True
    thread.join(timeout)
    if thread.is_alive():
        return False
    _threads.pop(token, None)
    return True


def run(token: str, *, actor: Actor) -> ImportSummary | None:
    """Import a claimed job's file and record the outcome on the job row."""
    job = get_job(token)
    channel, filename, skip_invalid, total = job.channel_code, job.filename, job.skip_invalid, job.total_rows
    db.session.rollback()  # no read transaction left open while waiting for the write lock
    progress = ProgressFile(progress_path(token))
    progress("queued", 0, total)
    summary, error = None, None
    with _one_at_a_time:
        try:
            data = upload_path(token).read_bytes()
            summary = import_orders(data, channel, actor=actor, filename=filename, skip_invalid=skip_invalid,
                                    progress=progress, reference=token)
        except Exception as exc:
            log.exception("order import %s failed", token)
            db.session.rollback()
            error = f"The import stopped with an error; nothing was imported. ({type(exc).__name__}: {exc})"[:2000]
    _finish(token, summary, error)
    return summary


def _finish(token: str, summary: ImportSummary | None, error: str | None) -> None:
    session = begin_write()
    job = get_job(token)
    job.finished_at = utcnow()
    if summary is not None:
        job.summary = summary.to_dict()
        job.total_rows = job.processed_rows = summary.total_rows
        job.status = ImportStatus.FAILED if summary.blocked else ImportStatus.DONE
        job.error = summary.headline if summary.blocked else None
    else:
        job.status, job.error = ImportStatus.FAILED, error
    session.commit()
    for path in (progress_path(token), upload_path(token)):
        path.unlink(missing_ok=True)


# Reading ----------------------------------------------------------------------------


@dataclass
class JobView:
    """What the job page shows: the row's state, or the live progress while it runs."""

    job: ImportJob
    status: str
    processed_rows: int
    total_rows: int
    error: str | None
    summary: ImportSummary | None

    @property
    def running(self) -> bool:
        return self.status in (ImportStatus.QUEUED, *RUNNING) and self.job.started_at is not None

    @property
    def awaiting_confirmation(self) -> bool:
        return self.job.status == ImportStatus.QUEUED

    @property
    def finished(self) -> bool:
        return self.status in (ImportStatus.DONE, ImportStatus.FAILED)

    @property
    def percent(self) -> int:
        if self.status == ImportStatus.DONE:
            return 100
        return int(100 * self.processed_rows / self.total_rows) if self.total_rows else 0


def view(token: str, *, now: datetime | None = None) -> JobView:
    now = now or utcnow()
    job = get_job(token)
    summary = ImportSummary.from_dict(job.summary) if job.summary else None
    if job.status not in RUNNING:
        processed = job.total_rows if job.status == ImportStatus.DONE else job.processed_rows
        return JobView(job, job.status, processed, job.total_rows, job.error, summary)
    progress = read_progress(token) or {}
    last_sign = datetime.fromisoformat(progress["updated_at"]) if "updated_at" in progress else job.started_at
    status = progress.get("status", job.status)
    processed = int(progress.get("processed_rows", 0))
    stale = last_sign is not None and now - last_sign > STALE_AFTER
    if stale or owner_is_gone(progress.get("owner")):
        if _committed(token):  # the process died after committing, before recording it
            return JobView(job, ImportStatus.DONE, job.total_rows, job.total_rows, None, summary)
        return JobView(job, ImportStatus.FAILED, processed, job.total_rows, INTERRUPTED, summary)
    return JobView(job, status, processed, int(progress.get("total_rows", job.total_rows)), None, summary)


def _committed(token: str) -> bool:
    return db.session.scalar(
        select(Event.id).where(Event.entity_type == "order_import", Event.entity_id == token).limit(1)
    ) is not None
