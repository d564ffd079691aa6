"""Shared fixtures. Every test that touches the database runs on SQLite and, when
TEST_DATABASE_URL is set (CI always sets it), on PostgreSQL too.

The schema is built by the real Alembic migrations once per engine and test
session; between tests every table is emptied, so tests see a fresh database
and may commit freely (the services do).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, make_url, text

from app import create_app
from app.extensions import db as _db
from app.models import Base
from app.services import users as users_service
from app.services.actors import Actor
from config import TestConfig

PASSWORD = "test-password-123"
ENGINES = ["sqlite", "postgresql"]


def _postgres_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    if url and url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if url and worker:
        url = _database_for_worker(url, worker)
    return url


def _database_for_worker(url: str, worker: str) -> str:
    """pytest-xdist: each worker gets its own database next to the given one, created fresh."""
    base = make_url(url)
    name = f"{base.database}_{worker}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session", params=ENGINES)
def database_url(request, tmp_path_factory) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'orderdeck-test.db'}"
    url = _postgres_url()
    if not url:
        if os.environ.get("CI"):
            pytest.fail("CI must run the PostgreSQL tests: set TEST_DATABASE_URL")
        pytest.skip("PostgreSQL tests need TEST_DATABASE_URL")
    return url


def _make_config(url: str) -> type[TestConfig]:
    return type("BoundTestConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": url})


@pytest.fixture(scope="session")
def migrated(database_url: str) -> str:
    """Build the schema once per engine with the project's Alembic migrations."""
    if database_url.startswith("postgresql"):
        engine = create_engine(database_url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    app = create_app(_make_config(database_url))
    with app.app_context():
        upgrade()
        _db.engine.dispose()
    return database_url


def _empty_all_tables(url: str) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    engine = create_engine(url)
    with engine.begin() as conn:
        if url.startswith("postgresql"):
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            for seq in ("seq_order_number", "seq_shipment_number", "seq_return_number", "seq_wave_number"):
                conn.execute(text(f"ALTER SEQUENCE {seq} RESTART WITH 1"))
        else:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))
    engine.dispose()


class IsolatedClient(FlaskClient):
    """Each request runs in its own app context, as in production: its own `g`
    (Flask-Login caches the user there) and its own database session.

    The test's session commits first, so the request sees what the test wrote and
    the test's objects are expired and reload what the request changed."""

    def open(self, *args, **kwargs):
        outer = _db.session
        if outer().in_transaction():
            outer.commit()
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def app(migrated: str) -> Iterator[Flask]:
    app = create_app(_make_config(migrated))
    app.test_client_class = IsolatedClient
    with app.app_context():
        yield app
        _db.session.remove()
        _db.engine.dispose()
    _empty_all_tables(migrated)


@pytest.fixture
def db(app: Flask):
    return _db


@pytest.fixture
def engine_name(app: Flask) -> str:
    return _db.engine.dialect.name


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@dataclass
class UserFactory:
    def __call__(self, role: str = "ops", email: str | None = None, name: str | None = None,
                 password: str = PASSWORD):
        email = email or f"{role}-{os.urandom(3).hex()}@example.com"
        return users_service.create_user(email=email, name=name or role.title(), role=role,
                                          password=password, actor=Actor.cli())


@pytest.fixture
def make_user(app: Flask) -> UserFactory:
    return UserFactory()


@pytest.fixture
def login(app: Flask, make_user) -> Callable[[str], FlaskClient]:
    """login("manager") -> a test client signed in as a new user of that role."""

    def _login(role: str = "ops") -> FlaskClient:
        user = make_user(role)
        client = app.test_client()
        response = client.post("/login", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 302, response.data
        client.user = user
        return client

    return _login


class ApiClient:
    """A test client that sends a bearer token with every request."""

    def __init__(self, client: FlaskClient, token: str) -> None:
        self._client = client
        self.token = token
        self.headers = {"Authorization": f"Bearer {token}"}

    def __getattr__(self, method: str):
        call = getattr(self._client, method)

        def with_token(*args, **kwargs):
            kwargs["headers"] = {**self.headers, **kwargs.get("headers", {})}
            return call(*args, **kwargs)

        return with_token


@pytest.fixture
def api_as(app: Flask, make_user) -> Callable[[str], ApiClient]:
    def _api(role: str = "admin") -> ApiClient:
        user = make_user(role)
        _, token = users_service.issue_token(user.id, "tests", actor=Actor.cli())
        return ApiClient(app.test_client(), token)

    return _api


@pytest.fixture
def api(api_as) -> ApiClient:
    return api_as("admin")
