"""`flask jobs run` (the scheduler process) and `flask jobs tick [--at ISO-TIME]`."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import click
from flask import current_app

group = click.Group("jobs", help="Run the scheduler or its jobs.")


def _parse_at(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time") from exc
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


@group.command("run")
def run() -> None:
    """Start the scheduler process (one per deployment)."""
    from jobs.scheduler import build_scheduler

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    scheduler = build_scheduler(current_app._get_current_object())
    click.echo(f"Scheduler started with jobs: {', '.join(j.id for j in scheduler.get_jobs())}")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        click.echo("Scheduler stopped.")


@group.command("tick")
@click.option("--at", "at", default=None, help="Run as of this time (ISO 8601); default now.")
@click.option("--job", "only", multiple=True, help="Run only this job (repeatable); default every job.")
def tick(at: str | None, only: tuple[str, ...]) -> None:
    """Run every job once, as of --at."""
    from jobs.scheduler import JOBS, run_job
    from jobs.scheduler import tick as run_all

    app = current_app._get_current_object()
    unknown = sorted(set(only) - set(JOBS))
    if unknown:
        raise click.BadParameter(f"no job {', '.join(unknown)}; the jobs are {', '.join(JOBS)}", param_hint="--job")
    results = {name: run_job(app, name, _parse_at(at)) for name in only} if only else run_all(app, _parse_at(at))
    for name, result in results.items():
        click.echo(f"{name}: {result}")
