"""The application as the benchmarks see it: one URL in, an app bound to that database out."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import create_app
from config import Config


def normalise_url(url: str) -> str:
    """postgresql://… → postgresql+psycopg://… (the driver the project installs); SQLite paths made absolute."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        return f"sqlite:///{Path(url.removeprefix('sqlite:///')).resolve()}"
    return url


def is_postgres(url: str) -> bool:
    return url.startswith("postgresql")


def sqlite_path(url: str) -> Path:
    return Path(make_url(url).database)


def make_app(url: str) -> Flask:
    """The real application (development config) bound to `url`."""
    config = type("BenchConfig", (Config,), {"SQLALCHEMY_DATABASE_URI": url})
    return create_app(config)


def rebuild_schema(url: str) -> None:
    """Empty database, then the project's own Alembic migrations (`flask db upgrade`)."""
    from flask_migrate import upgrade

    from app.extensions import db

    if is_postgres(url):
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    else:
        path = sqlite_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    app = make_app(url)
    with app.app_context():
        upgrade(directory=os.path.join(app.root_path, "..", "migrations"))
        db.engine.dispose()


BENCH_EMAIL = "bench@orderdeck.example"
BENCH_PASSWORD = "bench-password-123"  # noqa: S105  (a local benchmark account)


def ensure_bench_user(url: str):
    """The admin account the benchmarks sign in with (created through the users service)."""
    from app.extensions import db
    from app.services import users
    from app.services.actors import Actor

    app = make_app(url)
    with app.app_context():
        user = users.find_by_email(BENCH_EMAIL)
        if user is None:
            user = users.create_user(
                email=BENCH_EMAIL, name="Benchmark", role="admin", password=BENCH_PASSWORD, actor=Actor.cli()
            )
        user_id = user.id
        db.session.remove()
        db.engine.dispose()
    return user_id
