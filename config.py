"""Configuration classes, read from the environment.

Every setting an operator may change comes from an environment variable of the
same name; the defaults make `make run` work on a laptop with no setup.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


def _secret_key() -> str:
    """SECRET_KEY from the environment, or one generated once per checkout.

    A key generated per process would log everybody out on every restart and
    break CSRF tokens across gunicorn workers, so it is kept in instance/.
    """
    if key := os.environ.get("SECRET_KEY"):
        return key
    INSTANCE_DIR.mkdir(exist_ok=True)
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    SECRET_KEY = _secret_key()
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'orderdeck.db'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    TIMEZONE = os.environ.get("TIMEZONE", "Europe/Amsterdam")
    DEFAULT_CURRENCY = os.environ.get("DEFAULT_CURRENCY", "EUR")

    # A tab left open all day must still be able to post: CSRF tokens live 24 h
    # (they are also bound to the session, which ends at logout).
    WTF_CSRF_TIME_LIMIT = 24 * 3600
    WTF_CSRF_HEADERS = ["X-CSRFToken", "X-CSRF-Token"]
    PERMANENT_SESSION_LIFETIME = 12 * 3600
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE

    # Login throttling. memory:// is per process; set a shared store (redis://)
    # when running several workers on several machines.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "5 per 5 minutes")

    # The scheduler counts as down when its heartbeat is older than this.
    SCHEDULER_STALE_AFTER_SECONDS = int(os.environ.get("SCHEDULER_STALE_AFTER_SECONDS", "180"))
    HEARTBEAT_SECONDS = int(os.environ.get("HEARTBEAT_SECONDS", "30"))

    SELLER_NAME = os.environ.get("SELLER_NAME", "OrderDeck Demo Brand B.V.")

    # Notifications: sent over SMTP when SMTP_HOST is set, otherwise kept pending in the
    # outbox (visible on /sla/outbox). A reminder whose moment passed more than
    # SLA_REMINDER_STALE_HOURS ago (scheduler downtime) is skipped, not sent late.
    SMTP_HOST = os.environ.get("SMTP_HOST", "")
    SMTP_PORT = int(os.environ.get("SMTP_PORT", "587"))
    SMTP_USER = os.environ.get("SMTP_USER", "")
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD", "")
    SMTP_FROM = os.environ.get("SMTP_FROM", "orderdeck@localhost")
    SMTP_STARTTLS = _env_bool("SMTP_STARTTLS", True)
    NOTIFY_MAX_ATTEMPTS = int(os.environ.get("NOTIFY_MAX_ATTEMPTS", "5"))
    SLA_REMINDER_STALE_HOURS = int(os.environ.get("SLA_REMINDER_STALE_HOURS", "12"))
    SLA_AUTO_CANCEL_PER_RUN = int(os.environ.get("SLA_AUTO_CANCEL_PER_RUN", "100"))

    # flask-smorest / OpenAPI
    API_TITLE = "OrderDeck API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"

    PAGE_SIZE = 50
    # werkzeug's default (scrypt); tests use a cheap hash so that hundreds of logins stay fast.
    PASSWORD_HASH_METHOD = os.environ.get("PASSWORD_HASH_METHOD", "scrypt")


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret-key"  # noqa: S105  (tests only)
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_SQLITE_URL", "sqlite://")
    WTF_CSRF_ENABLED = False  # web tests that check CSRF switch it back on
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # noqa: S105  (a method name, tests only)
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"
    SERVER_NAME = None


CONFIGS = {"development": Config, "production": ProductionConfig, "testing": TestConfig}
