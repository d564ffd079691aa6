"""`flask db backup [--out PATH]` and `flask db restore PATH [--yes]`.

They join Flask-Migrate's `flask db` group, beside `flask db upgrade`.

SQLite: the online backup API (sqlite3 `Connection.backup`) copies a consistent
snapshot page by page while the app keeps running, and restore copies a backup back
into the live file the same way (under SQLite's lock, so no half-written file is ever
seen). PostgreSQL: `pg_dump --format=custom`, and `pg_restore --clean --if-exists`
in a single transaction (all or nothing) into the configured database.

A restore replaces everything in the database: stop the web workers and the scheduler
first, and restore a backup made by the same OrderDeck version (or run `flask db
upgrade` afterwards).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate.cli import db as db_group
from sqlalchemy.engine import URL, make_url

from config import INSTANCE_DIR

DEFAULT_DIR = INSTANCE_DIR / "backups"
PG_TIMEOUT_SECONDS = 3600


class BackupError(click.ClickException):
    pass


def _database_url() -> URL:
    return make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("An in-memory SQLite database cannot be backed up; point DATABASE_URL at a file.")
    return Path(url.database)


def _default_out(url: URL) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    suffix = "sqlite3" if url.get_backend_name() == "sqlite" else "pgdump"
    return DEFAULT_DIR / f"orderdeck-{stamp}.{suffix}"


# SQLite ---------------------------------------------------------------------------


def _copy_sqlite(source: Path | str, target: Path | str) -> None:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        # The copy inherits WAL mode; a backup should be one self-contained file.
        dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        dst.close()
        src.close()


def _check_sqlite_backup(path: Path) -> None:
    """A readable SQLite file with OrderDeck's schema in it, or BackupError."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            (verdict,) = conn.execute("PRAGMA quick_check").fetchone()
            revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not an OrderDeck SQLite backup ({exc}).") from exc
    if verdict != "ok" or revision is None:
        raise BackupError(f"{path} is damaged or not an OrderDeck backup (check: {verdict}).")


def backup_sqlite(url: URL, out: Path) -> None:
    live = _sqlite_path(url)
    if not live.exists():
        raise BackupError(f"There is no database at {live}.")
    partial = out.with_name(out.name + ".partial")
    partial.unlink(missing_ok=True)
    _copy_sqlite(live, partial)
    _check_sqlite_backup(partial)
    os.replace(partial, out)  # a backup file is complete or absent, never half-written


def restore_sqlite(url: URL, source: Path) -> None:
    _check_sqlite_backup(source)
    live = _sqlite_path(url)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(live, timeout=30)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


# PostgreSQL -----------------------------------------------------------------------


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client).")
    return path


def _pg_args(url: URL) -> tuple[list[str], dict[str, str]]:
    """Connection arguments, with the password in the environment rather than on the command line."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    conninfo = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return [f"--dbname={conninfo}"], env


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=PG_TIMEOUT_SECONDS,  # noqa: S603
                            check=False)
    if result.returncode != 0:
        raise BackupError(f"{what} failed: {result.stderr.strip() or result.stdout.strip()}")


def backup_postgresql(url: URL, out: Path) -> None:
    args, env = _pg_args(url)
    partial = out.with_name(out.name + ".partial")
    partial.unlink(missing_ok=True)
    _run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={partial}", *args], env, "pg_dump")
    os.replace(partial, out)


def restore_postgresql(url: URL, source: Path) -> None:
    args, env = _pg_args(url)
    _run([_pg_tool("pg_restore"), "--list", str(source)], env, f"Reading {source}")
    _run([_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction", *args,
          str(source)], env, "pg_restore")


# Commands ---------------------------------------------------------------------------


def backup(out: Path | None = None) -> Path:
    url = _database_url()
    out = Path(out) if out else _default_out(url)
    out.parent.mkdir(parents=True, exist_ok=True)
    if url.get_backend_name() == "sqlite":
        backup_sqlite(url, out)
    elif url.get_backend_name() == "postgresql":
        backup_postgresql(url, out)
    else:
        raise BackupError(f"Backups of {url.get_backend_name()} databases are not supported.")
    return out


def restore(source: Path) -> None:
    url = _database_url()
    if not source.is_file():
        raise BackupError(f"There is no backup file at {source}.")
    from app.extensions import db

    db.engine.dispose()  # no pooled connection of ours keeps the old data (or a lock) open
    if url.get_backend_name() == "sqlite":
        restore_sqlite(url, source)
    elif url.get_backend_name() == "postgresql":
        restore_postgresql(url, source)
    else:
        raise BackupError(f"Restoring {url.get_backend_name()} databases is not supported.")
    db.engine.dispose()


@db_group.command("backup")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the backup (default: instance/backups/orderdeck-<UTC time>.sqlite3 or .pgdump).")
@with_appcontext
def backup_command(out: Path | None) -> None:
    """Back up the database while the app keeps running."""
    written = backup(out)
    click.echo(f"Backed up {_database_url().render_as_string(hide_password=True)} to {written} "
               f"({written.stat().st_size:,} bytes).")


@db_group.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def restore_command(path: Path, yes: bool) -> None:
    """Replace everything in the database with a backup. Stop the web workers and the scheduler first."""
    target = _database_url().render_as_string(hide_password=True)
    if not yes:
        click.confirm(f"Replace everything in {target} with {path}?", abort=True)
    restore(path)
    click.echo(f"Restored {target} from {path}.")
