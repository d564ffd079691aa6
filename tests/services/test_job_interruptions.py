"""Background jobs whose process died, and an export that meets a full disk.

A killed server leaves an import or export row saying "running"; the page must say it
was interrupted as soon as we can know (its process is gone), not only after the
staleness timeout, and an export must then start again cleanly."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import zipfile
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import ExportJob, ImportJob, Invoice, Order
from app.models.base import utcnow
from app.services.documents import export_jobs
from app.services.order_import import jobs as import_jobs
from app.services.process_owner import current_owner, owner_is_gone
from tests.fulfillment_scenes import shipped_order
from tests.services.conftest import ACTOR, NOW, stock
from tests.services.test_order_import import csv_bytes, row


def dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_an_owner_is_gone_only_when_its_process_on_this_host_has_ended():
    me = current_owner()
    assert not owner_is_gone(me)
    assert owner_is_gone({**me, "pid": dead_pid()})
    assert not owner_is_gone({"host": "another-machine", "pid": dead_pid()})  # cannot know: wait for the timeout
    assert not owner_is_gone(None)


@pytest.fixture
def import_dir(app, tmp_path):
    app.config["ORDER_IMPORT_DIR"] = str(tmp_path / "imports")
    return tmp_path / "imports"


def _running_import(owner_pid: int) -> str:
    job = import_jobs.create_job(csv_bytes([row("K-1")]), channel="web", filename="k.csv", skip_invalid=False,
                                 actor=ACTOR)
    db.session.execute(update(ImportJob).where(ImportJob.token == job.token)
                       .values(status="importing", started_at=utcnow()))
    db.session.commit()
    import_jobs.progress_path(job.token).write_text(json.dumps({
        "status": "importing", "processed_rows": 1, "total_rows": 1, "updated_at": utcnow().isoformat(),
        "owner": {**current_owner(), "pid": owner_pid},
    }))
    return job.token


def test_an_import_whose_process_was_killed_shows_as_interrupted_at_once(shop, import_dir):
    token = _running_import(dead_pid())
    view = import_jobs.view(token)
    assert view.status == "failed" and "interrupted" in view.error and "Nothing was imported" in view.error
    assert db.session.scalar(select(func.count()).select_from(Order)) == 0


def test_an_import_whose_process_lives_is_still_running(shop, import_dir):
    view = import_jobs.view(_running_import(os.getpid()))
    assert view.status == "importing" and view.error is None


@pytest.fixture
def invoices(shop, app, tmp_path):
    app.config.update(EXPORT_DIR=str(tmp_path / "exports"), EXPORT_PROCESSES=0)
    stock("AMS", "MUG", 10)
    shipped_order("X1")
    shipped_order("X2")
    day = NOW.date()
    return day - timedelta(days=1), day + timedelta(days=1)


def _start(period: tuple[date, date]) -> str:
    started = []
    job = export_jobs.start_export(*period, actor=ACTOR, runner=lambda _app, token: started.append(token))
    return job.token


def test_a_killed_export_shows_as_interrupted_and_starts_again_cleanly(invoices):
    token = _start(invoices)
    db.session.execute(update(ExportJob).where(ExportJob.token == token).values(status="running", updated_at=utcnow()))
    db.session.commit()
    pid = dead_pid()
    export_jobs.owner_path(token).write_text(json.dumps({**current_owner(), "pid": pid}))
    leftover = export_jobs.exports_dir() / f".{token}.zip.{pid}.partial"
    leftover.write_bytes(b"half a zip")
    assert export_jobs.view(export_jobs.get_job(token)).state == "interrupted"

    again = _start(invoices)  # starting again clears what the killed run left behind
    assert not leftover.exists()
    export_jobs.run(again)
    job = export_jobs.view(export_jobs.get_job(again))
    assert job.state == "done" and job.ready
    with zipfile.ZipFile(export_jobs.zip_path(job.job)) as archive:
        assert len([n for n in archive.namelist() if n.endswith(".pdf")]) == 2
    assert not export_jobs.owner_path(again).exists()


def test_a_full_disk_fails_the_export_clearly_and_leaves_nothing_behind(invoices, monkeypatch):
    before = db.session.scalar(select(func.count()).select_from(Invoice))
    token = _start(invoices)

    def disk_full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(zipfile.ZipFile, "writestr", disk_full)
    export_jobs.run(token)
    job = export_jobs.view(export_jobs.get_job(token))
    assert job.state == "failed" and not job.ready
    assert "disk holding the exports is full" in job.job.error and "start the export again" in job.job.error
    assert list(export_jobs.exports_dir().iterdir()) == []  # no ZIP, no partial, no owner file
    assert db.session.scalar(select(func.count()).select_from(Invoice)) == before
