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


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _env_lines(name: str) -> str:
    """A multi-line value (a postal address) from one environment line: lines are
    separated by "|" (or real newlines); the result has one line per row."""
    raw = os.environ.get(name, "").replace("|", "\n")
    return "\n".join(part.strip() for part in raw.splitlines() if part.strip())


def postgres_engine_options() -> dict:
    """Pool and timeouts of a PostgreSQL engine, each overridable from the environment.

    One sync gunicorn worker serves one request at a time and may run one background
    import or export thread beside it; the scheduler runs up to six jobs at once, each
    sweep holding a second connection for its advisory lock. SQLAlchemy's defaults
    (5 kept open, 10 more on demand, 30 s wait) cover both. docs/deployment.md shows how
    to add up the connections of a deployment against PostgreSQL's max_connections.
    """
    statement_ms = _env_int("DB_STATEMENT_TIMEOUT_MS", 30_000)
    # A session left "idle in transaction" (a crashed request, a debugger) holds its row
    # locks until this ends it. The longest legitimate gap between two statements of one
    # transaction is the CSV import validating a large file in Python.
    idle_ms = _env_int("DB_IDLE_IN_TRANSACTION_TIMEOUT_MS", 120_000)
    return {
        "pool_pre_ping": True,
        "pool_size": _env_int("DB_POOL_SIZE", 5),
        "max_overflow": _env_int("DB_MAX_OVERFLOW", 10),
        "pool_timeout": _env_int("DB_POOL_TIMEOUT", 30),
        "pool_recycle": _env_int("DB_POOL_RECYCLE", 1800),
        "connect_args": {
            "connect_timeout": _env_int("DB_CONNECT_TIMEOUT", 10),
            "application_name": "orderdeck",
            "options": f"-c statement_timeout={statement_ms} -c idle_in_transaction_session_timeout={idle_ms}",
        },
    }


class _EngineOptions:
    """SQLALCHEMY_ENGINE_OPTIONS of a config class, worked out from that class's own
    SQLALCHEMY_DATABASE_URI: pool sizes and server timeouts mean something only to
    PostgreSQL (a pool_size given to SQLite's in-memory StaticPool is an error), and
    subclasses (tests, benchmarks) point at other databases than DATABASE_URL. SQLite
    gets none; app/database.py sets its WAL, busy timeout and pool."""

    def __get__(self, instance, owner) -> dict:
        uri = owner.SQLALCHEMY_DATABASE_URI
        return postgres_engine_options() if uri.startswith("postgresql") else {}


class Config:
    SECRET_KEY = _secret_key()
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'orderdeck.db'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS = _EngineOptions()
    TIMEZONE = os.environ.get("TIMEZONE", "Europe/Amsterdam")
    DEFAULT_CURRENCY = os.environ.get("DEFAULT_CURRENCY", "EUR")

    # A tab left open all day must still be able to post: CSRF tokens live 24 h
    # (they are also bound to the session, which ends at logout).
    WTF_CSRF_TIME_LIMIT = 24 * 3600
    WTF_CSRF_HEADERS = ["X-CSRFToken", "X-CSRF-Token"]
    WTF_CSRF_ENABLED = True  # Flask-WTF's default, named here because the API reads it
    PERMANENT_SESSION_LIFETIME = 12 * 3600
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_DURATION = 14 * 24 * 3600

    # Security headers (flask-talisman, app/auth/headers.py). Production redirects plain
    # HTTP to HTTPS (a proxy's X-Forwarded-Proto: https counts) and sends HSTS on HTTPS.
    FORCE_HTTPS = _env_bool("FORCE_HTTPS", False)
    HSTS_SECONDS = int(os.environ.get("HSTS_SECONDS", str(365 * 24 * 3600)))
    # Request bodies: anything bigger is refused (413) before it is read. The order import
    # sets its own, larger, limit on its upload route; API calls get a smaller one.
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", str(16 * 1024 * 1024)))
    API_MAX_BODY_BYTES = int(os.environ.get("API_MAX_BODY_BYTES", str(2 * 1024 * 1024)))

    # Login throttling. memory:// is per process; set a shared store (redis://)
    # when running several workers on several machines.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "5 per 5 minutes")
    # Per account, whatever the address: this many failed sign-ins within the window lock
    # the account until the oldest of them leaves the window.
    LOGIN_LOCKOUT_ATTEMPTS = int(os.environ.get("LOGIN_LOCKOUT_ATTEMPTS", "10"))
    LOGIN_LOCKOUT_MINUTES = int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "15"))

    # The scheduler counts as down when its heartbeat is older than this.
    SCHEDULER_STALE_AFTER_SECONDS = int(os.environ.get("SCHEDULER_STALE_AFTER_SECONDS", "180"))
    HEARTBEAT_SECONDS = int(os.environ.get("HEARTBEAT_SECONDS", "30"))

    SELLER_NAME = os.environ.get("SELLER_NAME", "OrderDeck Demo Brand B.V.")
    # The seller block printed on invoices and credit notes, as it is when each is issued
    # (a document keeps its snapshot). An EU invoice must name the seller's address and
    # VAT number; the others are printed when set. SELLER_ADDRESS: lines separated by "|".
    SELLER_ADDRESS = _env_lines("SELLER_ADDRESS")
    SELLER_VAT_NUMBER = os.environ.get("SELLER_VAT_NUMBER", "")
    SELLER_CHAMBER_OF_COMMERCE = os.environ.get("SELLER_CHAMBER_OF_COMMERCE", "")
    SELLER_IBAN = os.environ.get("SELLER_IBAN", "")
    SELLER_EMAIL = os.environ.get("SELLER_EMAIL", "")
    # Payment term printed on an invoice that is not yet paid in full.
    INVOICE_PAYMENT_DAYS = _env_int("INVOICE_PAYMENT_DAYS", 14)

    # Invoice exports (ZIP of PDFs) started from the finance page or `flask invoices export`:
    # where the finished files wait for download, how many processes render the PDFs (0:
    # in the exporting process itself) and after how many documents a renderer is replaced.
    EXPORT_DIR = os.environ.get("EXPORT_DIR", str(INSTANCE_DIR / "exports"))
    EXPORT_PROCESSES = _env_int("EXPORT_PROCESSES", 2)
    EXPORT_RECYCLE_EVERY = _env_int("EXPORT_RECYCLE_EVERY", 200)
    # Order CSV uploads: where an upload waits while it is checked and imported, and the
    # largest file accepted.
    ORDER_IMPORT_DIR = os.environ.get("ORDER_IMPORT_DIR", str(INSTANCE_DIR / "imports"))
    ORDER_IMPORT_MAX_BYTES = _env_int("ORDER_IMPORT_MAX_BYTES", 50 * 1024 * 1024)

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
    # Clocks one sweep handles per run; a larger backlog continues on the next run.
    SLA_SWEEP_MAX_PER_RUN = _env_int("SLA_SWEEP_MAX_PER_RUN", 50_000)

    # flask-smorest / OpenAPI
    API_TITLE = "OrderDeck API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"

    # Reverse proxies in front of gunicorn (nginx: 1). With N > 0 the app believes the
    # last N hops of X-Forwarded-For/-Proto/-Host/-Prefix (werkzeug ProxyFix): the client
    # address the login throttle counts by, and https in generated links. 0: headers ignored.
    TRUSTED_PROXIES = _env_int("TRUSTED_PROXIES", 0)

    PAGE_SIZE = 50
    # Argon2id at OWASP's minimum (19 MiB, 2 iterations, 1 lane) or stronger; any werkzeug
    # method name ("scrypt") also works. Older hashes are upgraded at the next sign-in.
    PASSWORD_HASH_METHOD = os.environ.get("PASSWORD_HASH_METHOD", "argon2id")
    ARGON2_MEMORY_KIB = int(os.environ.get("ARGON2_MEMORY_KIB", "19456"))
    ARGON2_TIME_COST = int(os.environ.get("ARGON2_TIME_COST", "2"))
    ARGON2_PARALLELISM = int(os.environ.get("ARGON2_PARALLELISM", "1"))


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    FORCE_HTTPS = _env_bool("FORCE_HTTPS", True)


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
