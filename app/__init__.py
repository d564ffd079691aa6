"""OrderDeck application factory. Wiring only: no side effects beyond configuration."""

from __future__ import annotations

import os

from flask import Flask

from config import CONFIGS, Config


def create_app(config: type[Config] | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder="../templates",
        static_folder="../static",
        instance_relative_config=False,
    )
    if config is None:
        config = CONFIGS[os.environ.get("ORDERDECK_ENV", "development")]
    app.config.from_object(config)

    from app.database import engine_options

    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**engine_options(uri), **app.config["SQLALCHEMY_ENGINE_OPTIONS"]}
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:///:memory:"):
        os.makedirs(os.path.dirname(uri.removeprefix("sqlite:///")) or ".", exist_ok=True)

    _init_extensions(app)
    _register_blueprints(app)

    from app.auth.headers import init_security_headers
    from app.auth.input_guard import init_input_guard

    init_security_headers(app)
    init_input_guard(app)

    from app import errors, templating

    errors.register(app)
    templating.register(app)

    from app.cli import register as register_cli

    register_cli(app)
    _trust_proxies(app)
    return app


def _trust_proxies(app: Flask) -> None:
    """Behind TRUSTED_PROXIES reverse proxies, take the client's address and scheme from
    their X-Forwarded-* headers (the login throttle and Secure cookies depend on them).
    Without a proxy these headers come from the client and are ignored."""
    if hops := app.config.get("TRUSTED_PROXIES", 0):
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_prefix=hops)


def _init_extensions(app: Flask) -> None:
    from app import models  # noqa: F401  (every table known to Alembic and the session)
    from app.auth.loaders import register_loaders
    from app.extensions import csrf, db, htmx, limiter, login_manager, migrate
    from app.htmx import add_vary_header

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "..", "migrations"))
    csrf.init_app(app)
    htmx.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    register_loaders(app)
    app.after_request(add_vary_header)


def _register_blueprints(app: Flask) -> None:
    from app.admin import bp as admin_bp
    from app.api import init_api
    from app.auth import bp as auth_bp
    from app.documents import bp as documents_bp
    from app.fulfillment import bp as fulfillment_bp
    from app.inventory import bp as inventory_bp
    from app.main import bp as main_bp
    from app.orders import bp as orders_bp
    from app.returns import bp as returns_bp
    from app.sla import bp as sla_bp

    for bp in (main_bp, auth_bp, orders_bp, inventory_bp, fulfillment_bp, returns_bp, documents_bp, sla_bp, admin_bp):
        app.register_blueprint(bp)
    init_api(app)
