"""Configuration: every setting the code reads has a default in config.py, every
environment variable is in docs/deployment.md, and the operator's values arrive where
they matter (documents, the database sessions)."""

from __future__ import annotations

import ast
import runpy
from pathlib import Path

import pytest
from sqlalchemy import text

import config
from app import create_app
from app.services import invoicing

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [*sorted((ROOT / "app").rglob("*.py")), *sorted((ROOT / "jobs").rglob("*.py")), ROOT / "wsgi.py"]

# Keys the code builds at run time, by the f-string that builds them; each expansion must
# be defined like any literal key. A new f-string read fails the test until it is listed.
DYNAMIC_KEYS = {
    "SELLER_{key.upper()}": ["SELLER_VAT_NUMBER", "SELLER_CHAMBER_OF_COMMERCE", "SELLER_IBAN", "SELLER_EMAIL"],
}
ENV_READERS = {"get", "getenv", "_env_bool", "_env_int", "_env_lines"}


def _is_config(node: ast.expr) -> bool:
    """`config`, `app.config`, `current_app.config`, `self.app.config`, …"""
    return (isinstance(node, ast.Name) and node.id == "config") or (
        isinstance(node, ast.Attribute) and node.attr == "config"
    )


def _key(node: ast.expr, where: str) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        pattern = "".join(
            part.value if isinstance(part, ast.Constant) else "{" + ast.unparse(part.value) + "}"
            for part in node.values
        )
        assert pattern in DYNAMIC_KEYS, f"{where}: config key built at run time ({pattern}); list it in DYNAMIC_KEYS"
        return DYNAMIC_KEYS[pattern]
    raise AssertionError(f"{where}: config key that is neither a string nor an f-string: {ast.unparse(node)}")


def config_keys_read() -> dict[str, str]:
    """Every key read from a Flask config in app/, jobs/ and wsgi.py -> where it is first read."""
    found: dict[str, str] = {}
    for path in SOURCES:
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
            keys: list[str] = []
            if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and _is_config(node.value):
                keys = _key(node.slice, where)
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
                  and _is_config(node.func.value) and node.args):
                keys = _key(node.args[0], where)
            for key in keys:
                found.setdefault(key, where)
    return found


def environment_variables() -> set[str]:
    """Every variable config.py and the app read from the environment."""
    names = set()
    for path in [ROOT / "config.py", *SOURCES]:
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                environ = isinstance(func, ast.Attribute) and ast.unparse(func.value) in ("os.environ", "os")
                if (name in ("get", "getenv") and environ) or name in ENV_READERS - {"get", "getenv"}:
                    names.add(node.args[0].value)
            elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
                names.add(ast.literal_eval(node.slice))
    return names


def test_every_config_key_the_code_reads_has_a_default_in_config_py():
    read = config_keys_read()
    # The walk really sees the reads (so the test cannot pass by finding nothing).
    assert {"TIMEZONE", "SELLER_ADDRESS", "SELLER_IBAN", "INVOICE_PAYMENT_DAYS", "EXPORT_DIR",
            "EXPORT_PROCESSES", "EXPORT_RECYCLE_EVERY", "HEARTBEAT_SECONDS"} <= read.keys()
    defined = {name for name in dir(config.Config) if name.isupper()}
    missing = {key: where for key, where in read.items() if key not in defined}
    assert not missing, f"read by the code but not defined in config.Config: {missing}"


def test_every_environment_variable_is_in_the_deployment_guide():
    guide = (ROOT / "docs" / "deployment.md").read_text()
    names = environment_variables()
    assert {"DATABASE_URL", "SECRET_KEY", "ORDERDECK_ENV", "DB_POOL_SIZE", "SELLER_ADDRESS"} <= names
    undocumented = sorted(name for name in names if f"`{name}`" not in guide)
    assert not undocumented, f"not described in docs/deployment.md: {undocumented}"


def fresh_config(monkeypatch, **env: str) -> dict:
    """config.py evaluated anew with these environment variables (what a restarted
    process would see); the module's globals."""
    monkeypatch.setenv("SECRET_KEY", "test-only-secret")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "config.py"))


def test_an_operator_sets_the_seller_printed_on_invoices(monkeypatch):
    fresh = fresh_config(
        monkeypatch, SELLER_NAME="Tulip Trading B.V.", SELLER_ADDRESS="Waalhaven 21 | 3089 JH Rotterdam|Netherlands",
        SELLER_VAT_NUMBER="NL001234567B01", SELLER_IBAN="NL91ABNA0417164300", SELLER_EMAIL="billing@tulip.example",
        INVOICE_PAYMENT_DAYS="30",
    )
    app = create_app(fresh["TestConfig"])
    with app.app_context():
        assert invoicing.seller() == {
            "name": "Tulip Trading B.V.", "address": ["Waalhaven 21", "3089 JH Rotterdam", "Netherlands"],
            "vat_number": "NL001234567B01", "iban": "NL91ABNA0417164300", "email": "billing@tulip.example",
        }
        assert app.config["INVOICE_PAYMENT_DAYS"] == 30


def test_without_seller_details_only_the_name_is_printed(app):
    assert invoicing.seller() == {"name": app.config["SELLER_NAME"], "address": []}


def test_pool_and_timeouts_follow_the_environment_on_postgresql_only(monkeypatch):
    fresh = fresh_config(monkeypatch, DATABASE_URL="postgresql+psycopg://orderdeck@db.internal/orderdeck",
                         DB_POOL_SIZE="3", DB_MAX_OVERFLOW="2", DB_POOL_TIMEOUT="5", DB_POOL_RECYCLE="600",
                         DB_STATEMENT_TIMEOUT_MS="15000", DB_IDLE_IN_TRANSACTION_TIMEOUT_MS="45000",
                         DB_CONNECT_TIMEOUT="4")
    options = fresh["Config"].SQLALCHEMY_ENGINE_OPTIONS
    assert {k: options[k] for k in ("pool_size", "max_overflow", "pool_timeout", "pool_recycle", "pool_pre_ping")} \
        == {"pool_size": 3, "max_overflow": 2, "pool_timeout": 5, "pool_recycle": 600, "pool_pre_ping": True}
    assert options["connect_args"]["connect_timeout"] == 4
    assert options["connect_args"]["options"] == (
        "-c statement_timeout=15000 -c idle_in_transaction_session_timeout=45000")
    # A class pointed at SQLite (the tests, a laptop) gets none of it: app/database.py tunes SQLite.
    assert fresh["TestConfig"].SQLALCHEMY_ENGINE_OPTIONS == {}
    sqlite = type("OnSqlite", (fresh["Config"],), {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert sqlite.SQLALCHEMY_ENGINE_OPTIONS == {}


def test_database_sessions_carry_the_configured_limits(app, db, engine_name):
    if engine_name == "postgresql":
        # A runaway query is cancelled after 30 s; a session forgotten in an open transaction
        # (holding its row locks) is ended after 2 minutes.
        assert db.session.scalar(text("SHOW statement_timeout")) == "30s"
        assert db.session.scalar(text("SHOW idle_in_transaction_session_timeout")) == "2min"
        assert db.session.scalar(text("SELECT current_setting('application_name')")) == "orderdeck"
        assert db.engine.pool.size() == 5
    else:
        # SQLite: a writer waits up to 15 s for the lock instead of failing at once.
        assert db.session.scalar(text("PRAGMA busy_timeout")) == 15000
        assert db.session.scalar(text("PRAGMA journal_mode")) == "wal"


@pytest.mark.parametrize("value, expected", [("", ""), ("Damrak 1", "Damrak 1"),
                                             ("Damrak 1|1012 LG Amsterdam", "Damrak 1\n1012 LG Amsterdam"),
                                             ("Damrak 1\n 1012 LG Amsterdam \n", "Damrak 1\n1012 LG Amsterdam")])
def test_a_multi_line_address_fits_in_one_environment_line(monkeypatch, value, expected):
    address = fresh_config(monkeypatch, SELLER_ADDRESS=value)["Config"].SELLER_ADDRESS
    assert address == expected
