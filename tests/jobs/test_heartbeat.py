"""The scheduler's heartbeat and /healthz."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from click.testing import CliRunner

from jobs.scheduler import build_scheduler, tick


def test_healthz_reports_a_scheduler_that_never_ran(client):
    body = client.get("/healthz").json
    assert body["database"] == "ok"
    assert body["scheduler"]["status"] == "never"
    assert body["status"] == "degraded"


def test_tick_records_a_heartbeat_that_healthz_reports(app, client):
    tick(app)
    body = client.get("/healthz").json
    assert body["scheduler"]["status"] == "ok"
    assert body["status"] == "ok"


def test_old_heartbeat_is_stale(app, client):
    tick(app, datetime.now(UTC) - timedelta(hours=1))
    assert client.get("/healthz").json["scheduler"]["status"] == "stale"


def test_managers_see_a_banner_when_the_scheduler_is_down(app, login):
    tick(app, datetime.now(UTC) - timedelta(hours=1))
    manager_page = login("manager").get("/").get_data(as_text=True)
    ops_page = login("ops").get("/").get_data(as_text=True)
    assert "has not reported for 60 minutes" in manager_page
    assert "has not reported" not in ops_page


def test_jobs_tick_cli_with_at(app):
    result = CliRunner().invoke(app.cli, ["jobs", "tick", "--at", "2026-03-29T01:30:00+01:00"],
                                obj=None, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "heartbeat: alive" in result.output


def test_scheduler_has_every_job_with_coalescing(app):
    scheduler = build_scheduler(app)
    assert "heartbeat" in {job.id for job in scheduler.get_jobs()}
    # After downtime a job runs once, not once per missed interval, and never twice at once.
    assert scheduler._job_defaults["coalesce"] is True
    assert scheduler._job_defaults["max_instances"] == 1
