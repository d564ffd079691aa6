"""JSON API under /api/v1, documented by flask-smorest at /api/v1/openapi.json."""

from __future__ import annotations

from flask import Flask, current_app, g, request
from flask_login import current_user
from flask_smorest import Api

from app.api.schemas import ErrorSchema
from app.extensions import csrf, login_manager

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
PUBLIC_PATHS = {"/api/v1/openapi.json"}


class OrderDeckApi(Api):
    """flask-smorest's Api, minus its app-wide JSON error handler: app.errors answers
    JSON under /api/ and HTML elsewhere, in the body shape of DESIGN.md §6."""

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self):
        pass


api = OrderDeckApi()


def init_api(app: Flask) -> None:
    app.config.setdefault(
        "API_SPEC_OPTIONS",
        {
            "info": {"description": "OrderDeck order management API. Money is a decimal string, "
                                    "times ISO 8601 with offset."},
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearerAuth": []}],
        },
    )
    api.init_app(app)
    # Decimals travel as strings ("19.90"); without this apispec would document them as numbers.
    from app.api.schemas import DecimalString

    api.register_field(DecimalString, "string", "decimal")

    from app.api import catalog, fulfillment, notifications, orders, returns, stock

    for blp in (catalog.products, catalog.locations, catalog.channels, stock.blp, orders.blp, notifications.blp,
                fulfillment.shipments, fulfillment.invoices, returns.blp):
        api.register_blueprint(blp)
        csrf.exempt(blp)  # checked below, only for cookie-authenticated calls

    @app.before_request
    def _api_auth():
        if not request.path.startswith("/api/") or request.path in PUBLIC_PATHS:
            return None
        request.max_content_length = current_app.config["API_MAX_BODY_BYTES"]  # 413 before the body is read
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        # A browser session can call the API too; then CSRF applies as to any form.
        if (request.method not in SAFE_METHODS and g.get("auth_via") != "token"
                and current_app.config.get("WTF_CSRF_ENABLED", True)):
            csrf.protect()
        return None
